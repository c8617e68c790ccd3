package resolvers_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/taskapi/taskapi/resolvers"
)

const (
	graphQLResponse = "application/graphql-response+json; charset=utf-8"
	legacyJSON      = "application/json; charset=utf-8"
	// What the clients send (Apollo Client 4, urql 6, GraphiQL 4, fetch).
	apolloAccept   = "application/graphql-response+json,application/json;q=0.9"
	urqlAccept     = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"
	graphiqlAccept = "application/json, multipart/mixed"
)

// do sends a request with the given headers and returns the recorded answer.
func (e *env) do(tb testing.TB, method, target, body string, hdr map[string]string) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// gqlBody is the JSON of one GraphQL-over-HTTP request.
func gqlBody(tb testing.TB, query string, v vars) string {
	tb.Helper()
	b, err := json.Marshal(map[string]any{"query": query, "variables": v})
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// decodeAnswer checks an answer is a GraphQL response and returns it,
// with whether it has a data entry.
func decodeAnswer(tb testing.TB, rec *httptest.ResponseRecorder) (response, bool) {
	tb.Helper()
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &keys); err != nil {
		tb.Fatalf("answer is not a JSON object (%d): %s", rec.Code, rec.Body)
	}
	r := response{Status: rec.Code, Body: rec.Body.String()}
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		tb.Fatal(err)
	}
	_, hasData := keys["data"]
	return r, hasData
}

func TestContentNegotiation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct{ name, accept, want string }{
		{"GraphQLResponse/NoAccept", "", graphQLResponse},
		{"GraphQLResponse/Exact", "application/graphql-response+json", graphQLResponse},
		{"GraphQLResponse/ApolloClient", apolloAccept, graphQLResponse},
		{"GraphQLResponse/Urql", urqlAccept, graphQLResponse},
		{"GraphQLResponse/ListedAfterJSON", "application/json, application/graphql-response+json", graphQLResponse},
		{"GraphQLResponse/HigherQ", "application/json;q=0.5, */*;q=0.1, application/graphql-response+json;q=0.8", graphQLResponse},
		{"GraphQLResponse/ExplicitBeatsWildcard", "*/*, application/graphql-response+json", graphQLResponse},
		{"JSON/Exact", "application/json", legacyJSON},
		{"JSON/GraphiQL", graphiqlAccept, legacyJSON},
		{"JSON/AnyType", "*/*", legacyJSON},
		{"JSON/AnyApplication", "application/*", legacyJSON},
		{"JSON/BrowserNavigation", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", legacyJSON},
		{"JSON/HigherQ", "application/graphql-response+json;q=0.5, application/json", legacyJSON},
		{"JSON/GraphQLResponseRefused", "application/graphql-response+json;q=0, */*", legacyJSON},
		{"JSON/WithCharset", "application/json; charset=utf-8", legacyJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				hdr := map[string]string{"Accept": tc.accept, "Content-Type": "application/json"}
				rec := e.do(t, http.MethodPost, "/graphql", `{"query":"{ __typename }"}`, hdr)
				if method == http.MethodGet {
					rec = e.do(t, http.MethodGet, "/graphql?query="+url.QueryEscape("{ __typename }"), "", hdr)
				}
				if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != tc.want {
					t.Fatalf("%s: status %d, Content-Type %q; want 200 and %q: %s", method, rec.Code, rec.Header().Get("Content-Type"), tc.want, rec.Body)
				}
				if r, _ := decodeAnswer(t, rec); string(r.Data) != `{"__typename":"Query"}` {
					t.Fatalf("%s: %s", method, rec.Body)
				}
				if !strings.Contains(rec.Header().Get("Vary"), "Accept") {
					t.Errorf("%s: no Vary: Accept", method)
				}
			}
		})
	}
	for _, accept := range []string{"text/html", "application/xml, text/plain;q=0.5", "application/json;q=0, application/graphql-response+json;q=0"} {
		t.Run("406/"+accept, func(t *testing.T) {
			rec := e.do(t, http.MethodPost, "/graphql", `{"query":"{ __typename }"}`, map[string]string{"Accept": accept, "Content-Type": "application/json"})
			if rec.Code != http.StatusNotAcceptable {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if r, hasData := decodeAnswer(t, rec); hasData || r.Code(t) != resolvers.CodeBadRequest {
				t.Fatalf("body: %s", rec.Body)
			}
		})
	}
}

