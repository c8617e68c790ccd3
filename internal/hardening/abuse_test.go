package hardening_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskapi/taskapi/server"
)

// abuse is one request built to cost the server as much as possible.
type abuse struct {
	name    string
	token   string // "admin", "user" or "" (none)
	req     func() request
	chunked bool // send the body without Content-Length
	status  int
	code    string // GraphQL: the only error's extensions.code
	detail  string // REST: the start of the body
	// reads the store may serve (authenticating the caller); anything
	// else, and any write, means the request was not refused cheaply.
	reads []string
}

func gqlBody(query string, v vars) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": v})
	return b
}

func gqlReq(query string, v vars) func() request {
	return func() request { return request{method: http.MethodPost, path: "/graphql", body: gqlBody(query, v)} }
}

func repeatOp(n int, op func(i int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(op(i))
		b.WriteByte(' ')
	}
	return b.String()
}

// abuses are the costly requests a client can send; each must be refused
// before it reaches the store (or, for a huge field, right after
// authenticating), quickly, and change nothing.
func abuses() []abuse {
	const mib = 1 << 20
	deepSelection := func(n int) string { return "{ " + strings.Repeat("me { ", n) + "id " + strings.Repeat("} ", n+1) }
	deepJSON := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	fragmentBomb := func() string {
		var b strings.Builder
		b.WriteString("query { ...F0 }\n")
		for i := range 40 {
			fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
		}
		b.WriteString("fragment F40 on Query { me { id } }\n")
		return b.String()
	}
	batch := func() request {
		ops := make([]map[string]string, 100)
		for i := range ops {
			ops[i] = map[string]string{"query": "{ me { id } }"}
		}
		b, _ := json.Marshal(ops)
		return request{method: http.MethodPost, path: "/graphql", body: b}
	}
	bigGQL := func() request {
		return request{method: http.MethodPost, path: "/graphql", body: gqlBody(`mutation($t: String!) { createTask(input: {title: $t}) { id } }`, vars{"t": strings.Repeat("a", 2*mib)})}
	}
	bigREST := func() request {
		b, _ := json.Marshal(vars{"username": "u", "email": "big@example.com", "password": strings.Repeat("a!", mib)})
		return request{method: http.MethodPost, path: "/api/v1/auth/register", body: b}
	}
	restJSON := func(path string, body any) func() request {
		return func() request {
			b, ok := body.([]byte)
			if !ok {
				b, _ = json.Marshal(body)
			}
			return request{method: http.MethodPost, path: path, body: b}
		}
	}
	auth := []string{"GetUser"}
	return []abuse{
		{name: "GraphQL/DeepSelection", token: "user", req: gqlReq(deepSelection(200), nil), status: 400, code: "DEPTH_LIMIT_EXCEEDED"},
		{name: "GraphQL/DeeperThanTheParserAllows", token: "user", req: gqlReq(deepSelection(3000), nil), status: 400, code: "GRAPHQL_PARSE_FAILED"},
		{name: "GraphQL/ComplexityUsersWithStats", token: "admin",
			req: gqlReq(`{ users(first: 100) { edges { node { id stats { pending ongoing complete total } } } pageInfo { hasNextPage } } }`, nil), status: 400, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "GraphQL/AliasFlood", token: "user",
			req: gqlReq("{ "+repeatOp(1000, func(i int) string { return fmt.Sprintf("a%d: me { id }", i) })+"}", nil), status: 400, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "GraphQL/FreeFieldAliasFlood", token: "user",
			req: gqlReq("{ "+repeatOp(3000, func(i int) string { return fmt.Sprintf("a%d: __typename", i) })+"}", nil), status: 400, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "GraphQL/TokenFlood", token: "user",
			req: gqlReq("{ "+strings.Repeat("__typename ", 20_000)+"}", nil), status: 400, code: "GRAPHQL_PARSE_FAILED"},
		{name: "GraphQL/LoginAliasFlood", req: gqlReq("mutation { "+repeatOp(50, func(i int) string {
			return fmt.Sprintf(`l%d: login(email: "victim@example.com", password: "guess%d!") { accessToken }`, i, i)
		})+"}", nil), status: 400, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "GraphQL/RegisterAliasFlood", req: gqlReq("mutation { "+repeatOp(20, func(i int) string {
			return fmt.Sprintf(`r%d: register(input: {username: "bot", email: "bot%d@example.com", password: "b0t!pass"}) { id }`, i, i)
		})+"}", nil), status: 400, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "GraphQL/CreateTaskAliasFlood", token: "user", req: gqlReq("mutation { "+repeatOp(500, func(i int) string {
			return fmt.Sprintf(`c%d: createTask(input: {title: "spam"}) { id }`, i)
		})+"}", nil), status: 400, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "GraphQL/FragmentBomb", token: "user", req: gqlReq(fragmentBomb(), nil), status: 400, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "GraphQL/Batch", token: "user", req: batch, status: 400, code: "BAD_REQUEST"},
		{name: "GraphQL/HugeVariable", token: "user", reads: auth,
			req: gqlReq(`mutation($t: String!) { createTask(input: {title: $t}) { id } }`, vars{"t": strings.Repeat("a", 900_000)}), status: 200, code: "BAD_USER_INPUT"},
		{name: "GraphQL/DeeplyNestedVariables", token: "user", req: func() request {
			return request{method: http.MethodPost, path: "/graphql", body: []byte(`{"query":"mutation($in: CreateTaskInput!) { createTask(input: $in) { id } }","variables":{"in":` + deepJSON + `}}`)}
		}, status: 400, code: "BAD_REQUEST"},
		{name: "GraphQL/HugeInt", token: "user", reads: auth, req: gqlReq(`{ tasks(first: 99999999999999) { totalCount } }`, nil), status: 200, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "GraphQL/OversizedBody", token: "user", req: bigGQL, status: 413, code: "BAD_REQUEST"},
		{name: "GraphQL/OversizedBodyChunked", token: "user", req: bigGQL, chunked: true, status: 413, code: "BAD_REQUEST"},
		{name: "REST/OversizedBody", req: bigREST, status: 413, detail: `{"detail":"Request body too large"}`},
		{name: "REST/OversizedBodyChunked", req: bigREST, chunked: true, status: 413, detail: `{"detail":"Request body too large"}`},
		{name: "REST/DeeplyNestedJSON", req: restJSON("/api/v1/auth/register", []byte(deepJSON)), status: 422, detail: `{"detail":[{"type":"json_invalid"`},
		{name: "REST/HugeArray", req: restJSON("/api/v1/auth/register", []byte("["+strings.Repeat("0,", 400_000)+"0]")), status: 422, detail: `{"detail":[{"type":"model_attributes_type"`},
		{name: "REST/HugeTitle", token: "user", reads: auth, req: restJSON("/api/v1/tasks/create-task", vars{"title": strings.Repeat("a", 900_000)}), status: 422, detail: `{"detail":[{"type":"string_too_long"`},
		{name: "REST/HugePasswordAtLogin", req: restJSON("/api/v1/auth/login", vars{"email": "victim@example.com", "password": strings.Repeat("a!", 400_000)}), status: 401, detail: `{"detail":"Incorrect email or password"}`},
		{name: "REST/HugePasswordAtRegister", req: restJSON("/api/v1/auth/register", vars{"username": "u", "email": "u@example.com", "password": strings.Repeat("a!", 400_000)}), status: 422, detail: `{"detail":[{"type":"value_error"`},
	}
}

