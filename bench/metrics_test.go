package bench_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/logging"
	"github.com/taskapi/taskapi/internal/metrics"
	"github.com/taskapi/taskapi/ratelimit"
	"github.com/taskapi/taskapi/server"
	"github.com/taskapi/taskapi/store/embedded"
)

// newMetricsEnv is the handler as cmd/taskapi builds it on the embedded
// store, with METRICS_ADDR set (on) or not: the metrics under the
// service, in core and in the handler, or nothing at all.
func newMetricsEnv(tb testing.TB, on bool) *env {
	tb.Helper()
	st, err := embedded.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	var (
		store   core.Store = st
		coreObs core.Observer
		reqObs  server.RequestObserver
	)
	if on {
		m := metrics.New()
		store, coreObs, reqObs = metrics.Store(st, m), m, m
	}
	tokens := core.NewTokens([]byte("a-32-byte-bench-secret-........."), time.Hour, nil)
	svc := core.NewService(core.Config{
		Store:        store,
		Hasher:       core.NewHasher("", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, 0),
		Tokens:       tokens,
		CursorSecret: []byte("cursor"),
		Limiter:      core.NewLimiter(ratelimit.NewLocal(0), core.DefaultLimits()),
		Observer:     coreObs,
	})
	if _, err := svc.Register(context.Background(), core.RegisterInput{Username: "bench", Email: "bench@example.com", Password: "s3cret!pw"}); err != nil {
		tb.Fatal(err)
	}
	h := server.New(svc, server.Options{Logger: logging.New(io.Discard, "json", "info"), Requests: reqObs, Ready: []server.ReadyCheck{{Name: "store", Ping: st.Ping}}})
	e := &env{h: h, svc: svc, tokens: tokens}
	e.login(tb)
	return e
}

// BenchmarkMetrics is the cost of the metrics per request: off (no
// METRICS_ADDR: what every deployment without it runs, and Lambda) against
// on, for the cheapest request (/healthz, where a fixed cost shows most)
// and two real ones. docs/operations.md gives the ratio.
func BenchmarkMetrics(b *testing.B) {
	healthz := request{http.MethodGet, "/healthz", ""}
	for _, r := range []struct {
		name string
		req  request
	}{{"Healthz", healthz}, {"RESTFetchTask", restFetchTask}, {"GraphQLTasks20", graphqlTasks}} {
		for _, on := range []bool{false, true} {
			name := r.name + "/off"
			if on {
				name = r.name + "/on"
			}
			b.Run(name, func(b *testing.B) {
				e := newMetricsEnv(b, on)
				e.do(b, r.req)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					e.do(b, r.req)
				}
			})
		}
	}
}

// newEMFEnv is the handler as cmd/taskapi builds it inside Lambda, with
// the EMF lines written to w after each request (on), or without metrics
// (off: the Lambda image before EMF).
func newEMFEnv(tb testing.TB, w io.Writer) *env {
	tb.Helper()
	st, err := embedded.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	var (
		store   core.Store = st
		coreObs core.Observer
		reqObs  server.RequestObserver
		emf     *metrics.EMF
	)
	if w != nil {
		emf = metrics.NewEMF(w, "taskapi/bench")
		store, coreObs, reqObs = metrics.Store(st, emf), emf, emf
	}
	tokens := core.NewTokens([]byte("a-32-byte-bench-secret-........."), time.Hour, nil)
	svc := core.NewService(core.Config{
		Store:        store,
		Hasher:       core.NewHasher("", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, 0),
		Tokens:       tokens,
		CursorSecret: []byte("cursor"),
		Limiter:      core.NewLimiter(ratelimit.NewLocal(0), core.DefaultLimits()),
		Observer:     coreObs,
	})
	if _, err := svc.Register(context.Background(), core.RegisterInput{Username: "bench", Email: "bench@example.com", Password: "s3cret!pw"}); err != nil {
		tb.Fatal(err)
	}
	h := server.New(svc, server.Options{Logger: logging.New(io.Discard, "json", "info"), Requests: reqObs, Ready: []server.ReadyCheck{{Name: "store", Ping: st.Ping}}})
	e := &env{h: emf.FlushEach(h), svc: svc, tokens: tokens}
	e.login(tb)
	return e
}

// BenchmarkEMF is the cost of the EMF lines per Lambda request: off (the
// Lambda image without metrics) against on, its lines written to a file
// (one write(2) per request, as to the Lambda runtime's stdout pipe).
// docs/operations.md gives the ratio.
func BenchmarkEMF(b *testing.B) {
	for _, r := range []struct {
		name string
		req  request
	}{{"Healthz", request{http.MethodGet, "/healthz", ""}}, {"RESTFetchTask", restFetchTask}, {"GraphQLTasks20", graphqlTasks}} {
		for _, on := range []bool{false, true} {
			name := r.name + "/off"
			if on {
				name = r.name + "/on"
			}
			b.Run(name, func(b *testing.B) {
				var w io.Writer
				if on {
					f, err := os.Create(filepath.Join(b.TempDir(), "stdout"))
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { _ = f.Close() })
					w = f
				}
				e := newEMFEnv(b, w)
				e.do(b, r.req)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					e.do(b, r.req)
				}
			})
		}
	}
}
