// Package provider builds the OpenTelemetry SDK's tracer provider, the part
// of tracing that costs package initialization and is linked only where
// tracing can be on (see sdk.go and off.go for the Lambda image's build).
// It is a package of its own so that the packages that make spans
// (internal/tracing, store/cache) link only the OpenTelemetry API.
package provider

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Options configures New.
type Options struct {
	// Lambda: IDs X-Ray accepts and X-Ray's propagation, so spans join the
	// invocation's trace (_X_AMZN_TRACE_ID).
	Lambda bool
	// Version is the service.version resource attribute.
	Version string
}

// Provider is a running tracer provider.
type Provider struct {
	Tracer     trace.TracerProvider
	Propagator propagation.TextMapPropagator
	// Flush exports the finished spans now: Lambda freezes the process
	// when an invocation returns, so spans are flushed before it does.
	Flush func(context.Context) error
	// Shutdown flushes and stops the exporter.
	Shutdown func(context.Context) error
}
