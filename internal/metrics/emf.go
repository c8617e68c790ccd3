package metrics

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// EMF counts the same events as *Metrics inside AWS Lambda, where nothing
// listens to be scraped: it aggregates them and writes them, once per
// invocation, to standard output as CloudWatch Embedded Metric Format
// documents, one JSON object per line, which CloudWatch Logs turns into
// metrics. No agent, no PutMetricData call: the function's VPC has no
// route to the CloudWatch API, and a call per invocation would cost a
// round trip; the log line costs one write.
//
// A small writer rather than a library: AWS publishes no Go EMF library
// (only Node.js, Python, Java and .NET ones); of the community ones,
// prozz/aws-embedded-metrics-golang has had no release since 2021, its
// maintained fork dangrier/aws-embedded-metrics-golang requires Go 1.27
// (this module builds with 1.26) and makes a document per call, not the
// per-invocation aggregate needed here, and udhos/aws-emf is a v0.0.x. The
// format needs about a page (the specification:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
// written here without allocations once warm.
//
// One line per dimension set: a document gives each dimension key one
// value, so a cache hit and a cache miss of the same invocation cannot
// share a line without inventing a metric name per label value (which
// would part the names from Prometheus's labels and the alarms' dimensions).
// The request's own line carries Requests and Latency; other lines appear
// only when their events happened. A typical invocation writes one to
// three lines of about 300 bytes.
//
// Dimension keys are the Prometheus label names and their values the
// same closed sets (EMFMetrics lists them), so the number of CloudWatch
// metrics stays bounded. Every method is safe on a nil *EMF, and safe for
// concurrent use: if the runtime runs invocations concurrently
// (AWS_LAMBDA_MAX_CONCURRENCY), a line holds what happened since the
// previous one was written, and the totals stay exact.
type EMF struct {
	w         io.Writer
	namespace string
	now       func() time.Time

	mu       sync.Mutex
	requests []emfRequest
	counts   []emfCount
	buf      []byte
}

// Metric names of the EMF documents (CloudWatch's convention: words, no
// unit suffix). Each is the Prometheus metric of the same meaning.
const (
	EMFRequests     = "Requests"            // taskapi_requests_total
	EMFLatency      = "Latency"             // taskapi_request_duration_seconds, in milliseconds
	EMFCacheReads   = "CacheReads"          // taskapi_cache_reads_total
	EMFBreakerState = "BreakerStateChanges" // taskapi_breaker_state_changes_total
	EMFRateLimited  = "RateLimited"         // taskapi_rate_limited_total
	EMFLoginFailed  = "LoginFailures"       // taskapi_login_failures_total
	EMFStoreErrors  = "StoreErrors"         // taskapi_store_errors_total
	EMFSessions     = "SessionEvents"       // taskapi_session_events_total
)

// EMFMetric is one metric the EMF documents carry: its name, unit and
// dimension sets (each a list of dimension keys).
type EMFMetric struct {
	Name       string
	Unit       string
	Dimensions [][]string
}

// emfCounters are the counter families, in the order of their family index.
var emfCounters = [...]EMFMetric{
	famCache:     {Name: EMFCacheReads, Unit: "Count", Dimensions: [][]string{{"result"}}},
	famBreaker:   {Name: EMFBreakerState, Unit: "Count", Dimensions: [][]string{{"component", "state"}}},
	famRateLimit: {Name: EMFRateLimited, Unit: "Count", Dimensions: [][]string{{"limit"}}},
	famLogin:     {Name: EMFLoginFailed, Unit: "Count", Dimensions: [][]string{{"reason"}}},
	famStore:     {Name: EMFStoreErrors, Unit: "Count", Dimensions: [][]string{{"kind"}}},
	famSessions:  {Name: EMFSessions, Unit: "Count", Dimensions: [][]string{{"event"}}},
}

const (
	famCache = iota
	famBreaker
	famRateLimit
	famLogin
	famStore
	famSessions
)

