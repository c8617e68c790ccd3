//go:build lambdaenv

package metrics

import (
	"net/http"
	"time"
)

// Metrics is empty in the Lambda image (-tags lambdaenv), which links no
// Prometheus: nothing listens inside Lambda (METRICS_ADDR is ignored
// there), and the client's package initialization would cost every cold
// start about 0.6 ms. New returns nil, whose methods do nothing.
type Metrics struct{}

// New returns nil: there are no metrics in this build.
func New() *Metrics { return nil }

// Handler answers 404: there is nothing to serve.
func (*Metrics) Handler() http.Handler { return http.NotFoundHandler() }

// ObserveRequest does nothing in this build.
func (*Metrics) ObserveRequest(string, string, string, time.Duration) {}

// CacheRead does nothing in this build.
func (*Metrics) CacheRead(string) {}

// BreakerChanged does nothing in this build.
func (*Metrics) BreakerChanged(string, string) {}

// RateLimited does nothing in this build.
func (*Metrics) RateLimited(string) {}

// LoginFailed does nothing in this build.
func (*Metrics) LoginFailed(string) {}

// DynamoDBConsumed does nothing in this build.
func (*Metrics) DynamoDBConsumed(string, string, float64) {}

// DynamoDBThrottled does nothing in this build.
func (*Metrics) DynamoDBThrottled(string) {}

func (*Metrics) storeError(error) {}
