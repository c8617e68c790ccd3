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
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/logging"
	"github.com/taskapi/taskapi/internal/metrics"
	"github.com/taskapi/taskapi/internal/tracing"
	"github.com/taskapi/taskapi/ratelimit"
	"github.com/taskapi/taskapi/server"
	"github.com/taskapi/taskapi/store/embedded"
)

// telemetry is what a telemetry benchmark wires into the handler as
// cmd/taskapi builds it; its zero value is telemetry off.
type telemetry struct {
	store    func(core.Store) core.Store // a decorator under the service
	observer core.Observer
	requests server.RequestObserver
	authed   func(context.Context, string)
	tracing  *tracing.HTTPOptions
	wrap     func(http.Handler) http.Handler // around the handler
}

// newTelemetryEnv is the whole handler on the embedded store, with one
// user logged in, and t wired in.
func newTelemetryEnv(tb testing.TB, t telemetry) *env {
	tb.Helper()
	st, err := embedded.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	var store core.Store = st
	if t.store != nil {
		store = t.store(st)
	}
	tokens := core.NewTokens([]byte("a-32-byte-bench-secret-........."), time.Hour, nil)
	svc := core.NewService(core.Config{
		Store:         store,
		Hasher:        core.NewHasher("", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, 0),
		Tokens:        tokens,
		CursorSecret:  []byte("cursor"),
		Limiter:       core.NewLimiter(ratelimit.NewLocal(0), core.DefaultLimits()),
		Observer:      t.observer,
		Authenticated: t.authed,
	})
	if _, err := svc.Register(context.Background(), core.RegisterInput{Username: "bench", Email: "bench@example.com", Password: "s3cret!pw"}); err != nil {
		tb.Fatal(err)
	}
	var h http.Handler = server.New(svc, server.Options{Logger: logging.New(io.Discard, "json", "info"), Requests: t.requests, Tracing: t.tracing,
		Ready: []server.ReadyCheck{{Name: "store", Ping: st.Ping}}})
	if t.wrap != nil {
		h = t.wrap(h)
	}
	e := &env{h: h, svc: svc, tokens: tokens}
	e.login(tb)
	return e
}

// benchOnOff measures /healthz (where a fixed cost shows most), REST
// fetch-task and GraphQL tasks(first: 20) with telemetry off and with what
// on builds; docs/operations.md gives the ratios.
func benchOnOff(b *testing.B, on func(b *testing.B) telemetry) {
	for _, r := range []struct {
		name string
		req  request
	}{{"Healthz", request{http.MethodGet, "/healthz", ""}}, {"RESTFetchTask", restFetchTask}, {"GraphQLTasks20", graphqlTasks}} {
		for _, lit := range []bool{false, true} {
			name := r.name + "/off"
			if lit {
				name = r.name + "/on"
			}
			b.Run(name, func(b *testing.B) {
				var t telemetry
				if lit {
					t = on(b)
				}
				e := newTelemetryEnv(b, t)
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

// BenchmarkMetrics: METRICS_ADDR unset (what every deployment without it
// runs, and Lambda) against set: the metrics under the service, in core
// and in the handler.
func BenchmarkMetrics(b *testing.B) {
	benchOnOff(b, func(*testing.B) telemetry {
		m := metrics.New()
		return telemetry{store: func(s core.Store) core.Store { return metrics.Store(s, m) }, observer: m, requests: m}
	})
}

// BenchmarkEMF: the Lambda image without metrics against with its EMF
// lines, written to a file after each request (one write(2), as to the
// Lambda runtime's stdout pipe).
func BenchmarkEMF(b *testing.B) {
	benchOnOff(b, func(b *testing.B) telemetry {
		f, err := os.Create(filepath.Join(b.TempDir(), "stdout"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = f.Close() })
		emf := metrics.NewEMF(f, "taskapi/bench")
		return telemetry{store: func(s core.Store) core.Store { return metrics.Store(s, emf) }, observer: emf, requests: emf, wrap: emf.FlushEach}
	})
}

// BenchmarkTracing: no OTLP endpoint (every deployment without one, and
// the Lambda image built without -tags otel) against one, every request
// sampled (the SDK's default): the batch span processor, the store
// decorator, core's user-id hook and the HTTP middleware. The exporter
// discards: the export runs in the background, off the request path, so
// what a request pays is making and recording its spans.
func BenchmarkTracing(b *testing.B) {
	benchOnOff(b, func(b *testing.B) telemetry {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		return telemetry{store: func(s core.Store) core.Store { return tracing.Store(s, tp) }, authed: tracing.SetUser,
			tracing: &tracing.HTTPOptions{Provider: tp, Propagator: propagation.TraceContext{}}}
	})
}
