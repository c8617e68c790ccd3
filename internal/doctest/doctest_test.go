// Package doctest runs the shell sessions of README.md, docs/graphql.md and
// docs/rest.md verbatim against a fresh server, so a reader who pastes one
// sees what the page shows.
//
// The convention the pages follow:
//   - each session is a ```sh block in a listed section; it reaches the
//     server through api=${API:-http://localhost:8080} (the test sets API);
//   - the "# " lines right after a command are its output, one line each
//     (a prose comment has a blank line before it);
//   - "…" or "..." in an output line matches anything;
//   - ids, tokens and times are normalised on both sides before comparing:
//     each distinct VAH id and UUID becomes a numbered placeholder in order
//     of appearance, JWTs (also abbreviated "eyJhbGciOi...") and refresh
//     tokens one placeholder each, timestamps "<time>".
//
// Each block is one bash script (set -e is not used, as a reader's shell
// would not stop either) run from the repository root with its standard
// error merged into its output, against a server of its own on a temporary
// DATA_DIR, so `go run ./cmd/taskapi create-admin` reaches that server.
package doctest_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskapi/taskapi/internal/testenv"
)

// sessions are the sections whose sh blocks are run, by file (relative to
// the repository root) and heading text prefix.
var sessions = []struct{ file, heading string }{
	{"README.md", "## A GraphQL session with curl"},
	{"README.md", "## A REST session with curl"},
	{"docs/graphql.md", "## A session with curl"},
	{"docs/rest.md", "## A session with curl"},
}

func TestSessions(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			// As for the other services (internal/testenv): a skip in a
			// plain `go test ./...`, a failure in scripts/test.sh, which
			// installs jq.
			reason := fmt.Sprintf("%s is needed to run the documented sessions: %v", tool, err)
			if os.Getenv(testenv.EnvRequireServices) == "1" {
				t.Fatalf("%s (required: %s=1)", reason, testenv.EnvRequireServices)
			}
			t.Skip(reason)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "taskapi")
	// The same build as `go run ./cmd/taskapi` in the sessions, so that one
	// comes from the build cache.
	build := exec.Command("go", "build", "-o", bin, "./cmd/taskapi")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	for _, s := range sessions {
		blocks, err := shBlocks(filepath.Join(root, s.file), s.heading)
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range blocks {
			t.Run(fmt.Sprintf("%s/%s/%d", s.file, strings.TrimPrefix(s.heading, "## "), i+1), func(t *testing.T) {
				dataDir := t.TempDir()
				api := startServer(t, bin, dataDir)
				got := runBlock(t, root, b.script, api, dataDir)
				compare(t, s.file, b, got)
			})
		}
	}
}

// block is one sh block: its text and the output its "# " lines show.
type block struct {
	line     int // the line of the opening fence in its file
	script   string
	expected []string
	lines    []int // each expected line's line number in the file
}

// shBlocks reads the ```sh blocks of the section of path starting with the
// heading prefix (up to the next heading of level 1 to 3).
func shBlocks(path, heading string) ([]block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(data), "\n")
	var (
		blocks          []block
		inSection, inSh bool
		cur             block
		prev            string // "command", "output", "prose" or "blank"
	)
	for n, l := range lines {
		switch {
		case !inSh && strings.HasPrefix(l, "#"):
			if strings.HasPrefix(l, heading) {
				inSection = true
			} else if inSection && (strings.HasPrefix(l, "# ") || strings.HasPrefix(l, "## ") || strings.HasPrefix(l, "### ")) {
				inSection = false
			}
		case inSection && !inSh && strings.TrimSpace(l) == "```sh":
			inSh, cur, prev = true, block{line: n + 1}, "blank"
		case inSh && strings.TrimSpace(l) == "```":
			inSh = false
			blocks = append(blocks, cur)
		case inSh:
			cur.script += l + "\n"
			trimmed := strings.TrimSpace(l)
			switch {
			case trimmed == "":
				prev = "blank"
			case strings.HasPrefix(trimmed, "# ") && (prev == "command" || prev == "output"):
				cur.expected = append(cur.expected, strings.TrimPrefix(trimmed, "# "))
				cur.lines = append(cur.lines, n+1)
				prev = "output"
			case strings.HasPrefix(trimmed, "#"):
				prev = "prose"
			default:
				prev = "command"
			}
		}
	}
	if inSh {
		return nil, fmt.Errorf("%s: unclosed ```sh block", path)
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("%s: no ```sh block under %q", path, heading)
	}
	return blocks, nil
}

// startServer runs bin on a free loopback port with dataDir and returns its
// base URL once /healthz answers. The port is free when chosen, not
// reserved: a server that exits before answering (another process took
// the port) is started again on another one.
func startServer(t *testing.T, bin, dataDir string) string {
	t.Helper()
	var logs string
	for range 3 {
		base, out, ok := tryServer(t, bin, dataDir)
		if ok {
			return base
		}
		logs = out
	}
	t.Fatalf("taskapi exited before answering, three times; the last log:\n%s", logs)
	return ""
}

// tryServer starts one server; ok is false, with its log, if it exited
// before answering /healthz.
func tryServer(t *testing.T, bin, dataDir string) (base, logs string, ok bool) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var out testenv.SyncBuffer
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "ENVIRONMENT=development",
		"HOST=127.0.0.1", fmt.Sprintf("PORT=%d", port), "DATA_DIR=" + dataDir}
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	for {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			return "", fmt.Sprintf("%v\n%s", err, out.String()), false
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", out.String())
		}
	})
	return base, "", true
}

