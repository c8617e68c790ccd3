package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/httpauth"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/rest"
	"github.com/taskapi/taskapi/store/embedded"
)

const (
	testSecret = "a-32-byte-test-secret-..........."
	password   = "s3cret!pw" // every test user's password
)

// env is one server over a fresh embedded store.
type env struct {
	h     http.Handler
	svc   *core.Service
	store core.Store
	logs  *testenv.SyncBuffer
}

type envOption func(*core.Config)

func withLimiter(l *core.Limiter) envOption { return func(c *core.Config) { c.Limiter = l } }

func withStore(wrap func(core.Store) core.Store) envOption {
	return func(c *core.Config) { c.Store = wrap(c.Store) }
}

func newEnv(tb testing.TB, opts ...envOption) *env {
	tb.Helper()
	st, err := embedded.Open(tb.TempDir())
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	cfg := core.Config{
		Store:        st,
		Hasher:       core.NewHasher("", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, 0),
		Tokens:       core.NewTokens([]byte(testSecret), time.Hour, nil),
		CursorSecret: []byte("cursor"),
	}
	for _, o := range opts {
		o(&cfg)
	}
	svc := core.NewService(cfg)
	logs := &testenv.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	return &env{
		h:     httpauth.Middleware(rest.New(svc, rest.Options{Logger: log, MaxBodyBytes: 4096})),
		svc:   svc,
		store: st,
		logs:  logs,
	}
}

// req is one HTTP request to the shim.
type req struct {
	method, path string
	token        string
	contentType  string // "" with a body: application/json; "-" for none
	body         string
}

// resp is a response, its body decoded.
type resp struct {
	status int
	header http.Header
	raw    string
	body   any
}

func (e *env) do(tb testing.TB, r req) resp {
	tb.Helper()
	out := e.doRaw(tb, r)
	if ct := out.header.Get("Content-Type"); ct == "application/json" {
		if err := json.Unmarshal([]byte(out.raw), &out.body); err != nil {
			tb.Fatalf("%s %s: body is not JSON: %v: %q", r.method, r.path, err, out.raw)
		}
	}
	return out
}

// doRaw sends r and returns the answer undecoded (a shim body may hold a
// number no float64 holds, as 1e400), failing if it shows a secret.
func (e *env) doRaw(tb testing.TB, r req) resp {
	tb.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequestWithContext(context.Background(), r.method, r.path, body)
	switch {
	case r.contentType == "-":
	case r.contentType != "":
		hr.Header.Set("Content-Type", r.contentType)
	case r.body != "":
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, hr)
	noSecrets(tb, w.Body.String())
	return resp{status: w.Code, header: w.Header(), raw: w.Body.String()}
}

// noSecrets fails if a response shows a password or a hash.
func noSecrets(tb testing.TB, raw string) {
	tb.Helper()
	for _, s := range []string{password, "argon2", "$argon", "hash", "N3wpass!", "weak", "s3cret"} {
		if strings.Contains(raw, s) {
			i := strings.Index(raw, s)
			tb.Errorf("response shows a secret (%q): …%s…", s, raw[max(0, i-200):min(len(raw), i+200)])
		}
	}
}

// ---- expected JSON ----

type obj = map[string]any
type arr = []any

// matcher checks a volatile value (an id, a time).
type matcher struct {
	what string
	ok   func(any) bool
}

func matchRE(what, re string) matcher {
	r := regexp.MustCompile(re)
	return matcher{what, func(v any) bool { s, ok := v.(string); return ok && r.MatchString(s) }}
}

