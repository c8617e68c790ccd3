// Package requestinfo carries, in a request's context, what the request
// metrics label it with: its transport, its operation (a GraphQL root
// field, a REST route template) and its result code. The server puts an
// Info in the context only when metrics are on; the transports fill it
// where they know the answer. It has no dependency, so the transports do
// not link the metrics library to fill it.
package requestinfo

import "context"

// Transports.
const (
	GraphQL = "graphql"
	REST    = "rest"
	Other   = "other"
)

// Info is one request's labels. Every value must come from a bounded set
// (route templates, schema field names, error codes): never from what a
// client typed.
type Info struct {
	Transport string
	Operation string
	// Code is the result: a GraphQL error code ("OK" when none), or ""
	// for the HTTP status.
	Code string
}

type key struct{}

// New returns ctx carrying a new Info, and the Info.
func New(ctx context.Context) (context.Context, *Info) {
	in := &Info{}
	return context.WithValue(ctx, key{}, in), in
}

// From returns the request's Info, nil when metrics are off.
func From(ctx context.Context) *Info {
	in, _ := ctx.Value(key{}).(*Info)
	return in
}

// Set labels the request with transport and operation, if it is counted.
func Set(ctx context.Context, transport, operation string) {
	if in := From(ctx); in != nil {
		in.Transport, in.Operation = transport, operation
	}
}
