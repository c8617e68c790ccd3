package main_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// dynamoEnv is the environment of a production-like taskapi on DynamoDB
// Local at endpoint, with its own tables (named prefix-users-…,
// prefix-tasks-…), and the names of those tables.
func dynamoEnv(endpoint, prefix, jwtSecret string) (env []string, users, tasks string) {
	suffix := fmt.Sprint(time.Now().UnixNano())
	users, tasks = prefix+"-users-"+suffix, prefix+"-tasks-"+suffix
	return []string{
		"ENVIRONMENT=production", "JWT_SECRET=" + jwtSecret,
		"STORE=dynamodb", "DYNAMODB_ENDPOINT=" + endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"USERS_TABLE=" + users, "TASKS_TABLE=" + tasks,
	}, users, tasks
}

// runCLI runs taskapi with args and env and returns its output and exit code.
func runCLI(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := cliCommand(t, env, args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%v: %v", args, err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

func cliCommand(t *testing.T, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	return cmd
}

// rest calls the server's REST API with a JSON body; status 0 when the
// server cannot be reached (a test may kill it mid-request).
func (s *server) rest(method, path, token, body string) (int, map[string]any, string) {
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m, string(b)
}

// graphqlRaw posts a query and returns the raw answer, errors included.
func (s *server) graphqlRaw(t *testing.T, query string, vars map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(s.url+"/graphql", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
