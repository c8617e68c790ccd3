// Package lambdaserve serves the application's one http.Handler inside AWS
// Lambda: API Gateway events become *http.Request values (through
// aws-lambda-go-api-proxy) and the handler's response becomes the event
// response. Nothing here knows about routes, GraphQL or the store.
//
// The Lambda function it builds never returns a Go error to the Lambda
// runtime (API Gateway would answer an opaque 500 or 502 and the invocation
// would count as failed): an event the adapter cannot convert, or a handler
// that panics, becomes a logged 500 response with the body
// {"detail":"Internal Server Error"}.
package lambdaserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// Format is the shape of the events the function receives.
type Format string

const (
	// HTTPAPIV2 is the API Gateway HTTP API payload format 2.0 (the default,
	// and what terraform/ deploys).
	HTTPAPIV2 Format = "http-api-v2"
	// RESTAPIV1 is the API Gateway REST API (and HTTP API payload 1.0)
	// proxy-integration format.
	RESTAPIV1 Format = "rest-api-v1"
)

// ErrUnknownFormat is returned by ParseFormat for a value that names no
// supported event format.
var ErrUnknownFormat = errors.New("unknown Lambda event format")

// ParseFormat reads a Format from its configuration spelling
// (LAMBDA_EVENT_FORMAT). The empty string means HTTPAPIV2.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case "":
		return HTTPAPIV2, nil
	case HTTPAPIV2, RESTAPIV1:
		return f, nil
	default:
		return "", fmt.Errorf("%w %q (want %q or %q)", ErrUnknownFormat, s, HTTPAPIV2, RESTAPIV1)
	}
}

// internalErrorBody is the FastAPI-style body of every response this package
// makes up itself.
const internalErrorBody = `{"detail":"Internal Server Error"}`

// Start serves h to the Lambda runtime with events of the given format
// ("" means http-api-v2) and does not return unless format is unknown: the
// runtime loop ends the process. ctx is the base of every invocation's
// context (each also carries the invocation's deadline and
// lambdacontext.LambdaContext).
func Start(ctx context.Context, h http.Handler, format string, logger *slog.Logger) error {
	handler, err := Handler(ctx, h, format, logger)
	if err != nil {
		return err
	}
	lambda.Start(handler)
	return nil
}

// Handler is the lambda.Handler that Start runs: it decodes the JSON event
// of the given format, serves it through h and encodes the response.
func Handler(ctx context.Context, h http.Handler, format string, logger *slog.Logger) (lambda.Handler, error) {
	f, err := ParseFormat(format)
	if err != nil {
		return nil, err
	}
	switch f {
	case RESTAPIV1:
		return lambda.NewHandlerWithOptions(RESTAPIHandler(h, logger), lambda.WithContext(ctx)), nil
	default:
		return lambda.NewHandlerWithOptions(HTTPAPIHandler(h, logger), lambda.WithContext(ctx)), nil
	}
}

// HTTPAPIHandler is the Lambda function for API Gateway HTTP API events
// (payload format 2.0). Its error is always nil.
func HTTPAPIHandler(h http.Handler, logger *slog.Logger) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	adapter := httpadapter.NewV2(completeResponses(h))
	logger = orDefault(logger)
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
		defer func() {
			if p := recover(); p != nil {
				logPanic(ctx, logger, p, ev.RequestContext.HTTP.Method, ev.RawPath)
				resp, err = internalErrorV2(), nil
			}
		}()
		resp, err = adapter.ProxyWithContext(ctx, ev)
		if err != nil {
			logAdapterError(ctx, logger, err, ev.RequestContext.HTTP.Method, ev.RawPath)
			return internalErrorV2(), nil
		}
		return resp, nil
	}
}

// RESTAPIHandler is the Lambda function for API Gateway REST API proxy
// events (payload format 1.0). Its error is always nil.
func RESTAPIHandler(h http.Handler, logger *slog.Logger) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	adapter := httpadapter.New(completeResponses(h))
	logger = orDefault(logger)
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, err error) {
		defer func() {
			if p := recover(); p != nil {
				logPanic(ctx, logger, p, ev.HTTPMethod, ev.Path)
				resp, err = internalErrorV1(), nil
			}
		}()
		resp, err = adapter.ProxyWithContext(ctx, ev)
		if err != nil {
			logAdapterError(ctx, logger, err, ev.HTTPMethod, ev.Path)
			return internalErrorV1(), nil
		}
		return resp, nil
	}
}

// RequestID is the Lambda invocation's request id carried by ctx (and by
// the context of every request the handler serves), or "" outside Lambda.
func RequestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc != nil {
		return lc.AwsRequestID
	}
	return ""
}

func internalErrorV2() events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusInternalServerError,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       internalErrorBody,
	}
}

func internalErrorV1() events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{
		StatusCode:        http.StatusInternalServerError,
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}},
		Body:              internalErrorBody,
	}
}

func orDefault(logger *slog.Logger) *slog.Logger {
	if logger == nil {
		return slog.Default()
	}
	return logger
}

// logAdapterError logs an event the adapter could not turn into a request
// (or a response it could not encode). Only the method and path are logged:
// headers and bodies may carry credentials.
func logAdapterError(ctx context.Context, logger *slog.Logger, err error, method, path string) {
	logger.ErrorContext(ctx, "lambda event could not be served",
		"aws_request_id", RequestID(ctx), "method", method, "path", path, "error", err)
}

func logPanic(ctx context.Context, logger *slog.Logger, p any, method, path string) {
	logger.ErrorContext(ctx, "handler panicked serving a lambda event",
		"aws_request_id", RequestID(ctx), "method", method, "path", path,
		"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
}
