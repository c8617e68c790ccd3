// Command taskapi is the whole service in one binary: an HTTP server on the
// embedded store with no configuration at all, the same handler inside AWS
// Lambda (when AWS_LAMBDA_RUNTIME_API is set), and the operator's commands.
//
//	taskapi [serve]        serve HTTP on $HOST:$PORT (inside Lambda: Lambda events)
//	taskapi create-tables  create the DynamoDB tables (idempotent)
//	taskapi create-admin   create an admin, or promote an existing account
//	taskapi verify         check the store's invariants; -repair fixes what it finds
//	taskapi migrate-legacy take the legacy app's DynamoDB tables over in place
//	taskapi version        print the module version, commit and Go version
//	taskapi help [command] print help
//
// The command line behaves like the go tool's: "help", -h and --help print
// to standard output and exit 0; an unknown command, flag or argument prints
// the usage to standard error and exits 2; a failure exits 1.
// Configuration comes from the environment (package config).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/taskapi/taskapi/config"
	"github.com/taskapi/taskapi/internal/logging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what a command gets from the process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand: its flags live on its own FlagSet.
type command struct {
	name     string
	synopsis string // after "taskapi <name>"
	short    string // one line for the command list
	long     string // the help text after the usage line
	// setup defines the command's flags on fs and returns what runs it once
	// they are parsed. cfg is nil for commands that read no configuration.
	setup func(fs *flag.FlagSet) func(ctx context.Context, e env, cfg *config.Config, log *slog.Logger) error
	// config: the command reads the environment's configuration first.
	config bool
}

var commands = []*command{
	{
		name: "serve", short: "serve HTTP on $HOST:$PORT (the default command)", config: true,
		long: `Serve runs the API: GraphQL at /graphql with its playground at /, the
legacy REST shim at /api/v1 with its Swagger UI at /docs, and /healthz.
It listens on $HOST:$PORT (default 127.0.0.1:8080 in development, every
interface otherwise) and stops gracefully on SIGTERM or SIGINT.

Inside AWS Lambda (AWS_LAMBDA_RUNTIME_API set) it serves Lambda events
with the same handler instead and listens on nothing.

With the embedded store it also answers create-admin on an owner-only
unix socket in DATA_DIR (taskapi.sock), so an admin can be made while it
runs.`,
		setup: func(*flag.FlagSet) func(context.Context, env, *config.Config, *slog.Logger) error {
			return func(ctx context.Context, e env, cfg *config.Config, log *slog.Logger) error {
				return serve(ctx, *cfg, log, e.stdout)
			}
		},
	},
	{
		name: "create-tables", short: "create the DynamoDB tables and indexes (idempotent)", config: true,
		long: `Create-tables creates USERS_TABLE and TASKS_TABLE with their indexes and
time-to-live settings, and waits until they are active. Tables that
exist are left as they are. It needs STORE=dynamodb (with AWS_REGION) or
DYNAMODB_ENDPOINT (e.g. DynamoDB Local).`,
		setup: func(*flag.FlagSet) func(context.Context, env, *config.Config, *slog.Logger) error {
			return func(ctx context.Context, e env, cfg *config.Config, log *slog.Logger) error {
				if err := createTables(ctx, *cfg, log); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "tables %s and %s are ready\n", cfg.UsersTable, cfg.TasksTable)
				return nil
			}
		},
	},
	{
		name: "create-admin", synopsis: "-email E [-username U] [-password P]", config: true,
		short: "create an admin, or promote an existing account",
		long: `Create-admin creates an active admin with that email, or, when an account
with that email exists, promotes it: it becomes an active admin with the
new password, and every session it had ends (its tokens stop working).
It is the only way to make the first admin.

The password comes from, in order: -password (visible to other users in
the process list: prefer the others), $` + adminPasswordEnv + `, a prompt
without echo when standard input is a terminal, or the first line of
standard input.

With the embedded store, while "taskapi serve" runs on the same DATA_DIR
(it holds the database's lock), create-admin asks the running server over
its owner-only socket DATA_DIR/taskapi.sock.`,
		setup: createAdminFlags,
	},
	{
		name: "verify", synopsis: "[-repair]", short: "check the store's invariants; -repair fixes what it finds", config: true,
		long: `Verify checks the store's invariants: account deletions left half done
(a crash, a timeout), task counters that disagree with the tasks, and, on
DynamoDB, items the legacy app or an interrupted migration left. It prints
one line per problem and a summary, and exits 1 while a problem is left,
so a script can run it after a cutover or a crash. -repair fixes what it
finds.

With the embedded store it opens the database itself: stop the server
first (it holds the database's lock).`,
		setup: verifyFlags,
	},
	{
		name: "migrate-legacy", synopsis: "[-dry-run] [-decrypt-command CMD] [-rate N]", config: true,
		short: "take the legacy app's DynamoDB tables over in place",
		long: `Migrate-legacy takes the legacy app's DynamoDB tables (USERS_TABLE and
TASKS_TABLE, STORE=dynamodb) over in place: it adds taskapi's indexes
(create-tables), then maps every item to taskapi's layout. -dry-run
changes nothing and prints what would change. The runbook is
docs/migration.md.`,
		setup: migrateLegacyFlags,
	},
	{
		name: "version", short: "print the module version, commit and Go version",
		long: `Version prints the module version, the VCS commit and its time, and the
Go version and platform the binary was built with (runtime/debug.ReadBuildInfo).
-version and --version print the same.`,
		setup: func(*flag.FlagSet) func(context.Context, env, *config.Config, *slog.Logger) error {
			return func(_ context.Context, e env, _ *config.Config, _ *slog.Logger) error {
				fmt.Fprint(e.stdout, versionText())
				return nil
			}
		},
	},
	{name: "help", synopsis: "[command]", short: "print help for taskapi or a command"},
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Taskapi serves the task API (GraphQL and the legacy /api/v1 REST shim)
and runs its operator's commands.