// TestQueryAbuseIsRefusedCheaply sends every abusive request of abuses()
// through the whole handler: each gets its clear client error, reads
// nothing from the store beyond authenticating the caller, writes nothing,
// hashes no password, and is answered quickly.
func TestQueryAbuseIsRefusedCheaply(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			tokens := map[string]string{"admin": e.mustAdmin(t).Token, "user": e.mustUser(t, "abuser").Token}
			before := snapshot(t, e.truth)
			var slowest time.Duration
			var slowestName string
			for _, a := range abuses() {
				t.Run(a.name, func(t *testing.T) {
					r := a.req()
					r.token = tokens[a.token]
					calls := e.store.snapshotCalls()
					start := time.Now()
					rep := e.sendAbuse(t, r, a.chunked)
					took := time.Since(start)
					if took > slowest {
						slowest, slowestName = took, a.name
					}
					if rep.status != a.status {
						t.Errorf("status %d, want %d: %s", rep.status, a.status, rep)
					}
					if a.code != "" {
						g, err := decodeGQL(rep)
						if err != nil || len(g.Errors) != 1 || g.Errors[0].code() != a.code || g.Errors[0].code() == "INTERNAL_SERVER_ERROR" {
							t.Errorf("want one %s error, got %s", a.code, rep)
						}
					}
					if a.detail != "" && !bytes.HasPrefix(rep.body, []byte(a.detail)) {
						t.Errorf("body %s, want it to start with %s", rep, a.detail)
					}
					got := diffCalls(calls, e.store.snapshotCalls())
					for _, op := range a.reads {
						delete(got, op)
					}
					if len(got) > 0 {
						t.Errorf("the refused request reached the store: %v", got)
					}
					// Generous: the point is "no work", proven by the store
					// calls; the bound only catches a pathological parser.
					if took > 5*time.Second {
						t.Errorf("took %v to refuse", took)
					}
				})
			}
			t.Logf("slowest refusal: %s, %v", slowestName, slowest)
			if after := snapshot(t, e.truth); after != before {
				t.Fatalf("abusive requests changed the store")
			}
		})
	}
}

