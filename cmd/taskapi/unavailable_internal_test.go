package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskapi/taskapi/config"
	"github.com/taskapi/taskapi/internal/testenv"
)

// lockedBuffer is a log destination the handler's goroutines share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestStoreMisconfiguredAnswers503: where the start check does not run
// (inside Lambda), a store that cannot work as configured answers 503
// with its cause in the log, on both APIs, never a 500.
func TestStoreMisconfiguredAnswers503(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local")
	}
	endpoint := testenv.DynamoDB(t)
	suffix := fmt.Sprint(time.Now().UnixNano())
	env := map[string]string{
		"STORE": "dynamodb", "DYNAMODB_ENDPOINT": endpoint, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"USERS_TABLE": "absent-users-" + suffix, "TASKS_TABLE": "absent-tasks-" + suffix,
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	var logs lockedBuffer
	a, err := build(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	for _, tc := range []struct {
		name, path, body, want string
	}{
		{"REST", "/api/v1/auth/register", `{"username":"ann","email":"ann@example.com","password":"s3cret!pw"}`, `"detail"`},
		{"GraphQL", "/graphql", `{"query":"mutation { register(input: {username: \"ann\", email: \"ann@example.com\", password: \"s3cret!pw\"}) { id } }"}`, `"SERVICE_UNAVAILABLE"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			a.handler.ServeHTTP(rec, req)
			body := rec.Body.String()
			if tc.name == "REST" && rec.Code != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503: %s", rec.Code, body)
			}
			if !strings.Contains(body, tc.want) || strings.Contains(body, "create-tables") {
				t.Errorf("answer %s: want %s, and no operator's detail", body, tc.want)
			}
		})
	}
	if !strings.Contains(logs.String(), "does not exist: run taskapi create-tables") {
		t.Errorf("the cause is not in the log:\n%s", logs.String())
	}
}

// TestHungDynamoDBAnswers503Fast: with DynamoDB frozen (SIGSTOP), a request
// gets its 503 within the request path's operation timeout
// (dynamo.RequestTimeout, 2 s), not after three 3 s attempts.
func TestHungDynamoDBAnswers503Fast(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local")
	}
	srv := testenv.StartDynamoDB(t, testenv.DynamoDBOptions{})
	env := map[string]string{
		"STORE": "dynamodb", "DYNAMODB_ENDPOINT": srv.Endpoint(), "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	if err := createTables(t.Context(), cfg, slog.Default()); err != nil {
		t.Fatal(err)
	}
	a, err := build(t.Context(), cfg, slog.New(slog.NewTextHandler(&lockedBuffer{}, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	register := func(email string) (int, time.Duration) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/auth/register",
			strings.NewReader(`{"username":"ann","email":"`+email+`","password":"s3cret!pw"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		start := time.Now()
		a.handler.ServeHTTP(rec, req)
		return rec.Code, time.Since(start)
	}
	if code, _ := register("ann@example.com"); code != http.StatusOK {
		t.Fatalf("healthy register: %d", code)
	}
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	defer srv.Resume()
	code, took := register("bob@example.com")
	// 2 s for the store, plus the password hash and slack for a loaded
	// machine: far below the 9 s of three 3 s attempts it replaced.
	if code != http.StatusServiceUnavailable || took > 4*time.Second {
		t.Fatalf("frozen DynamoDB: %d after %v, want 503 within the 2s timeout", code, took)
	}
	t.Logf("503 after %v", took.Round(time.Millisecond))
}
