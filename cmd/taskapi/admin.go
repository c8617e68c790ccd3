package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/taskapi/taskapi/config"
	"github.com/taskapi/taskapi/store/embedded"
)

// adminPasswordEnv names the environment variable create-admin reads the
// password from (for scripts; a prompt or standard input otherwise).
const adminPasswordEnv = "TASKAPI_ADMIN_PASSWORD"

func createAdminFlags(fs *flag.FlagSet) func(context.Context, env, *config.Config, *slog.Logger) error {
	email := fs.String("email", "", "the admin's email (required)")
	username := fs.String("username", "", "the admin's username (default: the email's local part)")
	password := fs.String("password", "", "the admin's password: 6-15 characters with a special character\n(default: $"+adminPasswordEnv+", a prompt, or standard input)")
	return func(ctx context.Context, e env, cfg *config.Config, log *slog.Logger) error {
		if strings.TrimSpace(*email) == "" {
			return usageError{errors.New("-email is required")}
		}
		pw, err := adminPassword(e, *password, *email)
		if err != nil {
			return err
		}
		return createAdmin(ctx, *cfg, log, e, adminRequest{Email: *email, Password: pw, Username: *username})
	}
}

// adminPassword is the password from -password, $TASKAPI_ADMIN_PASSWORD,
// a prompt without echo when standard input is a terminal, or the first
// line of standard input.
func adminPassword(e env, flagValue, email string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := e.getenv(adminPasswordEnv); v != "" {
		return v, nil
	}
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		read := func(prompt string) (string, error) {
			fmt.Fprint(e.stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(e.stderr)
			return string(b), err
		}
		pw, err := read("Password for " + email + ": ")
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		again, err := read("The same password again: ")
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if pw != again {
			return "", errors.New("the two passwords differ: nothing changed")
		}
		if pw == "" {
			return "", usageError{errors.New("no password given")}
		}
		return pw, nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	if pw := strings.TrimRight(line, "\r\n"); pw != "" {
		return pw, nil
	}
	return "", usageError{fmt.Errorf("no password: give it on standard input, in $%s, or with -password", adminPasswordEnv)}
}

// createAdmin creates or promotes the admin: through the running server
// when one holds the embedded store, else on the store itself.
func createAdmin(ctx context.Context, cfg config.Config, log *slog.Logger, e env, req adminRequest) error {
	if cfg.Store == config.StoreEmbedded {
		sock := filepath.Join(cfg.DataDir, controlSocket)
		res, err := askServer(ctx, sock, req)
		switch {
		case err == nil:
			fmt.Fprintf(e.stderr, "(done by the running server, over %s)\n", sock)
			reportAdmin(e, res.ID, res.Email, res.Created)
			return nil
		case !errors.Is(err, errNoServer):
			return err
		}
	}
	a, err := build(ctx, cfg, log, nil)
	if errors.Is(err, embedded.ErrLocked) {
		return fmt.Errorf("the embedded store in %s is held by another taskapi process that does not answer on %s "+
			"(one started before this version, or a command such as create-admin still running): stop that process, "+
			"run create-admin again, then start the server", cfg.DataDir, filepath.Join(cfg.DataDir, controlSocket))
	}
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.checkStore(ctx); err != nil {
		return err
	}
	u, created, err := a.svc.CreateAdmin(ctx, req.Email, req.Password, req.Username)
	if err != nil {
		return describe(err)
	}
	reportAdmin(e, u.ID, string(u.Email), created)
	return nil
}

// reportAdmin says what create-admin did. A promotion says so plainly: the
// account existed (someone may have registered it in advance), and core's
// CreateAdmin ended all its sessions and replaced its password.
func reportAdmin(e env, id, email string, created bool) {
	if created {
		fmt.Fprintf(e.stdout, "created admin %s <%s>\n", id, email)
		return
	}
	fmt.Fprintf(e.stdout, "promoted the existing account %s <%s> to admin: its password is the one given, "+
		"and all its sessions were ended (every device must log in again)\n", id, email)
}
