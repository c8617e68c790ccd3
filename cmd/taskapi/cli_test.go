package main_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runBin runs the binary with args, env (and PATH, and a fresh DATA_DIR
// unless env names one) and stdin, and returns its exit code and output.
// A command that should print and exit but serves instead is killed by
// the deadline and fails the test.
func runBin(t *testing.T, stdin string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "DATA_DIR=" + t.TempDir()}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("taskapi %s did not exit (is it serving?)\n%s", strings.Join(args, " "), errOut.String())
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// TestCommandLine: help goes to standard output with exit 0, mistakes to
// standard error with the usage and exit 2, and neither ever serves.
func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		env        []string
		code       int
		stdout     string // a substring of standard output ("" : none expected)
		stderr     string // a substring of standard error ("" : none expected)
		noStdout   bool
		stdinInput string
	}{
		{name: "OK help", args: []string{"help"}, stdout: "The commands are:"},
		{name: "OK -h", args: []string{"-h"}, stdout: "The commands are:"},
		{name: "OK --help", args: []string{"--help"}, stdout: "The commands are:"},
		{name: "OK -help", args: []string{"-help"}, stdout: "The commands are:"},
		{name: "OK help serve", args: []string{"help", "serve"}, stdout: "usage: taskapi serve\n"},
		{name: "OK help create-admin lists its flags", args: []string{"help", "create-admin"}, stdout: "-username string"},
		{name: "OK help help", args: []string{"help", "help"}, stdout: "The commands are:"},
		{name: "OK serve -h", args: []string{"serve", "-h"}, stdout: "usage: taskapi serve\n"},
		{name: "OK serve --help", args: []string{"serve", "--help"}, stdout: "HOST"},
		{name: "OK create-admin -h", args: []string{"create-admin", "-h"}, stdout: "TASKAPI_ADMIN_PASSWORD"},
		{name: "OK create-admin --help", args: []string{"create-admin", "--help"}, stdout: "usage: taskapi create-admin"},
		{name: "OK create-tables -h", args: []string{"create-tables", "-h"}, stdout: "usage: taskapi create-tables"},
		{name: "OK verify -h", args: []string{"verify", "-h"}, stdout: "-repair"},
		{name: "OK help verify", args: []string{"help", "verify"}, stdout: "usage: taskapi verify [-repair]"},
		{name: "OK migrate-legacy -h", args: []string{"migrate-legacy", "-h"}, stdout: "-decrypt-command string"},
		{name: "OK version -h", args: []string{"version", "-h"}, stdout: "usage: taskapi version"},
		// Help needs no valid configuration: a newcomer's shell may have anything set.
		{name: "OK help with a bad configuration", args: []string{"serve", "-h"}, env: []string{"PORT=eighty"}, stdout: "usage: taskapi serve"},
		{name: "OK version", args: []string{"version"}, stdout: "  go:     go1."},
		{name: "OK --version", args: []string{"--version"}, stdout: "taskapi "},
		{name: "OK -version", args: []string{"-version"}, stdout: "  commit: "},

		{name: "ErrUnknownCommand", args: []string{"srve"}, code: 2, stderr: "taskapi srve: unknown command", noStdout: true},
		{name: "ErrHelpUnknownCommand", args: []string{"help", "srve"}, code: 2, stderr: "unknown command", noStdout: true},
		{name: "ErrHelpTooManyArguments", args: []string{"help", "serve", "version"}, code: 2, stderr: "usage: taskapi help", noStdout: true},
		{name: "ErrUnknownTopLevelFlag", args: []string{"--port=8080"}, code: 2, stderr: "flag provided but not defined: --port=8080", noStdout: true},
		{name: "ErrUnknownServeFlag", args: []string{"serve", "-port", "8080"}, code: 2, stderr: "flag provided but not defined: -port\nusage: taskapi serve", noStdout: true},
		{name: "ErrServeArgument", args: []string{"serve", "now"}, code: 2, stderr: `unexpected argument "now"`, noStdout: true},
		{name: "ErrVerifyArgument", args: []string{"verify", "all"}, code: 2, stderr: `unexpected argument "all"`, noStdout: true},
		{name: "ErrVerifyFlag", args: []string{"verify", "-fix"}, code: 2, stderr: "usage: taskapi verify", noStdout: true},
		{name: "ErrMigrateLegacyOnTheEmbeddedStore", args: []string{"migrate-legacy", "-dry-run"}, code: 2, stderr: "set STORE=dynamodb", noStdout: true},
		{name: "ErrVersionFlag", args: []string{"version", "-short"}, code: 2, stderr: "usage: taskapi version", noStdout: true},
		{name: "ErrCreateAdminFlag", args: []string{"create-admin", "-mail", "a@b.co"}, code: 2, stderr: "usage: taskapi create-admin", noStdout: true},
		{name: "ErrCreateAdminNoEmail", args: []string{"create-admin"}, code: 2, stderr: "-email is required", noStdout: true},
		{name: "ErrCreateAdminNoPassword", args: []string{"create-admin", "-email", "a@b.co"}, code: 2, stderr: "no password", noStdout: true},
		{name: "ErrCreateTablesOnTheEmbeddedStore", args: []string{"create-tables"}, code: 2, stderr: "STORE=dynamodb", noStdout: true},
		{name: "ErrCreateTablesArgument", args: []string{"create-tables", "users"}, code: 2, stderr: "unexpected argument", noStdout: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runBin(t, tc.stdinInput, tc.env, tc.args...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if tc.stdout != "" && !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, stdout)
			}
			if tc.noStdout && stdout != "" {
				t.Errorf("stdout should be empty, got:\n%s", stdout)
			}
			if tc.stderr != "" && !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
			if tc.code == 0 && stderr != "" {
				t.Errorf("stderr should be empty, got:\n%s", stderr)
			}
		})
	}
}

