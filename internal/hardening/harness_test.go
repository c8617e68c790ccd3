package hardening_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/alexedwards/argon2id"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/logging"
	"github.com/taskapi/taskapi/internal/metrics"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/internal/tracing"
	"github.com/taskapi/taskapi/ratelimit"
	"github.com/taskapi/taskapi/server"
	"github.com/taskapi/taskapi/store/cache"
	"github.com/taskapi/taskapi/store/dynamo"
	"github.com/taskapi/taskapi/store/embedded"
)

// Secrets of every test environment: distinctive, so a test can look for
// them in logs and answers.
var (
	jwtSecret    = []byte("JWTSECRET-canary-7f3a9c2e5b1d4068")
	cursorSecret = []byte("CURSORSECRET-canary-0b8e6d4f2a7c")
	// cheapHash keeps argon2id fast where hashing cost is not the subject.
	cheapHash = &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
)

// password is every test user's password (valid under the legacy rule).
const password = "s3cret!pw"

// ---- stores ----

// stores is one way to keep taskapi's data, opened fresh for one test.
type stores struct {
	served core.Store // what the service uses
	truth  core.Store // the data under any cache: what audits read
	rdb    *redis.Client
	redis  *testenv.RedisServer
}

// backend opens a fresh, empty store of one kind.
type backend struct {
	name string
	open func(t testing.TB) stores
}

// backends are every store taskapi runs on: the embedded one always,
// DynamoDB Local and the Redis cache when available (tests skip them with
// the reason, or fail under TASKAPI_TEST_REQUIRE_SERVICES=1).
func backends() []backend {
	return []backend{
		{"embedded", openEmbedded},
		{"dynamodb", openDynamo},
		{"cache+redis", openCached},
	}
}

func openEmbedded(t testing.TB) stores {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatalf("embedded.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return stores{served: st, truth: st}
}

func openDynamo(t testing.TB) stores {
	t.Helper()
	return openDynamoAt(t, testenv.DynamoDB(t), 0)
}

// openDynamoAt creates fresh tables at endpoint (dropped when t ends) and
// returns a store whose operations give up after timeout (0: the default).
func openDynamoAt(t testing.TB, endpoint string, timeout time.Duration) stores {
	t.Helper()
	admin, err := dynamo.NewClient(t.Context(), dynamo.Options{Endpoint: endpoint, Region: "us-east-1"})
	if err != nil {
		t.Fatalf("dynamo.NewClient: %v", err)
	}
	tables := dynamo.Tables{Users: "hardening-" + randomHex(t, 6) + "-users"}
	tables.Tasks = strings.TrimSuffix(tables.Users, "-users") + "-tasks"
	if err := dynamo.New(admin, tables).CreateTables(t.Context()); err != nil {
		t.Fatalf("CreateTables: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, name := range []string{tables.Users, tables.Tasks} {
			_, _ = admin.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		}
	})
	client, err := dynamo.NewClient(t.Context(), dynamo.Options{Endpoint: endpoint, Region: "us-east-1", Timeout: timeout})
	if err != nil {
		t.Fatalf("dynamo.NewClient: %v", err)
	}
	st := dynamo.New(client, tables)
	return stores{served: st, truth: st}
}

// openCached is the embedded store behind the Redis cache, with the Redis
// client kept for the login limiter and persisted queries.
func openCached(t testing.TB) stores {
	t.Helper()
	srv := testenv.Redis(t)
	rdb := redis.NewClient(cache.ClientOptions(srv.Addr()))
	t.Cleanup(func() { _ = rdb.Close() })
	inner := openEmbedded(t)
	ns := "hardening:" + randomHex(t, 4)
	return stores{served: cache.New(inner.truth, rdb, cache.Options{Namespace: ns}), truth: inner.truth, rdb: rdb, redis: srv}
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// ---- counting the store's work ----

// counting is the served store, counting the calls that reach it and the
// writes that succeed: a refused request must write nothing (and, to be
// refused cheaply, read little).
type counting struct {
	core.Store
	mu       sync.Mutex
	calls    map[string]int
	okWrites map[string]int // successful writes by operation
	writes   atomic.Int64
}

var _ core.Store = (*counting)(nil)

func newCounting(s core.Store) *counting {
	return &counting{Store: s, calls: map[string]int{}, okWrites: map[string]int{}}
}

func (c *counting) saw(op string) {
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
}

func (c *counting) wrote(op string, err error) {
	if err == nil {
		c.writes.Add(1)
		c.mu.Lock()
		c.okWrites[op]++
		c.mu.Unlock()
	}
}

// snapshotCalls copies the counts of calls so far.
func (c *counting) snapshotCalls() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.calls)
}

