//go:build !lambdaenv || otel

package dynamo

import (
	"github.com/aws/smithy-go/middleware"
	//lint:ignore SA1019 the latest release; its successor is not to be had (see instrument)
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws"
	"go.opentelemetry.io/otel/trace"
)

// instrument adds otelaws's span per operation to the client's middleware.
//
// otelaws is marked deprecated in favour of the SDK's own tracing through
// smithy-go's OpenTelemetry adapter (smithyoteltracing), which the module
// proxy this project uses does not serve; otelaws v0.72.0 is the latest
// release and works. Move when the adapter can be had. It links the SQS,
// SNS and S3 clients' tables for their attributes, about 0.4 ms of package
// initialization, which is why the Lambda image leaves it out unless
// built with -tags otel (trace_lambda.go).
func instrument(apiOptions *[]func(*middleware.Stack) error, tp trace.TracerProvider) {
	otelaws.AppendMiddlewares(apiOptions, otelaws.WithTracerProvider(tp))
}
