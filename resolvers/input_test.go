package resolvers_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/resolvers"
)

// TestBadInput: every kind of bad input gets a client error with the right
// code, never a 5xx, and changes nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustRegister(t, "careful")
	before, _ := e.store.GetUser(context.Background(), a.ID) // logged in: with its session
	task := e.mustCreateTask(t, a, "untouched")
	admin := e.mustAdmin(t)
	long := func(n int) string { return strings.Repeat("x", n) }

	const createTask = `mutation($in: CreateTaskInput!) { createTask(input: $in) { id } }`
	const register = `mutation($in: RegisterInput!) { register(input: $in) { id } }`
	const updateTask = `mutation($id: ID!, $in: UpdateTaskInput!) { updateTask(id: $id, input: $in) { id } }`
	const updateUser = `mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { id } }`
	reg := func(username, email, password string) vars {
		return vars{"in": vars{"username": username, "email": email, "password": password}}
	}

	tests := []struct {
		name   string
		token  string
		query  string
		vars   vars
		code   string
		fields []string // extensions.fields[].field, for BAD_USER_INPUT
	}{
		{"GRAPHQL_PARSE_FAILED/Syntax", a.Token, `mutation { createTask(input: {title: "x"} { id }`, nil, "GRAPHQL_PARSE_FAILED", nil},
		{"GRAPHQL_PARSE_FAILED/Empty", a.Token, ``, nil, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/UnknownField", a.Token, `{ me { id password } }`, nil, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/UnknownEnumLiteral", a.Token, `mutation { updateTask(id: "` + task.ID + `", input: {status: DONE}) { id } }`, nil, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/LowercaseEnumLiteral", a.Token, `{ tasks(status: pending) { totalCount } }`, nil, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/UnknownEnumVariable", a.Token, updateTask, vars{"id": task.ID, "in": vars{"status": "DONE"}}, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/LowercaseEnumVariable", a.Token, updateTask, vars{"id": task.ID, "in": vars{"status": "complete"}}, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/LowercaseRoleVariable", "", register, vars{"in": vars{"username": "u", "email": uniqueEmail("lower"), "password": testPassword, "role": "admin"}}, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/LowercaseActivationVariable", admin.Token, updateUser, vars{"id": a.ID, "in": vars{"activationStatus": "inactive"}}, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/WrongVariableType", a.Token, `query($f: Int) { tasks(first: $f) { totalCount } }`, vars{"f": "ten"}, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/FloatForInt", a.Token, `query($f: Int) { tasks(first: $f) { totalCount } }`, vars{"f": 2.5}, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/IntOverflowVariable", a.Token, `query($f: Int) { tasks(first: $f) { totalCount } }`, vars{"f": 1 << 40}, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/IntOverflowLiteral", a.Token, `{ tasks(first: 99999999999) { totalCount } }`, nil, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/ObjectForString", a.Token, createTask, vars{"in": vars{"title": vars{"x": 1}}}, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/MissingVariable", a.Token, createTask, nil, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/MissingInputField", a.Token, createTask, vars{"in": vars{"description": "no title"}}, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/UnknownInputField", a.Token, createTask, vars{"in": vars{"title": "t", "userId": "VAH1"}}, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/NullForNonNull", a.Token, createTask, vars{"in": vars{"title": nil}}, "GRAPHQL_VALIDATION_FAILED", nil},
		{"GRAPHQL_VALIDATION_FAILED/UnknownOperationName", a.Token, `query A { me { id } } query B { me { id } }`, nil, "GRAPHQL_VALIDATION_FAILED", nil},
		{"BAD_USER_INPUT/EmptyTitle", a.Token, createTask, vars{"in": vars{"title": "   "}}, "BAD_USER_INPUT", []string{"title"}},
		{"BAD_USER_INPUT/OversizedTitle", a.Token, createTask, vars{"in": vars{"title": long(core.MaxTitleLen + 1)}}, "BAD_USER_INPUT", []string{"title"}},
		{"BAD_USER_INPUT/OversizedDescription", a.Token, createTask, vars{"in": vars{"title": "t", "description": long(core.MaxDescriptionLen + 1)}}, "BAD_USER_INPUT", []string{"description"}},
		{"BAD_USER_INPUT/OversizedUpdateTitle", a.Token, updateTask, vars{"id": task.ID, "in": vars{"title": long(core.MaxTitleLen + 1), "status": "COMPLETE"}}, "BAD_USER_INPUT", []string{"title"}},
		{"BAD_USER_INPUT/EmptyUpdate", a.Token, updateTask, vars{"id": task.ID, "in": vars{}}, "BAD_USER_INPUT", []string{"input"}},
		{"BAD_USER_INPUT/OversizedUsername", "", register, reg(long(core.MaxUsernameLen+1), uniqueEmail("big"), testPassword), "BAD_USER_INPUT", []string{"username"}},
		{"BAD_USER_INPUT/InvalidEmail", "", register, reg("name", "not-an-email", testPassword), "BAD_USER_INPUT", []string{"email"}},
		{"BAD_USER_INPUT/WeakPassword", "", register, reg("name", uniqueEmail("weak"), "password1"), "BAD_USER_INPUT", []string{"password"}},
		{"BAD_USER_INPUT/ShortPassword", "", register, reg("name", uniqueEmail("short"), "a!"), "BAD_USER_INPUT", []string{"password"}},
		{"BAD_USER_INPUT/EverythingWrong", "", register, reg("", "@", "x"), "BAD_USER_INPUT", []string{"username", "email", "password"}},
		{"BAD_USER_INPUT/UpdateUserEmail", admin.Token, updateUser, vars{"id": a.ID, "in": vars{"email": "nope"}}, "BAD_USER_INPUT", []string{"email"}},
		{"BAD_USER_INPUT/UpdateUserPassword", admin.Token, updateUser, vars{"id": a.ID, "in": vars{"password": "weakpassword"}}, "BAD_USER_INPUT", []string{"password"}},
		{"CONFLICT/TakenEmail", "", register, reg("twin", strings.ToUpper(a.Email), testPassword), "CONFLICT", nil},
		{"CONFLICT/UpdateUserTakenEmail", admin.Token, updateUser, vars{"id": a.ID, "in": vars{"email": admin.Email}}, "CONFLICT", nil},
		{"FORBIDDEN/AdminDemotesSelf", admin.Token, updateUser, vars{"id": admin.ID, "in": vars{"role": "USER"}}, "FORBIDDEN", nil},
		{"NOT_FOUND/UpdateMalformedTaskID", a.Token, updateTask, vars{"id": "nope", "in": vars{"status": "COMPLETE"}}, "NOT_FOUND", nil},
	}

	usersBefore := e.countUsers(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post(t, tc.token, tc.query, tc.vars)
			wantCode(t, r, tc.code)
			if r.Errors[0].Message == "" || r.Errors[0].Message == "internal server error" {
				t.Fatalf("unclear message: %s", r.Body)
			}
			if tc.fields != nil {
				raw, _ := r.Errors[0].Extensions["fields"].([]any)
				var got []string
				for _, f := range raw {
					m := f.(map[string]any)
					if msg, _ := m["message"].(string); msg == "" {
						t.Fatalf("field error without a message: %v", m)
					}
					got = append(got, m["field"].(string))
				}
				if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
					t.Fatalf("extensions.fields = %v, want %v", got, tc.fields)
				}
			}
		})
	}

	// Nothing changed.
	if n := e.countUsers(t); n != usersBefore {
		t.Fatalf("users: %d, want %d", n, usersBefore)
	}
	if got := e.tasksOf(t, a.ID); len(got) != 1 || got[0] != task {
		t.Fatalf("tasks = %+v, want only the untouched %+v", got, task)
	}
	u, err := e.store.GetUser(context.Background(), a.ID)
	if err != nil || u != before {
		t.Fatalf("user = %+v, %v; want unchanged %+v", u, err, before)
	}
}