// The status codes of the GraphQL-over-HTTP specification, for each media
// type: a request refused before execution is 400 with
// application/graphql-response+json and 200 with application/json; a
// request that ran is 200 in both, whatever its field errors.
func TestStatusCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustRegister(t, "status")
	createTask := `mutation($in: CreateTaskInput!) { createTask(input: $in) { id } }`
	for _, tc := range []struct {
		name, token, query string
		vars               vars
		ran                bool   // the operation executed (data entry present)
		code               string // extensions.code of the first error; "" for none
	}{
		{"Executed/OK", a.Token, `{ me { id } }`, nil, true, ""},
		{"Executed/UNAUTHENTICATED", "", `{ me { id } }`, nil, true, "UNAUTHENTICATED"},
		{"Executed/FORBIDDEN", a.Token, `{ users { totalCount } }`, nil, true, "FORBIDDEN"},
		{"Executed/BAD_USER_INPUT", a.Token, createTask, vars{"in": vars{"title": " "}}, true, "BAD_USER_INPUT"},
		{"Refused/GRAPHQL_PARSE_FAILED", a.Token, `{`, nil, false, "GRAPHQL_PARSE_FAILED"},
		{"Refused/EmptyQuery", a.Token, ``, nil, false, "GRAPHQL_VALIDATION_FAILED"},
		{"Refused/GRAPHQL_VALIDATION_FAILED", a.Token, `{ nope }`, nil, false, "GRAPHQL_VALIDATION_FAILED"},
		{"Refused/UnknownOperation", a.Token, `query A { me { id } } query B { me { id } }`, nil, false, "GRAPHQL_VALIDATION_FAILED"},
		{"Refused/VariableCoercion", a.Token, createTask, vars{"in": vars{"title": "t", "owner": "someone"}}, false, "GRAPHQL_VALIDATION_FAILED"},
		{"Refused/MissingVariable", a.Token, createTask, nil, false, "GRAPHQL_VALIDATION_FAILED"},
		{"Refused/COMPLEXITY_LIMIT_EXCEEDED", a.Token, `{ a: tasks(first: 100) { edges { node { id } } } b: tasks(first: 100) { edges { node { id } } } c: tasks(first: 100) { edges { node { id } } } }`, nil, false, "COMPLEXITY_LIMIT_EXCEEDED"},
	} {
		for _, mt := range []struct{ accept, contentType string }{
			{"application/graphql-response+json", graphQLResponse},
			{"application/json", legacyJSON},
		} {
			t.Run(tc.name+"/"+mt.accept, func(t *testing.T) {
				hdr := map[string]string{"Accept": mt.accept, "Content-Type": "application/json"}
				if tc.token != "" {
					hdr["Authorization"] = "Bearer " + tc.token
				}
				rec := e.do(t, http.MethodPost, "/graphql", gqlBody(t, tc.query, tc.vars), hdr)
				want := http.StatusOK
				if !tc.ran && mt.contentType == graphQLResponse {
					want = http.StatusBadRequest
				}
				if rec.Code != want || rec.Header().Get("Content-Type") != mt.contentType {
					t.Fatalf("status %d, %q; want %d, %q: %s", rec.Code, rec.Header().Get("Content-Type"), want, mt.contentType, rec.Body)
				}
				r, hasData := decodeAnswer(t, rec)
				if hasData != tc.ran {
					t.Fatalf("data entry present = %v, want %v: %s", hasData, tc.ran, rec.Body)
				}
				if tc.code == "" {
					if len(r.Errors) > 0 {
						t.Fatalf("errors: %s", rec.Body)
					}
				} else if len(r.Errors) == 0 || r.Errors[0].Code() != tc.code {
					t.Fatalf("want first error %s: %s", tc.code, rec.Body)
				}
			})
		}
	}
	if n := len(e.tasksOf(t, a.ID)); n != 0 {
		t.Fatalf("%d tasks created by refused requests", n)
	}
}

