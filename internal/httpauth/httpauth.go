// Package httpauth carries a request's credentials from HTTP into the core:
// one middleware, shared by the GraphQL and REST transports, so neither parses
// the Authorization header itself.
package httpauth

import (
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/taskapi/taskapi/core"
)

// Middleware puts the request's bearer token (if any) and client address into
// its context with core.WithRequest. Only the "Bearer" scheme counts (case
// insensitive, as FastAPI's OAuth2PasswordBearer): any other Authorization
// header is treated as no credentials at all.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(Context(r.Context(), r)))
	})
}

// Context is ctx carrying r's credentials, as Middleware passes them on: for
// a middleware that derives the request's context anyway (one copy of the
// request instead of two).
func Context(ctx context.Context, r *http.Request) context.Context {
	return core.WithUserAgent(core.WithRequest(ctx, BearerToken(r), ClientIP(r)), r.UserAgent())
}

// BearerToken returns the token of an "Authorization: Bearer <token>" header,
// or "".
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// ClientIP is the address the request came from. Forwarding headers are not
// trusted (anyone can send them); behind API Gateway the Lambda adapter sets
// RemoteAddr from the gateway's sourceIp.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
