package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/server"
	"github.com/taskapi/taskapi/store/embedded"
)

func newHandler(t *testing.T, o server.Options) http.Handler {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := core.NewService(core.Config{
		Store:        st,
		Hasher:       core.NewHasher("", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, 0),
		Tokens:       core.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour, nil),
		CursorSecret: []byte("cursor"),
	})
	return server.New(svc, o)
}

func do(h http.Handler, method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var routes = []struct{ method, path, body string }{
	{"GET", "/", ""},
	{"GET", "/playground", ""},
	{"POST", "/graphql", `{"query":"{ __typename }"}`},
	{"GET", "/graphql?query=%7B__typename%7D", ""},
	{"GET", "/api/v1/tasks/fetch-task", ""},
	{"POST", "/api/v1/auth/login", `{"email":"nobody@example.com","password":"x!xxxx"}`},
	{"GET", "/openapi.json", ""},
	{"GET", "/docs", ""},
	{"GET", "/healthz", ""},
	{"GET", "/no/such/route", ""},
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	h := newHandler(t, server.Options{CORSOrigins: []string{"*"}, Introspection: true, HSTS: true})
	for _, r := range routes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			rec := do(h, r.method, r.path, r.body, map[string]string{"Content-Type": "application/json"})
			for k, want := range map[string]string{
				"X-Content-Type-Options":    "nosniff",
				"X-Frame-Options":           "DENY",
				"Referrer-Policy":           "no-referrer",
				"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
			} {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q (status %d)", k, got, want, rec.Code)
				}
			}
			if rec.Header().Get("X-Request-ID") == "" {
				t.Error("no X-Request-ID")
			}
			if ct := rec.Header().Get("Content-Type"); strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "application/graphql-response+json") {
				if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
					t.Errorf("JSON answer without a deny-all CSP: %q", csp)
				}
			}
		})
	}
}

func TestCORS(t *testing.T) {
	preflight := func(h http.Handler, path, origin string) *httptest.ResponseRecorder {
		return do(h, http.MethodOptions, path, "", map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  "POST",
			"Access-Control-Request-Headers": "authorization,content-type", // as browsers send it
		})
	}
	t.Run("OK any origin by default, REST and GraphQL alike", func(t *testing.T) {
		h := newHandler(t, server.Options{CORSOrigins: []string{"*"}})
		for _, path := range []string{"/graphql", "/api/v1/tasks/create-task", "/api/v1/auth/login"} {
			rec := preflight(h, path, "http://localhost:5173")
			if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "*" ||
				!strings.Contains(strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers")), "authorization") {
				t.Errorf("%s preflight: %d %v", path, rec.Code, rec.Header())
			}
		}
		rec := do(h, "POST", "/graphql", `{"query":"{ __typename }"}`, map[string]string{"Origin": "http://localhost:5173", "Content-Type": "application/json"})
		if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("actual request without Access-Control-Allow-Origin: %v", rec.Header())
		}
	})
	t.Run("OK configured origin", func(t *testing.T) {
		h := newHandler(t, server.Options{CORSOrigins: []string{"https://app.example.com"}})
		rec := preflight(h, "/graphql", "https://app.example.com")
		if rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Errorf("allowed origin refused: %v", rec.Header())
		}
	})
	t.Run("ErrOtherOrigin", func(t *testing.T) {
		h := newHandler(t, server.Options{CORSOrigins: []string{"https://app.example.com"}})
		rec := preflight(h, "/graphql", "https://evil.example")
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("other origin allowed: %q", got)
		}
	})
}

func TestRequestID(t *testing.T) {
	h := newHandler(t, server.Options{})
	if got := do(h, "GET", "/healthz", "", map[string]string{"X-Request-ID": "abc-123"}).Header().Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("caller's request id not echoed: %q", got)
	}
	if got := do(h, "GET", "/healthz", "", map[string]string{"X-Request-ID": "bad id\r\nX-Evil: 1"}).Header().Get("X-Request-ID"); got == "" || strings.ContainsAny(got, " \r\n") {
		t.Errorf("unsafe request id kept: %q", got)
	}
}

func TestHealthz(t *testing.T) {
	rec := do(newHandler(t, server.Options{}), "GET", "/healthz", "", nil)
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	failing := newHandler(t, server.Options{Health: func(context.Context) error { return errors.New("dynamodb: connection refused at 10.0.0.1") }})
	rec = do(failing, "GET", "/healthz", "", nil)
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "10.0.0.1") {
		t.Fatalf("failing health: %d %s", rec.Code, rec.Body)
	}
}

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	rec := do(newHandler(t, server.Options{}), "GET", "/api/v2/anything", "", nil)
	if rec.Code != 404 || strings.TrimSpace(rec.Body.String()) != `{"detail":"Not Found"}` {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