// TestVersionNamesTheCommit builds with VCS stamping (scripts/test.sh
// turns it off for speed) and expects the checkout's commit.
func TestVersionNamesTheCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary again")
	}
	out2, err := exec.Command("git", "rev-parse", "HEAD", "--show-toplevel").Output()
	lines := strings.Fields(string(out2))
	if err != nil || len(lines) != 2 {
		t.Skipf("not in a git checkout: %v", err)
	}
	head := lines[0]
	if fi, err := os.Stat(filepath.Join(lines[1], ".git")); err != nil || !fi.IsDir() {
		t.Skip("in a git worktree, where the go command records no VCS information")
	}
	out := filepath.Join(t.TempDir(), "taskapi")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", out, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, b)
	}
	got, err := exec.Command(out, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^taskapi \S+\n  commit: ` + head +
		`( \(with uncommitted changes\))?\n  time:   \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(commit time\)\n  go:     go1\.\S+ \w+/\w+`)
	if !want.Match(got) {
		t.Fatalf("taskapi version:\n%s\nwant commit %s and its time", got, head)
	}
}

// nonLoopbackIP is an address of this machine other than loopback, if any.
func nonLoopbackIP(t *testing.T) net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP
		}
	}
	return nil
}

func reachable(ip net.IP, port string) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(ip.String(), port), 5*time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// TestStartLogAndHost: the start log names what to open, the store and
// the cache; in development the server is reachable on loopback only,
// unless HOST says otherwise.
func TestStartLogAndHost(t *testing.T) {
	ip := nonLoopbackIP(t)
	for _, tc := range []struct {
		name      string
		env       []string
		addr      string // the listener, in the log (a regexp)
		base      string // the URLs' scheme and host, in the log
		reachable bool   // from the machine's other address
	}{
		{"OK development listens on loopback", nil, `addr=127\.0\.0\.1:`, "http://127.0.0.1:", false},
		{"OK HOST=0.0.0.0 listens everywhere", []string{"HOST=0.0.0.0"}, `addr=(0\.0\.0\.0|\[::\]):`, "http://localhost:", true},
		{"OK production listens everywhere", []string{"ENVIRONMENT=production", "JWT_SECRET=0123456789abcdef0123456789abcdef-host", "LOG_FORMAT=text"}, `addr=\[::\]:`, "http://localhost:", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			s := start(t, bin, append([]string{"DATA_DIR=" + dataDir}, tc.env...)...)
			_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.url, "http://"))
			if ip != nil {
				if got := reachable(ip, port); got != tc.reachable {
					t.Errorf("reachable at %s:%s: %v, want %v", ip, port, got, tc.reachable)
				}
			}
			s.stop(t)
			logs := s.logs.String()
			base := tc.base + port
			if !regexp.MustCompile(tc.addr + port + " ").MatchString(logs) {
				t.Errorf("start log lacks the listener %s%s:\n%s", tc.addr, port, logs)
			}
			for _, want := range []string{
				"playground=" + base + "/ ",
				"docs=" + base + "/docs ",
				"graphql=" + base + "/graphql ",
				"rest=" + base + "/api/v1",
				fmt.Sprintf("store=\"embedded (%s)\"", filepath.Join(dataDir, "taskapi.db")),
				`cache="none (REDIS_HOST unset)"`,
			} {
				if !strings.Contains(logs, want) {
					t.Errorf("start log lacks %q:\n%s", want, logs)
				}
			}
		})
	}
	t.Run("ErrHostTaken", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		_, port, _ := net.SplitHostPort(l.Addr().String())
		code, _, stderr := runBin(t, "", []string{"PORT=" + port})
		if code != 1 || !strings.Contains(stderr, "listen on 127.0.0.1:"+port+" (HOST, PORT)") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
	})
}