// snapshotWrites copies the counts of successful writes so far.
func (c *counting) snapshotWrites() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.okWrites)
}

func diffCalls(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func (c *counting) CreateUser(ctx context.Context, u core.User) (core.User, error) {
	c.saw("CreateUser")
	u, err := c.Store.CreateUser(ctx, u)
	c.wrote("CreateUser", err)
	return u, err
}

func (c *counting) GetUser(ctx context.Context, id string) (core.User, error) {
	c.saw("GetUser")
	return c.Store.GetUser(ctx, id)
}

func (c *counting) GetUserByEmail(ctx context.Context, email core.EmailKey) (core.User, error) {
	c.saw("GetUserByEmail")
	return c.Store.GetUserByEmail(ctx, email)
}

func (c *counting) UpdateUser(ctx context.Context, id string, p core.UserPatch) (core.User, error) {
	c.saw("UpdateUser")
	u, err := c.Store.UpdateUser(ctx, id, p)
	c.wrote("UpdateUser", err)
	return u, err
}

func (c *counting) ListUsers(ctx context.Context, after string, limit int) ([]core.User, bool, error) {
	c.saw("ListUsers")
	return c.Store.ListUsers(ctx, after, limit)
}

func (c *counting) CreateTask(ctx context.Context, t core.Task, limit int) error {
	c.saw("CreateTask")
	err := c.Store.CreateTask(ctx, t, limit)
	c.wrote("CreateTask", err)
	return err
}

func (c *counting) GetTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	c.saw("GetTask")
	return c.Store.GetTask(ctx, userID, taskID)
}

func (c *counting) UpdateTask(ctx context.Context, userID, taskID string, p core.TaskPatch) (core.Task, error) {
	c.saw("UpdateTask")
	t, err := c.Store.UpdateTask(ctx, userID, taskID, p)
	c.wrote("UpdateTask", err)
	return t, err
}

func (c *counting) DeleteTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	c.saw("DeleteTask")
	t, err := c.Store.DeleteTask(ctx, userID, taskID)
	c.wrote("DeleteTask", err)
	return t, err
}

func (c *counting) ListTasks(ctx context.Context, userID string, q core.TaskQuery) ([]core.Task, bool, error) {
	c.saw("ListTasks")
	return c.Store.ListTasks(ctx, userID, q)
}

func (c *counting) TaskStats(ctx context.Context, userID string) (core.TaskStats, error) {
	c.saw("TaskStats")
	return c.Store.TaskStats(ctx, userID)
}

// ---- the environment: the service and its one handler on loopback ----

type env struct {
	stores
	store   *counting // the served store, counted
	svc     *core.Service
	handler http.Handler
	url     string // base URL of the handler on a loopback listener
	client  *http.Client
	logs    *testenv.SyncBuffer // every log line (JSON, debug level, secrets masked as in production)
	metrics *metrics.Metrics    // nil without withMetrics
	spans   *tracetest.InMemoryExporter
}

type envConfig struct {
	hash          *argon2id.Params // nil: cheapHash
	pepper        string
	introspection bool
	now           func() time.Time // the token clock (nil: time.Now)
	wrap          func(core.Store) core.Store
	limits        *core.Limits // nil: limits no test reaches
	metrics       bool         // wire internal/metrics in as cmd/taskapi does with METRICS_ADDR
	local         *ratelimit.Local
	apq           graphql.Cache[string]
	events        core.EventBus // nil: the service's own (in process)
	spans         *tracetest.InMemoryExporter
	// internalOK: the test provokes internal errors; otherwise any logged
	// internal error or panic fails it (a client mistake must never be one).
	internalOK bool
}

type option func(*envConfig)

func withHash(p *argon2id.Params) option { return func(c *envConfig) { c.hash = p } }
func withPepper(p string) option         { return func(c *envConfig) { c.pepper = p } }
func withIntrospection(on bool) option   { return func(c *envConfig) { c.introspection = on } }
func withTokenClock(now func() time.Time) option {
	return func(c *envConfig) { c.now = now }
}
func withWrap(w func(core.Store) core.Store) option { return func(c *envConfig) { c.wrap = w } }
func withInternalErrors() option                    { return func(c *envConfig) { c.internalOK = true } }
func withLimits(l core.Limits) option               { return func(c *envConfig) { c.limits = &l } }
func withEvents(b core.EventBus) option             { return func(c *envConfig) { c.events = b } }
func withMetrics() option                           { return func(c *envConfig) { c.metrics = true } }

