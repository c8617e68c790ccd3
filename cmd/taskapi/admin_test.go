package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskapi/taskapi/store/embedded"
)

// graphqlErrors runs query and returns the codes of its errors.
func (s *server) graphqlErrors(t *testing.T, token, query string) []string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Errors []struct {
			Extensions struct{ Code string } `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, e := range out.Errors {
		codes = append(codes, e.Extensions.Code)
	}
	return codes
}

// TestCreateAdminWhileServing: the running server holds the embedded
// store's lock, and create-admin asks it over its owner-only socket; a
// promotion says so and ends the account's sessions.
func TestCreateAdminWhileServing(t *testing.T) {
	dataDir := t.TempDir()
	dirEnv := "DATA_DIR=" + dataDir
	s := start(t, bin, dirEnv)
	sock := filepath.Join(dataDir, "taskapi.sock")
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket %s: %v, %v; want an owner-only (0600) socket", sock, fi.Mode(), err)
	}

	s.graphql(t, "", `mutation { register(input: {username: "ann", email: "ann@example.com", password: "s3cret!"}) { id } }`, nil)
	annToken := s.graphql(t, "", login, map[string]any{"e": "ann@example.com", "p": "s3cret!"})["login"].(map[string]any)["accessToken"].(string)

	for _, tc := range []struct {
		name   string
		stdin  string
		env    []string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{name: "OK created, password on standard input", stdin: "r00t!pw\n",
			args: []string{"create-admin", "-email", "root@example.com"}, stdout: []string{"created admin VAH", "<root@example.com>"}},
		{name: "OK promoted, password in TASKAPI_ADMIN_PASSWORD", env: []string{"TASKAPI_ADMIN_PASSWORD=n3w!pass"},
			args:   []string{"create-admin", "-email", "ANN@example.com"},
			stdout: []string{"promoted the existing account VAH", "<ann@example.com> to admin", "all its sessions were ended"}},
		{name: "OK -password wins over the environment", env: []string{"TASKAPI_ADMIN_PASSWORD=weak"},
			args: []string{"create-admin", "-email", "ops@example.com", "-password", "0ps!pass"}, stdout: []string{"created admin"}},
		{name: "ErrWeakPassword answered by the server", stdin: "weak\n",
			args: []string{"create-admin", "-email", "eve@example.com"}, code: 1, stderr: "password: "},
		{name: "ErrBadEmail answered by the server", stdin: "g00d!pass\n",
			args: []string{"create-admin", "-email", "not-an-email"}, code: 1, stderr: "email: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runBin(t, tc.stdin, append([]string{dirEnv}, tc.env...), tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q: %s", want, stdout)
				}
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q: %s", tc.stderr, stderr)
			}
			if tc.code == 0 && !strings.Contains(stderr, "done by the running server") {
				t.Errorf("not done by the running server: %s", stderr)
			}
		})
	}

	if codes := s.graphqlErrors(t, annToken, `{ me { id } }`); len(codes) != 1 || codes[0] != "UNAUTHENTICATED" {
		t.Errorf("the promoted account's old token: errors %v, want UNAUTHENTICATED (its sessions ended)", codes)
	}
	user := s.graphql(t, "", login, map[string]any{"e": "ann@example.com", "p": "n3w!pass"})["login"].(map[string]any)["user"].(map[string]any)
	if user["role"] != "ADMIN" {
		t.Errorf("promoted user: %v", user)
	}
	root := s.graphql(t, "", login, map[string]any{"e": "root@example.com", "p": "r00t!pw"})["login"].(map[string]any)["user"].(map[string]any)
	if root["role"] != "ADMIN" {
		t.Errorf("created admin: %v", root)
	}
	s.stop(t)
	if _, err := os.Stat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the control socket outlives the server: %v", err)
	}
	for _, secret := range []string{"r00t!pw", "n3w!pass", "0ps!pass", "g00d!pass"} {
		if strings.Contains(s.logs.String(), secret) {
			t.Errorf("the server's log holds a password (%q)", secret[:3])
		}
	}
}

// TestCreateAdminStoreHeldElsewhere: a process holding the store that
// does not answer on the socket gets an exact instruction, and a socket
// left by a dead server is no obstacle.
func TestCreateAdminStoreHeldElsewhere(t *testing.T) {
	t.Run("ErrLockedWithoutSocket", func(t *testing.T) {
		dataDir := t.TempDir()
		st, err := embedded.Open(dataDir) // another taskapi, say one before the socket existed
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		code, stdout, stderr := runBin(t, "r00t!pw\n", []string{"DATA_DIR=" + dataDir}, "create-admin", "-email", "root@example.com")
		if code != 1 || stdout != "" {
			t.Fatalf("exit %d, stdout %q", code, stdout)
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(lines) != 1 || !strings.Contains(stderr, "held by another taskapi process") ||
			!strings.Contains(stderr, "stop that process, run create-admin again, then start the server") {
			t.Fatalf("want one line saying what to do, got:\n%s", stderr)
		}
	})
	t.Run("ErrVerifyWhileServing", func(t *testing.T) {
		dataDir := t.TempDir()
		s := start(t, bin, "DATA_DIR="+dataDir)
		code, _, stderr := runBin(t, "", []string{"DATA_DIR=" + dataDir}, "verify")
		if code != 1 || !strings.Contains(stderr, "held by another taskapi process (a running server?): stop it, then run verify again") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
		s.stop(t)
	})
	t.Run("OK stale socket", func(t *testing.T) {
		dataDir := t.TempDir()
		if err := os.Chmod(dataDir, 0o700); err != nil {
			t.Fatal(err)
		}
		sock := filepath.Join(dataDir, "taskapi.sock")
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		l.Close() // the file stays, nobody listens: a crashed server's
		env := []string{"DATA_DIR=" + dataDir}
		code, stdout, stderr := runBin(t, "r00t!pw\n", env, "create-admin", "-email", "root@example.com")
		if code != 0 || !strings.Contains(stdout, "created admin") || strings.Contains(stderr, "running server") {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		s := start(t, bin, env...) // replaces the stale socket
		code, stdout, stderr = runBin(t, "n3w!pass\n", env, "create-admin", "-email", "root@example.com")
		if code != 0 || !strings.Contains(stdout, "promoted the existing account") || !strings.Contains(stderr, "running server") {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		s.stop(t)
	})
}
