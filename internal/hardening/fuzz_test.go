package hardening_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/httpauth"
)

// The fuzz targets drive server.New's handler in process (no socket, so
// thousands of inputs a second) over the embedded store, with fixtures
// built the same way every time: users VAH1 (admin, root@fuzz.test), VAH2
// (user@fuzz.test), VAH3 (other@fuzz.test) and VAH4 (deactivated,
// leaver@fuzz.test), all with the password "s3cret!pw", tasks with fixed
// ids, and tokens issued on a fixed
// clock, so the committed seed corpora (testdata/fuzz/<FuzzName>/) hold
// valid tokens. scripts/fuzz.sh runs each target for $FUZZTIME; plain
// go test runs the seeds.
//
// Every target checks the same invariants: no panic, no 5xx, no
// INTERNAL_SERVER_ERROR, the security headers on every answer, no password
// hash in any answer, and no write by a refused request.

// fuzzNow is the token clock of the fuzz fixtures.
var fuzzNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// fixtures are the fuzz targets' accounts and tasks.
type fixtures struct {
	e                       *env
	admin, user, other, off account
	ownTask, otherTask      core.Task
	tokens                  *core.Tokens
}

func newFixtures(f testing.TB) *fixtures {
	f.Helper()
	e := newEnv(f, openEmbedded(f), withTokenClock(func() time.Time { return fuzzNow }))
	fx := &fixtures{e: e, tokens: core.NewTokens(jwtSecret, time.Hour, func() time.Time { return fuzzNow })}
	fx.admin = e.mustAdminEmail(f, "root@fuzz.test")
	fx.user = e.mustUserEmail(f, "user", "user@fuzz.test")
	fx.other = e.mustUserEmail(f, "other", "other@fuzz.test")
	fx.off = e.mustUserEmail(f, "leaver", "leaver@fuzz.test")
	inactive := core.ActivationInactive
	if _, err := e.svc.UpdateUser(fx.admin.ctx(), fx.off.ID, core.UpdateUserInput{ActivationStatus: &inactive}); err != nil {
		f.Fatal(err)
	}
	if got := []string{fx.admin.ID, fx.user.ID, fx.other.ID, fx.off.ID}; !slices.Equal(got, []string{"VAH1", "VAH2", "VAH3", "VAH4"}) {
		f.Fatalf("fixture ids %v: the seed corpora expect VAH1..VAH4", got)
	}
	// The corpora hold tokens: the same in every process, so without a
	// session (whose id is random). The service accepts them as it accepts
	// the legacy app's (core/session.go).
	for _, a := range []*account{&fx.admin, &fx.user, &fx.other, &fx.off} {
		tok, err := fx.tokens.Issue(a.ID, "")
		if err != nil {
			f.Fatal(err)
		}
		a.Token = tok
	}
	fx.ownTask = fx.task(f, fx.user, 1, "mine", core.StatusPending)
	fx.otherTask = fx.task(f, fx.other, 2, "theirs", core.StatusPending)
	return fx
}

// task stores a task with id number n, the same in every process (the
// fuzzing engine's workers build their own fixtures), so cursors and seeds
// stay valid across them.
func (fx *fixtures) task(f testing.TB, owner account, n int, title string, st core.TaskStatus) core.Task {
	f.Helper()
	at := fuzzNow.Add(time.Duration(n) * time.Millisecond)
	t := core.Task{ID: fmt.Sprintf("01900000-0000-7000-8000-%012d", n), UserID: owner.ID, Title: core.Title(title), Status: st, CreatedAt: at, UpdatedAt: at}
	if err := fx.e.truth.CreateTask(context.Background(), t, 0); err != nil {
		f.Fatalf("create fixture task: %v", err)
	}
	return t
}

// token returns the token of caller k: none, the user, the admin, the
// deactivated user, or garbage.
func (fx *fixtures) token(k uint8) (string, bool) {
	switch k % 5 {
	case 1:
		return fx.user.Token, true
	case 2:
		return fx.admin.Token, true
	case 3:
		return fx.off.Token, false
	case 4:
		return "x.y.z", false
	}
	return "", false
}

// standing says whether caller k's token is an existing, active user's,
// and an admin's, as the store has it now: an earlier input of the same run
// may have changed the fixtures (an admin may promote, deactivate,
// reactivate or delete them), so who may do what is read, not assumed.
func (fx *fixtures) standing(k uint8) (valid, admin bool) {
	var a account
	switch k % 5 {
	case 1:
		a = fx.user
	case 2:
		a = fx.admin
	case 3:
		a = fx.off
	default:
		return false, false
	}
	u, err := fx.e.truth.GetUser(context.Background(), a.ID)
	if err != nil || u.Deleted() || !u.IsActive() {
		return false, false
	}
	return true, u.IsAdmin()
}

