//go:build unix

package infratest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/taskapi/taskapi/internal/testenv"
)

// rieBinary finds the AWS Lambda Runtime Interface Emulator: $TASKAPI_RIE,
// aws-lambda-rie on PATH, or .cache/bin/aws-lambda-rie (where scripts/test.sh
// installs it).
func rieBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TASKAPI_RIE"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("TASKAPI_RIE=%s: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	p := filepath.Join(repoRoot(t), ".cache", "bin", "aws-lambda-rie")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	requireOrSkip(t, "the Lambda Runtime Interface Emulator is not available: set TASKAPI_RIE, or "+
		"GOBIN=$PWD/.cache/bin go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d")
	return ""
}

// buildBootstrap builds ./cmd/taskapi as the Dockerfile does.
func buildBootstrap(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		requireOrSkip(t, "the go command is not on PATH")
	}
	out := filepath.Join(t.TempDir(), "bootstrap")
	args := append(append([]string{}, lambdaBuild.args...), "-o", out, "./cmd/taskapi")
	cmd := exec.Command(goBin, args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), lambdaBuild.env...)
	start := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	if fi, err := os.Stat(out); err == nil {
		t.Logf("built bootstrap (%.1f MiB) in %s", float64(fi.Size())/(1<<20), time.Since(start).Round(time.Millisecond))
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// emulator is a running aws-lambda-rie serving the bootstrap.
type emulator struct {
	url     string
	started time.Time
	out     *testenv.SyncBuffer
	format  string
}

const (
	testJWTSecret        = "e2e-jwt-secret-0123456789abcdefghijklmnop"
	testOrigin           = "https://app.example.com"
	testMetricsNamespace = "taskapi/e2e"
)

func startEmulator(t *testing.T, rie, bootstrap, format string) *emulator {
	t.Helper()
	apiPort, runtimePort := freePort(t), freePort(t)
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", apiPort),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", runtimePort),
		bootstrap)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"AWS_REGION=us-east-1",
		"AWS_LAMBDA_FUNCTION_NAME=taskapi-e2e",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=30",
		"STORE=embedded",
		"DATA_DIR=" + t.TempDir(),
		"ENVIRONMENT=production",
		"JWT_SECRET=" + testJWTSecret,
		"PASS_SECRET_KEY=e2e-pepper",
		"JWT_TTL=15m",
		"LOG_LEVEL=info",
		"CORS_ALLOWED_ORIGINS=" + testOrigin,
		"LAMBDA_EVENT_FORMAT=" + format,
		"METRICS_NAMESPACE=" + testMetricsNamespace,
	}
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so the bootstrap it starts ends with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	e := &emulator{url: fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", apiPort), out: out, format: format}
	e.started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", rie, err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("emulator and function output:\n%s", out.String())
		}
	})
	return e
}

// httpResponse is the function's answer, decoded from either event format.
type httpResponse struct {
	Status  int
	Header  http.Header
	Cookies []string
	Body    []byte
}

func (r httpResponse) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response %d body %q is not the expected JSON: %v", r.Status, r.Body, err)
	}
}

// httpRequest is what a client sends through API Gateway.
type httpRequest struct {
	method  string
	path    string
	query   string
	headers [][2]string
	body    []byte
	base64  bool
}