// The request line's two metrics: Requests by every request label, Latency
// by transport only, as the Prometheus histogram is labelled.
var (
	emfRequestsMetric = EMFMetric{Name: EMFRequests, Unit: "Count", Dimensions: [][]string{{"transport", "operation", "code"}}}
	emfLatencyMetric  = EMFMetric{Name: EMFLatency, Unit: "Milliseconds", Dimensions: [][]string{{"transport"}}}
)

// EMFMetrics lists every metric the EMF documents can carry, with its
// dimension sets: what terraform/'s alarms and dashboard may name
// (internal/infratest holds them to it).
func EMFMetrics() []EMFMetric {
	out := []EMFMetric{emfRequestsMetric, emfLatencyMetric}
	return append(out, emfCounters[:]...)
}

// maxEMFValues is the specification's limit on a metric's values array.
const maxEMFValues = 100

type emfRequest struct {
	transport, operation, code string
	n                          int64
	latencies                  []float64 // milliseconds
}

type emfCount struct {
	fam    int
	l1, l2 string // the label values; l2 is "" for one-label families
	n      int64
}

// NewEMF returns the EMF writer for namespace (METRICS_NAMESPACE), writing
// to w (standard output in Lambda).
func NewEMF(w io.Writer, namespace string) *EMF {
	return &EMF{w: w, namespace: namespace, now: time.Now}
}

// ObserveRequest counts one request (server.RequestObserver).
func (e *EMF) ObserveRequest(transport, operation, code string, d time.Duration) {
	if e == nil {
		return
	}
	ms := float64(d.Microseconds()) / 1000
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.requests {
		r := &e.requests[i]
		if r.transport == transport && r.operation == operation && r.code == code {
			r.n++
			r.latencies = append(r.latencies, ms)
			return
		}
	}
	// Reuse the latencies of an entry a previous flush left behind.
	if n := len(e.requests); n < cap(e.requests) {
		e.requests = e.requests[:n+1]
		r := &e.requests[n]
		*r = emfRequest{transport: transport, operation: operation, code: code, n: 1, latencies: append(r.latencies[:0], ms)}
		return
	}
	e.requests = append(e.requests, emfRequest{transport: transport, operation: operation, code: code, n: 1, latencies: []float64{ms}})
}

// CacheRead counts one cached read (cache.Observer).
func (e *EMF) CacheRead(result string) { e.count(famCache, result, "") }

// BreakerChanged counts one breaker state change (cache.Observer).
func (e *EMF) BreakerChanged(component, state string) { e.count(famBreaker, component, state) }

// RateLimited counts one refusal by limit (core.Observer).
func (e *EMF) RateLimited(limit string) { e.count(famRateLimit, limit, "") }

// LoginFailed counts one refused login (core.Observer).
func (e *EMF) LoginFailed(reason string) { e.count(famLogin, reason, "") }

// StoreError counts one store error of kind (StoreObserver).
func (e *EMF) StoreError(kind string) { e.count(famStore, kind, "") }

// SessionEvent counts a session started, refreshed or ended (core.Observer).
func (e *EMF) SessionEvent(event string) { e.count(famSessions, event, "") }

// Subscriptions does nothing: the Lambda image serves none (docs/graphql.md).
func (e *EMF) Subscriptions(string, int) {}

func (e *EMF) count(fam int, l1, l2 string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.counts {
		if c := &e.counts[i]; c.fam == fam && c.l1 == l1 && c.l2 == l2 {
			c.n++
			return
		}
	}
	e.counts = append(e.counts, emfCount{fam: fam, l1: l1, l2: l2, n: 1})
}

