package resolvers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/httpauth"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/resolvers"
	"github.com/taskapi/taskapi/store/embedded"
)

var (
	testSecret = []byte("test-secret-0123456789abcdef0123")
	cheapHash  = &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
)

const testPassword = "s3cret!pw"

// env is one GraphQL endpoint over a fresh embedded store, wrapped in the
// same auth middleware the server uses.
type env struct {
	store   core.Store
	svc     *core.Service
	handler http.Handler
	logs    *testenv.SyncBuffer
}

type envConfig struct {
	opts    resolvers.Options
	wrap    func(core.Store) core.Store // decorate the store (failures)
	limiter *core.Limiter
	// internal: the test provokes internal errors; otherwise any logged
	// internal error or panic fails it (a client mistake must never be one).
	internal bool
}

func newEnv(tb testing.TB, configure ...func(*envConfig)) *env {
	tb.Helper()
	st, err := embedded.Open(tb.TempDir())
	if err != nil {
		tb.Fatalf("open embedded store: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	var cfg envConfig
	for _, c := range configure {
		c(&cfg)
	}
	var store core.Store = st
	if cfg.wrap != nil {
		store = cfg.wrap(st)
	}
	logs := &testenv.SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	svc := core.NewService(core.Config{
		Store:        store,
		Hasher:       core.NewHasher("", cheapHash, 0),
		Tokens:       core.NewTokens(testSecret, time.Hour, nil),
		CursorSecret: []byte("cursor"),
		Limiter:      cfg.limiter,
		Logger:       logger,
	})
	cfg.opts.Logger = logger
	if !cfg.internal {
		tb.Cleanup(func() {
			if l := logs.String(); strings.Contains(l, "graphql: internal error") || strings.Contains(l, "graphql: panic") {
				tb.Errorf("internal errors were logged:\n%s", l)
			}
		})
	}
	return &env{store: st, svc: svc, handler: httpauth.Middleware(resolvers.NewHandler(svc, cfg.opts)), logs: logs}
}

// gqlError is one entry of a response's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e gqlError) Code() string { s, _ := e.Extensions["code"].(string); return s }

// response is a decoded GraphQL answer.
type response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	Body   string
}

// Code returns the code of the only error, failing if there is not exactly one.
func (r response) Code(tb testing.TB) string {
	tb.Helper()
	if len(r.Errors) != 1 {
		tb.Fatalf("want exactly one error, got %d: %s", len(r.Errors), r.Body)
	}
	return r.Errors[0].Code()
}

// decode unmarshals data into v, failing on any error.
func (r response) decode(tb testing.TB, v any) {
	tb.Helper()
	if len(r.Errors) > 0 {
		tb.Fatalf("unexpected errors: %s", r.Body)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		tb.Fatalf("decode data: %v: %s", err, r.Body)
	}
}

type vars map[string]any

// post sends one operation as a JSON POST with the bearer token (if any).
func (e *env) post(tb testing.TB, token, query string, v vars) response {
	tb.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": v})
	if err != nil {
		tb.Fatal(err)
	}
	return e.raw(tb, http.MethodPost, "/graphql", token, string(body))
}

// raw sends a request with a raw body and decodes the answer.
func (e *env) raw(tb testing.TB, method, target, token, body string) response {
	tb.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	r := response{Status: rec.Code, Body: rec.Body.String()}
	if rec.Code >= 500 {
		tb.Fatalf("%s %s: server error %d: %s", method, target, rec.Code, r.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		tb.Fatalf("%s %s: answer is not JSON (%d): %s", method, target, rec.Code, r.Body)
	}
	return r
}

var seq atomic.Int64

func uniqueEmail(prefix string) string {
	return fmt.Sprintf("%s%d@example.com", prefix, seq.Add(1))
}

// account is a user and a token for them.
type account struct {
	core.User
	Email, Username string // as the tests spell them (plain strings)
	Token           string
}

// mustRegister creates an active user through the service and logs them in.
func (e *env) mustRegister(tb testing.TB, name string) account {
	tb.Helper()
	ctx := context.Background()
	u, err := e.svc.Register(ctx, core.RegisterInput{Username: name, Email: uniqueEmail(name), Password: testPassword})
	if err != nil {
		tb.Fatalf("register %s: %v", name, err)
	}
	return account{User: u, Email: string(u.Email), Username: string(u.Username), Token: e.mustLogin(tb, string(u.Email))}
}

// mustAdmin creates an admin through the operator's path and logs them in.
func (e *env) mustAdmin(tb testing.TB) account {
	tb.Helper()
	u, _, err := e.svc.CreateAdmin(context.Background(), uniqueEmail("admin"), testPassword, "root")
	if err != nil {
		tb.Fatalf("create admin: %v", err)
	}
	return account{User: u, Email: string(u.Email), Username: string(u.Username), Token: e.mustLogin(tb, string(u.Email))}
}

func (e *env) mustLogin(tb testing.TB, email string) string {
	tb.Helper()
	p, err := e.svc.Login(context.Background(), email, testPassword)
	if err != nil {
		tb.Fatalf("login %s: %v", email, err)
	}
	return p.AccessToken
}

// as is a context in which a calls the service directly.
func as(a account) context.Context {
	return core.WithRequest(context.Background(), a.Token, "")
}

// mustCreateTask creates a task for a through the service.
func (e *env) mustCreateTask(tb testing.TB, a account, title string) core.Task {
	tb.Helper()
	t, err := e.svc.CreateTask(as(a), core.CreateTaskInput{Title: title})
	if err != nil {
		tb.Fatalf("create task: %v", err)
	}
	return t
}

// countUsers returns how many users the store holds.
func (e *env) countUsers(tb testing.TB) int {
	tb.Helper()
	n := 0
	for after := ""; ; {
		page, more, err := e.store.ListUsers(context.Background(), after, 100)
		if err != nil {
			tb.Fatal(err)
		}
		n += len(page)
		if !more || len(page) == 0 {
			return n
		}
		after = page[len(page)-1].ID
	}
}

// tasksOf returns every task of userID straight from the store.
func (e *env) tasksOf(tb testing.TB, userID string) []core.Task {
	tb.Helper()
	var all []core.Task
	for after := ""; ; {
		page, more, err := e.store.ListTasks(context.Background(), userID, core.TaskQuery{After: after, Limit: 100})
		if err != nil {
			tb.Fatal(err)
		}
		all = append(all, page...)
		if !more || len(page) == 0 {
			return all
		}
		after = page[len(page)-1].ID
	}
}

func wantCode(tb testing.TB, r response, code string) {
	tb.Helper()
	if got := r.Code(tb); got != code {
		tb.Fatalf("code = %q, want %q: %s", got, code, r.Body)
	}
}
