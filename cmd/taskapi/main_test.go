package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var bin string

// TestMain builds taskapi once for every test of the binary.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "taskapi-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "taskapi")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func binary(*testing.T) string { return bin }

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type server struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	done chan error
}

// start runs the binary with env and waits until /healthz answers.
func start(t *testing.T, bin string, env ...string) *server {
	t.Helper()
	port := freePort(t)
	s := &server{url: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &bytes.Buffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin)
	s.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), fmt.Sprintf("PORT=%d", port)}, env...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { _ = s.cmd.Process.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("taskapi exited early: %v\n%s", err, s.logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("taskapi did not answer /healthz\n%s", s.logs)
	return nil
}

func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("taskapi did not exit cleanly on SIGTERM: %v\n%s", err, s.logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("taskapi did not stop on SIGTERM\n%s", s.logs)
	}
}

func (s *server) graphql(t *testing.T, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out["errors"] != nil {
		t.Fatalf("graphql errors: %v", out["errors"])
	}
	return out["data"].(map[string]any)
}

const login = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken user { id role } } }`

// TestServeRestartCreateAdmin runs the binary as a user would: zero
// configuration but DATA_DIR, a GraphQL session, SIGTERM, a restart that
// keeps every user, task and token, and create-admin.
func TestServeRestartCreateAdmin(t *testing.T) {
	bin := binary(t)
	dataDir := t.TempDir()
	env := []string{"DATA_DIR=" + dataDir}

	s := start(t, bin, env...)
	s.graphql(t, "", `mutation { register(input: {username: "ann", email: "Ann@Example.com", password: "s3cret!"}) { id } }`, nil)
	tok := s.graphql(t, "", login, map[string]any{"e": "ann@example.com", "p": "s3cret!"})["login"].(map[string]any)["accessToken"].(string)
	s.graphql(t, tok, `mutation { createTask(input: {title: "survive a restart", description: "bbolt"}) { id } }`, nil)
	s.stop(t)
	if !strings.Contains(s.logs.String(), "shutting down") {
		t.Errorf("no graceful shutdown in logs:\n%s", s.logs)
	}
	// The access log is buffered while serving: every line is out by exit.
	if n := strings.Count(s.logs.String(), "path=/graphql status=200"); n != 3 {
		t.Errorf("%d access-log lines for 3 GraphQL requests:\n%s", n, s.logs)
	}

	s = start(t, bin, env...)
	data := s.graphql(t, tok, `{ me { email stats { pending total } } tasks { totalCount edges { node { title } } } }`, nil)
	me := data["me"].(map[string]any)
	if me["email"] != "Ann@example.com" || me["stats"].(map[string]any)["total"] != float64(1) {
		t.Fatalf("after restart: %v", data)
	}
	if title := data["tasks"].(map[string]any)["edges"].([]any)[0].(map[string]any)["node"].(map[string]any)["title"]; title != "survive a restart" {
		t.Fatalf("task lost: %v", data)
	}
	s.stop(t)

	cmd := exec.Command(bin, "create-admin", "-email", "Root@Example.com", "-password", "r00t!pw")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "created admin VAH") {
		t.Fatalf("create-admin: %v\n%s", err, out)
	}
	cmd = exec.Command(bin, "create-admin", "-email", "ann@example.com", "-password", "n3w!pass")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "promoted the existing account") || !strings.Contains(string(out), "all its sessions were ended") {
		t.Fatalf("create-admin (promote): %v\n%s", err, out)
	}

	s = start(t, bin, env...)
	user := s.graphql(t, "", login, map[string]any{"e": "ann@example.com", "p": "n3w!pass"})["login"].(map[string]any)["user"].(map[string]any)
	if user["role"] != "ADMIN" {
		t.Fatalf("promoted user: %v", user)
	}
	// A token from before the promotion never becomes an admin's (issue 14).
	if codes := s.graphqlErrors(t, tok, `{ me { id } }`); len(codes) != 1 || codes[0] != "UNAUTHENTICATED" {
		t.Fatalf("a token from before the promotion: errors %v, want UNAUTHENTICATED", codes)
	}
	s.stop(t)
	for _, secret := range []string{"s3cret!", "r00t!pw", "n3w!pass", tok, "$argon2id$"} {
		if strings.Contains(s.logs.String(), secret) {
			t.Errorf("logs contain a secret (%q)", secret[:4])
		}
	}
}

func TestBadConfigurationFailsAtStart(t *testing.T) {
	bin := binary(t)
	for name, env := range map[string][]string{
		"ErrNoSecretInProduction": {"ENVIRONMENT=production"},
		"ErrPort":                 {"PORT=eighty"},
		"ErrStore":                {"STORE=mongo"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "DATA_DIR=" + t.TempDir()}, env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
				t.Fatalf("exit: %v (want code 2)", err)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "taskapi: configuration:") {
				t.Fatalf("want one clear line, got:\n%s", stderr.String())
			}
		})
	}
	t.Run("ErrCreateAdminWeakPassword", func(t *testing.T) {
		cmd := exec.Command(bin, "create-admin", "-email", "a@b.co", "-password", "weak")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATA_DIR=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "password:") {
			t.Fatalf("weak admin password accepted: %s", out)
		}
	})
}