func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustRegister(t, "raw")
	for _, tc := range []struct{ name, body string }{
		{"NotJSON", `{"query": `},
		{"QueryNotString", `{"query": 42}`},
		{"VariablesNotObject", `{"query": "{ me { id } }", "variables": [1]}`},
	} {
		t.Run("4xx/"+tc.name, func(t *testing.T) {
			r := e.raw(t, http.MethodPost, "/graphql", a.Token, tc.body)
			if r.Status < 400 || len(r.Errors) == 0 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
		})
	}
	t.Run("413/OversizedBody", func(t *testing.T) {
		body := `{"query": "mutation { createTask(input: {title: \"` + strings.Repeat("x", resolvers.DefaultMaxBodyBytes) + `\"}) { id } }"}`
		r := e.raw(t, http.MethodPost, "/graphql", a.Token, body)
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d: %.200s", r.Status, r.Body)
		}
		if n := len(e.tasksOf(t, a.ID)); n != 0 {
			t.Fatalf("%d tasks created", n)
		}
	})
}

func TestGET(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustRegister(t, "getter")
	get := func(query string) response {
		return e.raw(t, http.MethodGet, "/graphql?query="+url.QueryEscape(query), a.Token, "")
	}
	t.Run("OK/Query", func(t *testing.T) {
		var got struct{ Me struct{ ID string } }
		get(`{ me { id } }`).decode(t, &got)
		if got.Me.ID != a.ID {
			t.Fatalf("me = %+v", got.Me)
		}
	})
	t.Run("Refused/Mutation", func(t *testing.T) {
		r := get(`mutation { createTask(input: {title: "via GET"}) { id } }`)
		if r.Status != http.StatusNotAcceptable && r.Status != http.StatusMethodNotAllowed {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		if n := len(e.tasksOf(t, a.ID)); n != 0 {
			t.Fatalf("GET mutation created %d tasks", n)
		}
	})
}

func TestLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.mustAdmin(t)

	t.Run("OK/FullTaskPageAtDefaultLimit", func(t *testing.T) {
		r := e.post(t, admin.Token, `{ tasks(first: 100) { edges { cursor node { id title description status createdAt updatedAt } } pageInfo { hasNextPage endCursor } totalCount } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatal(r.Body)
		}
	})
	t.Run("COMPLEXITY_LIMIT_EXCEEDED/UsersWithStats", func(t *testing.T) {
		r := e.post(t, admin.Token, `{ users(first: 100) { edges { node { id stats { total } } } pageInfo { hasNextPage } } }`, nil)
		wantCode(t, r, "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("COMPLEXITY_LIMIT_EXCEEDED/Aliases", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{")
		for i := range 11 {
			b.WriteString(" a" + string(rune('a'+i)) + `: tasks { edges { node { id } } }`)
		}
		b.WriteString(" }")
		wantCode(t, e.post(t, admin.Token, b.String(), nil), "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("COMPLEXITY_LIMIT_EXCEEDED/NothingCreated", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("mutation {")
		for i := range 201 {
			b.WriteString(" t" + strings.Repeat("x", i) + `: createTask(input: {title: "spam"}) { id }`)
		}
		b.WriteString(" }")
		wantCode(t, e.post(t, admin.Token, b.String(), nil), "COMPLEXITY_LIMIT_EXCEEDED")
		if n := len(e.tasksOf(t, admin.ID)); n != 0 {
			t.Fatalf("%d tasks created", n)
		}
	})
	t.Run("COMPLEXITY_LIMIT_EXCEEDED/LoginBatch", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("mutation {")
		for i := range 11 { // 11 × 20 > 200
			fmt.Fprintf(&b, ` l%d: login(email: %q, password: "guess%d!") { accessToken }`, i, admin.Email, i)
		}
		b.WriteString(" }")
		wantCode(t, e.post(t, "", b.String(), nil), "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("COMPLEXITY_LIMIT_EXCEEDED/FragmentBomb", func(t *testing.T) {
		// 40 fragments each spreading the next twice: 2^40 fields expanded.
		var b strings.Builder
		b.WriteString("query { ...F0 }\n")
		for i := range 40 {
			fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
		}
		b.WriteString("fragment F40 on Query { __typename }\n")
		wantCode(t, e.post(t, admin.Token, b.String(), nil), "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("DEPTH_LIMIT_EXCEEDED", func(t *testing.T) {
		e := newEnv(t, func(c *envConfig) { c.opts.MaxDepth = 3 })
		a := e.mustRegister(t, "deep")
		if r := e.post(t, a.Token, `{ me { stats { total } } }`, nil); len(r.Errors) > 0 {
			t.Fatalf("depth 3 refused: %s", r.Body)
		}
		r := e.post(t, a.Token, `query { ...Q } fragment Q on Query { tasks { edges { node { id } } } }`, nil)
		wantCode(t, r, resolvers.CodeDepthLimit)
	})
	t.Run("GRAPHQL_VALIDATION_FAILED/IntrospectionOff", func(t *testing.T) {
		for _, q := range []string{`{ __schema { types { name } } }`, `{ me { id } ...F } fragment F on Query { __type(name: "User") { name } }`} {
			wantCode(t, e.post(t, admin.Token, q, nil), "GRAPHQL_VALIDATION_FAILED")
		}
		var typename struct {
			Typename string `json:"__typename"`
		}
		e.post(t, admin.Token, `{ __typename }`, nil).decode(t, &typename)
		if typename.Typename != "Query" {
			t.Fatalf("__typename = %q", typename.Typename)
		}
	})
	t.Run("OK/IntrospectionOn", func(t *testing.T) {
		e := newEnv(t, func(c *envConfig) { c.opts.Introspection = true })
		var got struct {
			Schema struct{ Types []struct{ Name string } } `json:"__schema"`
		}
		e.post(t, "", introspectionQuery, nil).decode(t, &got)
		if len(got.Schema.Types) == 0 {
			t.Fatal("no types")
		}
	})
}

func TestPersistedQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustRegister(t, "apq")
	ext := func(q string) string {
		sum := sha256.Sum256([]byte(q))
		return `"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "` + hex.EncodeToString(sum[:]) + `"}}`
	}
	body := func(q string, vars string) string {
		b, _ := json.Marshal(q)
		if vars == "" {
			vars = "{}"
		}
		return `{"query": ` + string(b) + `, "variables": ` + vars + `, ` + ext(q) + `}`
	}
	hashOnly := func(q, vars string) response {
		if vars == "" {
			vars = "{}"
		}
		return e.raw(t, http.MethodPost, "/graphql", a.Token, `{"variables": `+vars+`, `+ext(q)+`}`)
	}

	t.Run("OK/StoredOnceItRan", func(t *testing.T) {
		const query = `{ me { id } }`
		wantCode(t, hashOnly(query, ""), "PERSISTED_QUERY_NOT_FOUND")
		var got struct{ Me struct{ ID string } }
		e.raw(t, http.MethodPost, "/graphql", a.Token, body(query, "")).decode(t, &got)
		hashOnly(query, "").decode(t, &got)
		if got.Me.ID != a.ID {
			t.Fatalf("me = %+v", got.Me)
		}
	})
	t.Run("OK/LoginWithVariablesIsStored", func(t *testing.T) {
		const query = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { tokenType } }`
		vars := `{"e": "` + a.Email + `", "p": "` + testPassword + `"}`
		if r := e.raw(t, http.MethodPost, "/graphql", "", body(query, vars)); len(r.Errors) > 0 {
			t.Fatal(r.Body)
		}
		if r := hashOnly(query, vars); len(r.Errors) > 0 {
			t.Fatalf("hash alone: %s", r.Body)
		}
	})
	t.Run("BAD_REQUEST/HashOfAnotherQuery", func(t *testing.T) {
		b := `{"query": "{ me { email } }", ` + ext(`{ me { id } }`) + `}`
		wantCode(t, e.raw(t, http.MethodPost, "/graphql", a.Token, b), resolvers.CodeBadRequest)
	})
	// Nothing is stored unless it parsed, passed every limit, validated and
	// holds no credential: the hash alone is still unknown afterwards.
	notStored := []struct{ name, query, code string }{
		{"GRAPHQL_PARSE_FAILED", `{ me { id `, "GRAPHQL_PARSE_FAILED"},
		{"GRAPHQL_VALIDATION_FAILED", `{ me { nope } }`, "GRAPHQL_VALIDATION_FAILED"},
		{"COMPLEXITY_LIMIT_EXCEEDED/Gate", "{ " + strings.Repeat("__typename ", 100) + "}", "COMPLEXITY_LIMIT_EXCEEDED"},
		{"COMPLEXITY_LIMIT_EXCEEDED/Cost", `{ a: tasks(first: 100) { edges { node { id } } } b: tasks(first: 100) { edges { node { id } } } c: tasks(first: 100) { edges { node { id } } } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"LiteralPasswordAtLogin", `mutation { login(email: "` + a.Email + `", password: "` + testPassword + `") { tokenType } }`, ""},
		{"LiteralPasswordAtRegister", `mutation { register(input: {username: "x", email: "apq-literal@example.com", password: "s3cret!pw"}) { id } }`, ""},
		{"LiteralPasswordInAFragmentOfAList", `mutation { ...M } fragment M on Mutation { login(email: "x@example.com", password: "` + testPassword + `") { tokenType } }`, "UNAUTHENTICATED"},
		{"Over8KiB", `{ me { id } }` + strings.Repeat(" ", 8<<10), ""},
	}
	for _, c := range notStored {
		t.Run("NotStored/"+c.name, func(t *testing.T) {
			r := e.raw(t, http.MethodPost, "/graphql", a.Token, body(c.query, ""))
			if c.code == "" && len(r.Errors) > 0 {
				t.Fatalf("not executed: %s", r.Body)
			}
			if c.code != "" && (len(r.Errors) == 0 || r.Errors[0].Code() != c.code) {
				t.Fatalf("want %s: %s", c.code, r.Body)
			}
			wantCode(t, hashOnly(c.query, ""), "PERSISTED_QUERY_NOT_FOUND")
		})
	}
}

// introspectionQuery is GraphiQL's, with the type reference nesting of
// graphql-js 17.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}`
