package tracing

import (
	"context"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskapi/taskapi/internal/requestinfo"
)

// HTTPOptions configures Middleware.
type HTTPOptions struct {
	Provider   trace.TracerProvider
	Propagator propagation.TextMapPropagator
	// Lambda: a request that brings no trace context of its own joins the
	// invocation's X-Ray trace, whose header the Lambda runtime puts in
	// the invocation's context (aws-lambda-go's "x-amzn-trace-id", the
	// value of _X_AMZN_TRACE_ID).
	Lambda bool
	// Flush, if set, runs after each request, before the response goes
	// back (Lambda: the process is frozen once the invocation returns).
	Flush func(context.Context) error
}

// lambdaTraceKey is the context key under which aws-lambda-go puts the
// invocation's X-Ray header (a plain string key: its choice, not ours).
const lambdaTraceKey = "x-amzn-trace-id"

// keyHTTPRoute is the semantic conventions' http.route (spelled out: a
// semconv package is large, and the Lambda image links otelhttp's already).
const keyHTTPRoute = attribute.Key("http.route")

// flushTimeout bounds the export at the end of a Lambda invocation.
const flushTimeout = 2 * time.Second

// Middleware returns next behind the request's server span (otelhttp),
// named after what the request did once it is known: the GraphQL
// operation ("query.tasks") or the route template ("GET
// /api/v1/tasks/fetch-task"), both bounded, never the raw path. The
// handlers below fill the request's requestinfo.Info as for the metrics.
func Middleware(next http.Handler, o HTTPOptions) http.Handler {
	named := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		span := trace.SpanFromContext(r.Context())
		ctx := withRoot(r.Context(), span)
		info := requestinfo.From(ctx)
		if info == nil {
			ctx, info = requestinfo.New(ctx)
			info.Transport, info.Operation = requestinfo.Other, "unmatched"
		}
		next.ServeHTTP(w, r.WithContext(ctx))
		name := info.Operation
		span.SetAttributes(KeyTransport.String(info.Transport), KeyOperation.String(info.Operation))
		switch {
		case info.Transport == requestinfo.GraphQL:
			span.SetName(r.Method + " /graphql " + name) // GET for queries too
			if info.Code != "" {
				span.SetAttributes(KeyCode.String(info.Code))
			}
			span.SetAttributes(keyHTTPRoute.String("/graphql"))
		case name == "unmatched":
			span.SetName(r.Method)
		default:
			span.SetName(name)
			if _, route, ok := strings.Cut(name, " "); ok {
				span.SetAttributes(keyHTTPRoute.String(route))
			}
		}
	})
	h := otelhttp.NewHandler(named, "HTTP",
		otelhttp.WithTracerProvider(o.Provider),
		otelhttp.WithPropagators(o.Propagator),
		// Until the route is known the span is named by its method, as
		// the semantic conventions ask; named renames it.
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
		// Probes are most requests and tell nothing a trace would: a
		// load balancer's every few seconds would crowd out the traces
		// of requests. Their log lines and metrics stay.
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" && r.URL.Path != "/readyz" }),
	)
	if !o.Lambda && o.Flush == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.Lambda && r.Header.Get("X-Amzn-Trace-Id") == "" && r.Header.Get("Traceparent") == "" {
			if v, _ := r.Context().Value(lambdaTraceKey).(string); v != "" {
				r = r.WithContext(o.Propagator.Extract(r.Context(), propagation.HeaderCarrier{"X-Amzn-Trace-Id": {v}}))
			}
		}
		h.ServeHTTP(w, r)
		if o.Flush != nil {
			// Bounded: a collector that hangs must not hold the answer.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), flushTimeout)
			_ = o.Flush(ctx)
			cancel()
		}
	})
}