// event is req as the API Gateway of the emulator's format sends it.
func (e *emulator) event(req httpRequest) any {
	if e.format == "rest-api-v1" {
		ev := events.APIGatewayProxyRequest{
			Resource: "/{proxy+}", Path: req.path, HTTPMethod: req.method,
			Headers: map[string]string{}, MultiValueHeaders: map[string][]string{},
			RequestContext: events.APIGatewayProxyRequestContext{
				AccountID: "123456789012", Stage: "prod", RequestID: "gw-1", APIID: "e2e",
				DomainName: "e2e.execute-api.us-east-1.amazonaws.com", HTTPMethod: req.method, Path: "/prod" + req.path,
				Identity: events.APIGatewayRequestIdentity{SourceIP: "203.0.113.9"},
			},
			Body: string(req.body), IsBase64Encoded: req.base64,
		}
		for _, h := range req.headers {
			ev.Headers[h[0]] = h[1]
			ev.MultiValueHeaders[h[0]] = append(ev.MultiValueHeaders[h[0]], h[1])
		}
		if req.query != "" {
			q, _ := url.ParseQuery(req.query)
			ev.QueryStringParameters, ev.MultiValueQueryStringParameters = map[string]string{}, map[string][]string(q)
			for k, v := range q {
				ev.QueryStringParameters[k] = v[len(v)-1]
			}
		}
		if req.base64 {
			ev.Body = base64.StdEncoding.EncodeToString(req.body)
		}
		return ev
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: req.path, RawQueryString: req.query,
		Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "$default", AccountID: "123456789012", Stage: "$default", RequestID: "gw-1", APIID: "e2e",
			DomainName: "e2e.execute-api.us-east-1.amazonaws.com",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: req.method, Path: req.path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.9", UserAgent: "e2e",
			},
		},
		Body: string(req.body), IsBase64Encoded: req.base64,
	}
	for _, h := range req.headers {
		name := strings.ToLower(h[0])
		if prev, ok := ev.Headers[name]; ok {
			ev.Headers[name] = prev + "," + h[1] // how HTTP APIs pass repeated headers
		} else {
			ev.Headers[name] = h[1]
		}
	}
	if req.base64 {
		ev.Body = base64.StdEncoding.EncodeToString(req.body)
	}
	return ev
}