// sendAbuse sends r, with its body streamed without Content-Length when
// chunked. A server that refuses a large body may close the connection
// before the client has sent it all; the answer still counts.
func (e *env) sendAbuse(t testing.TB, r request, chunked bool) reply {
	t.Helper()
	var body io.Reader = bytes.NewReader(r.body)
	if chunked {
		body = io.MultiReader(bytes.NewReader(r.body)) // hides the length
	}
	req, err := http.NewRequestWithContext(t.Context(), r.method, e.url+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	rep := reply{status: resp.StatusCode, header: resp.Header, body: b}
	if p := headerProblem(r.method, r.path, rep); p != "" {
		t.Errorf("answer without security headers: %s", p)
	}
	return rep
}

// TestIntrospectionIsConfigurable: with introspection off (the default
// outside development) the schema cannot be read, nor guessed from "did you
// mean" suggestions of fields, arguments, enum values, types or input
// fields; with it on, the playground's introspection query works.
func TestIntrospectionIsConfigurable(t *testing.T) {
	queries := []string{
		`{ __schema { types { name } } }`,
		`{ __type(name: "User") { fields { name } } }`,
		`{ me { id } ...F } fragment F on Query { __schema { queryType { name } } }`,
	}
	t.Run("Off", func(t *testing.T) {
		e := newEnv(t, openEmbedded(t), withIntrospection(false))
		u := e.mustUser(t, "curious")
		for _, q := range queries {
			wantCode(t, e.gql(t, u.Token, q, nil), "GRAPHQL_VALIDATION_FAILED")
			get := e.do(t, request{method: http.MethodGet, path: "/graphql?query=" + url.QueryEscape(q), token: u.Token})
			if g, err := decodeGQL(get); err != nil || len(g.Errors) != 1 || g.Errors[0].code() != "GRAPHQL_VALIDATION_FAILED" {
				t.Fatalf("GET %s: %s", q, get)
			}
		}
		// Misspelled fields, arguments, enum values, types and input
		// fields: no error names what the schema has.
		for _, q := range []string{
			`{ mee { id } taks { totalCount } }`,
			`{ tasks(stauts: PENDING, frist: 1) { totalCount } }`,
			`{ tasks(status: PENDIN) { totalCount } }`,
			`query($s: TaskStatu) { tasks(status: $s) { totalCount } }`,
			`mutation { createTask(input: {titel: "x"}) { id } }`,
			`{ me }`,
		} {
			r := e.gql(t, u.Token, q, nil)
			if len(r.Errors) == 0 || strings.Contains(string(r.body), "Did you mean") || strings.Contains(string(r.body), `"me"`) ||
				strings.Contains(string(r.body), "PENDING") || strings.Contains(string(r.body), `"title"`) {
				t.Fatalf("%s: the error suggests the schema: %s", q, r)
			}
		}
	})
	t.Run("On", func(t *testing.T) {
		e := newEnv(t, openEmbedded(t), withIntrospection(true))
		for _, q := range queries[:2] {
			if r := e.gql(t, "", q, nil); !r.ok() {
				t.Fatalf("%s: %s", q, r)
			}
		}
		// Deep introspection stays bounded even when it is on.
		deep := `{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }`
		wantCode(t, e.gql(t, "", deep, nil), "GRAPHQL_VALIDATION_FAILED")
	})
}

// slowServer serves e's handler through server.NewHTTPServer, as
// cmd/taskapi does, with short timeouts so tests can reach them.
func slowServer(t testing.TB, e *env, to server.Timeouts) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.NewHTTPServer(ln.Addr().String(), e.handler, to, nil)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// closedWithin reads c until the server closes it; the time it took, and
// what it answered before closing.
func closedWithin(c net.Conn, limit time.Duration) (time.Duration, string, error) {
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(limit))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return time.Since(start), string(b), fmt.Errorf("still open after %v", limit)
	}
	return time.Since(start), string(b), nil
}

