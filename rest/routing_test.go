package rest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/taskapi/taskapi/core"
)

func TestRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.mustUser(t, "bob")
	notFound := detail("Not Found")
	notAllowed := detail("Method Not Allowed")

	e.run(t, []tc{
		{name: "ErrNotFound/UnknownPath", req: req{method: http.MethodGet, path: "/api/v1/nope", token: bob.token}, status: 404, want: notFound},
		{name: "ErrNotFound/Prefix", req: req{method: http.MethodGet, path: "/api/v1/tasks"}, status: 404, want: notFound},
		{name: "ErrNotFound/MissingTaskID", req: req{method: http.MethodDelete, path: "/api/v1/tasks/delete-task/", token: bob.token}, status: 404, want: notFound},
		{name: "ErrNotFound/ExtraSegment", req: req{method: http.MethodPut, path: "/api/v1/tasks/update-task/a/b", token: bob.token, body: `{"status":"complete"}`}, status: 404, want: notFound},
		{name: "ErrMethodNotAllowed/Login", req: req{method: http.MethodGet, path: "/api/v1/auth/login"}, status: 405, want: notAllowed,
			header: map[string]string{"Allow": "POST"}},
		{name: "ErrMethodNotAllowed/UpdateTask", req: req{method: http.MethodPost, path: "/api/v1/tasks/update-task/x", token: bob.token}, status: 405, want: notAllowed,
			header: map[string]string{"Allow": "PUT, PATCH"}},
		{name: "ErrMethodNotAllowed/OpenAPI", req: req{method: http.MethodPost, path: "/openapi.json"}, status: 405, want: notAllowed,
			header: map[string]string{"Allow": "GET, HEAD"}},
	})

	for _, c := range []struct{ method, from, to string }{
		{http.MethodGet, "/api/v1/tasks/fetch-task/", "/api/v1/tasks/fetch-task"},
		{http.MethodPost, "/api/v1/auth/login/?next=x", "/api/v1/auth/login?next=x"},
		{http.MethodGet, "/openapi.json/", "/openapi.json"},
	} {
		t.Run("OK/RedirectSlashes"+c.from, func(t *testing.T) {
			w := httpRequest(t, e, c.method, c.from, "")
			if w.Code != http.StatusTemporaryRedirect || w.Header().Get("Location") != c.to {
				t.Errorf("%s %s: %d Location %q, want 307 to %s", c.method, c.from, w.Code, w.Header().Get("Location"), c.to)
			}
			if w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" {
				t.Errorf("%s %s: a body (%q, %q), as Starlette's redirect has none", c.method, c.from, w.Header().Get("Content-Type"), w.Body)
			}
		})
	}

	t.Run("OK/Docs", func(t *testing.T) {
		w := httpRequest(t, e, http.MethodGet, "/docs", "")
		body := w.Body.String()
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "SwaggerUIBundle") || !strings.Contains(body, "url: '/openapi.json'") {
			t.Errorf("GET /docs: %d %s\n%s", w.Code, w.Header().Get("Content-Type"), body)
		}
	})
}

// failingStore breaks one read, as a store whose disk or network failed.
type failingStore struct {
	core.Store
	panics bool
}

func (s failingStore) ListTasks(context.Context, string, core.TaskQuery) ([]core.Task, bool, error) {
	if s.panics {
		panic("bbolt: page 42 corrupted at /var/secret/path")
	}
	return nil, false, errors.New("read /var/secret/path: input/output error")
}

func (s failingStore) TaskStats(context.Context, string) (core.TaskStats, error) {
	return core.TaskStats{}, &core.Error{Code: core.CodeUnavailable, Message: "Service temporarily unavailable", Err: errors.New("dial tcp 10.0.0.1:6379: timeout")}
}

func TestInternalErrors(t *testing.T) {
	t.Parallel()
	for _, panics := range []bool{false, true} {
		name := "ErrInternal/Error"
		if panics {
			name = "ErrInternal/Panic"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withStore(func(s core.Store) core.Store { return failingStore{Store: s, panics: panics} }))
			bob := e.mustUser(t, "bob")
			e.run(t, []tc{
				{name: "FetchTasks", req: req{method: http.MethodGet, path: "/api/v1/tasks/fetch-task", token: bob.token}, status: 500, want: detail("Internal Server Error")},
			})
			logs := e.logs.String()
			if n := strings.Count(logs, "/var/secret/path"); n != 1 {
				t.Errorf("cause logged %d times, want once:\n%s", n, logs)
			}
		})
	}

	t.Run("ErrUnavailable", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withStore(func(s core.Store) core.Store { return failingStore{Store: s} }))
		bob := e.mustUser(t, "bob")
		e.run(t, []tc{
			{name: "Stats", req: req{method: http.MethodGet, path: "/api/v1/auth/user", token: bob.token}, status: 503, want: detail("Service temporarily unavailable")},
		})
	})
}
