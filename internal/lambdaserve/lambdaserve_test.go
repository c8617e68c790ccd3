package lambdaserve_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/taskapi/taskapi/internal/httpauth"
	"github.com/taskapi/taskapi/internal/lambdaserve"
)

// request is one HTTP request, written once and sent as an event of each
// format.
type request struct {
	method   string
	path     string
	query    [][2]string // in order, repeated keys allowed
	headers  [][2]string // in order, repeated names allowed
	body     []byte
	base64   bool // send the body base64-encoded, as API Gateway does for binary media
	sourceIP string
}

// response is an event response of either format, decoded.
type response struct {
	status  int
	header  http.Header
	cookies []string
	body    []byte
}

// seen is what the echo handler saw of the request.
type seen struct {
	Method    string              `json:"method"`
	Path      string              `json:"path"`
	Query     map[string][]string `json:"query"`
	Header    map[string][]string `json:"header"`
	Body      []byte              `json:"body"`
	ClientIP  string              `json:"client_ip"`
	Deadline  time.Time           `json:"deadline"`
	RequestID string              `json:"request_id"`
}

// testHandler is the http.Handler under the adapter: /echo reports what it
// saw; the other paths each exercise one kind of response.
func testHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		deadline, _ := r.Context().Deadline()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(seen{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header,
			Body: body, ClientIP: httpauth.ClientIP(r), Deadline: deadline,
			RequestID: lambdaserve.RequestID(r.Context()),
		})
	})
	mux.HandleFunc("POST /created", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"task_id":"t1"}`)
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"detail":"Not Found"}`)
	})
	mux.HandleFunc("/no-content", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/silent", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/binary", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write([]byte{0x00, 0xff, 0xfe, 0x80, 0x01})
	})
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		w.Header().Add("Vary", "Accept")
		w.Header().Add("Set-Cookie", "a=1; Path=/")
		w.Header().Add("Set-Cookie", "b=2; Path=/")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("/write-header-twice", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.Header().Set("X-Late", "ignored")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "short and stout")
	})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		panic("boom")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"detail":"Not Found"}`)
	})
	return mux
}

// v2Event is req as API Gateway HTTP API (payload 2.0) sends it: header
// names lower-cased, repeated headers and query parameters joined by commas,
// cookies apart.
func v2Event(req request) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	var cookies []string
	for _, h := range req.headers {
		name := strings.ToLower(h[0])
		if name == "cookie" {
			cookies = append(cookies, h[1])
			continue
		}
		if prev, ok := headers[name]; ok {
			headers[name] = prev + "," + h[1]
		} else {
			headers[name] = h[1]
		}
	}
	var raw []string
	params := map[string]string{}
	for _, q := range req.query {
		raw = append(raw, url.QueryEscape(q[0])+"="+url.QueryEscape(q[1]))
		if prev, ok := params[q[0]]; ok {
			params[q[0]] = prev + "," + q[1]
		} else {
			params[q[0]] = q[1]
		}
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: req.path,
		RawQueryString: strings.Join(raw, "&"), Cookies: cookies, Headers: headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "$default", AccountID: "123456789012", Stage: "$default",
			RequestID: "gw-req-1", APIID: "abc123", DomainName: "abc123.execute-api.eu-west-1.amazonaws.com",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: req.method, Path: req.path, Protocol: "HTTP/1.1", SourceIP: req.sourceIP,
			},
		},
		Body: string(req.body), IsBase64Encoded: req.base64,
	}
	if len(params) > 0 {
		ev.QueryStringParameters = params
	}
	if req.base64 {
		ev.Body = base64.StdEncoding.EncodeToString(req.body)
	}
	return ev
}

// v1Event is req as an API Gateway REST API proxy integration sends it.
func v1Event(req request) events.APIGatewayProxyRequest {
	ev := events.APIGatewayProxyRequest{
		Resource: "/{proxy+}", Path: req.path, HTTPMethod: req.method,
		Headers: map[string]string{}, MultiValueHeaders: map[string][]string{},
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID: "123456789012", Stage: "prod", RequestID: "gw-req-1", APIID: "abc123",
			DomainName: "abc123.execute-api.eu-west-1.amazonaws.com", HTTPMethod: req.method,
			Path:     "/prod" + req.path,
			Identity: events.APIGatewayRequestIdentity{SourceIP: req.sourceIP},
		},
		Body: string(req.body), IsBase64Encoded: req.base64,
	}
	for _, h := range req.headers {
		ev.Headers[h[0]] = h[1]
		ev.MultiValueHeaders[h[0]] = append(ev.MultiValueHeaders[h[0]], h[1])
	}
	if len(req.query) > 0 {
		ev.QueryStringParameters = map[string]string{}
		ev.MultiValueQueryStringParameters = map[string][]string{}
		for _, q := range req.query {
			ev.QueryStringParameters[q[0]] = q[1]
			ev.MultiValueQueryStringParameters[q[0]] = append(ev.MultiValueQueryStringParameters[q[0]], q[1])
		}
	}
	if req.base64 {
		ev.Body = base64.StdEncoding.EncodeToString(req.body)
	}
	return ev
}

// invocation is one Lambda invocation's context: its deadline and request id.
func invocation(t *testing.T) (context.Context, time.Time) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second).Truncate(time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"}), deadline
}

// format runs a request through the lambda.Handler of one format, as the
// runtime does: JSON event in, JSON response out.
type format struct {
	name   string
	invoke func(t *testing.T, h http.Handler, logger *slog.Logger, payload []byte) response
	event  func(req request) any
}

var formats = []format{
	{name: string(lambdaserve.HTTPAPIV2), invoke: invokeV2, event: func(r request) any { return v2Event(r) }},
	{name: string(lambdaserve.RESTAPIV1), invoke: invokeV1, event: func(r request) any { return v1Event(r) }},
}

func mustHandlerInvoke(t *testing.T, h http.Handler, logger *slog.Logger, format string, payload []byte) []byte {
	t.Helper()
	ctx, _ := invocation(t)
	lh, err := lambdaserve.Handler(context.Background(), h, format, logger)
	if err != nil {
		t.Fatalf("Handler(%q): %v", format, err)
	}
	out, err := lh.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("Invoke returned a Go error (Lambda would report a failed invocation): %v", err)
	}
	return out
}

func invokeV2(t *testing.T, h http.Handler, logger *slog.Logger, payload []byte) response {
	t.Helper()
	var r events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(mustHandlerInvoke(t, h, logger, "http-api-v2", payload), &r); err != nil {
		t.Fatalf("decoding the v2 response: %v", err)
	}
	header := http.Header{}
	for k, v := range r.Headers {
		header.Set(k, v)
	}
	for k, vs := range r.MultiValueHeaders {
		for _, v := range vs {
			header.Add(k, v)
		}
	}
	return response{status: r.StatusCode, header: header, cookies: r.Cookies, body: decodeBody(t, r.Body, r.IsBase64Encoded)}
}

func invokeV1(t *testing.T, h http.Handler, logger *slog.Logger, payload []byte) response {
	t.Helper()
	var r events.APIGatewayProxyResponse
	if err := json.Unmarshal(mustHandlerInvoke(t, h, logger, "rest-api-v1", payload), &r); err != nil {
		t.Fatalf("decoding the v1 response: %v", err)
	}
	header := http.Header{}
	for k, v := range r.Headers {
		header.Set(k, v)
	}
	for k, vs := range r.MultiValueHeaders {
		for _, v := range vs {
			header.Add(k, v)
		}
	}
	return response{status: r.StatusCode, header: header, cookies: header.Values("Set-Cookie"), body: decodeBody(t, r.Body, r.IsBase64Encoded)}
}

func decodeBody(t *testing.T, body string, b64 bool) []byte {
	t.Helper()
	if !b64 {
		return []byte(body)
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		t.Fatalf("response body flagged base64 is not: %v", err)
	}
	return b
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustSeen(t *testing.T, resp response) seen {
	t.Helper()
	if resp.status != http.StatusOK {
		t.Fatalf("echo status = %d, body %s", resp.status, resp.body)
	}
	var s seen
	if err := json.Unmarshal(resp.body, &s); err != nil {
		t.Fatalf("echo body %q: %v", resp.body, err)
	}
	return s
}

func TestHandler_Requests(t *testing.T) {
	binary := []byte{0x00, 0x01, 0xff, 0xfe, 0x80, 'x'}
	tests := []struct {
		name  string
		req   request
		check func(t *testing.T, s seen)
	}{
		{
			name: "OK_MethodPathAndQuery",
			req: request{method: "GET", path: "/echo", sourceIP: "203.0.113.7",
				query: [][2]string{{"status", "pending"}, {"tag", "a"}, {"tag", "b c"}, {"q", "x&y=z"}}},
			check: func(t *testing.T, s seen) {
				if s.Method != "GET" || s.Path != "/echo" {
					t.Errorf("request = %s %s, want GET /echo", s.Method, s.Path)
				}
				want := map[string][]string{"status": {"pending"}, "tag": {"a", "b c"}, "q": {"x&y=z"}}
				for k, v := range want {
					if !slices.Equal(s.Query[k], v) {
						t.Errorf("query %s = %q, want %q", k, s.Query[k], v)
					}
				}
			},
		},
		{
			name: "OK_MultiValueHeaders",
			req: request{method: "GET", path: "/echo", sourceIP: "203.0.113.7", headers: [][2]string{
				{"Accept", "application/json"}, {"Accept", "text/html"},
				{"Authorization", "Bearer abc.def.ghi"}, {"X-Custom", "one"},
			}},
			check: func(t *testing.T, s seen) {
				h := http.Header(s.Header)
				if got := h.Values("Accept"); !slices.Equal(got, []string{"application/json", "text/html"}) {
					t.Errorf("Accept = %q, want both values", got)
				}
				if got := h.Get("Authorization"); got != "Bearer abc.def.ghi" {
					t.Errorf("Authorization = %q", got)
				}
				if got := h.Get("X-Custom"); got != "one" {
					t.Errorf("X-Custom = %q", got)
				}
			},
		},
		{
			name: "OK_PlainBody",
			req: request{method: "POST", path: "/echo", sourceIP: "203.0.113.7",
				headers: [][2]string{{"Content-Type", "application/json"}}, body: []byte(`{"title":"héllo, wörld"}`)},
			check: func(t *testing.T, s seen) {
				if string(s.Body) != `{"title":"héllo, wörld"}` {
					t.Errorf("body = %q", s.Body)
				}
			},
		},
		{
			name: "OK_Base64TextBody",
			req: request{method: "POST", path: "/echo", sourceIP: "203.0.113.7", base64: true,
				headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, body: []byte("username=a%40b.c&password=p%40ss")},
			check: func(t *testing.T, s seen) {
				if string(s.Body) != "username=a%40b.c&password=p%40ss" {
					t.Errorf("body = %q", s.Body)
				}
			},
		},
		{
			name: "OK_Base64BinaryBody",
			req: request{method: "PUT", path: "/echo", sourceIP: "203.0.113.7", base64: true,
				headers: [][2]string{{"Content-Type", "application/octet-stream"}}, body: binary},
			check: func(t *testing.T, s seen) {
				if !bytes.Equal(s.Body, binary) {
					t.Errorf("body = %x, want %x", s.Body, binary)
				}
			},
		},
		{
			name: "OK_ClientIPFromSourceIP",
			req:  request{method: "GET", path: "/echo", sourceIP: "198.51.100.23", headers: [][2]string{{"X-Forwarded-For", "10.9.9.9"}}},
			check: func(t *testing.T, s seen) {
				if s.ClientIP != "198.51.100.23" {
					t.Errorf("client IP = %q, want the event's source IP", s.ClientIP)
				}
			},
		},
		{
			name: "OK_IPv6ClientIP",
			req:  request{method: "GET", path: "/echo", sourceIP: "2001:db8::1"},
			check: func(t *testing.T, s seen) {
				if s.ClientIP != "2001:db8::1" {
					t.Errorf("client IP = %q", s.ClientIP)
				}
			},
		},
	}
	for _, f := range formats {
		for _, tc := range tests {
			t.Run(f.name+"/"+tc.name, func(t *testing.T) {
				resp := f.invoke(t, testHandler(), nil, mustJSON(t, f.event(tc.req)))
				tc.check(t, mustSeen(t, resp))
			})
		}
	}
}

func TestHandler_ContextCarriesDeadlineAndRequestID(t *testing.T) {
	for _, f := range formats {
		t.Run(f.name+"/OK", func(t *testing.T) {
			ctx, deadline := invocation(t)
			lh, err := lambdaserve.Handler(context.Background(), testHandler(), f.name, nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := lh.Invoke(ctx, mustJSON(t, f.event(request{method: "GET", path: "/echo", sourceIP: "203.0.113.7"})))
			if err != nil {
				t.Fatal(err)
			}
			var body string
			var status int
			if f.name == string(lambdaserve.HTTPAPIV2) {
				var r events.APIGatewayV2HTTPResponse
				_ = json.Unmarshal(out, &r)
				body, status = r.Body, r.StatusCode
			} else {
				var r events.APIGatewayProxyResponse
				_ = json.Unmarshal(out, &r)
				body, status = r.Body, r.StatusCode
			}
			s := mustSeen(t, response{status: status, body: []byte(body)})
			if !s.Deadline.Equal(deadline) {
				t.Errorf("request deadline = %v, want the invocation's %v", s.Deadline, deadline)
			}
			if s.RequestID != "lambda-req-1" {
				t.Errorf("RequestID = %q, want the invocation's", s.RequestID)
			}
		})
	}
}

func TestHandler_Responses(t *testing.T) {
	tests := []struct {
		name       string
		req        request
		wantStatus int
		wantBody   []byte
		check      func(t *testing.T, r response)
	}{
		{
			name: "Created", req: request{method: "POST", path: "/created", body: []byte(`{}`)},
			wantStatus: http.StatusCreated, wantBody: []byte(`{"task_id":"t1"}`),
			check: func(t *testing.T, r response) {
				if got := r.header.Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type = %q", got)
				}
			},
		},
		{
			name: "NotFound", req: request{method: "GET", path: "/missing"},
			wantStatus: http.StatusNotFound, wantBody: []byte(`{"detail":"Not Found"}`),
		},
		{
			name: "UnknownRouteNotFound", req: request{method: "GET", path: "/nowhere/at/all"},
			wantStatus: http.StatusNotFound, wantBody: []byte(`{"detail":"Not Found"}`),
		},
		{
			name: "NoContent", req: request{method: "DELETE", path: "/no-content"},
			wantStatus: http.StatusNoContent, wantBody: []byte{},
		},
		{
			name: "SilentHandlerIsOK", req: request{method: "GET", path: "/silent"},
			wantStatus: http.StatusOK, wantBody: []byte{},
		},
		{
			name: "BinaryBody", req: request{method: "GET", path: "/binary"},
			wantStatus: http.StatusOK, wantBody: []byte{0x00, 0xff, 0xfe, 0x80, 0x01},
			check: func(t *testing.T, r response) {
				if got := r.header.Get("Content-Type"); got != "application/octet-stream" {
					t.Errorf("Content-Type = %q", got)
				}
			},
		},
		{
			name: "MultiValueHeadersAndCookies", req: request{method: "GET", path: "/headers"},
			wantStatus: http.StatusOK, wantBody: []byte("ok"),
			check: func(t *testing.T, r response) {
				vary := strings.Join(r.header.Values("Vary"), ",")
				if vary != "Origin,Accept" {
					t.Errorf("Vary = %q, want both values", vary)
				}
				if !slices.Equal(r.cookies, []string{"a=1; Path=/", "b=2; Path=/"}) {
					t.Errorf("cookies = %q, want both", r.cookies)
				}
			},
		},
		{
			name: "FirstWriteHeaderWins", req: request{method: "GET", path: "/write-header-twice"},
			wantStatus: http.StatusTeapot, wantBody: []byte("short and stout"),
			check: func(t *testing.T, r response) {
				if got := r.header.Get("X-Late"); got != "" {
					t.Errorf("header set after WriteHeader was sent: X-Late = %q", got)
				}
			},
		},
		{
			name: "HeadHasNoBody", req: request{method: "HEAD", path: "/headers"},
			wantStatus: http.StatusOK, wantBody: []byte{},
		},
	}
	for _, f := range formats {
		for _, tc := range tests {
			t.Run(f.name+"/"+tc.name, func(t *testing.T) {
				tc.req.sourceIP = "203.0.113.7"
				r := f.invoke(t, testHandler(), nil, mustJSON(t, f.event(tc.req)))
				if r.status != tc.wantStatus {
					t.Errorf("status = %d, want %d (body %q)", r.status, tc.wantStatus, r.body)
				}
				if tc.wantBody != nil && !bytes.Equal(r.body, tc.wantBody) {
					t.Errorf("body = %q, want %q", r.body, tc.wantBody)
				}
				if tc.check != nil {
					tc.check(t, r)
				}
			})
		}
	}
}

// TestHandler_Failures: what Lambda gets when the event cannot be served is
// a 500 with a FastAPI-style body, never a Go error, and the log says why
// without the request's credentials.
func TestHandler_Failures(t *testing.T) {
	tests := []struct {
		name    string
		req     request
		rawBody string // replaces the event body as sent
		wantLog string
	}{
		{
			name:    "InternalError_BadBase64Body",
			req:     request{method: "POST", path: "/echo", base64: true, headers: [][2]string{{"Authorization", "Bearer sekrit-token"}}},
			rawBody: "%%% not base64 %%%",
			wantLog: "lambda event could not be served",
		},
		{
			name:    "InternalError_HandlerPanics",
			req:     request{method: "GET", path: "/panic", headers: [][2]string{{"Authorization", "Bearer sekrit-token"}}},
			wantLog: "handler panicked",
		},
	}
	for _, f := range formats {
		for _, tc := range tests {
			t.Run(f.name+"/"+tc.name, func(t *testing.T) {
				var logs bytes.Buffer
				logger := slog.New(slog.NewJSONHandler(&logs, nil))
				ev := f.event(tc.req)
				if tc.rawBody != "" {
					switch e := ev.(type) {
					case events.APIGatewayV2HTTPRequest:
						e.Body = tc.rawBody
						ev = e
					case events.APIGatewayProxyRequest:
						e.Body = tc.rawBody
						ev = e
					}
				}
				r := f.invoke(t, testHandler(), logger, mustJSON(t, ev))
				if r.status != http.StatusInternalServerError {
					t.Errorf("status = %d, want 500", r.status)
				}
				if string(r.body) != `{"detail":"Internal Server Error"}` {
					t.Errorf("body = %q", r.body)
				}
				if got := r.header.Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type = %q", got)
				}
				if !strings.Contains(logs.String(), tc.wantLog) || !strings.Contains(logs.String(), "lambda-req-1") {
					t.Errorf("log = %q, want %q with the request id", logs.String(), tc.wantLog)
				}
				if strings.Contains(logs.String(), "sekrit-token") {
					t.Errorf("log leaks the bearer token: %s", logs.String())
				}
			})
		}
	}
}

// TestHandler_RealEventJSON decodes events written as API Gateway documents
// them (not marshalled from the Go types), so a field-name mismatch between
// the gateway and the library would show.
func TestHandler_RealEventJSON(t *testing.T) {
	tests := []struct {
		name    string
		format  string
		payload string
	}{
		{
			name: "http-api-v2/OK", format: "http-api-v2",
			payload: `{
			  "version": "2.0", "routeKey": "$default", "rawPath": "/echo",
			  "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
			  "cookies": ["cookie1", "cookie2"],
			  "headers": {"accept": "application/json,text/plain", "content-type": "text/plain", "header2": "value1,value2"},
			  "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
			  "requestContext": {
			    "accountId": "123456789012", "apiId": "api-id", "domainName": "id.execute-api.us-east-1.amazonaws.com",
			    "domainPrefix": "id",
			    "http": {"method": "POST", "path": "/echo", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "agent"},
			    "requestId": "id", "routeKey": "$default", "stage": "$default", "time": "12/Mar/2020:19:03:58 +0000", "timeEpoch": 1583348638390
			  },
			  "body": "aGVsbG8gd29ybGQ=", "isBase64Encoded": true
			}`,
		},
		{
			name: "rest-api-v1/OK", format: "rest-api-v1",
			payload: `{
			  "resource": "/{proxy+}", "path": "/echo", "httpMethod": "POST",
			  "headers": {"accept": "text/plain", "content-type": "text/plain", "header2": "value2"},
			  "multiValueHeaders": {"accept": ["application/json", "text/plain"], "content-type": ["text/plain"], "header2": ["value1", "value2"]},
			  "queryStringParameters": {"parameter1": "value2", "parameter2": "value"},
			  "multiValueQueryStringParameters": {"parameter1": ["value1", "value2"], "parameter2": ["value"]},
			  "requestContext": {
			    "accountId": "123456789012", "apiId": "id", "domainName": "id.execute-api.us-east-1.amazonaws.com",
			    "httpMethod": "POST", "identity": {"sourceIp": "192.0.2.1", "userAgent": "agent"},
			    "path": "/prod/echo", "protocol": "HTTP/1.1", "requestId": "id=", "resourcePath": "/{proxy+}", "stage": "prod"
			  },
			  "pathParameters": {"proxy": "echo"}, "stageVariables": null,
			  "body": "aGVsbG8gd29ybGQ=", "isBase64Encoded": true
			}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			invoke := invokeV2
			if tc.format == "rest-api-v1" {
				invoke = invokeV1
			}
			s := mustSeen(t, invoke(t, testHandler(), nil, []byte(tc.payload)))
			h := http.Header(s.Header)
			switch {
			case s.Method != "POST" || s.Path != "/echo":
				t.Errorf("request = %s %s", s.Method, s.Path)
			case string(s.Body) != "hello world":
				t.Errorf("body = %q", s.Body)
			case !slices.Equal(h.Values("Accept"), []string{"application/json", "text/plain"}):
				t.Errorf("Accept = %q", h.Values("Accept"))
			case !slices.Equal(h.Values("Header2"), []string{"value1", "value2"}):
				t.Errorf("Header2 = %q", h.Values("Header2"))
			case !slices.Equal(s.Query["parameter1"], []string{"value1", "value2"}):
				t.Errorf("parameter1 = %q", s.Query["parameter1"])
			case s.ClientIP != "192.0.2.1":
				t.Errorf("client IP = %q", s.ClientIP)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		name, in string
		want     lambdaserve.Format
		wantErr  bool
	}{
		{name: "OK_DefaultIsHTTPAPIV2", in: "", want: lambdaserve.HTTPAPIV2},
		{name: "OK_HTTPAPIV2", in: "http-api-v2", want: lambdaserve.HTTPAPIV2},
		{name: "OK_RESTAPIV1", in: "rest-api-v1", want: lambdaserve.RESTAPIV1},
		{name: "ErrUnknownFormat", in: "alb", wantErr: true},
		{name: "ErrUnknownFormat_CaseMatters", in: "HTTP-API-V2", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lambdaserve.ParseFormat(tc.in)
			if tc.wantErr {
				if !errors.Is(err, lambdaserve.ErrUnknownFormat) {
					t.Fatalf("err = %v, want ErrUnknownFormat", err)
				}
				if !strings.Contains(err.Error(), tc.in) {
					t.Errorf("error %q does not name the bad value", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseFormat(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestStart_ErrUnknownFormat(t *testing.T) {
	// An unknown format must fail before the runtime loop starts (which
	// would never return).
	err := lambdaserve.Start(context.Background(), testHandler(), "websocket", nil)
	if !errors.Is(err, lambdaserve.ErrUnknownFormat) {
		t.Fatalf("Start = %v, want ErrUnknownFormat", err)
	}
}

func TestRequestID_EmptyOutsideLambda(t *testing.T) {
	if got := lambdaserve.RequestID(context.Background()); got != "" {
		t.Fatalf("RequestID = %q, want empty", got)
	}
}
