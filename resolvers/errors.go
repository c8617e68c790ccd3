package resolvers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/taskapi/taskapi/core"
)

// Codes of extensions.code that are not domain codes.
const (
	CodeInternal   = "INTERNAL_SERVER_ERROR"
	CodeBadRequest = "BAD_REQUEST" // a malformed request gqlgen reports without a code
	CodeDepthLimit = "DEPTH_LIMIT_EXCEEDED"
	// CodeComplexityLimit is gqlgen's code for a too costly operation, also
	// used for one with too many fields.
	CodeComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED"
)

// internalMessage is all a client learns of an unexpected error.
const internalMessage = "internal server error"

// errPanicked is what a recovered panic becomes once it has been logged.
var errPanicked = errors.New("panic in resolver (logged)")

// errorPresenter maps every error of a response to what the client sees,
// exactly once: domain errors (*core.Error) to their extensions.code, gqlgen's
// own request errors (parse, validation, limits) kept as they are, and
// anything else to INTERNAL_SERVER_ERROR with the detail logged, never sent.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if !errors.As(err, &gqlErr) {
			gqlErr = gqlerror.WrapPath(graphql.GetPath(ctx), err)
		}
		out := &gqlerror.Error{
			Message:    gqlErr.Message,
			Path:       gqlErr.Path,
			Locations:  gqlErr.Locations,
			Rule:       gqlErr.Rule,
			Extensions: map[string]any{},
		}
		if ce, ok := core.AsError(err); ok {
			if present(out, ce) {
				if ce.Code == core.CodeUnavailable {
					log.WarnContext(ctx, "graphql: dependency unavailable", "path", out.Path.String(), "err", ce.Err)
				}
				return out
			}
		} else if gqlErr.Err == nil {
			// gqlgen's own request error: parse, validation, complexity, APQ.
			for k, v := range gqlErr.Extensions {
				out.Extensions[k] = v
			}
			if _, ok := out.Extensions["code"]; !ok {
				out.Extensions["code"] = CodeBadRequest
			}
			return out
		}
		switch {
		case errors.Is(err, errPanicked):
		case errors.Is(err, context.Canceled) && ctx.Err() != nil:
			// The client went away: nothing failed on our side.
			log.InfoContext(ctx, "graphql: client closed the request", "path", out.Path.String())
		default:
			log.ErrorContext(ctx, "graphql: internal error", "path", out.Path.String(), "err", err)
		}
		out.Message = internalMessage
		out.Rule = ""
		out.Extensions = map[string]any{"code": CodeInternal}
		return out
	}
}

// present fills out for a domain error; false for a code it does not know.
func present(out *gqlerror.Error, ce *core.Error) bool {
	out.Message = ce.ClientMessage()
	switch ce.Code {
	case core.CodeInvalid:
		fields := make([]map[string]any, len(ce.Fields))
		for i, f := range ce.Fields {
			fields[i] = map[string]any{"field": f.Field, "message": f.Message(), "kind": string(f.Kind)}
		}
		out.Extensions["fields"] = fields
	case core.CodeRateLimited:
		out.Extensions["retryAfter"] = int(math.Ceil(ce.RetryAfter.Seconds()))
	case core.CodeUnauthenticated, core.CodeForbidden, core.CodeNotFound, core.CodeConflict, core.CodeUnavailable, core.CodePasswordResetRequired:
	default:
		return false
	}
	out.Extensions["code"] = string(ce.Code)
	return true
}

// recoverFunc logs a resolver's panic once, with its stack, and answers an
// error the presenter turns into INTERNAL_SERVER_ERROR.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "graphql: panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		return errPanicked
	}
}
