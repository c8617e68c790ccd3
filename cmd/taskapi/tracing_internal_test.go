package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/taskapi/taskapi/config"
	"github.com/taskapi/taskapi/internal/lambdaserve"
	"github.com/taskapi/taskapi/internal/logging"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/internal/tracing/provider"
)

// sinkSpan is a span as internal/otlpsink writes it.
type sinkSpan struct {
	Name       string            `json:"name"`
	Scope      string            `json:"scope"`
	Kind       string            `json:"kind"`
	TraceID    string            `json:"trace_id"`
	SpanID     string            `json:"span_id"`
	ParentID   string            `json:"parent_span_id"`
	Status     string            `json:"status"`
	StatusMsg  string            `json:"status_message"`
	Attributes map[string]string `json:"attributes"`
	Events     []struct {
		Name       string            `json:"name"`
		Attributes map[string]string `json:"attributes"`
	} `json:"events"`
	Resource map[string]string `json:"resource"`
}

// remoteSpanID is the parent span the test's requests claim to come from
// (traceparent): their server spans are its children.
const remoteSpanID = "00000000000000aa"

// otlpSink is a running internal/otlpsink: the OpenTelemetry Collector's
// OTLP receiver, writing what it receives as JSON lines.
type otlpSink struct {
	addr  string
	mu    sync.Mutex
	spans []sinkSpan
}

var buildSink = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "otlpsink")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "otlpsink")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "..", "internal", "otlpsink")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building internal/otlpsink: %v\n%s", err, out)
	}
	return bin, nil
})

// startSink builds (once) and starts the OTLP receiver on a free port.
func startSink(t *testing.T) *otlpSink {
	t.Helper()
	bin, err := buildSink()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &otlpSink{addr: ln.Addr().String()}
	ln.Close()
	cmd := exec.Command(bin, "-addr", s.addr)
	stdin, _ := cmd.StdinPipe() // closed at cleanup: the sink's signal to stop
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	ready := make(chan struct{})
	var errText strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(ready)
				continue
			}
			errText.WriteString(sc.Text() + "\n")
		}
	}()
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var sp sinkSpan
			if json.Unmarshal(sc.Bytes(), &sp) == nil {
				s.mu.Lock()
				s.spans = append(s.spans, sp)
				s.mu.Unlock()
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("otlpsink did not start: %s", errText.String())
	}
	return s
}

// trace waits until the trace id has its server span (the child of the
// test's remote span) and at least want spans, and returns them. Batches
// may reach the receiver in any order.
func (s *otlpSink) trace(t *testing.T, traceID, parentID string, want int) []sinkSpan {
	t.Helper()
	var got []sinkSpan
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		s.mu.Lock()
		got = got[:0]
		for _, sp := range s.spans {
			if sp.TraceID == traceID {
				got = append(got, sp)
			}
		}
		s.mu.Unlock()
		if len(got) >= want && slices.ContainsFunc(got, func(sp sinkSpan) bool { return sp.ParentID == parentID }) {
			return got
		}
	}
	t.Fatalf("trace %s: %d spans, want at least %d", traceID, len(got), want)
	return nil
}