// withSpans traces every request into spans, as an OTLP exporter would
// receive them (the SDK's in-memory exporter, synchronous).
func withSpans(spans *tracetest.InMemoryExporter) option {
	return func(c *envConfig) { c.spans = spans }
}

// newEnv builds what cmd/taskapi builds: the service over st and
// server.New's handler, served on a loopback port, with rate limits (by
// default, limits no test reaches) counted in process, or with Redis in
// Redis (the in-process counts as its fallback), and with Redis the
// persisted-query cache in Redis too, as in production.
func newEnv(t testing.TB, st stores, opts ...option) *env {
	t.Helper()
	var cfg envConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.hash == nil {
		cfg.hash = cheapHash
	}
	logs := &testenv.SyncBuffer{}
	log := logging.New(logs, "json", "debug")
	if cfg.limits == nil {
		huge := core.Rate{N: 1 << 20, Per: time.Minute}
		cfg.limits = &core.Limits{LoginAddress: huge, LoginAccount: huge, LoginEmail: huge, Register: huge, RegisterAll: huge, Writes: huge}
	}
	cfg.local = ratelimit.NewLocal(0)
	var (
		m       *metrics.Metrics
		obs     cache.Observer
		coreObs core.Observer
		reqObs  server.RequestObserver
	)
	if cfg.metrics {
		m = metrics.New()
		obs, coreObs, reqObs = m, m, m
	}
	var counter core.RateCounter = cfg.local
	if st.rdb != nil {
		counter = cache.NewRateCounter(st.rdb, cache.LimiterOptions{
			Namespace:  "hardening-limiter:" + randomHex(t, 4),
			Fallback:   cfg.local,
			Resilience: cache.Resilience{Logger: log, Observer: obs},
		})
		cfg.apq = cache.NewAPQ(st.rdb, cache.APQOptions{Namespace: "hardening-apq:" + randomHex(t, 4), TTL: time.Hour, Logger: log})
	}
	served := st.served
	var (
		tp       trace.TracerProvider
		httpOpts *tracing.HTTPOptions
	)
	if cfg.spans != nil {
		p := sdktrace.NewTracerProvider(sdktrace.WithSyncer(cfg.spans))
		t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
		tp = p
		httpOpts = &tracing.HTTPOptions{Provider: p, Propagator: propagation.TraceContext{}}
		served = tracing.Store(served, tp)
	}
	if m != nil {
		served = metrics.Store(served, m)
	}
	if cfg.wrap != nil {
		served = cfg.wrap(served)
	}
	counted := newCounting(served)
	svc := core.NewService(core.Config{
		Store:        counted,
		Hasher:       core.NewHasher(cfg.pepper, cfg.hash, 0),
		Tokens:       core.NewTokens(jwtSecret, time.Hour, cfg.now),
		CursorSecret: cursorSecret,
		Limiter:      core.NewLimiter(counter, *cfg.limits),
		Logger:       log,
		Observer:     coreObs,
		Events:       cfg.events,
		Authenticated: func() func(context.Context, string) {
			if tp == nil {
				return nil
			}
			return tracing.SetUser
		}(),
	})
	h := server.New(svc, server.Options{
		Logger:        log,
		CORSOrigins:   []string{"*"},
		Introspection: cfg.introspection,
		APQCache:      cfg.apq,
		HSTS:          true,
		Requests:      reqObs,
		Tracing:       httpOpts,
	})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	client := &http.Client{
		Timeout:   2 * time.Minute,
		Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute},
	}
	t.Cleanup(client.CloseIdleConnections)
	e := &env{stores: st, store: counted, svc: svc, handler: h, url: ts.URL, client: client, logs: logs, metrics: m, spans: cfg.spans}
	if !cfg.internalOK {
		t.Cleanup(func() {
			for _, bad := range []string{"internal error", "panic"} {
				if strings.Contains(logs.String(), bad) {
					t.Errorf("an internal error or panic was logged:\n%s", lastLines(logs.String(), 20))
					return
				}
			}
		})
	}
	return e
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// ---- requests ----

// reply is an HTTP answer, read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, truncate(string(r.body), 300)) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// request is what a client sends.
type request struct {
	method, path string
	token        string
	contentType  string // default application/json when there is a body
	body         []byte
	header       map[string]string
}

// send sends r and reads the answer; it is an error when the answer lacks
// a security header every answer of the handler carries.
func (e *env) send(ctx context.Context, r request) (reply, error) {
	var body io.Reader = http.NoBody
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, e.url+r.path, body)
	if err != nil {
		return reply{}, err
	}
	if r.body != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: read answer: %w", r.method, r.path, err)
	}
	rep := reply{status: resp.StatusCode, header: resp.Header, body: b}
	if p := headerProblem(r.method, r.path, rep); p != "" {
		return rep, fmt.Errorf("%s %s answered %d without a security header: %s", r.method, r.path, rep.status, p)
	}
	return rep, nil
}

