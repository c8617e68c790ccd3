package ssm_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/taskapi/taskapi/internal/ssm"
)

const (
	testKeyID  = "AKID"
	testSecret = "SECRET-wJalrXUtnFEMI/K7MDENG/bPxRfiCY"
	testToken  = "SESSION-TOKEN-FwoGZXIvYXdzEJr"
)

// received is one request as the fake SSM endpoint saw it.
type received struct {
	method, path, query, host string
	contentLength             int64
	header                    http.Header
	body                      []byte
}

// verify checks the request's signature against what was received.
func (r received) verify(secret string) error {
	return verifySigV4(r.method, r.path, r.query, r.host, r.contentLength, r.header, r.body, secret)
}

// fakeSSMEndpoint records every request, then answers with handle (attempt
// counts from 1).
type fakeSSMEndpoint struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

type ssmHandler func(w http.ResponseWriter, r *http.Request, req received, attempt int)

func newFakeSSMEndpoint(t *testing.T, handle ssmHandler) *fakeSSMEndpoint {
	t.Helper()
	f := &fakeSSMEndpoint{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := received{
			method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, host: r.Host,
			contentLength: r.ContentLength, header: r.Header.Clone(), body: body,
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		attempt := len(f.reqs)
		f.mu.Unlock()
		handle(w, r, req, attempt)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSSMEndpoint) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// versions of the parameters the fake SSM holds; the last one is current.
var versions = map[string][]string{
	"/taskapi/prod/jwt-secret": {"jwt-v1-0123456789abcdef0123456789", "jwt-v2-0123456789abcdef0123456789", "jwt-v3-0123456789abcdef0123456789", "jwt-v4-0123456789abcdef0123456789"},
	"/taskapi/prod/pepper":     {"pepper-v1-fedcba9876543210"},
}

func allValues() []string {
	var vs []string
	for _, v := range versions {
		vs = append(vs, v...)
	}
	return vs
}

// answerLikeSSM is GetParameters as SSM does it, for requests signed with
// testSecret: "name:N" selects version N, unknown names are left out of
// Parameters and listed in InvalidParameters.
func answerLikeSSM(w http.ResponseWriter, _ *http.Request, req received, _ int) {
	if err := req.verify(testSecret); err != nil {
		writeSSMError(w, http.StatusBadRequest, "com.amazon.coral.service#InvalidSignatureException", err.Error())
		return
	}
	var in struct {
		Names          []string
		WithDecryption bool
	}
	if err := json.Unmarshal(req.body, &in); err != nil || !in.WithDecryption {
		writeSSMError(w, http.StatusBadRequest, "com.amazonaws.ssm#ValidationException", "bad request")
		return
	}
	type param struct {
		Name, Type, Value string
		Selector          string `json:",omitempty"`
		Version           int
	}
	out := struct {
		Parameters        []param
		InvalidParameters []string
	}{Parameters: []param{}, InvalidParameters: []string{}}
	for _, n := range in.Names {
		name, sel, hasSel := strings.Cut(n, ":")
		vs, ok := versions[name]
		v := len(vs)
		if ok && hasSel {
			v, _ = strconv.Atoi(sel)
			ok = v >= 1 && v <= len(vs)
		}
		if !ok {
			out.InvalidParameters = append(out.InvalidParameters, n)
			continue
		}
		p := param{Name: name, Type: "SecureString", Value: vs[v-1], Version: v}
		if hasSel {
			p.Selector = ":" + sel
		}
		out.Parameters = append(out.Parameters, p)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func writeSSMError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// verifySigV4 checks an Authorization header against the request as
// received, by the Signature Version 4 rules, without the SDK's signer: the
// canonical request (method, path, query, the signed headers, the hex
// SHA-256 of the body received), the string to sign, the derived key.
func verifySigV4(method, path, query, host string, contentLength int64, h http.Header, body []byte, secret string) error {
	rest, ok := strings.CutPrefix(h.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	if !ok {
		return errors.New("no AWS4-HMAC-SHA256 Authorization header")
	}
	fields := map[string]string{}
	for f := range strings.SplitSeq(rest, ", ") {
		k, v, _ := strings.Cut(f, "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 || cred[4] != "aws4_request" {
		return fmt.Errorf("credential %q is not key/date/region/service/aws4_request", fields["Credential"])
	}
	amzDate := h.Get("X-Amz-Date")
	if !strings.HasPrefix(amzDate, cred[1]) {
		return fmt.Errorf("X-Amz-Date %q is not on the credential's date %s", amzDate, cred[1])
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	if !slices.IsSorted(signed) {
		return fmt.Errorf("SignedHeaders %q are not sorted", fields["SignedHeaders"])
	}
	var canonHeaders strings.Builder
	for _, name := range signed {
		var v string
		switch name {
		case "host":
			v = host
		case "content-length":
			v = strconv.FormatInt(contentLength, 10)
		default:
			vals := h.Values(name)
			if len(vals) == 0 {
				return fmt.Errorf("signed header %s was not received", name)
			}
			for i := range vals {
				vals[i] = strings.Join(strings.Fields(vals[i]), " ")
			}
			v = strings.Join(vals, ",")
		}
		canonHeaders.WriteString(name + ":" + v + "\n")
	}
	if path == "" {
		path = "/"
	}
	canonical := strings.Join([]string{method, path, query, canonHeaders.String(), fields["SignedHeaders"], sha256Hex(body)}, "\n")
	scope := strings.Join(cred[1:], "/")
	toSign := strings.Join([]string{"AWS4-HMAC-SHA256", amzDate, scope, sha256Hex([]byte(canonical))}, "\n")
	key := []byte("AWS4" + secret)
	for _, part := range cred[1:] {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return errors.New("the signature does not match the request received")
	}
	return nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func staticCreds(token string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret, SessionToken: token, Source: "test"}, nil
	})
}

var authHeader = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=AKID/(\d{8})/([a-z0-9-]+)/ssm/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$`)

func TestSSMClientRequest(t *testing.T) {
	tests := []struct {
		name   string
		region string
		token  string
		names  []string
		want   []ssm.Parameter
	}{
		{
			name: "OK_StaticCredentials", region: "us-east-1", names: []string{"/taskapi/prod/jwt-secret"},
			want: []ssm.Parameter{{Name: "/taskapi/prod/jwt-secret", Value: versions["/taskapi/prod/jwt-secret"][3]}},
		},
		{
			name: "OK_SessionToken", region: "eu-west-1", token: testToken, names: []string{"/taskapi/prod/jwt-secret", "/taskapi/prod/pepper", "/taskapi/prod/nope"},
			want: []ssm.Parameter{
				{Name: "/taskapi/prod/jwt-secret", Value: versions["/taskapi/prod/jwt-secret"][3]},
				{Name: "/taskapi/prod/pepper", Value: versions["/taskapi/prod/pepper"][0]},
			},
		},
		{
			name: "OK_ChinaRegionAndSelector", region: "cn-north-1", token: testToken, names: []string{"/taskapi/prod/jwt-secret:2"},
			want: []ssm.Parameter{{Name: "/taskapi/prod/jwt-secret", Value: versions["/taskapi/prod/jwt-secret"][1], Selector: ":2"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeSSMEndpoint(t, answerLikeSSM)
			c := &ssm.Client{Region: tc.region, Credentials: staticCreds(tc.token), Endpoint: srv.URL}
			start := time.Now().UTC()
			params, err := c.GetParameters(context.Background(), tc.names)
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]

			if r.method != http.MethodPost || r.path != "/" || r.query != "" {
				t.Errorf("request = %s %s?%s, want POST /", r.method, r.path, r.query)
			}
			if got := r.header.Get("X-Amz-Target"); got != "AmazonSSM.GetParameters" {
				t.Errorf("X-Amz-Target = %q", got)
			}
			if got := r.header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type = %q", got)
			}
			var body map[string]any
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatalf("body %q: %v", r.body, err)
			}
			wantBody := map[string]any{"Names": toAny(tc.names), "WithDecryption": true}
			if fmt.Sprint(body) != fmt.Sprint(wantBody) {
				t.Errorf("body = %v, want %v", body, wantBody)
			}

			m := authHeader.FindStringSubmatch(r.header.Get("Authorization"))
			if m == nil {
				t.Fatalf("Authorization = %q, want %s", r.header.Get("Authorization"), authHeader)
			}
			amzDate, perr := time.Parse("20060102T150405Z", r.header.Get("X-Amz-Date"))
			if perr != nil || amzDate.Before(start.Add(-time.Second).Truncate(time.Second)) || amzDate.After(time.Now().Add(time.Second)) {
				t.Errorf("X-Amz-Date = %q, want the time of the call", r.header.Get("X-Amz-Date"))
			}
			if m[1] != amzDate.Format("20060102") || m[2] != tc.region {
				t.Errorf("credential scope %s/%s, want %s/%s", m[1], m[2], amzDate.Format("20060102"), tc.region)
			}
			signed := strings.Split(m[3], ";")
			wantSigned := []string{"content-type", "host", "x-amz-date", "x-amz-target"}
			if tc.token != "" {
				wantSigned = append(wantSigned, "x-amz-security-token")
			}
			for _, h := range wantSigned {
				if !slices.Contains(signed, h) {
					t.Errorf("SignedHeaders %q lack %s", m[3], h)
				}
			}
			if got := r.header.Get("X-Amz-Security-Token"); got != tc.token {
				t.Errorf("X-Amz-Security-Token = %q, want %q", got, tc.token)
			}

			// The signature, recomputed from what was received, body included.
			if err := r.verify(testSecret); err != nil {
				t.Errorf("signature: %v", err)
			}
			tampered := append(slices.Clone(r.body), ' ')
			if verifySigV4(r.method, r.path, r.query, r.host, int64(len(tampered)), r.header, tampered, testSecret) == nil {
				t.Error("the signature also verifies another body: the check proves nothing")
			}
			if r.verify("other-secret") == nil {
				t.Error("the signature also verifies with another secret: the check proves nothing")
			}

			if err != nil {
				t.Fatalf("GetParameters: %v", err)
			}
			if !slices.Equal(params, tc.want) {
				t.Errorf("parameters = %v, want %v", params, tc.want)
			}
		})
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func TestSSMClientEndpoint(t *testing.T) {
	tests := []struct {
		name     string
		region   string
		endpoint string
		wantURL  string
		wantErr  string
	}{
		{name: "OK_Region", region: "us-east-1", wantURL: "https://ssm.us-east-1.amazonaws.com/"},
		{name: "OK_China", region: "cn-northwest-1", wantURL: "https://ssm.cn-northwest-1.amazonaws.com.cn/"},
		{name: "OK_Override", region: "us-east-1", endpoint: "http://localhost:4566", wantURL: "http://localhost:4566/"},
		{name: "OK_OverrideKeepsPath", region: "eu-west-1", endpoint: "https://vpce-0a1b.ssm.eu-west-1.vpce.amazonaws.com/", wantURL: "https://vpce-0a1b.ssm.eu-west-1.vpce.amazonaws.com/"},
		{name: "ErrNoRegion", wantErr: "no AWS region"},
		{name: "ErrNoRegionWithOverride", endpoint: "http://localhost:4566", wantErr: "no AWS region"},
		{name: "ErrRegionNotAHostLabel", region: "us-east-1.example.com/x", wantErr: "not an AWS region"},
		{name: "ErrOverrideNotAURL", region: "us-east-1", endpoint: "localhost:4566", wantErr: "not an http(s) URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var urls []string
			doer := doFunc(func(r *http.Request) (*http.Response, error) {
				urls = append(urls, r.URL.String())
				if r.Host != "" && r.Host != r.URL.Host {
					t.Errorf("Host %q differs from the URL's %q", r.Host, r.URL.Host)
				}
				return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"Parameters":[],"InvalidParameters":["/a"]}`))}, nil
			})
			c := &ssm.Client{Region: tc.region, Endpoint: tc.endpoint, Credentials: staticCreds(""), HTTPClient: doer}
			_, err := c.GetParameters(context.Background(), []string{"/a"})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want one saying %q", err, tc.wantErr)
				}
				if len(urls) != 0 {
					t.Errorf("requests sent to %q", urls)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if len(urls) != 1 || urls[0] != tc.wantURL {
				t.Errorf("requests to %q, want one to %s", urls, tc.wantURL)
			}
		})
	}
}