// runBlock runs script with bash from root, as a reader's shell would after
// `export API=...` (and DATA_DIR, which the reader leaves at ./data), and
// returns what it printed, standard error included.
func runBlock(t *testing.T, root, script, api, dataDir string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--norc", "--noprofile", "-s")
	cmd.Dir = root
	for _, kv := range os.Environ() {
		// Nothing of the test's own environment may stand in for what the
		// session sets itself.
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "TOKEN", "ADMIN_TOKEN", "AUTH", "api", "API", "DATA_DIR", "ENVIRONMENT", "STORE", "TASKAPI_ADMIN_PASSWORD", "BASH_ENV", "ENV":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "API="+api, "DATA_DIR="+dataDir, "ENVIRONMENT=development")
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("bash: %v", err)
	}
	// The reader's DATA_DIR is ./data: paths under the test's one read so.
	text := strings.ReplaceAll(out.String(), dataDir, "data")
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

var (
	jwtRe = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|\.\.\.|…)`)
	// No \b around it: a refresh token may start or end with "-" or "_".
	refreshRe  = regexp.MustCompile(`[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`)
	uuidRe     = regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
	vahRe      = regexp.MustCompile(`\bVAH[0-9]+\b`)
	timeRe     = regexp.MustCompile(`\b[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?`)
	wildcardRe = regexp.MustCompile(`…|\.\.\.`)
)

// normaliser maps each distinct id it meets to a numbered placeholder; one
// per side of a comparison, so the numbering follows each side's order.
type normaliser struct{ ids map[string]string }

func (n *normaliser) line(s string) string {
	if n.ids == nil {
		n.ids = map[string]string{}
	}
	s = jwtRe.ReplaceAllString(s, "<jwt>")
	s = refreshRe.ReplaceAllString(s, "<refresh token>")
	s = timeRe.ReplaceAllString(s, "<time>")
	number := func(kind string) func(string) string {
		return func(id string) string {
			if p, ok := n.ids[id]; ok {
				return p
			}
			count := 0
			for _, p := range n.ids {
				if strings.HasPrefix(p, "<"+kind+" ") {
					count++
				}
			}
			p := fmt.Sprintf("<%s %d>", kind, count+1)
			n.ids[id] = p
			return p
		}
	}
	s = uuidRe.ReplaceAllStringFunc(s, number("uuid"))
	s = vahRe.ReplaceAllStringFunc(s, number("user id"))
	return s
}

// matcher is an expected line as a pattern: its wildcards match anything.
func matcher(expected string) *regexp.Regexp {
	parts := wildcardRe.Split(expected, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// compare checks the block's output against its "# " lines, line by line.
func compare(t *testing.T, file string, b block, got []string) {
	t.Helper()
	var gn, en normaliser
	for i := 0; i < len(got) || i < len(b.expected); i++ {
		switch {
		case i >= len(b.expected):
			t.Errorf("%s: the block at line %d prints more than it shows; line %d of its output: %s", file, b.line, i+1, got[i])
			continue
		case i >= len(got):
			t.Errorf("%s:%d: shown but not printed: %s", file, b.lines[i], b.expected[i])
			continue
		}
		g, e := gn.line(got[i]), en.line(b.expected[i])
		if !matcher(e).MatchString(g) {
			t.Errorf("%s:%d: output differs\n shown:   %s\n printed: %s\n (normalised: %s\n          vs %s)", file, b.lines[i], b.expected[i], got[i], e, g)
		}
	}
	if t.Failed() {
		t.Logf("the whole output:\n%s", strings.Join(got, "\n"))
	}
}

// TestNormalise covers the shapes that vary from run to run, including the
// random ones that start or end with a character \b does not see.
func TestNormalise(t *testing.T) {
	tests := []struct {
		name, shown, printed string
		match                bool
	}{
		{"OK refresh token starting with -",
			`{"refresh_token":"v-tuCby8w6Va4Jgb5mzusg.IQ-HRF7U6oSLSYAWfi4zhoGDvXwwKFaZsBRF1GMmFAo"}`,
			`{"refresh_token":"-WVLE0GA5ztVrr98BQvAzA.7y_1A8i3c9FGuENHni9P0iP307ULJhDnGOnn8PmSl-_"}`, true},
		{"OK abbreviated JWT",
			`{"access_token":"eyJhbGciOiJIUzI1NiIs...","token_type":"bearer"}`,
			`{"access_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJWQUgxIn0.Wd5C9g91H2VCQZuqGQRC7Ky0w3UgjQ-_sb80","token_type":"bearer"}`, true},
		{"OK ids numbered in order",
			`VAH7 01a2230a-3361-799d-8586-ebfa027b6d5a VAH9 VAH7`,
			`VAH1 01a23bcc-b8d8-7dc4-8039-181ff4635fef VAH2 VAH1`, true},
		{"OK wildcards and times",
			`{"created_at":"2025-01-31T09:30:00.000Z",…}`,
			`{"created_at":"2026-12-03T12:06:42.136Z","updated_at":"2026-12-03T12:06:42.170Z"}`, true},
		{"ErrDifferentId",
			`VAH7 VAH7`,
			`VAH1 VAH2`, false},
		{"ErrDifferentText",
			`{"status":"pending"}`,
			`{"status":"ongoing"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sn, pn normaliser
			e, g := sn.line(tt.shown), pn.line(tt.printed)
			if got := matcher(e).MatchString(g); got != tt.match {
				t.Errorf("match = %v, want %v\n shown:   %s\n printed: %s", got, tt.match, e, g)
			}
		})
	}
}