// A request that is not GraphQL over HTTP at all is a 4xx in both media
// types, never executed, and its body is never echoed back (it may hold a
// password).
func TestMalformedGraphQLOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustRegister(t, "malformed")
	for _, tc := range []struct {
		name, method, target, contentType, body string
		status                                  int
	}{
		{"400/NotJSON", "POST", "/graphql", "application/json", `{"query": "mutation { login(email: \"a@b.c\", password: \"hunter2!\")`, 400},
		{"400/Null", "POST", "/graphql", "application/json", `null`, 400},
		{"400/Array", "POST", "/graphql", "application/json", `[{"query": "{ __typename }"}]`, 400},
		{"400/TwoObjects", "POST", "/graphql", "application/json", `{"query": "{ __typename }"} {}`, 400},
		{"400/QueryMisspelt", "POST", "/graphql", "application/json", `{"qeury": "{ __typename }"}`, 400},
		{"400/QueryNotString", "POST", "/graphql", "application/json", `{"query": 42}`, 400},
		{"400/VariablesNotObject", "POST", "/graphql", "application/json", `{"query": "{ __typename }", "variables": [7]}`, 400},
		{"400/ExtensionsNotObject", "POST", "/graphql", "application/json", `{"query": "{ __typename }", "extensions": "x"}`, 400},
		{"400/OperationNameNotString", "POST", "/graphql", "application/json", `{"query": "{ __typename }", "operationName": 1}`, 400},
		{"400/GetWithoutQuery", "GET", "/graphql", "", ``, 400},
		{"400/GetVariablesNotJSON", "GET", "/graphql?query=%7B__typename%7D&variables=%7Bx", "", ``, 400},
		{"400/GetVariablesNotObject", "GET", "/graphql?query=%7B__typename%7D&variables=%5B1%5D", "", ``, 400},
		{"415/NoContentType", "POST", "/graphql", "", `{"query": "{ __typename }"}`, 415},
		{"415/TextPlain", "POST", "/graphql", "text/plain", `{"query": "{ __typename }"}`, 415},
		{"415/Form", "POST", "/graphql", "application/x-www-form-urlencoded", `query=%7B__typename%7D`, 415},
		{"405/Put", "PUT", "/graphql", "application/json", `{"query": "{ __typename }"}`, 405},
		{"405/Delete", "DELETE", "/graphql", "", ``, 405},
	} {
		for _, accept := range []string{"application/graphql-response+json", "application/json"} {
			t.Run(tc.name+"/"+accept, func(t *testing.T) {
				hdr := map[string]string{"Accept": accept, "Authorization": "Bearer " + a.Token}
				if tc.contentType != "" {
					hdr["Content-Type"] = tc.contentType
				}
				rec := e.do(t, tc.method, tc.target, tc.body, hdr)
				if rec.Code != tc.status {
					t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
				}
				r, hasData := decodeAnswer(t, rec)
				if hasData || r.Code(t) != resolvers.CodeBadRequest || r.Errors[0].Message == "" {
					t.Fatalf("body: %s", rec.Body)
				}
				if strings.Contains(rec.Body.String(), "hunter2") {
					t.Fatalf("request body echoed: %s", rec.Body)
				}
				switch tc.status {
				case 405:
					if got := rec.Header().Get("Allow"); got != "GET, POST, OPTIONS" {
						t.Errorf("Allow = %q", got)
					}
				case 415:
					if got := rec.Header().Get("Accept-Post"); got != "application/json" {
						t.Errorf("Accept-Post = %q", got)
					}
				}
			})
		}
	}
	t.Run("200/Options", func(t *testing.T) {
		rec := e.do(t, http.MethodOptions, "/graphql", "", nil)
		if rec.Code != http.StatusOK || rec.Header().Get("Allow") != "GET, POST, OPTIONS" {
			t.Fatalf("status %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
		}
	})
	t.Run("200/ContentTypeWithCharset", func(t *testing.T) {
		rec := e.do(t, http.MethodPost, "/graphql", `{"query": "{ __typename }", "operationName": null, "variables": null, "extensions": null}`,
			map[string]string{"Content-Type": "application/json; charset=utf-8"})
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
	if n := len(e.tasksOf(t, a.ID)); n != 0 {
		t.Fatalf("%d tasks created", n)
	}
}

// GET runs queries only: a mutation is 405 with Allow: POST, whatever the
// media type, and changes nothing.
func TestGETRefusesMutations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustRegister(t, "getmut")
	task := e.mustCreateTask(t, a, "keep me")
	for _, tc := range []struct{ name, query, operationName string }{
		{"CreateTask", `mutation { createTask(input: {title: "via GET"}) { id } }`, ""},
		{"DeleteTask", `mutation { deleteTask(id: "` + task.ID + `") }`, ""},
		{"NamedAmongQueries", `query Q { me { id } } mutation M { deleteTask(id: "` + task.ID + `") }`, "M"},
	} {
		for _, accept := range []string{"application/graphql-response+json", "application/json", ""} {
			t.Run("405/"+tc.name+"/"+accept, func(t *testing.T) {
				q := url.Values{"query": {tc.query}}
				if tc.operationName != "" {
					q.Set("operationName", tc.operationName)
				}
				rec := e.do(t, http.MethodGet, "/graphql?"+q.Encode(), "", map[string]string{"Accept": accept, "Authorization": "Bearer " + a.Token})
				if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
					t.Fatalf("status %d, Allow %q: %s", rec.Code, rec.Header().Get("Allow"), rec.Body)
				}
				if r, hasData := decodeAnswer(t, rec); hasData || r.Code(t) != resolvers.CodeBadRequest {
					t.Fatalf("body: %s", rec.Body)
				}
			})
		}
	}
	t.Run("OK/NamedQueryAmongMutations", func(t *testing.T) {
		q := url.Values{"query": {`query Q($id: ID!) { task(id: $id) { title } } mutation M { deleteTask(id: "x") }`},
			"operationName": {"Q"}, "variables": {`{"id": "` + task.ID + `"}`}}
		rec := e.do(t, http.MethodGet, "/graphql?"+q.Encode(), "", map[string]string{"Authorization": "Bearer " + a.Token})
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"title":"keep me"`) {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
	if got := e.tasksOf(t, a.ID); len(got) != 1 || got[0].ID != task.ID {
		t.Fatalf("tasks = %+v, want only %q", got, task.ID)
	}
}