// serve runs r through the handler in process.
func (e *env) serve(t testing.TB, r request) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), r.method, "http://taskapi.test"+r.path, bytes.NewReader(r.body))
	if err != nil {
		t.Skipf("not a request: %v", err)
	}
	req.RemoteAddr = "192.0.2.7:4321"
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
		req.Header[http.CanonicalHeaderKey(k)] = []string{v}
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	rep := reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if p := headerProblem(r.method, r.path, rep); p != "" {
		t.Fatalf("%s %s answered %d without security headers: %s", r.method, r.path, rep.status, p)
	}
	return rep
}

// invariants checks what holds for every answer.
func invariants(t *testing.T, rep reply) {
	t.Helper()
	if rep.status >= 500 {
		t.Fatalf("server error: %s", rep)
	}
	if bytes.Contains(rep.body, []byte("$argon2id$")) || bytes.Contains(rep.body, jwtSecret) {
		t.Fatalf("an answer leaks a hash or a secret: %s", rep)
	}
	if rep.status/100 != 3 && !json.Valid(rep.body) {
		t.Fatalf("an answer is not JSON: %s", rep)
	}
	if bytes.Contains(rep.body, []byte(`"INTERNAL_SERVER_ERROR"`)) {
		t.Fatalf("internal error: %s", rep)
	}
}

// restRoutes are the REST shim's routes; {} is the fuzzed path parameter.
var restRoutes = []struct {
	method, path string
	public       bool
	admin        bool
}{
	{http.MethodPost, "/api/v1/auth/register", true, false},
	{http.MethodPost, "/api/v1/auth/login", true, false},
	{http.MethodGet, "/api/v1/auth/user", false, false},
	{http.MethodPost, "/api/v1/tasks/create-task", false, false},
	{http.MethodGet, "/api/v1/tasks/fetch-task", false, false},
	{http.MethodPut, "/api/v1/tasks/update-task/{}", false, false},
	{http.MethodPatch, "/api/v1/tasks/update-task/{}", false, false},
	{http.MethodDelete, "/api/v1/tasks/delete-task/{}", false, false},
	{http.MethodGet, "/api/v1/admin/users", false, true},
	{http.MethodPut, "/api/v1/admin/update-user/{}", false, true},
	{http.MethodPatch, "/api/v1/admin/update-user/{}", false, true},
}

// FuzzRESTRequest fuzzes REST request decoding and validation: the route,
// its path parameter, the Content-Type, the body and the caller. Beyond
// the invariants: only a valid token reaches a protected route, only an
// admin an admin route, nobody another user's task, and a refused request
// writes nothing.
func FuzzRESTRequest(f *testing.F) {
	fx := newFixtures(f)
	for i, body := range []string{
		`{"username":"neo","email":"neo@example.com","password":"s3cret!pw"}`,
		`{"email":"user@fuzz.test","password":"s3cret!pw"}`,
		``,
		`{"title":"t","description":"d"}`,
		``,
		`{"status":"complete"}`,
		`{"status":"ongoing"}`,
		``,
		``,
		`{"username":"u","email":"x@example.com","password":"n3w!pass","activation_status":"inactive","role":"admin"}`,
		`{"activation_status":"active"}`,
	} {
		f.Add(uint8(i), "$own", "application/json", []byte(body), uint8(1))
		f.Add(uint8(i), "$other", "application/json", []byte(body), uint8(2))
	}
	f.Fuzz(func(t *testing.T, route uint8, target, contentType string, body []byte, who uint8) {
		rt := restRoutes[int(route)%len(restRoutes)]
		switch target {
		case "$own":
			target = fx.ownTask.ID
		case "$other":
			target = fx.otherTask.ID
		case "$self":
			target = fx.user.ID
		case "$victim":
			target = fx.other.ID
		}
		path := strings.Replace(rt.path, "{}", url.PathEscape(target), 1)
		token, _ := fx.token(who)
		valid, isAdmin := fx.standing(who)
		writes := fx.e.store.snapshotWrites()
		rep := fx.e.serve(t, request{method: rt.method, path: path, token: token, contentType: contentType, body: body})
		invariants(t, rep)
		wrote := diffCalls(writes, fx.e.store.snapshotWrites())
		ok := rep.status/100 == 2
		switch {
		case !ok && len(wrote) > 0:
			t.Fatalf("refused (%s) but wrote %v", rep, wrote)
		case ok && !rt.public && !valid:
			t.Fatalf("%s %s without a valid token answered %s", rt.method, path, rep)
		case ok && rt.admin && !isAdmin:
			t.Fatalf("%s %s as a non-admin answered %s", rt.method, path, rep)
		case ok && strings.Contains(rt.path, "task/") && target == fx.otherTask.ID && who%5 != 0:
			t.Fatalf("%s on someone else's task answered %s", rt.method, rep)
		case ok && rt.path == "/api/v1/auth/register" && wrote["CreateUser"] != 1:
			t.Fatalf("registered without storing a user: %s", rep)
		}
		if rt.path == "/api/v1/auth/register" && ok && !isAdmin && bytes.Contains(rep.body, []byte(`"role":"admin"`)) {
			t.Fatalf("registered an admin without an admin's token: %s", rep)
		}
	})
}

// FuzzGraphQLRequest fuzzes whole GraphQL requests (the query, the
// variables and the caller) through the handler. Beyond the invariants: a
// refused request writes nothing, only a valid token writes tasks, and
// only an admin changes users.
func FuzzGraphQLRequest(f *testing.F) {
	fx := newFixtures(f)
	seeds := []struct {
		q string
		v string
	}{
		{`{ me { id username email role activationStatus createdAt stats { pending ongoing complete total } } }`, ``},
		{`query($s: TaskStatus, $f: Int, $a: String) { tasks(status: $s, first: $f, after: $a) { edges { cursor node { id title description status createdAt updatedAt } } pageInfo { hasNextPage endCursor } totalCount } }`, `{"s":"PENDING","f":2}`},
		{`query($id: ID!) { task(id: $id) { id title } }`, `{"id":"` + fx.ownTask.ID + `"}`},
		{`query($id: ID!) { task(id: $id) { id title } }`, `{"id":"` + fx.otherTask.ID + `"}`},
		{`mutation($in: RegisterInput!) { register(input: $in) { id role } }`, `{"in":{"username":"neo","email":"neo@example.com","password":"s3cret!pw","role":"USER"}}`},
		{`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken tokenType expiresIn user { id } } }`, `{"e":"user@fuzz.test","p":"s3cret!pw"}`},
		{`mutation($in: CreateTaskInput!) { createTask(input: $in) { id status } }`, `{"in":{"title":"t","description":"d"}}`},
		{`mutation($id: ID!, $in: UpdateTaskInput!) { updateTask(id: $id, input: $in) { id status title } }`, `{"id":"` + fx.ownTask.ID + `","in":{"status":"COMPLETE","title":"x"}}`},
		{`mutation($id: ID!) { deleteTask(id: $id) }`, `{"id":"` + fx.otherTask.ID + `"}`},
		{`query($f: Int, $a: String) { users(first: $f, after: $a) { edges { node { id email stats { total } } } pageInfo { hasNextPage endCursor } } }`, `{"f":2}`},
		{`query($id: ID!) { user(id: $id) { id email } }`, `{"id":"VAH3"}`},
		{`mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { id role activationStatus } }`, `{"id":"VAH3","in":{"role":"ADMIN","activationStatus":"INACTIVE","password":"n3w!pass"}}`},
		{`query Q { a: me { id } ...F } fragment F on Query { b: tasks(first: 1) { totalCount } }`, `{}`},
		{`{ __typename __schema { types { name } } }`, ``},
	}
	for i, s := range seeds {
		f.Add(s.q, []byte(s.v), uint8(1+i%2))
	}
	f.Fuzz(func(t *testing.T, query string, variables []byte, who uint8) {
		body := map[string]any{"query": query}
		if len(variables) > 0 && json.Valid(variables) {
			body["variables"] = json.RawMessage(variables)
		}
		b, err := json.Marshal(body)
		if err != nil {
			t.Skip() // not UTF-8 enough to marshal: not a request a client can send
		}
		token, _ := fx.token(who)
		valid, isAdmin := fx.standing(who)
		writes := fx.e.store.snapshotWrites()
		rep := fx.e.serve(t, request{method: http.MethodPost, path: "/graphql", token: token, body: b})
		invariants(t, rep)
		wrote := diffCalls(writes, fx.e.store.snapshotWrites())
		g, err := decodeGQL(rep)
		if err != nil {
			t.Fatal(err)
		}
		// Refused before execution: 4xx and no data at all. (An executed
		// operation may answer data null with some of its mutations done:
		// a failed non-null field nulls its parent, as GraphQL specifies.)
		refused := rep.status >= 400 || len(g.Data) == 0
		switch {
		case refused && len(wrote) > 0:
			t.Fatalf("refused (%s) but wrote %v", rep, wrote)
		case !valid && (wrote["CreateTask"]+wrote["UpdateTask"]+wrote["DeleteTask"]+wrote["UpdateUser"]) > 0:
			t.Fatalf("wrote %v without a valid token: %s", wrote, rep)
		case !isAdmin && wrote["UpdateUser"] > 0:
			t.Fatalf("a non-admin changed a user: %s", rep)
		}
	})
}

