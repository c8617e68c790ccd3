// Package server assembles taskapi's one http.Handler: the GraphQL API, the
// playground, the legacy REST shim with its OpenAPI document, and /healthz,
// behind the middleware every route shares (panic recovery, request ids,
// access logs and request metrics, security headers, CORS, credentials);
// and /readyz (ready.go). /metrics is not among them: it is served on a
// listener of its own (METRICS_ADDR), never on the public port. The same handler serves
// plain HTTP and AWS Lambda.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/rs/cors"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/assets"
	"github.com/taskapi/taskapi/internal/httpauth"
	"github.com/taskapi/taskapi/internal/logging"
	"github.com/taskapi/taskapi/internal/requestinfo"
	"github.com/taskapi/taskapi/internal/tracing"
	"github.com/taskapi/taskapi/resolvers"
	"github.com/taskapi/taskapi/rest"
)

// Options configures the handler.
type Options struct {
	Logger *slog.Logger
	// CORSOrigins lists the browser origins allowed to call the API; "*"
	// allows any. Tokens travel in the Authorization header, never in
	// cookies, so no credentials are ambient and "*" is safe.
	CORSOrigins []string
	// Introspection enables GraphQL introspection (the playground needs it).
	Introspection bool
	// APQCache stores automatic persisted queries (nil: in-process).
	APQCache graphql.Cache[string]
	// HSTS adds Strict-Transport-Security (behind TLS in production).
	HSTS bool
	// Health reports whether the service can do its work; nil means always.
	Health func(context.Context) error
	// MaxBodyBytes caps request bodies (default 1 MiB).
	MaxBodyBytes int64
	// Ready are the dependencies /readyz checks (ready.go); none: /readyz
	// answers ready with no checks.
	Ready []ReadyCheck
	// Requests counts every request (internal/metrics); nil: nothing is
	// counted and nothing is added to the request path.
	Requests RequestObserver
	// Tracing, if set, gives every request a trace (internal/tracing): a
	// server span named by its operation, GraphQL operation and resolver
	// spans under it. nil: no middleware, no extension, no span.
	Tracing *tracing.HTTPOptions
	// NoSubscriptions leaves out the subscription transports (WebSocket,
	// SSE): in Lambda, behind API Gateway's HTTP API, a WebSocket cannot
	// upgrade and an event stream would be buffered until the function's
	// timeout.
	NoSubscriptions bool
}

// RequestObserver counts requests by transport ("graphql", "rest",
// "other"), operation (a GraphQL root field, a REST route template, a
// route of this handler, "unmatched") and result code, with their
// duration.
type RequestObserver interface {
	ObserveRequest(transport, operation, code string, d time.Duration)
}

// New returns the handler for every route of taskapi.
func New(svc *core.Service, o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = core.MaxBodyBytes
	}
	// Requests are labeled (requestinfo) for the metrics and for the
	// traces' span names.
	labels := o.Requests != nil || o.Tracing != nil
	var tracer trace.TracerProvider
	if o.Tracing != nil {
		tracer = o.Tracing.Provider
	}
	gql := resolvers.NewHandler(svc, resolvers.Options{
		Logger:        o.Logger,
		Introspection: o.Introspection,
		APQCache:      o.APQCache,
		MaxBodyBytes:  o.MaxBodyBytes,
		LabelRequests: labels,
		Tracer:        tracer,
		Origins:       o.CORSOrigins,
		NoLive:        o.NoSubscriptions,
	})
	api := rest.New(svc, rest.Options{Logger: o.Logger, MaxBodyBytes: o.MaxBodyBytes})
	// The playground page is rendered at build time (resolvers/playground.go);
	// the assets' handler hashes megabytes of JavaScript (ETags), so it is
	// built on its first request, not at every cold start.
	playground := resolvers.Playground()

	// label names each route's requests for the metrics and traces; the
	// GraphQL handler and REST's routes refine theirs. Without either it
	// is h.
	label := func(transport, operation string, h http.Handler) http.Handler {
		if !labels {
			return h
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requestinfo.Set(r.Context(), transport, operation)
			h.ServeHTTP(w, r)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("/graphql", label(requestinfo.GraphQL, "unknown", gql))
	mux.Handle("GET /{$}", label(requestinfo.Other, "GET /", playground))
	mux.Handle("GET /playground", label(requestinfo.Other, "GET /playground", playground))
	mux.Handle("GET /healthz", label(requestinfo.Other, "GET /healthz", health(o.Health, o.Logger)))
	mux.Handle("GET /readyz", label(requestinfo.Other, "GET /readyz", newReadiness(o.Ready, o.Logger)))
	// GraphiQL, React and Swagger UI, embedded: no CDN needed.
	mux.Handle("GET "+assets.Prefix, label(requestinfo.Other, "GET "+assets.Prefix, lazy(assets.Handler)))
	// /api/v1/..., /docs, /openapi.json, and FastAPI-style 404s; REST's
	// routes label themselves, what none matches stays "unmatched".
	mux.Handle("/", label(requestinfo.Other, "unmatched", api))

	h := corsHandler(o.CORSOrigins).Handler(mux)
	h = securityHeaders(h, o.HSTS)
	h = accessLog(h, o.Logger, o.Requests)
	h = requestID(h)
	h = recoverer(h, o.Logger)
	if o.Tracing != nil {
		// Outermost, so that every log line of the request, a recovered
		// panic's included, carries the trace id.
		h = tracing.Middleware(h, *o.Tracing)
	}
	return h
}

// lazy is the handler build returns, built on its first request.
func lazy(build func() http.Handler) http.Handler {
	get := sync.OnceValue(build)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { get().ServeHTTP(w, r) })
}

