package tracing_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/requestinfo"
	"github.com/taskapi/taskapi/internal/tracing"
	"github.com/taskapi/taskapi/store/embedded"
)

func recorder(t *testing.T) (*tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return rec, tp
}

func attrs(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

// TestMiddlewareNamesSpans: the server span is named by what the handlers
// below recorded (requestinfo), never by the raw path; probes make none.
func TestMiddlewareNamesSpans(t *testing.T) {
	for _, tc := range []struct {
		name, method, path string
		label              func(ctx context.Context)
		span               string // "" : no span
		want               map[string]string
	}{
		{"REST", "PUT", "/api/v1/tasks/update-task/0123", func(ctx context.Context) {
			requestinfo.Set(ctx, requestinfo.REST, "PUT /api/v1/tasks/update-task/{task_id}")
		}, "PUT /api/v1/tasks/update-task/{task_id}", map[string]string{"http.route": "/api/v1/tasks/update-task/{task_id}", "taskapi.transport": "rest"}},
		{"GraphQL", "POST", "/graphql", func(ctx context.Context) {
			requestinfo.Set(ctx, requestinfo.GraphQL, "query.me")
			requestinfo.From(ctx).Code = "UNAUTHENTICATED"
		}, "POST /graphql query.me", map[string]string{"http.route": "/graphql", "taskapi.operation": "query.me", "taskapi.code": "UNAUTHENTICATED"}},
		{"Unmatched", "GET", "/no/such/thing", func(context.Context) {}, "GET", map[string]string{"taskapi.operation": "unmatched", "http.route": ""}},
		{"HealthzUntraced", "GET", "/healthz", func(context.Context) {}, "", nil},
		{"ReadyzUntraced", "GET", "/readyz", func(context.Context) {}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, tp := recorder(t)
			h := tracing.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tc.label(r.Context())
				w.WriteHeader(http.StatusOK)
			}), tracing.HTTPOptions{Provider: tp, Propagator: propagation.TraceContext{}})
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.path, nil))
			spans := rec.Ended()
			if tc.span == "" {
				if len(spans) != 0 {
					t.Fatalf("%d spans, want none", len(spans))
				}
				return
			}
			if len(spans) != 1 || spans[0].Name() != tc.span {
				t.Fatalf("spans %v, want one named %q", spans, tc.span)
			}
			got := attrs(spans[0].Attributes())
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestMiddlewareLambda: inside Lambda, a request without trace headers is
// a child of the invocation's X-Ray segment, and spans are flushed before
// the handler returns; a request with its own traceparent keeps it.
func TestMiddlewareLambda(t *testing.T) {
	const header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	for _, tc := range []struct {
		name, traceparent, traceID, parent string
	}{
		{"JoinsInvocation", "", "5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8"},
		{"OwnTraceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, tp := recorder(t)
			flushes := 0
			h := tracing.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), tracing.HTTPOptions{
				Provider: tp, Propagator: propagation.NewCompositeTextMapPropagator(xray.Propagator{}, propagation.TraceContext{}),
				Lambda: true, Flush: func(ctx context.Context) error { flushes++; return tp.ForceFlush(ctx) },
			})
			req := httptest.NewRequest("GET", "/graphql", nil)
			if tc.traceparent != "" {
				req.Header.Set("Traceparent", tc.traceparent)
			}
			//lint:ignore SA1029 the key aws-lambda-go uses (lambda/invoke_loop.go)
			req = req.WithContext(context.WithValue(req.Context(), "x-amzn-trace-id", header))
			h.ServeHTTP(httptest.NewRecorder(), req)
			spans := rec.Ended()
			if len(spans) != 1 || flushes != 1 {
				t.Fatalf("%d spans, %d flushes; want 1 and 1", len(spans), flushes)
			}
			if got := spans[0].SpanContext().TraceID().String(); got != tc.traceID {
				t.Errorf("trace id %s, want %s", got, tc.traceID)
			}
			if got := spans[0].Parent().SpanID().String(); got != tc.parent {
				t.Errorf("parent %s, want %s", got, tc.parent)
			}
		})
	}
}

// TestSetUser: the user id lands on the request's server span, however
// deep the context it is set from; outside a traced request it is a no-op.
func TestSetUser(t *testing.T) {
	rec, tp := recorder(t)
	h := tracing.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		ctx, child := tp.Tracer("test").Start(r.Context(), "Query.me")
		tracing.SetUser(ctx, "VAH1")
		child.End()
	}), tracing.HTTPOptions{Provider: tp, Propagator: propagation.TraceContext{}})
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/graphql", nil))
	tracing.SetUser(context.Background(), "VAH2") // no span: nothing happens
	for _, sp := range rec.Ended() {
		got := attrs(sp.Attributes())["enduser.id"]
		if want := map[string]string{"Query.me": "", "POST": "VAH1"}[sp.Name()]; got != want {
			t.Errorf("span %q: enduser.id %q, want %q", sp.Name(), got, want)
		}
	}
}

// failing is a store whose GetUser fails with err.
type failing struct {
	core.Store
	err error
}

func (f failing) GetUser(context.Context, string) (core.User, error) { return core.User{}, f.err }

// TestStoreSpans: a span per call, its outcome recorded, none of its
// arguments.
func TestStoreSpans(t *testing.T) {
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tc := range []struct {
		name   string
		err    error
		result string
		status codes.Code
	}{
		{"OK", nil, "", codes.Unset},
		{"ErrNotFound", core.ErrNotFound, "not_found", codes.Unset},
		{"ErrUnavailable", core.ErrUnavailable, "", codes.Error},
		{"OtherError", errors.New("table taskapi-users: boom"), "", codes.Error},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, tp := recorder(t)
			s := tracing.Store(failing{st, tc.err}, tp)
			_, _ = s.GetUser(context.Background(), "VAH9")
			spans := rec.Ended()
			if len(spans) != 1 || spans[0].Name() != "store.GetUser" {
				t.Fatalf("spans %v, want one store.GetUser", spans)
			}
			sp := spans[0]
			a := attrs(sp.Attributes())
			if a["taskapi.store.result"] != tc.result || sp.Status().Code != tc.status {
				t.Errorf("result %q status %v, want %q %v", a["taskapi.store.result"], sp.Status().Code, tc.result, tc.status)
			}
			for k, v := range a {
				if v == "VAH9" || k == "error" {
					t.Errorf("span records %s=%s", k, v)
				}
			}
			if tc.err != nil && sp.Status().Description == tc.err.Error() {
				t.Errorf("status holds the error's text %q", sp.Status().Description)
			}
		})
	}
}
