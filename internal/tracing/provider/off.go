//go:build lambdaenv && !otel

package provider

import (
	"context"
	"errors"
)

// Linked reports whether this build has the SDK: the Lambda image has it
// only when built with -tags otel.
const Linked = false

// New fails: this build does not link the SDK.
func New(context.Context, Options) (*Provider, error) {
	return nil, errors.New("this build has no OpenTelemetry SDK: build the Lambda image with -tags otel")
}
