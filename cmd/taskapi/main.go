// Command taskapi is the whole service in one binary: an HTTP server on the
// embedded store with no configuration at all, the same handler inside AWS
// Lambda (when AWS_LAMBDA_RUNTIME_API is set), and the operator's commands.
//
//	taskapi [serve]                                         serve HTTP on :$PORT
//	taskapi create-tables                                   create the DynamoDB tables (idempotent)
//	taskapi create-admin -email E -password P [-username U] create or promote an admin
//	taskapi verify [-repair]                                check the store; finish interrupted deletions
//	taskapi migrate-legacy [-dry-run] [-decrypt-command C]  take the legacy app's tables over in place
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/taskapi/taskapi/config"
	"github.com/taskapi/taskapi/internal/lambdaserve"
	"github.com/taskapi/taskapi/internal/logging"
	"github.com/taskapi/taskapi/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  taskapi [serve]                                          serve HTTP on :$PORT (default 8080)
  taskapi create-tables                                    create the DynamoDB tables (idempotent)
  taskapi create-admin -email E -password P [-username U]  create or promote an admin
  taskapi verify [-repair]                                 check the store's invariants; -repair fixes what it finds
  taskapi migrate-legacy [-dry-run] [-decrypt-command CMD] [-rate N]
                                                           take the legacy app's DynamoDB tables over in place (docs/migration.md)
Configuration comes from the environment; see the README.
`

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve", "create-tables", "create-admin", "verify", "migrate-legacy":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "taskapi: unknown command %q\n%s", cmd, usage)
		return 2
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "taskapi:", err)
		return 2
	}
	if cmd == "serve" && !cfg.Lambda {
		// A line per request: batched, flushed every 100 ms and on exit.
		var flush func()
		stderr, flush = logging.Buffered(stderr, logFlushInterval)
		defer flush()
	}
	log := logging.New(stderr, cfg.LogFormat, cfg.LogLevel)

	switch cmd {
	case "create-tables":
		err = createTables(ctx, cfg, log)
		if err == nil {
			fmt.Fprintf(stdout, "tables %s and %s are ready\n", cfg.UsersTable, cfg.TasksTable)
		}
	case "create-admin":
		err = createAdmin(ctx, cfg, log, args, stdout, stderr)
	case "verify":
		err = verify(ctx, cfg, log, args, stdout, stderr)
	case "migrate-legacy":
		err = migrateLegacy(ctx, cfg, log, args, stdout, stderr)
	default:
		err = serve(ctx, cfg, log)
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "taskapi %s: %v\n", cmd, err)
			return 2
		}
		fmt.Fprintf(stderr, "taskapi %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

type usageError struct{ error }

// logFlushInterval bounds how late an HTTP server's log line appears.
const logFlushInterval = 100 * time.Millisecond

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	start := time.Now()
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()

	if cfg.Lambda {
		log.Info("serving AWS Lambda events", "format", cfg.LambdaEventFormat, "store", cfg.Store, "cache", cfg.CacheEnabled(), "init_ms", time.Since(start).Milliseconds())
		return lambdaserve.Start(ctx, a.handler, cfg.LambdaEventFormat, log)
	}

	srv := server.NewHTTPServer(net.JoinHostPort("", strconv.Itoa(cfg.Port)), a.handler, server.Timeouts{}, log)
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return err
	}
	log.Info("taskapi listening", "addr", ln.Addr().String(), "store", cfg.Store, "cache", cfg.CacheEnabled(),
		"environment", cfg.Environment, "startup_ms", time.Since(start).Milliseconds())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func createAdmin(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("create-admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the admin's email (required)")
	password := fs.String("password", "", "the admin's password: 6-15 characters with a special character (required)")
	username := fs.String("username", "", "the admin's username (default: the email's local part)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *email == "" || *password == "" {
		return usageError{errors.New("-email and -password are required")}
	}
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	u, created, err := a.svc.CreateAdmin(ctx, *email, *password, *username)
	if err != nil {
		return describe(err)
	}
	verb := "promoted"
	if created {
		verb = "created"
	}
	fmt.Fprintf(stdout, "%s admin %s <%s>\n", verb, u.ID, u.Email)
	return nil
}
