// Package tracing is taskapi's OpenTelemetry tracing: the SDK's tracer
// provider exporting over OTLP (sdk.go), the HTTP middleware that makes one
// trace per request and names it after its operation (http.go), and the
// store decorator whose spans are the store's round trips (store.go).
//
// Tracing is on only when an OTLP endpoint is configured
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
// config.Config.Tracing). Off, nothing of this package is on the request
// path: no middleware, no decorator, and the instrumentations are not
// installed, so spans are never even started.
package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation scope of taskapi's own spans.
const Name = "github.com/taskapi/taskapi"

// Attribute keys of taskapi's spans. Values come from closed sets (schema
// names, route templates, error codes) or are the user's id: never an
// email, a token, a password or a request body.
const (
	// KeyOperation is the request's operation: a GraphQL "<type>.<root
	// field>" or a REST route template (the metrics' operation label).
	KeyOperation = attribute.Key("taskapi.operation")
	// KeyTransport is "graphql", "rest" or "other".
	KeyTransport = attribute.Key("taskapi.transport")
	// KeyCode is a GraphQL answer's first error code, "OK" for none.
	KeyCode = attribute.Key("taskapi.code")
	// KeyUserID is the authenticated user's id (semantic conventions'
	// enduser.id): never their email or token.
	KeyUserID = attribute.Key("enduser.id")
	// KeyCacheResult is how a cached read was served: "hit", "miss" or
	// "bypass" (the cache.read event's attribute).
	KeyCacheResult = attribute.Key("taskapi.cache.result")
	// KeyStoreResult is a store call's answer when it is not a success
	// and not a failure: "not_found", "conflict", "precondition".
	KeyStoreResult = attribute.Key("taskapi.store.result")
)

type rootKey struct{}

// withRoot returns ctx remembering the request's server span, on which
// SetUser puts the user id however deep the caller is.
func withRoot(ctx context.Context, s trace.Span) context.Context {
	return context.WithValue(ctx, rootKey{}, s)
}

// SetUser records the authenticated user's id on the request's span. It is
// core.Config.Authenticated when tracing is on.
func SetUser(ctx context.Context, userID string) {
	if s, ok := ctx.Value(rootKey{}).(trace.Span); ok && s.IsRecording() {
		s.SetAttributes(KeyUserID.String(userID))
	}
}

// CacheRead adds a cache.read event (hit, miss or bypass) to the span in
// ctx: cheap when the span does not record.
func CacheRead(ctx context.Context, result string) {
	if s := trace.SpanFromContext(ctx); s.IsRecording() {
		s.AddEvent("cache.read", trace.WithAttributes(KeyCacheResult.String(result)))
	}
}