// headerProblem names a security header missing from an answer of the
// handler (every answer, errors and panics included). Every answer has
// Cache-Control: no-store but the static files; the HTML pages have a CSP
// of their own (no inline script but by hash, no framing), every other
// answer one that allows nothing.
func headerProblem(method, path string, r reply) string {
	want := map[string]string{
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Referrer-Policy":            "no-referrer",
		"Cross-Origin-Opener-Policy": "same-origin",
		"Strict-Transport-Security":  "max-age=63072000; includeSubDomains",
		"Content-Security-Policy":    "default-src 'none'; frame-ancestors 'none'",
		"Cache-Control":              "no-store",
	}
	p, _, _ := strings.Cut(path, "?")
	var missing []string
	if method == http.MethodGet && (p == "/" || p == "/playground" || p == "/docs") && r.status == http.StatusOK {
		csp := r.header.Get("Content-Security-Policy")
		if !strings.HasPrefix(csp, "default-src 'none'; script-src 'self'") || strings.Contains(csp, "unsafe") || !strings.HasSuffix(csp, "frame-ancestors 'none'") {
			missing = append(missing, fmt.Sprintf("page Content-Security-Policy=%q", csp))
		}
		delete(want, "Content-Security-Policy")
	}
	if strings.HasPrefix(p, "/static/") && r.status == http.StatusOK {
		delete(want, "Cache-Control")
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			missing = append(missing, fmt.Sprintf("%s=%q (want %q)", k, got, v))
		}
	}
	if r.header.Get("X-Request-ID") == "" {
		missing = append(missing, "X-Request-ID")
	}
	slices.Sort(missing)
	return strings.Join(missing, ", ")
}

// do is send for a test goroutine: any transport failure fails t.
func (e *env) do(t testing.TB, r request) reply {
	t.Helper()
	rep, err := e.send(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// rest sends a JSON body (a string or []byte as is, anything else
// marshalled; nil for none).
func (e *env) rest(t testing.TB, method, path, token string, body any) reply {
	t.Helper()
	return e.do(t, request{method: method, path: path, token: token, body: jsonBody(t, body)})
}

func jsonBody(t testing.TB, body any) []byte {
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return []byte(b)
	case []byte:
		return b
	}
	out, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// gqlError is one entry of a GraphQL answer's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e gqlError) code() string { s, _ := e.Extensions["code"].(string); return s }

// gqlReply is a decoded GraphQL answer.
type gqlReply struct {
	reply
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

func (r gqlReply) codes() []string {
	out := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		out[i] = e.code()
	}
	return out
}

// ok reports whether the operation ran without any error.
func (r gqlReply) ok() bool {
	return r.status == http.StatusOK && len(r.Errors) == 0 && len(r.Data) > 0
}

type vars = map[string]any

// sendGQL posts a GraphQL operation.
func (e *env) sendGQL(ctx context.Context, token, query string, v vars) (gqlReply, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": v})
	if err != nil {
		return gqlReply{}, err
	}
	rep, err := e.send(ctx, request{method: http.MethodPost, path: "/graphql", token: token, body: body})
	if err != nil {
		return gqlReply{reply: rep}, err
	}
	return decodeGQL(rep)
}

func decodeGQL(rep reply) (gqlReply, error) {
	r := gqlReply{reply: rep}
	if err := json.Unmarshal(rep.body, &r); err != nil {
		return r, fmt.Errorf("GraphQL answer is not JSON: %v: %s", err, rep)
	}
	return r, nil
}

func (e *env) gql(t testing.TB, token, query string, v vars) gqlReply {
	t.Helper()
	r, err := e.sendGQL(t.Context(), token, query, v)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantCode fails t unless r's only error has code.
func wantCode(t testing.TB, r gqlReply, code string) {
	t.Helper()
	if len(r.Errors) != 1 || r.Errors[0].code() != code {
		t.Fatalf("want one %s error, got %s", code, r)
	}
}

// ---- accounts ----

type account struct {
	ID, Email, Token string
}

var emailSeq atomic.Int64

func uniqueEmail(name string) string {
	return fmt.Sprintf("%s-%d-%d@example.com", name, os.Getpid(), emailSeq.Add(1))
}

// mustUser registers and logs in a user through the service.
func (e *env) mustUser(t testing.TB, name string) account {
	t.Helper()
	return e.mustUserEmail(t, name, uniqueEmail(name))
}

func (e *env) mustUserEmail(t testing.TB, name, email string) account {
	t.Helper()
	u, err := e.svc.Register(context.Background(), core.RegisterInput{Username: name, Email: email, Password: password})
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return e.mustLogin(t, u.ID, email)
}

// mustAdmin creates an admin as the operator's command does, and logs in.
func (e *env) mustAdmin(t testing.TB) account {
	t.Helper()
	return e.mustAdminEmail(t, uniqueEmail("root"))
}

func (e *env) mustAdminEmail(t testing.TB, email string) account {
	t.Helper()
	u, _, err := e.svc.CreateAdmin(context.Background(), email, password, "root")
	if err != nil {
		t.Fatalf("create admin: %v", err)
	}
	return e.mustLogin(t, u.ID, email)
}

func (e *env) mustLogin(t testing.TB, id, email string) account {
	t.Helper()
	p, err := e.svc.Login(context.Background(), email, password)
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return account{ID: id, Email: email, Token: p.AccessToken}
}

func (a account) ctx() context.Context { return core.WithRequest(context.Background(), a.Token, "") }

func (e *env) mustTask(t testing.TB, a account, title string) core.Task {
	t.Helper()
	task, err := e.svc.CreateTask(a.ctx(), core.CreateTaskInput{Title: title, Description: "belongs to " + a.Email})
	if err != nil {
		t.Fatalf("create task: %v", err)
	}
	return task
}

// ---- the state of a store ----

// snapshot is everything st holds, as one string: every user (password
// hash included) with their stats and tasks.
func snapshot(t testing.TB, st core.Store) string {
	t.Helper()
	ctx := context.Background()
	type userState struct {
		User  core.User
		Stats core.TaskStats
		Tasks []core.Task
	}
	var all []userState
	for after := ""; ; {
		users, more, err := st.ListUsers(ctx, after, 100)
		if err != nil {
			t.Fatalf("snapshot: ListUsers: %v", err)
		}
		for _, u := range users {
			tasks, err := allTasks(ctx, st, u.ID)
			if err != nil {
				t.Fatalf("snapshot: ListTasks: %v", err)
			}
			stats, err := st.TaskStats(ctx, u.ID)
			if err != nil {
				t.Fatalf("snapshot: TaskStats: %v", err)
			}
			all = append(all, userState{u, stats, tasks})
		}
		if !more || len(users) == 0 {
			break
		}
		after = users[len(users)-1].ID
	}
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// allTasks reads every task of userID straight from st.
func allTasks(ctx context.Context, st core.Store, userID string) ([]core.Task, error) {
	var all []core.Task
	for after := ""; ; {
		page, more, err := st.ListTasks(ctx, userID, core.TaskQuery{After: after, Limit: 200})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if !more || len(page) == 0 {
			return all, nil
		}
		after = page[len(page)-1].ID
	}
}

// recount counts tasks by status.
func recount(tasks []core.Task) core.TaskStats {
	var s core.TaskStats
	for _, t := range tasks {
		s = s.Add(t.Status, 1)
	}
	return s
}

// ---- tokens an attacker can make ----

// signJWT signs claims with method and key (golang-jwt, as an attacker
// with a library would).
func signJWT(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

// rawJWT assembles a token from a header, claims and a signature of the
// attacker's choosing.
func rawJWT(header, claims map[string]any, sig []byte) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(header) + "." + enc(claims) + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// validClaims are the claims of a token taskapi would issue for sub now.
func validClaims(sub string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"sub": sub, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// errorsJoin joins the first errors of a list, for a failure message.
func errorsJoin(errs []error, n int) error {
	if len(errs) > n {
		errs = append(errs[:n:n], fmt.Errorf("… and %d more", len(errs)-n))
	}
	return errors.Join(errs...)
}

// sseFirst runs a subscription over Server-Sent Events (graphql-sse's
// distinct connections mode) and returns its first event, as a GraphQL
// answer; the stream must end within 5 s (a refused subscription does at
// once).
func (e *env) sseFirst(t testing.TB, token, query string, v vars) gqlReply {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": v})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	rep, err := e.send(ctx, request{method: http.MethodPost, path: "/graphql", token: token, body: body, header: map[string]string{"Accept": "text/event-stream"}})
	if err != nil {
		t.Fatalf("subscription over SSE: %v", err)
	}
	for _, line := range strings.Split(string(rep.body), "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok && strings.HasPrefix(data, "{") {
			g, err := decodeGQL(reply{status: rep.status, header: rep.header, body: []byte(data)})
			if err != nil {
				t.Fatal(err)
			}
			return g
		}
	}
	t.Fatalf("no event in the stream: %s", rep)
	return gqlReply{}
}