type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// TestSSMClientErrors: every failure is an error that names the parameters
// and what went wrong (SSM's error type, the HTTP status), never a value,
// the request body or the credentials.
func TestSSMClientErrors(t *testing.T) {
	names := map[string]string{"JWT_SECRET": "/taskapi/prod/jwt-secret", "PASS_SECRET_KEY": "/taskapi/prod/pepper"}
	ok := map[string]string{"JWT_SECRET": versions["/taskapi/prod/jwt-secret"][3], "PASS_SECRET_KEY": versions["/taskapi/prod/pepper"][0]}
	status := func(code int, typ, msg string) ssmHandler {
		return func(w http.ResponseWriter, _ *http.Request, _ received, _ int) { writeSSMError(w, code, typ, msg) }
	}
	raw := func(code int, body string) ssmHandler {
		return func(w http.ResponseWriter, _ *http.Request, _ received, _ int) {
			w.WriteHeader(code)
			_, _ = io.WriteString(w, body)
		}
	}
	// firstThen answers the first attempt with first, the others like SSM.
	firstThen := func(first ssmHandler) ssmHandler {
		return func(w http.ResponseWriter, r *http.Request, req received, attempt int) {
			if attempt == 1 {
				first(w, r, req, attempt)
				return
			}
			answerLikeSSM(w, r, req, attempt)
		}
	}
	jwt := versions["/taskapi/prod/jwt-secret"][3]
	tests := []struct {
		name       string
		handle     ssmHandler
		creds      aws.CredentialsProvider
		timeout    time.Duration
		want       map[string]string
		wantIn     []string
		wantNotIn  []string
		wantIs     error
		wantSSMErr string // Error.Type
		wantCalls  int
	}{
		{
			name: "ErrAccessDenied",
			handle: status(http.StatusBadRequest, "com.amazonaws.ssm#AccessDeniedException",
				"User: arn:aws:sts::123456789012:assumed-role/taskapi/fn is not authorized to perform: ssm:GetParameters"),
			wantIn:     []string{"AccessDeniedException", "HTTP 400", "not authorized", "/taskapi/prod/jwt-secret", "/taskapi/prod/pepper"},
			wantNotIn:  []string{"com.amazonaws"},
			wantSSMErr: "AccessDeniedException",
			wantCalls:  1,
		},
		{
			name: "ErrTypeInHeader",
			handle: func(w http.ResponseWriter, _ *http.Request, _ received, _ int) {
				w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"Message":"denied"}`)
			},
			wantIn:     []string{"AccessDeniedException (HTTP 400): denied"},
			wantNotIn:  []string{"internal.amazon.com"},
			wantSSMErr: "AccessDeniedException",
			wantCalls:  1,
		},
		{
			name:       "ErrKMSDenied_NotRetried",
			handle:     status(http.StatusBadRequest, "InvalidKeyId", "the key is disabled"),
			wantIn:     []string{"InvalidKeyId", "HTTP 400", "the key is disabled"},
			wantSSMErr: "InvalidKeyId",
			wantCalls:  1,
		},
		{
			name:       "ErrInternal_RetriedThreeTimes",
			handle:     status(http.StatusInternalServerError, "InternalServerError", ""),
			wantIn:     []string{"InternalServerError", "HTTP 500"},
			wantSSMErr: "InternalServerError",
			wantCalls:  3,
		},
		{
			name:      "ErrNotJSON500",
			handle:    raw(http.StatusBadGateway, "<html>"+jwt+"</html>"),
			wantIn:    []string{"HTTP 502"},
			wantCalls: 3,
		},
		{
			name:      "OK_AfterOne503",
			handle:    firstThen(raw(http.StatusServiceUnavailable, "")),
			want:      ok,
			wantCalls: 2,
		},
		{
			name:      "OK_AfterThrottling",
			handle:    firstThen(status(http.StatusBadRequest, "ThrottlingException", "Rate exceeded")),
			want:      ok,
			wantCalls: 2,
		},
		{
			name:      "ErrMalformedJSON",
			handle:    raw(http.StatusOK, `{"Parameters":[{"Name":"/taskapi/prod/jwt-secret","Value":"`+jwt),
			wantIn:    []string{"decoding the answer", "/taskapi/prod/jwt-secret"},
			wantCalls: 1,
		},
		{
			name:      "ErrWrongShape",
			handle:    raw(http.StatusOK, `{"Parameters":{"Name":"/taskapi/prod/jwt-secret","Value":"`+jwt+`"}}`),
			wantIn:    []string{"decoding the answer"},
			wantCalls: 1,
		},
		{
			name: "ErrOversized",
			handle: raw(http.StatusOK, `{"Parameters":[{"Name":"/taskapi/prod/jwt-secret","Value":"`+jwt+
				strings.Repeat("x", 1<<20)+`"}],"InvalidParameters":[]}`),
			wantIn:    []string{"larger than 1048576 bytes"},
			wantCalls: 1,
		},
		{
			name: "ErrHangs_DeadlineIsKept",
			handle: func(_ http.ResponseWriter, r *http.Request, _ received, _ int) {
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
			},
			timeout:   200 * time.Millisecond,
			wantIs:    context.DeadlineExceeded,
			wantCalls: 1,
		},
		{
			name: "ErrCredentials",
			creds: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{}, errors.New("no EC2 IMDS role found")
			}),
			handle:    answerLikeSSM,
			wantIn:    []string{"credentials", "no EC2 IMDS role found"},
			wantCalls: 0,
		},
		{
			name:   "ErrWrongSecret",
			handle: answerLikeSSM,
			creds: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: "not-" + testSecret}, nil
			}),
			wantIn:     []string{"InvalidSignatureException", "HTTP 400"},
			wantSSMErr: "InvalidSignatureException",
			wantCalls:  1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeSSMEndpoint(t, tc.handle)
			creds := tc.creds
			if creds == nil {
				creds = staticCreds(testToken)
			}
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			c := &ssm.Client{Region: "us-east-1", Credentials: creds, Endpoint: srv.URL}
			start := time.Now()
			got, err := ssm.LoadParams(ctx, c, names)
			elapsed := time.Since(start)
			if n := len(srv.requests()); n != tc.wantCalls {
				t.Errorf("%d requests, want %d", n, tc.wantCalls)
			}
			if tc.timeout > 0 && elapsed > tc.timeout+time.Second {
				t.Errorf("returned after %s, the deadline was %s", elapsed, tc.timeout)
			}
			if tc.want != nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("err = nil, want an error (got %d values)", len(got))
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("err = %v, want %v", err, tc.wantIs)
			}
			if tc.wantSSMErr != "" {
				var se *ssm.Error
				if !errors.As(err, &se) || se.Type != tc.wantSSMErr {
					t.Errorf("err = %v, want an *Error of type %s", err, tc.wantSSMErr)
				}
			}
			msg := err.Error()
			for _, s := range tc.wantIn {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not mention %q", msg, s)
				}
			}
			for _, s := range append(tc.wantNotIn, append(allValues(), testSecret, testToken, "WithDecryption")...) {
				if strings.Contains(msg, s) {
					t.Errorf("error %q contains %q", msg, s)
				}
			}
		})
	}
}

