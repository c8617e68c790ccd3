package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/taskapi/taskapi/internal/requestinfo"
)

// requestLabels labels a counted request (requestinfo) with its operation
// and result code. The operation is its type and root field
// ("mutation.login"), not the name the client gave it: a client-chosen
// name would let any client create series without bound, whereas root
// fields are the schema's (validated before this runs). Several root
// fields are "<type>.multiple". The code is the first error's
// extensions.code, "OK" when there is none; a request refused before it
// executes (parse, validation, size) keeps its HTTP status.
//
// It wraps the response cache (used before it), so cached answers are
// counted too.
type requestLabels struct{}

var (
	_ graphql.HandlerExtension     = requestLabels{}
	_ graphql.OperationInterceptor = requestLabels{}
)

func (requestLabels) ExtensionName() string                   { return "RequestLabels" }
func (requestLabels) Validate(graphql.ExecutableSchema) error { return nil }
func (requestLabels) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	in := requestinfo.From(ctx)
	if in == nil {
		return next(ctx)
	}
	in.Transport, in.Operation = requestinfo.GraphQL, operationLabel(graphql.GetOperationContext(ctx).Operation)
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp != nil {
			in.Code = "OK"
			if len(resp.Errors) > 0 {
				in.Code = CodeInternal
				if c, ok := resp.Errors[0].Extensions["code"].(string); ok {
					in.Code = c
				}
			}
		}
		return resp
	}
}

// operationLabel is op's type and root field, "<type>.multiple" for
// several, "unknown" for none.
func operationLabel(op *ast.OperationDefinition) string {
	if op == nil {
		return "unknown"
	}
	if len(op.SelectionSet) == 1 {
		if f, ok := op.SelectionSet[0].(*ast.Field); ok {
			return string(op.Operation) + "." + f.Name
		}
	}
	return string(op.Operation) + ".multiple"
}
