//go:build !lambdaenv

// Package metrics counts what an operator of taskapi watches, with
// Prometheus (github.com/prometheus/client_golang), served in the text
// format by Handler on a listener of its own (METRICS_ADDR, never the
// public port). docs/operations.md lists every metric.
//
// *Metrics implements the observers the other packages define where they
// decide (core.Observer, cache.Observer, server.RequestObserver), so none of
// them imports Prometheus. Every method is safe on a nil *Metrics, and
// nothing is built or wired when metrics are off: the request path then
// pays a nil check per event (bench: BenchmarkMetrics).
//
// The Lambda image (-tags lambdaenv) links none of this (lambda.go): nothing
// listens there, and Prometheus's package initialization would cost every
// cold start about 0.6 ms.
//
// Label values come from closed sets only (route templates, schema field
// names, error codes, limit names), never from what a client sent: no
// email, token or id can reach a label, and the number of series stays
// bounded.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/taskapi/taskapi/core"
)

// Metrics holds every metric of one process, in a registry of its own (not
// Prometheus's global one: two servers in one test process stay apart).
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	cacheReads  *prometheus.CounterVec
	breaker     *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	loginFailed *prometheus.CounterVec
	storeErrors *prometheus.CounterVec
	consumed    *prometheus.CounterVec
	throttled   *prometheus.CounterVec
}

// New returns the metrics, registered with the Go runtime's and the
// process's collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_requests_total",
			Help: "HTTP requests by transport (graphql, rest, other), operation (GraphQL root field, REST route template) and result code (GraphQL error code or OK; otherwise the HTTP status).",
		}, []string{"transport", "operation", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "taskapi_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its response, by transport.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"transport"}),
		cacheReads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_cache_reads_total",
			Help: "Cached reads by result: hit, miss (read from the store and cached), bypass (read from the store without Redis: Redis failed, its breaker is open, or an invalidation is pending).",
		}, []string{"result"}),
		breaker: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_breaker_state_changes_total",
			Help: "Redis circuit breaker state changes by component (cache, rate-limiter, apq) and new state (open, half-open, closed).",
		}, []string{"component", "state"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_rate_limited_total",
			Help: "Requests refused by a rate limit (login_email: slowed, not refused), by limit (the RATE_LIMIT_* names).",
		}, []string{"limit"}),
		loginFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_login_failures_total",
			Help: "Refused logins by reason: bad_credentials, inactive, password_reset_required.",
		}, []string{"reason"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_store_errors_total",
			Help: "Errors returned by the store (DynamoDB or embedded, under the cache) by kind: not_found, conflict, precondition, unavailable, canceled, other.",
		}, []string{"kind"}),
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_dynamodb_consumed_capacity_units_total",
			Help: "Capacity units (read and write) DynamoDB reported consumed, by operation (GetItem, Query, TransactWriteItems, …) and table.",
		}, []string{"operation", "table"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_dynamodb_throttled_attempts_total",
			Help: "DynamoDB attempts refused for throughput (ThrottlingException, ProvisionedThroughputExceededException, RequestLimitExceeded), by operation; the client retries them.",
		}, []string{"operation"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.cacheReads, m.breaker, m.rateLimited, m.loginFailed, m.storeErrors, m.consumed, m.throttled,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The closed sets start at zero, so a rate() over them works from the
	// first scrape instead of from the first event.
	for _, r := range []string{"hit", "miss", "bypass"} {
		m.cacheReads.WithLabelValues(r)
	}
	for _, l := range []string{core.LimitLogin, core.LimitLoginAccount, core.LimitLoginEmail, core.LimitRegister, core.LimitRegisterAll, core.LimitWrites} {
		m.rateLimited.WithLabelValues(l)
	}
	for _, r := range []string{core.LoginFailureCredentials, core.LoginFailureInactive, core.LoginFailurePasswordReset} {
		m.loginFailed.WithLabelValues(r)
	}
	for _, k := range []string{KindNotFound, KindConflict, KindPrecondition, KindUnavailable, KindCanceled, KindOther} {
		m.storeErrors.WithLabelValues(k)
	}
	return m
}

// DynamoDBConsumed counts the capacity DynamoDB reported for one operation
// (dynamo.Observer).
func (m *Metrics) DynamoDBConsumed(op, table string, units float64) {
	m.consumed.WithLabelValues(op, table).Add(units)
}

// DynamoDBThrottled counts one throttled DynamoDB attempt (dynamo.Observer).
func (m *Metrics) DynamoDBThrottled(op string) { m.throttled.WithLabelValues(op).Inc() }

// Handler serves the metrics in Prometheus's text format (or OpenMetrics,
// if the scraper asks), for the METRICS_ADDR listener only.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is where the metrics are registered (for tests).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveRequest counts one request (server.RequestObserver).
func (m *Metrics) ObserveRequest(transport, operation, code string, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(transport, operation, code).Inc()
	m.duration.WithLabelValues(transport).Observe(d.Seconds())
}

// CacheRead counts one cached read (cache.Observer).
func (m *Metrics) CacheRead(result string) {
	if m == nil {
		return
	}
	m.cacheReads.WithLabelValues(result).Inc()
}

// BreakerChanged counts one breaker state change (cache.Observer).
func (m *Metrics) BreakerChanged(component, state string) {
	if m == nil {
		return
	}
	m.breaker.WithLabelValues(component, state).Inc()
}

// RateLimited counts one refusal by limit (core.Observer).
func (m *Metrics) RateLimited(limit string) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(limit).Inc()
}

// LoginFailed counts one refused login (core.Observer).
func (m *Metrics) LoginFailed(reason string) {
	if m == nil {
		return
	}
	m.loginFailed.WithLabelValues(reason).Inc()
}

// storeError counts err, if it is one, by kind.
func (m *Metrics) storeError(err error) {
	if err == nil || m == nil {
		return
	}
	m.storeErrors.WithLabelValues(Kind(err)).Inc()
}