// cursorScope is a caller (0: the user, 1: the other user) and a status
// filter (0: none, then core.TaskStatuses).
type cursorScope struct{ caller, status int }

// cursorFixtures are the tasks FuzzCursor pages through: 13 of the user's
// in every status, 5 of the other user's.
type cursorFixtures struct {
	callers  []account
	statuses []*core.TaskStatus
	lists    map[cursorScope][]string        // task ids in order
	issued   map[cursorScope]map[string]bool // decoded cursors the service issued
	cursors  map[cursorScope][]string        // the same, as sent
}

func newCursorFixtures(tb testing.TB, fx *fixtures) *cursorFixtures {
	tb.Helper()
	for i := range 12 {
		fx.task(tb, fx.user, 100+i, fmt.Sprintf("u%d", i), core.TaskStatuses[i%3])
	}
	for i := range 4 {
		fx.task(tb, fx.other, 200+i, fmt.Sprintf("o%d", i), core.StatusPending)
	}
	cf := &cursorFixtures{
		callers:  []account{fx.user, fx.other},
		statuses: []*core.TaskStatus{nil},
		lists:    map[cursorScope][]string{},
		issued:   map[cursorScope]map[string]bool{},
		cursors:  map[cursorScope][]string{},
	}
	for _, st := range core.TaskStatuses {
		cf.statuses = append(cf.statuses, &st)
	}
	for ci, c := range cf.callers {
		for si, st := range cf.statuses {
			first := 100
			conn, err := fx.e.svc.ListTasks(c.ctx(), core.TaskListArgs{Status: st, First: &first})
			if err != nil {
				tb.Fatal(err)
			}
			sc := cursorScope{ci, si}
			cf.issued[sc] = map[string]bool{}
			for _, e := range conn.Edges {
				cf.lists[sc] = append(cf.lists[sc], e.Node.ID)
				raw, _ := base64.RawURLEncoding.DecodeString(e.Cursor)
				cf.issued[sc][string(raw)] = true
				cf.cursors[sc] = append(cf.cursors[sc], e.Cursor)
			}
		}
	}
	return cf
}

