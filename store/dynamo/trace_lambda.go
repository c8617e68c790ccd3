//go:build lambdaenv && !otel

package dynamo

import (
	"github.com/aws/smithy-go/middleware"
	"go.opentelemetry.io/otel/trace"
)

// instrument does nothing in the Lambda image built without -tags otel,
// which has no tracer provider to give it (internal/tracing/provider).
func instrument(*[]func(*middleware.Stack) error, trace.TracerProvider) {}