var (
	anyUserID       = matchRE("user id", `^VAH\d+$`)
	anyTaskID       = matchRE("task id", `^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	anyToken        = matchRE("JWT", `^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
	anyRefreshToken = matchRE("refresh token", `^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$`)
	// Exactly what Python's datetime.isoformat() writes for an aware UTC
	// time with microseconds, so fromisoformat reads it on 3.7+ (models.go).
	anyTime = matcher{"ISO 8601 UTC time with microseconds and +00:00", func(v any) bool {
		s, ok := v.(string)
		if !ok || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$`).MatchString(s) {
			return false
		}
		_, err := time.Parse(time.RFC3339Nano, s)
		return err == nil
	}}
)

// wantJSON compares a decoded body with want, where want may hold matchers
// and Go ints for JSON numbers.
func wantJSON(tb testing.TB, got, want any) {
	tb.Helper()
	if diffs := diffJSON("$", got, want); len(diffs) > 0 {
		g, _ := json.Marshal(got)
		tb.Errorf("body mismatch:\n  %s\ngot: %s", strings.Join(diffs, "\n  "), g)
	}
}

func diffJSON(path string, got, want any) []string {
	switch w := want.(type) {
	case matcher:
		if !w.ok(got) {
			return []string{fmt.Sprintf("%s: got %#v, want %s", path, got, w.what)}
		}
		return nil
	case int:
		if f, ok := got.(float64); !ok || f != float64(w) {
			return []string{fmt.Sprintf("%s: got %#v, want %d", path, got, w)}
		}
		return nil
	case obj:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %#v, want an object", path, got)}
		}
		var d []string
		for k := range g {
			if _, ok := w[k]; !ok {
				d = append(d, fmt.Sprintf("%s.%s: unexpected member %#v", path, k, g[k]))
			}
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				d = append(d, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			d = append(d, diffJSON(path+"."+k, gv, wv)...)
		}
		slices.Sort(d)
		return d
	case arr:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: got %#v, want %d items", path, got, len(w))}
		}
		var d []string
		for i := range w {
			d = append(d, diffJSON(fmt.Sprintf("%s[%d]", path, i), g[i], w[i])...)
		}
		return d
	}
	if !reflect.DeepEqual(got, want) {
		return []string{fmt.Sprintf("%s: got %#v, want %#v", path, got, want)}
	}
	return nil
}

// ---- expected bodies ----

func detail(msg string) obj { return obj{"detail": msg} }

// vErr is one Pydantic error; ctx nil means none.
func vErr(typ string, loc arr, msg string, input any, ctx obj) obj {
	e := obj{"type": typ, "loc": loc, "msg": msg, "input": input}
	if ctx != nil {
		e["ctx"] = ctx
	}
	return e
}

func vErrs(errs ...obj) obj {
	a := make(arr, len(errs))
	for i, e := range errs {
		a[i] = e
	}
	return obj{"detail": a}
}

func missing(field string, input any) obj {
	loc := arr{"body"}
	if field != "" {
		loc = append(loc, field)
	}
	return vErr("missing", loc, "Field required", input, nil)
}

func userJSON(username, email, role, status string) obj {
	return obj{"user_id": anyUserID, "username": username, "email": email, "role": role, "activation_status": status, "created_at": anyTime}
}

func userJSONOf(u core.User) obj {
	o := userJSON(string(u.Username), string(u.Email), string(u.Role), string(u.ActivationStatus))
	o["user_id"] = u.ID
	return o
}

func taskJSON(userID, title, description, status string) obj {
	return obj{"task_id": anyTaskID, "user_id": userID, "title": title, "description": description, "status": status, "created_at": anyTime, "updated_at": anyTime}
}

// ---- fixtures ----

var emailSeq struct {
	sync.Mutex
	n int
}

func uniqueEmail(name string) string {
	emailSeq.Lock()
	defer emailSeq.Unlock()
	emailSeq.n++
	return fmt.Sprintf("%s-%d@example.com", name, emailSeq.n)
}

// account is a registered user and a token of theirs.
type account struct {
	core.User
	Email, Username string // as the tests spell them (plain strings)
	token           string
}

// mustUser registers a user through the service and logs them in.
func (e *env) mustUser(tb testing.TB, name string) account {
	tb.Helper()
	ctx := context.Background()
	u, err := e.svc.Register(ctx, core.RegisterInput{Username: name, Email: uniqueEmail(name), Password: password})
	if err != nil {
		tb.Fatalf("register %s: %v", name, err)
	}
	p, err := e.svc.Login(ctx, string(u.Email), password)
	if err != nil {
		tb.Fatalf("login %s: %v", name, err)
	}
	return account{User: u, Email: string(u.Email), Username: string(u.Username), token: p.AccessToken}
}

// mustAdmin creates an admin the way the operator does, and logs them in.
func (e *env) mustAdmin(tb testing.TB, name string) account {
	tb.Helper()
	ctx := context.Background()
	u, _, err := e.svc.CreateAdmin(ctx, uniqueEmail(name), password, name)
	if err != nil {
		tb.Fatalf("create admin %s: %v", name, err)
	}
	p, err := e.svc.Login(ctx, string(u.Email), password)
	if err != nil {
		tb.Fatalf("login %s: %v", name, err)
	}
	return account{User: u, Email: string(u.Email), Username: string(u.Username), token: p.AccessToken}
}

// mustTask creates a task of a, in status st.
func (e *env) mustTask(tb testing.TB, a account, title string, st core.TaskStatus) core.Task {
	tb.Helper()
	ctx := core.WithRequest(context.Background(), a.token, "")
	t, err := e.svc.CreateTask(ctx, core.CreateTaskInput{Title: title, Description: "about " + title})
	if err != nil {
		tb.Fatalf("create task: %v", err)
	}
	if st != core.StatusPending {
		if t, err = e.svc.UpdateTask(ctx, t.ID, core.UpdateTaskInput{Status: &st}); err != nil {
			tb.Fatalf("set status: %v", err)
		}
	}
	return t
}

// snapshot is everything the store holds, to prove a request changed nothing.
func (e *env) snapshot(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	users, _, err := e.store.ListUsers(ctx, "", 10000)
	if err != nil {
		tb.Fatalf("list users: %v", err)
	}
	var b strings.Builder
	for _, u := range users {
		fmt.Fprintf(&b, "%+v\n", u)
		tasks, _, err := e.store.ListTasks(ctx, u.ID, core.TaskQuery{Limit: 10000})
		if err != nil {
			tb.Fatalf("list tasks: %v", err)
		}
		for _, t := range tasks {
			fmt.Fprintf(&b, "  %+v\n", t)
		}
		st, err := e.store.TaskStats(ctx, u.ID)
		if err != nil {
			tb.Fatalf("stats: %v", err)
		}
		fmt.Fprintf(&b, "  %+v\n", st)
	}
	return b.String()
}

// ---- table-driven cases ----

// tc is one request and the answer it must get.
type tc struct {
	name   string
	req    req
	status int
	want   any               // the decoded body (nil: not checked)
	header map[string]string // headers that must have these values
}

// run runs the cases in order; every failing request (status >= 400) must
// leave the store exactly as it was.
func (e *env) run(t *testing.T, cases []tc) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := ""
			if c.status >= 400 {
				before = e.snapshot(t)
			}
			r := e.do(t, c.req)
			e.check(t, r, c)
			if c.status >= 400 {
				if after := e.snapshot(t); after != before {
					t.Errorf("a refused request changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			}
		})
	}
}

func (e *env) check(t *testing.T, r resp, c tc) {
	t.Helper()
	if r.status != c.status {
		t.Fatalf("%s %s: status %d, want %d; body %s", c.req.method, c.req.path, r.status, c.status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	want := map[string]string{}
	if r.status == http.StatusUnauthorized {
		want["WWW-Authenticate"] = "Bearer"
	}
	for k, v := range c.header {
		want[k] = v
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if c.want != nil {
		wantJSON(t, r.body, c.want)
	}
}

// httpRequest sends a request with a raw Authorization header.
func httpRequest(tb testing.TB, e *env, method, path, authorization string) *httptest.ResponseRecorder {
	tb.Helper()
	r := httptest.NewRequestWithContext(context.Background(), method, path, nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	noSecrets(tb, w.Body.String())
	return w
}

// tokensJSON is the answer of login, refresh and change-password.
func tokensJSON() obj {
	return obj{"access_token": anyToken, "token_type": "bearer", "refresh_token": anyRefreshToken, "expires_in": 3600}
}
