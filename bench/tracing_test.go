package bench_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/logging"
	"github.com/taskapi/taskapi/internal/tracing"
	"github.com/taskapi/taskapi/ratelimit"
	"github.com/taskapi/taskapi/server"
	"github.com/taskapi/taskapi/store/embedded"
)

// newTracingEnv is the handler as cmd/taskapi builds it on the embedded
// store with an OTLP endpoint configured (on) or not: the SDK's provider
// with its batch span processor, the store decorator, core's user-id hook
// and the HTTP middleware; or nothing at all. The exporter discards (the
// OTLP export runs in the background, off the request path, so what a
// request pays is making and recording its spans).
func newTracingEnv(tb testing.TB, on bool) *env {
	tb.Helper()
	st, err := embedded.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	var (
		store  core.Store = st
		authed func(context.Context, string)
		tr     *tracing.HTTPOptions
	)
	if on {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		tb.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		store, authed = tracing.Store(st, tp), tracing.SetUser
		tr = &tracing.HTTPOptions{Provider: tp, Propagator: propagation.TraceContext{}}
	}
	tokens := core.NewTokens([]byte("a-32-byte-bench-secret-........."), time.Hour, nil)
	svc := core.NewService(core.Config{
		Store:         store,
		Hasher:        core.NewHasher("", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, 0),
		Tokens:        tokens,
		CursorSecret:  []byte("cursor"),
		Limiter:       core.NewLimiter(ratelimit.NewLocal(0), core.DefaultLimits()),
		Authenticated: authed,
	})
	if _, err := svc.Register(context.Background(), core.RegisterInput{Username: "bench", Email: "bench@example.com", Password: "s3cret!pw"}); err != nil {
		tb.Fatal(err)
	}
	h := server.New(svc, server.Options{Logger: logging.New(io.Discard, "json", "info"), Tracing: tr, Ready: []server.ReadyCheck{{Name: "store", Ping: st.Ping}}})
	e := &env{h: h, svc: svc, tokens: tokens}
	e.login(tb)
	return e
}

// BenchmarkTracing is the cost of tracing per request: off (no OTLP
// endpoint: every deployment without one, and the Lambda image built
// without -tags otel) against on (every request sampled, the SDK's
// default), for /healthz and two real requests. docs/operations.md gives
// the ratios; off against the commit before tracing is BenchmarkMetrics'
// "off", which compiles at both.
func BenchmarkTracing(b *testing.B) {
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
				e := newTracingEnv(b, on)
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