// Flush writes what was counted since the last Flush, one line per
// dimension set in a single write, and forgets it. It writes nothing when
// nothing was counted. The error is the writer's.
func (e *EMF) Flush() error {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.requests) == 0 && len(e.counts) == 0 {
		return nil
	}
	ts := e.now().UnixMilli()
	b := e.buf[:0]
	for _, r := range e.requests {
		lat := r.latencies
		first := true
		for first || len(lat) > 0 {
			chunk := lat[:min(len(lat), maxEMFValues)]
			lat = lat[len(chunk):]
			b = e.appendRequest(b, ts, r, chunk, first)
			first = false
		}
	}
	for _, c := range e.counts {
		b = e.appendCount(b, ts, c)
	}
	e.requests, e.counts, e.buf = e.requests[:0], e.counts[:0], b
	_, err := e.w.Write(b)
	return err
}

// FlushEach returns h writing the metrics after each request it serves:
// in Lambda, one request is one invocation, and its metrics must be out
// before the runtime freezes the process between invocations.
func (e *EMF) FlushEach(h http.Handler) http.Handler {
	if e == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { _ = e.Flush() }() // a log line that cannot be written has nowhere to be reported
		h.ServeHTTP(w, r)
	})
}

// appendRequest appends the line of one request dimension set: Requests
// (on the first line only) and up to 100 latencies.
func (e *EMF) appendRequest(b []byte, ts int64, r emfRequest, lat []float64, withCount bool) []byte {
	b = e.appendHead(b, ts)
	if withCount {
		b = e.appendDirective(b, emfRequestsMetric)
		b = append(b, ',')
	}
	b = e.appendDirective(b, emfLatencyMetric)
	b = append(b, `]},"transport":`...)
	b = appendJSONString(b, r.transport)
	b = append(b, `,"operation":`...)
	b = appendJSONString(b, r.operation)
	b = append(b, `,"code":`...)
	b = appendJSONString(b, r.code)
	if withCount {
		b = append(b, `,"`+EMFRequests+`":`...)
		b = strconv.AppendInt(b, r.n, 10)
	}
	b = append(b, `,"`+EMFLatency+`":`...)
	if len(lat) == 1 {
		b = strconv.AppendFloat(b, lat[0], 'f', -1, 64)
	} else {
		b = append(b, '[')
		for i, v := range lat {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, v, 'f', -1, 64)
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

// appendCount appends the line of one counter dimension set.
func (e *EMF) appendCount(b []byte, ts int64, c emfCount) []byte {
	m := emfCounters[c.fam]
	b = e.appendHead(b, ts)
	b = e.appendDirective(b, m)
	b = append(b, "]}"...)
	for i, key := range m.Dimensions[0] {
		v := c.l1
		if i == 1 {
			v = c.l2
		}
		b = append(b, ',')
		b = appendJSONString(b, key)
		b = append(b, ':')
		b = appendJSONString(b, v)
	}
	b = append(b, ',')
	b = appendJSONString(b, m.Name)
	b = append(b, ':')
	b = strconv.AppendInt(b, c.n, 10)
	return append(b, "}\n"...)
}

func (e *EMF) appendHead(b []byte, ts int64) []byte {
	b = append(b, `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, ts, 10)
	return append(b, `,"CloudWatchMetrics":[`...)
}

// appendDirective appends the MetricDirective of one metric.
func (e *EMF) appendDirective(b []byte, m EMFMetric) []byte {
	b = append(b, `{"Namespace":`...)
	b = appendJSONString(b, e.namespace)
	b = append(b, `,"Dimensions":[`...)
	for i, set := range m.Dimensions {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, k := range set {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
		}
		b = append(b, ']')
	}
	b = append(b, `],"Metrics":[{"Name":`...)
	b = appendJSONString(b, m.Name)
	b = append(b, `,"Unit":`...)
	b = appendJSONString(b, m.Unit)
	return append(b, "}]}"...)
}

// appendJSONString appends s as a JSON string. The values are closed sets
// (route templates, schema names, codes); invalid UTF-8 still becomes
// valid JSON (U+FFFD), so no value can break a line.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