func health(check func(context.Context) error, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body := http.StatusOK, map[string]string{"status": "ok"}
		if check != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := check(ctx); err != nil {
				log.WarnContext(r.Context(), "health check failed", "err", err)
				status, body = http.StatusServiceUnavailable, map[string]string{"status": "unavailable"}
			}
		}
		writeJSON(w, status, body)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func corsHandler(origins []string) *cors.Cors {
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept", "X-Request-ID",
			"Apollo-Require-Preflight", "X-Apollo-Operation-Name", "Apollo-Client-Name", "Apollo-Client-Version"},
		ExposedHeaders:   []string{"Retry-After", "X-Request-ID", "WWW-Authenticate"},
		AllowCredentials: false,
		MaxAge:           600,
	})
}

// securityHeaders sets the headers every response carries: among them a
// CSP that allows nothing, which the HTML pages (the playground at / and
// Swagger UI at /docs) replace with their own (assets.PageCSP), and
// Cache-Control: no-store, which only the static files (internal/assets,
// the same for everyone) replace: every other answer may carry a user's
// data, GraphQL answers to GET included.
//
// The values are shared, read-only slices assigned straight into the map
// (keys already canonical): no allocation per request. Each literal has
// len == cap, so a later Header.Add copies instead of writing into a shared
// array.
func securityHeaders(next http.Handler, hsts bool) http.Handler {
	always := http.Header{
		"X-Content-Type-Options":     {"nosniff"},
		"Referrer-Policy":            {"no-referrer"},
		"Cross-Origin-Opener-Policy": {"same-origin"},
		"X-Frame-Options":            {"DENY"},
		"Content-Security-Policy":    {"default-src 'none'; frame-ancestors 'none'"},
		"Cache-Control":              {"no-store"},
	}
	if hsts {
		always["Strict-Transport-Security"] = []string{"max-age=63072000; includeSubDomains"}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		maps.Copy(w.Header(), always)
		next.ServeHTTP(w, r)
	})
}

// validRequestID reports whether id is 1-64 of [A-Za-z0-9._-] (a loop,
// not a regexp: `{1,64}` compiles to 64 copies of the class at every start).
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// requestID gives every request an id (the caller's X-Request-ID if it is
// sane), echoes it, and puts it on every log line of the request. The same
// context carries the request's credentials (httpauth), which the REST and
// GraphQL handlers read.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header()["X-Request-Id"] = []string{id}
		ctx := httpauth.Context(logging.WithRequestID(r.Context(), id), r)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// statusWriter remembers the status code for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog writes one line per request: method, path (never the query
// string, which could carry secrets), status, size and duration; and
// counts the request with obs, if set, with the labels the handlers
// recorded in its requestinfo.Info.
func accessLog(next http.Handler, log *slog.Logger, obs RequestObserver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		var info *requestinfo.Info
		if obs != nil {
			if info = requestinfo.From(r.Context()); info == nil { // tracing's, when it is on
				var ctx context.Context
				ctx, info = requestinfo.New(r.Context())
				info.Transport, info.Operation = requestinfo.Other, "unmatched" // a CORS preflight, a 405 of the mux
				r = r.WithContext(ctx)
			}
		}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		if obs != nil {
			code := info.Code
			if code == "" {
				code = strconv.Itoa(sw.status)
			}
			obs.ObserveRequest(info.Transport, info.Operation, code, time.Since(start))
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Int("bytes", sw.bytes), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000))
	})
}

// recoverer turns a panic anywhere below into a logged 500 with no detail.
func recoverer(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic serving request", "panic", v, "path", r.URL.Path)
				writeJSON(w, http.StatusInternalServerError, map[string]string{"detail": "Internal Server Error"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}
