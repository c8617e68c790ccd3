package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/tracing"
)

// tracer makes the GraphQL spans: one per operation, named by its type and
// root field ("query.tasks", as the metrics label it: bounded, unlike the
// name a client gives its operation), and one per resolver call
// ("Query.tasks", "User.stats"), under which the store's spans nest.
//
// It is ours rather than github.com/ravilushqa/otelgqlgen because that
// tracer records the query text (which may hold a literal password:
// `login(email: "…", password: "…")`) and every field's arguments, with no
// option to leave them out, and names spans by the client's operation name.
// Here spans carry schema names and error codes only: never a query,
// variables or arguments.
type tracer struct{ t trace.Tracer }

var (
	_ graphql.HandlerExtension    = tracer{}
	_ graphql.ResponseInterceptor = tracer{}
	_ graphql.FieldInterceptor    = tracer{}
)

// Attribute keys of the GraphQL spans (semantic conventions' graphql.*).
const (
	keyOperationType = attribute.Key("graphql.operation.type")
	keyObject        = attribute.Key("graphql.field.parent_type")
	keyField         = attribute.Key("graphql.field.name")
)

func (tracer) ExtensionName() string                   { return "Tracing" }
func (tracer) Validate(graphql.ExecutableSchema) error { return nil }

func (t tracer) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	op := graphql.GetOperationContext(ctx).Operation
	label := operationLabel(op)
	attrs := []attribute.KeyValue{tracing.KeyOperation.String(label)}
	if op != nil {
		attrs = append(attrs, keyOperationType.String(string(op.Operation)))
	}
	ctx, span := t.t.Start(ctx, label, trace.WithAttributes(attrs...))
	defer span.End()
	resp := next(ctx)
	if resp != nil {
		code := "OK"
		if len(resp.Errors) > 0 {
			code = CodeInternal
			if c, ok := resp.Errors[0].Extensions["code"].(string); ok {
				code = c
			}
		}
		span.SetAttributes(tracing.KeyCode.String(code))
		if code == CodeInternal || code == string(core.CodeUnavailable) {
			span.SetStatus(codes.Error, code) // a client's mistake is not the service's error
		}
	}
	return resp
}

func (t tracer) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	// Fields read from a struct cost nothing to trace and would be most
	// of the spans: only resolver calls get one.
	if fc == nil || !fc.IsResolver {
		return next(ctx)
	}
	ctx, span := t.t.Start(ctx, fc.Object+"."+fc.Field.Name,
		trace.WithAttributes(keyObject.String(fc.Object), keyField.String(fc.Field.Name)))
	defer span.End()
	res, err := next(ctx)
	if err != nil {
		code := CodeInternal
		if ce, ok := core.AsError(err); ok {
			code = string(ce.Code)
		}
		span.SetAttributes(tracing.KeyCode.String(code))
	}
	return res, err
}
