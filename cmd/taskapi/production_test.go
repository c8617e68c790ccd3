package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/internal/testenv"
)

// TestProductionStack runs the binary the way it runs in AWS, on real
// parts: STORE=dynamodb against DynamoDB Local (tables made by
// `taskapi create-tables`), the Redis cache, login rate limiting, and both
// APIs over the same data.
func TestProductionStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local and redis-server")
	}
	endpoint := testenv.DynamoDB(t)
	rds := testenv.Redis(t)
	host, port, _ := strings.Cut(rds.Addr(), ":")
	suffix := fmt.Sprint(time.Now().UnixNano())
	env := []string{
		"ENVIRONMENT=production", "JWT_SECRET=0123456789abcdef0123456789abcdef-e2e",
		"STORE=dynamodb", "DYNAMODB_ENDPOINT=" + endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"USERS_TABLE=e2e-users-" + suffix, "TASKS_TABLE=e2e-tasks-" + suffix,
		"REDIS_HOST=" + host, "REDIS_PORT=" + port,
	}

	for i := 0; i < 2; i++ { // idempotent
		cmd := exec.Command(binary(t), "create-tables")
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "are ready") {
			t.Fatalf("create-tables (run %d): %v\n%s", i+1, err, out)
		}
	}

	s := start(t, binary(t), env...)
	user := s.graphql(t, "", `mutation { register(input: {username: "dyn", email: "Dyn@Example.com", password: "s3cret!"}) { id email } }`, nil)["register"].(map[string]any)
	if !strings.HasPrefix(user["id"].(string), "VAH") || user["email"] != "Dyn@example.com" {
		t.Fatalf("register: %v", user)
	}
	tok := s.graphql(t, "", login, map[string]any{"e": "dyn@example.com", "p": "s3cret!"})["login"].(map[string]any)["accessToken"].(string)

	// REST writes, GraphQL reads: one core, one store, one cache.
	rest := func(method, path, token, body string) (int, http.Header, []byte) {
		req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return resp.StatusCode, resp.Header, buf.Bytes()
	}
	code, _, body := rest("POST", "/api/v1/tasks/create-task", tok, `{"title":"on dynamodb","description":"via REST"}`)
	if code != 200 {
		t.Fatalf("create-task: %d %s", code, body)
	}
	var task struct {
		TaskID string `json:"task_id"`
	}
	_ = json.Unmarshal(body, &task)
	q := `{ me { stats { pending ongoing total } } tasks { totalCount edges { node { id status } } } }`
	_ = s.graphql(t, tok, q, nil) // warm the cache
	if code, _, body = rest("PUT", "/api/v1/tasks/update-task/"+task.TaskID, tok, `{"status":"ongoing"}`); code != 200 {
		t.Fatalf("update-task: %d %s", code, body)
	}
	data := s.graphql(t, tok, q, nil) // the write must show at once, cache or not
	stats := data["me"].(map[string]any)["stats"].(map[string]any)
	node := data["tasks"].(map[string]any)["edges"].([]any)[0].(map[string]any)["node"].(map[string]any)
	if stats["ongoing"] != float64(1) || stats["pending"] != float64(0) || node["status"] != "ONGOING" {
		t.Fatalf("stale read after a write: %v", data)
	}

	// Login rate limiting, shared through Redis: 429 with Retry-After on REST.
	limited := false
	for i := 0; i < 15 && !limited; i++ {
		code, hdr, _ := rest("POST", "/api/v1/auth/login", "", `{"email":"dyn@example.com","password":"wrong!pw"}`)
		if code == http.StatusTooManyRequests {
			limited = hdr.Get("Retry-After") != ""
			if !limited {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	if !limited {
		t.Fatal("15 wrong passwords for one email were never rate limited")
	}
	s.stop(t)
	// The start log names the store and the cache in use.
	for _, want := range []string{
		fmt.Sprintf(`"store":"dynamodb (%s, tables e2e-users-%s and e2e-tasks-%s)"`, endpoint, suffix, suffix),
		fmt.Sprintf(`"cache":"redis %s"`, rds.Addr()),
	} {
		if !strings.Contains(s.logs.String(), want) {
			t.Errorf("start log lacks %s", want)
		}
	}
}
