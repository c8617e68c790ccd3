package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/taskapi/taskapi/config"
	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/dynamo"
)

// migrateLegacy runs `taskapi migrate-legacy`: dynamo.Store.Reconcile with
// the legacy mapping over USERS_TABLE and TASKS_TABLE, after making sure the
// tables have taskapi's indexes (create-tables). docs/migration.md is the
// runbook.
func migrateLegacyFlags(fs *flag.FlagSet) func(context.Context, env, *config.Config, *slog.Logger) error {
	dryRun := fs.Bool("dry-run", false, "change nothing; print what would change")
	decrypt := fs.String("decrypt-command", "", "a shell command that decrypts the legacy passwords (protocol in docs/migration.md)")
	rate := fs.Int("rate", 0, "at most this many items read or written per second (0: no bound)")
	return func(ctx context.Context, e env, cfg *config.Config, log *slog.Logger) error {
		return migrateLegacy(ctx, *cfg, log, dryRun, decrypt, rate, e.stdout, e.stderr)
	}
}

func migrateLegacy(ctx context.Context, cfg config.Config, log *slog.Logger, dryRun *bool, decrypt *string, rate *int, stdout, stderr io.Writer) error {
	if cfg.Store != config.StoreDynamoDB {
		return usageError{errors.New("migrate-legacy works on the legacy app's DynamoDB tables: set STORE=dynamodb, USERS_TABLE and TASKS_TABLE")}
	}
	secrets, err := resolveSecrets(ctx, cfg)
	if err != nil {
		return err
	}
	client, err := dynamo.NewClient(ctx, dynamo.Options{Region: cfg.AWSRegion, Endpoint: cfg.DynamoDBEndpoint})
	if err != nil {
		return fmt.Errorf("dynamodb client: %w", err)
	}
	st := dynamo.New(client, dynamo.Tables{Users: cfg.UsersTable, Tasks: cfg.TasksTable})
	if !*dryRun {
		// The tasks table's indexes and the sessions' TTL: added to the
		// legacy tables.
		if err := st.CreateTables(ctx); err != nil {
			return fmt.Errorf("preparing the tables: %w", err)
		}
	}
	o := dynamo.ReconcileOptions{
		Legacy: true, DryRun: *dryRun, Rate: *rate,
		Log: func(line string) { fmt.Fprintln(stdout, line) },
	}
	if *decrypt != "" {
		// Every core hashes: nothing else runs during a migration.
		hasher := core.NewHasher(secrets.pepper, nil, runtime.NumCPU())
		o.Convert = func(ctx context.Context, in []dynamo.LegacyPassword) ([]dynamo.ConvertedPassword, error) {
			return convertPasswords(ctx, *decrypt, hasher, in, stderr)
		}
	}
	start := time.Now()
	r, err := st.Reconcile(ctx, o)
	fmt.Fprintf(stdout, "users %d, tasks %d, passwords converted %d, passwords not convertible %d, duplicates %d, skipped items %d, changes %d, retry %d (%s)\n",
		r.Users, r.Tasks, r.PasswordsConverted, r.PasswordsNotConverted, r.Duplicates, r.Skipped, r.Changes, r.Retry, time.Since(start).Round(time.Millisecond))
	if err != nil {
		return err
	}
	if r.Retry > 0 {
		return fmt.Errorf("%d items changed while they were migrated: run migrate-legacy again", r.Retry)
	}
	log.Info("legacy migration done", "users", r.Users, "tasks", r.Tasks, "dry_run", *dryRun)
	return nil
}

// decryptLine is one line of the -decrypt-command protocol, either way.
type decryptLine struct {
	UserID     string `json:"user_id"`
	Ciphertext string `json:"ciphertext,omitempty"`
	Password   string `json:"password,omitempty"`
	Error      string `json:"error,omitempty"`
}

// convertPasswords runs command once (sh -c), writes one request line per
// password to its stdin, reads one answer line per request, in order, and
// hashes each plaintext. No plaintext is kept past its hashing, logged or
// echoed: the command's stderr is counted, never shown (it may quote its
// input).
func convertPasswords(ctx context.Context, command string, hasher *core.Hasher, in []dynamo.LegacyPassword, stderr io.Writer) ([]dynamo.ConvertedPassword, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var errBytes countingWriter
	cmd.Stderr = &errBytes
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("-decrypt-command: %w", err)
	}
	out := make([]dynamo.ConvertedPassword, len(in))
	plain := make([]string, len(in))
	g, _ := errgroup.WithContext(ctx)
	g.Go(func() error { // write while reading: a pipe holds only so much
		defer stdin.Close()
		enc := json.NewEncoder(stdin)
		for _, p := range in {
			if err := enc.Encode(decryptLine{UserID: p.UserID, Ciphertext: p.Value}); err != nil {
				return fmt.Errorf("-decrypt-command stopped reading: %w", err)
			}
		}
		return nil
	})
	g.Go(func() error {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for i := range in {
			out[i] = dynamo.ConvertedPassword{UserID: in[i].UserID}
			if !sc.Scan() {
				out[i].Error = "-decrypt-command gave no answer"
				continue
			}
			var ans decryptLine
			switch err := json.Unmarshal(sc.Bytes(), &ans); {
			case err != nil:
				out[i].Error = "-decrypt-command answered a line that is not JSON"
			case ans.UserID != in[i].UserID:
				out[i].Error = fmt.Sprintf("-decrypt-command answered for %q instead", ans.UserID)
			case ans.Error != "":
				out[i].Error = ans.Error
			case ans.Password == "":
				out[i].Error = "-decrypt-command answered an empty password"
			default:
				plain[i] = ans.Password
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		return nil
	})
	gerr := g.Wait()
	if gerr == nil {
		// Hash on every core; each plaintext is dropped once hashed.
		h, hctx := errgroup.WithContext(ctx)
		h.SetLimit(runtime.NumCPU())
		for i := range plain {
			if plain[i] == "" {
				continue
			}
			h.Go(func() error {
				hash, err := hasher.Hash(hctx, plain[i])
				plain[i] = ""
				out[i].Hash = hash
				return err
			})
		}
		gerr = h.Wait()
	}
	werr := cmd.Wait()
	if errBytes.n > 0 {
		fmt.Fprintf(stderr, "taskapi migrate-legacy: -decrypt-command wrote %d bytes to its stderr (not shown: it may hold secrets)\n", errBytes.n)
	}
	if gerr != nil {
		return nil, gerr
	}
	if werr != nil {
		return nil, fmt.Errorf("-decrypt-command: %w", werr)
	}
	return out, nil
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }
