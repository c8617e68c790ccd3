package dynamo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskapi/taskapi/internal/awsconf"
)

// Defaults of Options.
const (
	// DefaultTimeout bounds one DynamoDB operation, all its attempts
	// included: the admin commands' (create-tables, verify, migrate-legacy).
	DefaultTimeout = 10 * time.Second
	// RequestTimeout is the same bound on the request path (serve, Lambda):
	// DynamoDB answers in milliseconds when healthy, so a hung one gives a
	// 503 within about 2 s (one attempt, or a fast failure and a retry)
	// instead of holding the request for three 3 s attempts.
	RequestTimeout = 2 * time.Second
	// attemptTimeout bounds one HTTP attempt (connect, send, read).
	attemptTimeout = 3 * time.Second
	dialTimeout    = 2 * time.Second
	maxAttempts    = 3
	maxBackoff     = time.Second
	// localRegion is used with a custom endpoint when none is configured
	// (DynamoDB Local accepts any).
	localRegion = "us-east-1"
)

// Options configures NewClient.
type Options struct {
	// Region is the AWS region; "" takes it from the SDK's usual sources
	// (AWS_REGION, shared config), or us-east-1 with a custom Endpoint.
	Region string
	// Endpoint overrides DynamoDB's URL, e.g. http://localhost:8000 for
	// DynamoDB Local. Without AWS credentials in the environment, the client
	// then signs with static dummy credentials (the emulator accepts any).
	Endpoint string
	// Timeout bounds each operation, retries included; 0 means DefaultTimeout.
	// Each HTTP attempt is also bounded, by min(3s, Timeout).
	Timeout time.Duration
	// Logger, if set, receives the SDK's own log lines (its warnings) as
	// structured records; without it they would go to stderr as plain
	// "SDK … WARN" text, outside the JSON log.
	Logger *slog.Logger
	// OnCall, if set, is called with the operation name (e.g. "GetItem")
	// each time the client runs an operation: tests use it to count round
	// trips. It must be safe for concurrent use.
	OnCall func(op string)
	// Tracer, if set, makes a span of each operation ("DynamoDB.GetItem",
	// otelaws: tables, index, consistency; never keys or values); its
	// retries are in it. nil: no span, no middleware. The Lambda image
	// built without -tags otel has no such spans (trace_lambda.go).
	Tracer trace.TracerProvider
	// Observer, if set, hears each operation's consumed capacity and each
	// throttled attempt (observe.go); without it no operation asks for its
	// capacity.
	Observer Observer
}

// NewClient builds the DynamoDB client once (per process, or per Lambda cold
// start) with deliberate timeouts and retries: at most 3 attempts with
// jittered backoff capped at 1s, no client-side retry quota (so an outage
// does not leave the client refusing to retry after it ends), and
// TransactionConflictException retried like a throttle.
func NewClient(ctx context.Context, o Options) (*dynamodb.Client, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	httpClient := awshttp.NewBuildableClient().
		WithTimeout(min(attemptTimeout, timeout)).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = min(dialTimeout, timeout) })
	load := awsconf.Options{Region: o.Region, HTTPClient: httpClient, Retryer: newRetryer}
	if o.Endpoint != "" {
		load.Fallback = credentials.NewStaticCredentialsProvider("local", "local", "")
	}
	cfg, err := awsconf.Load(ctx, load)
	if err != nil {
		return nil, fmt.Errorf("dynamodb client: load AWS config: %w", err)
	}
	if cfg.Region == "" {
		if o.Endpoint == "" {
			return nil, errors.New("dynamodb client: no AWS region: set AWS_REGION")
		}
		cfg.Region = localRegion
	}
	return dynamodb.NewFromConfig(cfg, func(do *dynamodb.Options) {
		if o.Endpoint != "" {
			do.BaseEndpoint = aws.String(o.Endpoint)
		}
		// The SDK's CRC32 check also "validates" responses that carry no
		// x-amz-crc32 header (every error response, e.g. a failed
		// condition) against 0 and logs a warning each time
		// (aws/aws-sdk-go-v2#3545). TLS already protects the body.
		do.DisableValidateResponseChecksum = true
		do.APIOptions = append(do.APIOptions, operationMiddleware(timeout, o.OnCall))
		if o.Tracer != nil {
			instrument(&do.APIOptions, o.Tracer) // trace.go
		}
		if o.Observer != nil {
			do.APIOptions = append(do.APIOptions, observeMiddleware(o.Observer))
		}
		if o.Logger != nil {
			do.Logger = SDKLogger(o.Logger)
		}
	}), nil
}

// SDKLogger adapts l to the SDK's logger: a warning is a WARN record, any
// other line DEBUG, each with the SDK's text as "msg" and source "aws-sdk".
func SDKLogger(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelDebug
		if c == logging.Warn {
			level = slog.LevelWarn
		}
		l.Log(context.Background(), level, fmt.Sprintf(format, v...), "source", "aws-sdk")
	})
}

func newRetryer() aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = maxAttempts
		so.MaxBackoff = maxBackoff
		so.BaseDelay = 25 * time.Millisecond
		so.RateLimiter = ratelimit.None
		so.Retryables = append(so.Retryables, retry.RetryableErrorCode{
			Codes: map[string]struct{}{"TransactionConflictException": {}},
		})
	})
}

// operationMiddleware puts a deadline on each operation (covering every
// attempt and backoff) and reports it to onCall.
func operationMiddleware(timeout time.Duration, onCall func(string)) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		op := stack.ID()
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("TaskapiOperationDeadline",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if onCall != nil {
					onCall(op)
				}
				ctx, cancel := context.WithTimeout(ctx, timeout)
				defer cancel()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
}