// TestSlowClientsAreCutOff drives a real TCP server built by
// server.NewHTTPServer: clients that dribble headers (slowloris) or a body,
// or send oversized headers, are cut off at the configured limits while
// everyone else is served.
func TestSlowClientsAreCutOff(t *testing.T) {
	e := newEnv(t, openEmbedded(t))
	to := server.Timeouts{ReadHeader: 300 * time.Millisecond, Read: 800 * time.Millisecond, Write: 5 * time.Second, Idle: 500 * time.Millisecond, MaxHeaderBytes: 8 << 10}
	addr := slowServer(t, e, to)
	dial := func(t *testing.T) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}

	t.Run("Slowloris/CutAtReadHeaderTimeout", func(t *testing.T) {
		const n = 50
		var wg sync.WaitGroup
		errs := make(chan error, n)
		stop := make(chan struct{})
		for i := range n {
			c := dial(t)
			wg.Go(func() {
				_, _ = fmt.Fprintf(c, "POST /api/v1/auth/login HTTP/1.1\r\nHost: taskapi\r\n")
				go func() { // one header byte every 50 ms, never the end of the headers
					for j := 0; ; j++ {
						select {
						case <-stop:
							return
						case <-time.After(50 * time.Millisecond):
						}
						if _, err := fmt.Fprintf(c, "X-%d-%d: y\r\n", i, j); err != nil {
							return
						}
					}
				}()
				took, _, err := closedWithin(c, 5*time.Second)
				if err != nil {
					errs <- err
				} else if took > 3*time.Second {
					errs <- fmt.Errorf("cut off after %v", took)
				}
			})
		}
		// Meanwhile, an ordinary client is served at once.
		time.Sleep(100 * time.Millisecond)
		start := time.Now()
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("an ordinary client was not served during the attack: %v", err)
		}
		resp.Body.Close()
		if d := time.Since(start); resp.StatusCode != http.StatusOK || d > 2*time.Second {
			t.Errorf("healthz during the attack: %d after %v", resp.StatusCode, d)
		}
		wg.Wait()
		close(stop)
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	t.Run("SlowBody/CutAtReadTimeout", func(t *testing.T) {
		writes := e.store.writes.Load()
		c := dial(t)
		body := `{"username":"slow","email":"slow@example.com","password":"` + password + `"}`
		_, _ = fmt.Fprintf(c, "POST /api/v1/auth/register HTTP/1.1\r\nHost: taskapi\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
		took, answer, err := closedWithin(c, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if took > 3*time.Second {
			t.Errorf("cut off after %v", took)
		}
		if answer != "" && !strings.HasPrefix(answer, "HTTP/1.1 400") {
			t.Errorf("answered %q", answer)
		}
		if e.store.writes.Load() != writes {
			t.Error("a request cut off mid-body wrote to the store")
		}
		if _, err := e.truth.GetUserByEmail(t.Context(), "slow@example.com"); err == nil {
			t.Error("the slow client's user was created")
		}
	})

	t.Run("OversizedHeaders/431", func(t *testing.T) {
		c := dial(t)
		_, _ = fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: taskapi\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 64<<10))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", resp.StatusCode)
		}
	})

	t.Run("IdleKeepAlive/CutAtIdleTimeout", func(t *testing.T) {
		c := dial(t)
		_, _ = fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: taskapi\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		start := time.Now()
		_ = c.SetReadDeadline(start.Add(5 * time.Second))
		if _, err := br.ReadByte(); err == nil || time.Since(start) > 3*time.Second {
			t.Fatalf("idle connection still open after %v (%v)", time.Since(start), err)
		}
	})
}

// TestAbuseListIsComplete keeps abuses() honest: every abuse has a unique
// name and an expected outcome.
func TestAbuseListIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range abuses() {
		if seen[a.name] || a.status == 0 || (a.code == "" && a.detail == "") {
			t.Errorf("abuse %q: duplicate or without an expected answer", a.name)
		}
		seen[a.name] = true
	}
	if n := len(slices.Collect(maps.Keys(seen))); n < 20 {
		t.Errorf("%d abuses", n)
	}
}