// invoke sends req through the emulator and decodes the function's answer.
func (e *emulator) invoke(t *testing.T, req httpRequest) httpResponse {
	t.Helper()
	resp, err := e.post(t, req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	return resp
}

func (e *emulator) post(t *testing.T, req httpRequest) (httpResponse, error) {
	t.Helper()
	payload, err := json.Marshal(e.event(req))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 60 * time.Second}
	res, err := client.Post(e.url, "application/json", bytes.NewReader(payload))
	if err != nil {
		return httpResponse{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return httpResponse{}, err
	}
	if res.StatusCode != http.StatusOK {
		return httpResponse{}, fmt.Errorf("emulator answered %d: %s", res.StatusCode, raw)
	}
	var fields struct {
		StatusCode        int                 `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Cookies           []string            `json:"cookies"`
		Body              string              `json:"body"`
		IsBase64Encoded   bool                `json:"isBase64Encoded"`
		ErrorMessage      string              `json:"errorMessage"`
		ErrorType         string              `json:"errorType"`
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return httpResponse{}, fmt.Errorf("function answer %q: %v", raw, err)
	}
	if fields.ErrorMessage != "" || fields.ErrorType != "" {
		return httpResponse{}, fmt.Errorf("the function returned an error to Lambda (it never should): %s %s", fields.ErrorType, fields.ErrorMessage)
	}
	out := httpResponse{Status: fields.StatusCode, Header: http.Header{}, Cookies: fields.Cookies, Body: []byte(fields.Body)}
	for k, v := range fields.Headers {
		out.Header.Set(k, v)
	}
	for k, vs := range fields.MultiValueHeaders {
		out.Header.Del(k)
		for _, v := range vs {
			out.Header.Add(k, v)
		}
	}
	if fields.IsBase64Encoded {
		if out.Body, err = base64.StdEncoding.DecodeString(fields.Body); err != nil {
			return httpResponse{}, fmt.Errorf("body flagged base64 is not: %v", err)
		}
	}
	return out, nil
}

// waitReady measures the cold start: emulator process start to the first
// successful response (the emulator starts the bootstrap on the first
// invoke, as Lambda does).
func (e *emulator) waitReady(t *testing.T) time.Duration {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		resp, err := e.post(t, httpRequest{method: "GET", path: "/healthz"})
		if err == nil && resp.Status == http.StatusOK {
			return time.Since(e.started)
		}
		if err == nil {
			err = fmt.Errorf("healthz answered %d %s", resp.Status, resp.Body)
		}
		lastErr = err
		var opErr *net.OpError
		if !errors.As(err, &opErr) { // the emulator listens but the function failed
			t.Fatalf("first invocation failed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the function did not answer within 60s: %v", lastErr)
	return 0
}

// gql posts a GraphQL operation and returns its data, failing on errors.
func (e *emulator) gql(t *testing.T, token, query string, vars map[string]any, data any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	headers := [][2]string{{"Content-Type", "application/json"}, {"Accept", "application/graphql-response+json"}, {"Accept", "application/json"}}
	if token != "" {
		headers = append(headers, [2]string{"Authorization", "Bearer " + token})
	}
	resp := e.invoke(t, httpRequest{method: "POST", path: "/graphql", headers: headers, body: body})
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	resp.json(t, &out)
	if resp.Status != http.StatusOK || len(out.Errors) > 0 {
		t.Fatalf("GraphQL %s: status %d, errors %+v", strings.Fields(query)[0], resp.Status, out.Errors)
	}
	if err := json.Unmarshal(out.Data, data); err != nil {
		t.Fatalf("GraphQL data %s: %v", out.Data, err)
	}
}

func TestLambdaImage_EndToEndUnderTheRuntimeEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Lambda binary and runs the emulator")
	}
	rie := rieBinary(t)
	bootstrap := buildBootstrap(t)

	for _, format := range []string{"http-api-v2", "rest-api-v1"} {
		t.Run(format, func(t *testing.T) {
			e := startEmulator(t, rie, bootstrap, format)
			cold := e.waitReady(t)
			t.Logf("%s: cold start (emulator process start to first successful response) = %s", format, cold.Round(time.Millisecond))

			email := "e2e-" + strings.ReplaceAll(format, "-", "") + "@example.com"
			const password = "s3cret!pw"
			var token, taskID string

			t.Run("GraphQLRoundTrip", func(t *testing.T) {
				var reg struct{ Register struct{ ID, Email string } }
				e.gql(t, "", `mutation Register($in: RegisterInput!) { register(input: $in) { id email } }`,
					map[string]any{"in": map[string]any{"username": "e2e", "email": email, "password": password}}, &reg)
				if !strings.HasPrefix(reg.Register.ID, "VAH") || reg.Register.Email != email {
					t.Fatalf("register = %+v", reg.Register)
				}
				var login struct {
					Login struct {
						AccessToken, TokenType string
						ExpiresIn              int
					}
				}
				e.gql(t, "", `mutation Login($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken tokenType expiresIn } }`,
					map[string]any{"e": email, "p": password}, &login)
				if login.Login.AccessToken == "" || login.Login.TokenType != "bearer" || login.Login.ExpiresIn != 900 {
					t.Fatalf("login = %+v (JWT_TTL=15m)", login.Login)
				}
				token = login.Login.AccessToken
				var created struct {
					CreateTask struct{ ID, Title, Status string }
				}
				e.gql(t, token, `mutation Create($in: CreateTaskInput!) { createTask(input: $in) { id title status } }`,
					map[string]any{"in": map[string]any{"title": "ship the lambda", "description": "through the emulator"}}, &created)
				if created.CreateTask.ID == "" || created.CreateTask.Status != "PENDING" {
					t.Fatalf("createTask = %+v", created.CreateTask)
				}
				taskID = created.CreateTask.ID
				var list struct {
					Tasks struct {
						TotalCount int
						Edges      []struct{ Node struct{ ID, Title string } }
					}
				}
				e.gql(t, token, `query { tasks(first: 10) { totalCount edges { node { id title } } } }`, nil, &list)
				if list.Tasks.TotalCount != 1 || len(list.Tasks.Edges) != 1 || list.Tasks.Edges[0].Node.ID != taskID {
					t.Fatalf("tasks = %+v, want the one created task", list.Tasks)
				}
			})
			if token == "" {
				t.Fatal("no token: the rest depends on the GraphQL round trip")
			}

			t.Run("RESTFetchTaskWithBearerToken", func(t *testing.T) {
				resp := e.invoke(t, httpRequest{method: "GET", path: "/api/v1/tasks/fetch-task",
					headers: [][2]string{{"Authorization", "Bearer " + token}}})
				var tasks []struct {
					TaskID string `json:"task_id"`
					Title  string `json:"title"`
					Status string `json:"status"`
				}
				resp.json(t, &tasks)
				if resp.Status != http.StatusOK || len(tasks) != 1 || tasks[0].TaskID != taskID || tasks[0].Status != "pending" {
					t.Fatalf("fetch-task = %d %s", resp.Status, resp.Body)
				}
			})

			t.Run("RESTWithoutTokenIsUnauthorized", func(t *testing.T) {
				resp := e.invoke(t, httpRequest{method: "GET", path: "/api/v1/tasks/fetch-task"})
				if resp.Status != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("no token = %d (WWW-Authenticate %q) %s, want 401 Bearer", resp.Status, resp.Header.Get("WWW-Authenticate"), resp.Body)
				}
			})

			t.Run("Base64FormBodyLogsIn", func(t *testing.T) {
				form := url.Values{"username": {email}, "password": {password}}.Encode()
				resp := e.invoke(t, httpRequest{method: "POST", path: "/api/v1/auth/login", base64: true,
					headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, body: []byte(form)})
				var out struct {
					AccessToken string `json:"access_token"`
					TokenType   string `json:"token_type"`
				}
				resp.json(t, &out)
				if resp.Status != http.StatusOK || out.AccessToken == "" || out.TokenType != "bearer" {
					t.Fatalf("form login = %d %s", resp.Status, resp.Body)
				}
			})

			t.Run("MultiValueHeadersInCORSPreflight", func(t *testing.T) {
				// API Gateway passes the repeated request header as
				// separate values; the response's Vary has several.
				resp := e.invoke(t, httpRequest{method: "OPTIONS", path: "/graphql", headers: [][2]string{
					{"Origin", testOrigin},
					{"Access-Control-Request-Method", "POST"},
					{"Access-Control-Request-Headers", "authorization"},
					{"Access-Control-Request-Headers", "content-type"},
				}})
				if resp.Status >= 300 {
					t.Fatalf("preflight = %d %s", resp.Status, resp.Body)
				}
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got != testOrigin {
					t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, testOrigin)
				}
				allowed := strings.ToLower(strings.Join(resp.Header.Values("Access-Control-Allow-Headers"), ","))
				if !strings.Contains(allowed, "authorization") || !strings.Contains(allowed, "content-type") {
					t.Errorf("Access-Control-Allow-Headers = %q, want both requested headers", allowed)
				}
				if vary := strings.Join(resp.Header.Values("Vary"), ","); !strings.Contains(vary, "Origin") || !strings.Contains(vary, "Access-Control-Request-Method") {
					t.Errorf("Vary = %q, want Origin and Access-Control-Request-Method", vary)
				}
			})

			t.Run("UnknownRouteIsNotFound", func(t *testing.T) {
				resp := e.invoke(t, httpRequest{method: "GET", path: "/api/v1/no-such-thing", query: "a=1&a=2"})
				var out struct{ Detail string }
				resp.json(t, &out)
				if resp.Status != http.StatusNotFound || out.Detail == "" {
					t.Fatalf("unknown route = %d %s, want 404 with a detail", resp.Status, resp.Body)
				}
			})

			t.Run("WarmInvocations", func(t *testing.T) {
				const n = 20
				start := time.Now()
				for range n {
					if resp := e.invoke(t, httpRequest{method: "GET", path: "/healthz"}); resp.Status != http.StatusOK {
						t.Fatalf("healthz = %d", resp.Status)
					}
				}
				t.Logf("%s: warm invocation through the emulator = %s on average", format, (time.Since(start) / n).Round(time.Microsecond))
			})

			t.Run("LogsHoldNoSecrets", func(t *testing.T) {
				logs := e.out.String()
				for what, secret := range map[string]string{"the password": password, "the JWT secret": testJWTSecret, "the token": token} {
					if strings.Contains(logs, secret) {
						t.Errorf("the function's output contains %s", what)
					}
				}
			})
		})
	}
}