// FuzzCursor fuzzes the pagination cursor (with the page size, the status
// filter and the caller) of the tasks connection. A cursor is accepted
// only if the service issued it for this caller and this filter; then the
// page is the caller's tasks right after it, in order.
func FuzzCursor(f *testing.F) {
	fx := newFixtures(f)
	cf := newCursorFixtures(f, fx)
	for ci := range cf.callers {
		for si := range cf.statuses {
			for _, c := range cf.cursors[cursorScope{ci, si}] {
				// The cursor for its own scope, another filter, another user.
				f.Add(c, 3, uint8(si), uint8(ci))
				f.Add(c, 3, uint8((si+1)%4), uint8(ci))
				f.Add(c, 3, uint8(si), uint8(1-ci))
			}
		}
	}
	callers, statuses, lists, issued := cf.callers, cf.statuses, cf.lists, cf.issued
	const query = `query($after: String, $first: Int, $status: TaskStatus) {
		tasks(first: $first, after: $after, status: $status) { edges { cursor node { id status } } pageInfo { hasNextPage endCursor } totalCount } }`
	f.Fuzz(func(t *testing.T, after string, first int, status uint8, who uint8) {
		ci, si := int(who%2), int(status%5)
		v := vars{"after": after, "first": first}
		if si == 4 {
			v["status"] = "DONE"
		} else if statuses[si] != nil {
			v["status"] = strings.ToUpper(string(*statuses[si]))
		}
		b, err := json.Marshal(map[string]any{"query": query, "variables": v})
		if err != nil {
			t.Skip()
		}
		rep := fx.e.serve(t, request{method: http.MethodPost, path: "/graphql", token: callers[ci].Token, body: b})
		invariants(t, rep)
		g, err := decodeGQL(rep)
		if err != nil {
			t.Fatal(err)
		}
		if !g.ok() {
			if c := g.codes(); len(c) != 1 || !slices.Contains([]string{"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}, c[0]) {
				t.Fatalf("refused with %v: %s", c, rep)
			}
			return
		}
		if si == 4 || first < 0 {
			t.Fatalf("accepted status %d, first %d: %s", si, first, rep)
		}
		var out struct {
			Tasks struct {
				Edges      []struct{ Node struct{ ID string } }
				TotalCount int
			}
		}
		if err := json.Unmarshal(g.Data, &out); err != nil {
			t.Fatal(err)
		}
		sc := cursorScope{ci, si}
		list := lists[sc]
		if out.Tasks.TotalCount != len(list) {
			t.Fatalf("totalCount %d, want %d", out.Tasks.TotalCount, len(list))
		}
		start := 0
		if after != "" {
			raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimSpace(after))
			if !issued[sc][string(raw)] {
				t.Fatalf("accepted a cursor the service never issued for this caller and filter: %q", after)
			}
			pos := string(raw[:len(raw)-16])
			start = slices.Index(list, pos) + 1
		}
		want := list[start:min(len(list), start+max(0, min(first, core.MaxPageSize)))]
		got := make([]string, len(out.Tasks.Edges))
		for i, e := range out.Tasks.Edges {
			got[i] = e.Node.ID
		}
		if !slices.Equal(got, want) {
			t.Fatalf("page %v, want %v", got, want)
		}
	})
}

// FuzzBearerToken fuzzes the Authorization header. It is accepted only
// when it carries a valid token this service signed for an active user, and
// then both APIs see that user; anything else is 401 with
// WWW-Authenticate and no detail.
func FuzzBearerToken(f *testing.F) {
	fx := newFixtures(f)
	for _, a := range []account{fx.user, fx.admin, fx.off} {
		f.Add("Bearer " + a.Token)
		f.Add("bearer  " + a.Token + " ")
		f.Add("Bearer " + strings.TrimSuffix(a.Token, a.Token[len(a.Token)-1:]) + "A")
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := request{method: http.MethodGet, path: "/api/v1/auth/user", header: map[string]string{"Authorization": header}}
		rep := fx.e.serve(t, r)
		invariants(t, rep)
		gr := fx.e.serve(t, request{method: http.MethodPost, path: "/graphql", body: gqlBody(`{ me { id } }`, nil), header: map[string]string{"Authorization": header}})
		invariants(t, gr)
		g, err := decodeGQL(gr)
		if err != nil {
			t.Fatal(err)
		}
		// Who the header names, by the service's own rules.
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header["Authorization"] = []string{header}
		claims, parseErr := fx.tokens.Parse(httpauth.BearerToken(req))
		sub := claims.UserID
		switch rep.status {
		case http.StatusOK:
			var me struct {
				UserData struct {
					UserID string `json:"user_id"`
				} `json:"user_data"`
			}
			_ = json.Unmarshal(rep.body, &me)
			if parseErr != nil || me.UserData.UserID != sub || !slices.Contains([]string{fx.admin.ID, fx.user.ID, fx.other.ID}, sub) {
				t.Fatalf("accepted %q as %q (token subject %q, %v)", header, me.UserData.UserID, sub, parseErr)
			}
			if want := `{"me":{"id":"` + sub + `"}}`; !g.ok() || string(g.Data) != want {
				t.Fatalf("REST accepted the header, GraphQL answered %s", gr)
			}
		case http.StatusUnauthorized:
			var d struct{ Detail string }
			_ = json.Unmarshal(rep.body, &d)
			if rep.header.Get("WWW-Authenticate") != "Bearer" || !slices.Contains(unauthenticated, d.Detail) {
				t.Fatalf("401 answer %s", rep)
			}
			if len(g.Errors) != 1 || g.Errors[0].code() != "UNAUTHENTICATED" {
				t.Fatalf("REST refused the header, GraphQL answered %s", gr)
			}
		default:
			t.Fatalf("answered %s", rep)
		}
		// Only the seeds carry tokens signed with the secret, for these.
		if parseErr == nil && !slices.Contains([]string{"VAH1", "VAH2", "VAH3", "VAH4", "VAH99"}, sub) {
			t.Fatalf("the token parser accepted a subject nobody signed: %q", sub)
		}
	})
}
