//go:build !lambdaenv || otel

package provider

import (
	"context"
	"fmt"

	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// Linked reports whether this build has the SDK (the Lambda image has it
// only when built with -tags otel).
const Linked = true

// New returns the SDK's tracer provider exporting over OTLP/HTTP. The
// exporter and the SDK read the standard variables themselves:
// OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT, _PROTOCOL is
// http/protobuf; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES;
// OTEL_TRACES_SAMPLER and _ARG (default parentbased_always_on: a caller's
// or X-Ray's sampling decision is kept). Spans are batched, and exported
// in the background, off the request path.
func New(ctx context.Context, o Options) (*Provider, error) {
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	// Later options win: OTEL_SERVICE_NAME overrides the default name.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("taskapi"), semconv.ServiceVersion(o.Version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithBatcher(exp), sdktrace.WithResource(res)}
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	if o.Lambda {
		// X-Ray wants trace ids that start with the epoch second, and the
		// invocation's context comes in X-Ray's header format.
		opts = append(opts, sdktrace.WithIDGenerator(xray.NewIDGenerator()))
		prop = propagation.NewCompositeTextMapPropagator(xray.Propagator{}, propagation.TraceContext{})
	}
	tp := sdktrace.NewTracerProvider(opts...)
	return &Provider{Tracer: tp, Propagator: prop, Flush: tp.ForceFlush, Shutdown: tp.Shutdown}, nil
}