// TestTracesEndToEnd: with an OTLP endpoint configured, requests through
// the handler cmd/taskapi builds (server.New, on each store, with Redis)
// reach a real OTLP receiver as one trace each: the server span named by
// the operation, the GraphQL operation and resolver spans under it, the
// store's (and DynamoDB's, Redis's) round trips under those, the user id
// once authenticated; no secret anywhere in a span; and the request's log
// lines carry its trace id.
func TestTracesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the OTLP receiver (internal/otlpsink)")
	}
	if !provider.Linked {
		t.Skip("this build has no OpenTelemetry SDK (-tags lambdaenv without otel)")
	}
	for _, tc := range []struct {
		name string
		env  func(t *testing.T) map[string]string
		// spans whose names start with these (or whose instrumentation
		// scope holds them) must be in the GraphQL query's trace.
		want []string
	}{
		{"Embedded", func(*testing.T) map[string]string { return map[string]string{} }, []string{"store."}},
		{"DynamoDBAndRedis", func(t *testing.T) map[string]string {
			endpoint := testenv.DynamoDB(t)
			rdb := testenv.Redis(t)
			host, port, _ := net.SplitHostPort(rdb.Addr())
			suffix := fmt.Sprint(time.Now().UnixNano())
			return map[string]string{
				"STORE": "dynamodb", "DYNAMODB_ENDPOINT": endpoint, "AWS_REGION": "us-east-1",
				"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
				"USERS_TABLE": "traces-users-" + suffix, "TASKS_TABLE": "traces-tasks-" + suffix,
				"REDIS_HOST": host, "REDIS_PORT": port,
			}
		}, []string{"store.", "DynamoDB.", "redisotel"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := startSink(t)
			env := tc.env(t)
			env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://" + sink.addr
			// The exporter and the SDK read these themselves.
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+sink.addr)
			t.Setenv("OTEL_SERVICE_NAME", "taskapi-test")
			t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
			cfg, err := config.Load(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if !cfg.Tracing {
				t.Fatal("config: tracing off with OTEL_EXPORTER_OTLP_ENDPOINT set")
			}
			cfg.DataDir = t.TempDir()
			if cfg.Store == config.StoreDynamoDB {
				if err := createTables(t.Context(), cfg, nil); err != nil {
					t.Fatal(err)
				}
			}
			var logs lockedBuffer
			a, err := build(t.Context(), cfg, logging.New(&logs, "json", "info"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			ts := httptest.NewServer(a.handler)
			defer ts.Close()

			const email, password = "ann@example.com", "s3cret!pw-Tr4ce"
			n := 0
			// call sends a request as a child of a made-up remote span, so
			// that its trace id is known.
			call := func(method, path, token, body string) (traceID string, out map[string]any) {
				t.Helper()
				n++
				traceID = fmt.Sprintf("%032x", 0x7ace0000+n)
				req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Traceparent", "00-"+traceID+"-"+remoteSpanID+"-01")
				req.Header.Set("X-Request-ID", fmt.Sprintf("req-%d", n))
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != 200 {
					t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
				}
				_ = json.Unmarshal(b, &out)
				return traceID, out
			}
			regTrace, reg := call("POST", "/api/v1/auth/register", "", `{"username":"ann","email":"`+email+`","password":"`+password+`"}`)
			userID, _ := reg["user_id"].(string)
			loginTrace, login := call("POST", "/graphql", "", `{"query":"mutation { login(email: \"`+email+`\", password: \"`+password+`\") { accessToken } }"}`)
			token, _ := login["data"].(map[string]any)["login"].(map[string]any)["accessToken"].(string)
			if userID == "" || token == "" {
				t.Fatalf("register %v, login %v", reg, login)
			}
			_, task := call("POST", "/api/v1/tasks/create-task", token, `{"title":"traced","description":"d"}`)
			taskID, _ := task["task_id"].(string)
			tasksTrace, _ := call("POST", "/graphql", token, `{"query":"query Mine { tasks(first: 5) { totalCount } }"}`)
			restTrace, _ := call("PUT", "/api/v1/tasks/update-task/"+taskID, token, `{"status":"ongoing"}`)
			probeTrace, _ := call("GET", "/healthz", "", "")
			a.Close() // flushes the spans to the receiver

			t.Run("ProbesUntraced", func(t *testing.T) {
				sink.trace(t, restTrace, remoteSpanID, 1) // everything exported has arrived
				sink.mu.Lock()
				defer sink.mu.Unlock()
				for _, sp := range sink.spans {
					if sp.TraceID == probeTrace {
						t.Errorf("/healthz made span %q", sp.Name)
					}
				}
			})

			for _, rc := range []struct {
				name, traceID, span, route, operation, user string
				chain                                       []string // GraphQL: operation, then resolver span under the server span
			}{
				{"RESTRegister", regTrace, "POST /api/v1/auth/register", "/api/v1/auth/register", "POST /api/v1/auth/register", "", nil},
				{"GraphQLLogin", loginTrace, "POST /graphql mutation.login", "/graphql", "mutation.login", userID, []string{"mutation.login", "Mutation.login"}},
				{"GraphQLTasks", tasksTrace, "POST /graphql query.tasks", "/graphql", "query.tasks", userID, []string{"query.tasks", "Query.tasks"}},
				{"RESTUpdate", restTrace, "PUT /api/v1/tasks/update-task/{task_id}", "/api/v1/tasks/update-task/{task_id}", "PUT /api/v1/tasks/update-task/{task_id}", userID, nil},
			} {
				t.Run(rc.name, func(t *testing.T) {
					spans := sink.trace(t, rc.traceID, remoteSpanID, 2+len(rc.chain))
					byID := map[string]sinkSpan{}
					for _, sp := range spans {
						byID[sp.SpanID] = sp
					}
					tree := func() string {
						var b strings.Builder
						for _, sp := range spans {
							fmt.Fprintf(&b, "  %s %q parent=%s %v\n", sp.SpanID, sp.Name, sp.ParentID, sp.Attributes)
						}
						return b.String()
					}
					var root sinkSpan
					for _, sp := range spans {
						if sp.ParentID == remoteSpanID {
							root = sp
						}
					}
					if root.Name != rc.span || root.Kind != "Server" {
						t.Fatalf("server span %q (%s), want %q; spans:\n%s", root.Name, root.Kind, rc.span, tree())
					}
					for k, v := range map[string]string{"http.route": rc.route, "taskapi.operation": rc.operation, "enduser.id": rc.user, "http.response.status_code": "200"} {
						if root.Attributes[k] != v {
							t.Errorf("server span %s = %q, want %q", k, root.Attributes[k], v)
						}
					}
					if root.Resource["service.name"] != "taskapi-test" {
						t.Errorf("service.name %q", root.Resource["service.name"])
					}
					// The GraphQL spans nest: server → operation → resolver.
					parent := root
					for _, name := range rc.chain {
						i := slices.IndexFunc(spans, func(sp sinkSpan) bool { return sp.Name == name && sp.ParentID == parent.SpanID })
						if i < 0 {
							t.Fatalf("no span %q under %q; spans:\n%s", name, parent.Name, tree())
						}
						parent = spans[i]
					}
					// Every other span descends from the server span.
					for _, sp := range spans {
						if sp.SpanID == root.SpanID {
							continue
						}
						p, ok := byID[sp.ParentID]
						for ok && p.SpanID != root.SpanID {
							p, ok = byID[p.ParentID]
						}
						if !ok {
							t.Errorf("span %q is not under the server span; spans:\n%s", sp.Name, tree())
						}
					}
					if rc.name == "GraphQLTasks" {
						for _, prefix := range tc.want {
							if !slices.ContainsFunc(spans, func(sp sinkSpan) bool {
								return strings.HasPrefix(sp.Name, prefix) || strings.Contains(sp.Scope, prefix)
							}) {
								t.Errorf("no %s… span; spans:\n%s", prefix, tree())
							}
						}
						if tc.name == "DynamoDBAndRedis" && !slices.ContainsFunc(spans, func(sp sinkSpan) bool {
							return slices.ContainsFunc(sp.Events, func(e struct {
								Name       string            `json:"name"`
								Attributes map[string]string `json:"attributes"`
							}) bool {
								return e.Name == "cache.read" && e.Attributes["taskapi.cache.result"] != ""
							})
						}) {
							t.Errorf("no cache.read event; spans:\n%s", tree())
						}
					}
					// No secret in any span: extends internal/hardening's
					// "no secrets in logs" to traces.
					secrets := []string{email, password, token, "Bearer", "s3cret"}
					for _, sp := range spans {
						texts := []string{sp.Name, sp.StatusMsg}
						for k, v := range sp.Attributes {
							if strings.Contains(strings.ToLower(k), "authorization") || strings.Contains(strings.ToLower(k), "password") {
								t.Errorf("span %q has attribute %s", sp.Name, k)
							}
							texts = append(texts, k+"="+v)
						}
						for _, e := range sp.Events {
							texts = append(texts, e.Name)
							for k, v := range e.Attributes {
								texts = append(texts, k+"="+v)
							}
						}
						for _, txt := range texts {
							for _, s := range secrets {
								if strings.Contains(txt, s) {
									t.Errorf("span %q holds a secret (%.12s…): %q", sp.Name, s, txt)
								}
							}
						}
					}
				})
			}

			// Every log line of a traced request (all but the probe's)
			// carries its trace id.
			lines := 0
			for line := range bytes.Lines([]byte(logs.String())) {
				var l map[string]any
				if json.Unmarshal(line, &l) != nil || l["request_id"] == nil || l["path"] == "/healthz" {
					continue
				}
				lines++
				var id int
				if _, err := fmt.Sscanf(l["request_id"].(string), "req-%d", &id); err != nil {
					t.Errorf("request_id %v", l["request_id"])
					continue
				}
				if want := fmt.Sprintf("%032x", 0x7ace0000+id); l["trace_id"] != want || l["span_id"] == nil {
					t.Errorf("log line %s: trace_id %v, want %s", line, l["trace_id"], want)
				}
			}
			if lines < n-1 {
				t.Errorf("%d request log lines, want at least %d", lines, n-1)
			}
		})
	}
}

// TestTracesLambdaJoinXRay: inside Lambda, a request's server span is a
// child of the invocation's X-Ray segment (the runtime's
// _X_AMZN_TRACE_ID, in the invocation's context), and its spans are
// exported before the invocation returns: the batch delay is a minute
// here, so only the flush can deliver them in time. Without an X-Ray
// header the trace id is one X-Ray accepts (it starts with the time).
func TestTracesLambdaJoinXRay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the OTLP receiver (internal/otlpsink)")
	}
	if !provider.Linked {
		t.Skip("this build has no OpenTelemetry SDK (-tags lambdaenv without otel)")
	}
	sink := startSink(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+sink.addr)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "60000")
	env := map[string]string{
		"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + sink.addr,
		"JWT_SECRET": strings.Repeat("k", 48), "PASS_SECRET_KEY": strings.Repeat("p", 48),
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	a, err := build(t.Context(), cfg, logging.New(io.Discard, "json", "info"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	fn := lambdaserve.HTTPAPIHandler(a.handler, nil)
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/openapi.json", RequestContext: events.APIGatewayV2HTTPRequestContext{
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/openapi.json"}}}

	for _, tc := range []struct {
		name, header, traceID, parent string
	}{
		{"JoinsInvocation", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", "5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8"},
		{"NewXRayTrace", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			if tc.header != "" {
				//lint:ignore SA1029 the key aws-lambda-go uses (lambda/invoke_loop.go)
				ctx = context.WithValue(ctx, "x-amzn-trace-id", tc.header)
			}
			before := time.Now().Unix()
			resp, err := fn(ctx, ev)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("invocation: %d %v", resp.StatusCode, err)
			}
			traceID := tc.traceID
			if traceID == "" {
				// The span reached the receiver before fn returned; the
				// sink's reader may lag its receiver by a moment.
				for deadline := time.Now().Add(time.Second); traceID == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					sink.mu.Lock()
					for _, sp := range sink.spans {
						if sp.Name == "GET /openapi.json" && sp.TraceID != "5759e988bd862e3fe1be46a994272793" {
							traceID = sp.TraceID
						}
					}
					sink.mu.Unlock()
				}
				if traceID == "" {
					t.Fatal("no span exported before the invocation returned")
				}
				var epoch int64
				if _, err := fmt.Sscanf(traceID[:8], "%x", &epoch); err != nil || epoch < before-5 || epoch > time.Now().Unix()+5 {
					t.Errorf("trace id %s does not start with the time (%x): not an X-Ray id", traceID, before)
				}
				return
			}
			spans := sink.trace(t, traceID, tc.parent, 1)
			if i := slices.IndexFunc(spans, func(sp sinkSpan) bool { return sp.ParentID == tc.parent }); spans[i].Name != "GET /openapi.json" {
				t.Errorf("span %q under the invocation, want GET /openapi.json", spans[i].Name)
			}
		})
	}
}

// TestTracingOffByDefault: without an OTLP endpoint (or with the SDK
// disabled) tracing is off, so nothing is instrumented.
func TestTracingOffByDefault(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"Unset", map[string]string{}, false},
		{"Endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{"TracesEndpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{"SDKDisabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, false},
		{"ExporterNone", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load(func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Tracing != tc.want {
				t.Errorf("Tracing = %v, want %v", cfg.Tracing, tc.want)
			}
		})
	}
}