// TestLoadSSMParamsOverHTTP: LoadParams through Client and a fake SSM
// that checks signatures.
func TestLoadSSMParamsOverHTTP(t *testing.T) {
	jwt := versions["/taskapi/prod/jwt-secret"]
	tests := []struct {
		name      string
		names     map[string]string
		want      map[string]string
		wantErr   error
		wantInErr []string
	}{
		{
			name:  "OK_Found",
			names: map[string]string{"JWT_SECRET": "/taskapi/prod/jwt-secret", "PASS_SECRET_KEY": "/taskapi/prod/pepper"},
			want:  map[string]string{"JWT_SECRET": jwt[3], "PASS_SECRET_KEY": versions["/taskapi/prod/pepper"][0]},
		},
		{
			name:  "OK_VersionSelector",
			names: map[string]string{"JWT_SECRET": "/taskapi/prod/jwt-secret:3"},
			want:  map[string]string{"JWT_SECRET": jwt[2]},
		},
		{
			name:  "OK_SelectorAndCurrentTogether",
			names: map[string]string{"OLD": "/taskapi/prod/jwt-secret:3", "NEW": "/taskapi/prod/jwt-secret"},
			want:  map[string]string{"OLD": jwt[2], "NEW": jwt[3]},
		},
		{
			name:      "ErrMissingParameter",
			names:     map[string]string{"JWT_SECRET": "/taskapi/prod/jwt-secret", "PASS_SECRET_KEY": "/taskapi/prod/nope"},
			wantErr:   ssm.ErrMissingParameter,
			wantInErr: []string{"PASS_SECRET_KEY", "/taskapi/prod/nope"},
		},
		{
			name:      "ErrMissingVersion",
			names:     map[string]string{"JWT_SECRET": "/taskapi/prod/jwt-secret:9"},
			wantErr:   ssm.ErrMissingParameter,
			wantInErr: []string{"JWT_SECRET", "/taskapi/prod/jwt-secret:9"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeSSMEndpoint(t, answerLikeSSM)
			c := &ssm.Client{Region: "eu-west-1", Credentials: staticCreds(testToken), Endpoint: srv.URL}
			got, err := ssm.LoadParams(context.Background(), c, tc.names)
			if n := len(srv.requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			if tc.want != nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			for _, s := range tc.wantInErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			for _, v := range allValues() {
				if strings.Contains(err.Error(), v) {
					t.Errorf("error %q leaks a parameter value", err)
				}
			}
		})
	}
}