Usage:

	taskapi <command> [flags]

The commands are:

`)
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-15s %s\n", c.name, c.short)
	}
	fmt.Fprint(w, `
With no command, taskapi serves. Use "taskapi help <command>" or
"taskapi <command> -h" for more about a command. Configuration comes from
the environment: see the README's Configuration section.
`)
}

// commandUsage prints c's usage line and flags, and with long its help.
func commandUsage(w io.Writer, c *command, fs *flag.FlagSet, long bool) {
	fmt.Fprintf(w, "usage: taskapi %s", c.name)
	if c.synopsis != "" {
		fmt.Fprintf(w, " %s", c.synopsis)
	}
	fmt.Fprintln(w)
	if long && c.long != "" {
		fmt.Fprintf(w, "\n%s\n", c.long)
	}
	if fs != nil && hasFlags(fs) {
		if long {
			fmt.Fprintln(w, "\nFlags:")
		}
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if !long {
		fmt.Fprintf(w, "Run 'taskapi help %s' for details.\n", c.name)
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	name := "serve"
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-h" || a == "-help" || a == "--help":
			usage(stdout)
			return 0
		case a == "-version" || a == "--version":
			name, args = "version", args[1:]
		case strings.HasPrefix(a, "-"):
			fmt.Fprintf(stderr, "taskapi: flag provided but not defined: %s\n\n", a)
			usage(stderr)
			return 2
		default:
			name, args = a, args[1:]
		}
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "taskapi %s: unknown command\nRun 'taskapi help' for usage.\n", name)
		return 2
	}
	if c.name == "help" {
		return help(args, stdout, stderr)
	}

	fs := flag.NewFlagSet("taskapi "+c.name, flag.ContinueOnError)
	fs.SetOutput(stderr) // the flag package's own line ("flag provided but not defined")
	fs.Usage = func() {}
	runCmd := c.setup(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandUsage(stdout, c, fs, true)
			return 0
		}
		commandUsage(stderr, c, fs, false)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "taskapi %s: unexpected argument %q\n", c.name, fs.Arg(0))
		commandUsage(stderr, c, fs, false)
		return 2
	}

	var (
		cfg *config.Config
		log *slog.Logger
	)
	if c.config {
		loaded, err := config.Load(getenv)
		if err != nil {
			fmt.Fprintln(stderr, "taskapi:", err)
			return 2
		}
		cfg = &loaded
		if c.name == "serve" && !cfg.Lambda {
			// A line per request: batched, flushed every 100 ms and on exit.
			var flush func()
			e.stderr, flush = logging.Buffered(stderr, logFlushInterval)
			defer flush()
		}
		log = logging.New(e.stderr, cfg.LogFormat, cfg.LogLevel)
	}
	if err := runCmd(ctx, e, cfg, log); err != nil {
		fmt.Fprintf(e.stderr, "taskapi %s: %v\n", c.name, err)
		var ue usageError
		if errors.As(err, &ue) {
			commandUsage(e.stderr, c, fs, false)
			return 2
		}
		return 1
	}
	return 0
}

// help is "taskapi help [command]".
func help(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		usage(stdout)
		return 0
	case len(args) > 1:
		fmt.Fprintln(stderr, "usage: taskapi help [command]\n\nToo many arguments given.")
		return 2
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "taskapi help %s: unknown command\nRun 'taskapi help' for usage.\n", args[0])
		return 2
	}
	if c.name == "help" {
		usage(stdout)
		return 0
	}
	fs := flag.NewFlagSet("taskapi "+c.name, flag.ContinueOnError)
	c.setup(fs)
	commandUsage(stdout, c, fs, true)
	return 0
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ error }

// logFlushInterval bounds how late an HTTP server's log line appears.
const logFlushInterval = 100 * time.Millisecond
