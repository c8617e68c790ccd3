package bench_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/logging"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/server"
	"github.com/taskapi/taskapi/store/cache"
	"github.com/taskapi/taskapi/store/embedded"
)

type env struct {
	h     http.Handler
	token string
}

func newEnv(tb testing.TB, tasks int, cached bool) *env {
	tb.Helper()
	st, err := embedded.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	var store core.Store = st
	if cached {
		srv := testenv.Redis(tb)
		rdb := redis.NewClient(cache.ClientOptions(srv.Addr()))
		tb.Cleanup(func() { _ = rdb.Close() })
		store = cache.New(st, rdb, cache.Options{})
	}
	svc := core.NewService(core.Config{
		Store:        store,
		Hasher:       core.NewHasher("", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, 0),
		Tokens:       core.NewTokens([]byte("a-32-byte-bench-secret-........."), time.Hour, nil),
		CursorSecret: []byte("cursor"),
	})
	ctx := context.Background()
	u, err := svc.Register(ctx, core.RegisterInput{Username: "bench", Email: "bench@example.com", Password: "s3cret!pw"})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range tasks {
		t := core.Task{ID: fmt.Sprintf("0190a000-0000-7000-8000-%012d", i), UserID: u.ID, Title: fmt.Sprintf("Task %d", i), Description: "Something to do, described in a sentence or two.", Status: core.StatusPending, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
		t.UpdatedAt = t.CreatedAt
		if err := st.CreateTask(ctx, t); err != nil {
			tb.Fatal(err)
		}
	}
	p, err := svc.Login(ctx, "bench@example.com", "s3cret!pw")
	if err != nil {
		tb.Fatal(err)
	}
	return &env{h: server.New(svc, server.Options{Logger: logging.New(io.Discard, "json", "info")}), token: p.AccessToken}
}

func (e *env) do(tb testing.TB, method, path, body string) {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	r.Header.Set("Authorization", "Bearer "+e.token)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != 200 {
		tb.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
}

const gqlTasks20 = `{"query":"query Tasks { tasks(first: 20) { edges { cursor node { id title description status createdAt updatedAt } } pageInfo { hasNextPage endCursor } totalCount } }"}`

func BenchmarkRESTFetchTask(b *testing.B) {
	e := newEnv(b, 20, false)
	b.ReportAllocs()
	for b.Loop() {
		e.do(b, "GET", "/api/v1/tasks/fetch-task", "")
	}
}

func BenchmarkGraphQLTasks20(b *testing.B) {
	e := newEnv(b, 20, false)
	b.ReportAllocs()
	for b.Loop() {
		e.do(b, "POST", "/graphql", gqlTasks20)
	}
}

func BenchmarkCachedRESTFetchTask(b *testing.B) {
	e := newEnv(b, 20, true)
	b.ReportAllocs()
	for b.Loop() {
		e.do(b, "GET", "/api/v1/tasks/fetch-task", "")
	}
}

func BenchmarkCachedGraphQLTasks20(b *testing.B) {
	e := newEnv(b, 20, true)
	b.ReportAllocs()
	for b.Loop() {
		e.do(b, "POST", "/graphql", gqlTasks20)
	}
}
