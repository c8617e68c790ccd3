package rest_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// legacyRoutes are the legacy app's endpoints: every one the shim must serve.
var legacyRoutes = []string{
	"POST /api/v1/auth/register",
	"POST /api/v1/auth/login",
	"GET /api/v1/auth/user",
	"POST /api/v1/tasks/create-task",
	"GET /api/v1/tasks/fetch-task",
	"PUT /api/v1/tasks/update-task/{task_id}",
	"PATCH /api/v1/tasks/update-task/{task_id}",
	"DELETE /api/v1/tasks/delete-task/{task_id}",
	"GET /api/v1/admin/users",
	"PUT /api/v1/admin/update-user/{user_id}",
	"PATCH /api/v1/admin/update-user/{user_id}",
}

// sessionRoutes are what sessions added beside the legacy routes.
var sessionRoutes = []string{
	"POST /api/v1/auth/refresh",
	"POST /api/v1/auth/logout",
	"POST /api/v1/auth/logout-all",
	"POST /api/v1/auth/change-password",
}

// accountRoutes are the account lifecycle's additions (issue 25).
var accountRoutes = []string{
	"DELETE /api/v1/auth/user",
	"GET /api/v1/auth/export",
	"DELETE /api/v1/admin/delete-user/{user_id}",
}

var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

type openAPIDoc struct {
	OpenAPI    string                          `json:"openapi"`
	Info       struct{ Title, Version string } `json:"info"`
	Paths      map[string]map[string]openAPIOp `json:"paths"`
	Components struct {
		Schemas         map[string]json.RawMessage `json:"schemas"`
		SecuritySchemes map[string]struct {
			Type   string `json:"type"`
			Scheme string `json:"scheme"`
			Flows  struct {
				Password *struct {
					TokenURL string            `json:"tokenUrl"`
					Scopes   map[string]string `json:"scopes"`
				} `json:"password"`
			} `json:"flows"`
		} `json:"securitySchemes"`
	} `json:"components"`
}

type openAPIOp struct {
	OperationID string                `json:"operationId"`
	Security    []map[string][]string `json:"security"`
	Parameters  []struct {
		Name, In string
		Required bool
	} `json:"parameters"`
	RequestBody *struct {
		Required bool                       `json:"required"`
		Content  map[string]json.RawMessage `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Description string                     `json:"description"`
		Content     map[string]json.RawMessage `json:"content"`
	} `json:"responses"`
}

func fetchDoc(t *testing.T, e *env) (openAPIDoc, string) {
	t.Helper()
	r := e.do(t, req{method: http.MethodGet, path: "/openapi.json"})
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s", r.status, r.header.Get("Content-Type"))
	}
	var doc openAPIDoc
	if err := json.Unmarshal([]byte(r.raw), &doc); err != nil {
		t.Fatalf("document does not parse as OpenAPI: %v", err)
	}
	return doc, r.raw
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	doc, raw := fetchDoc(t, e)

	t.Run("OK/Structure", func(t *testing.T) {
		if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Info.Title == "" || doc.Info.Version == "" {
			t.Errorf("openapi %q, info %+v", doc.OpenAPI, doc.Info)
		}
		oauth := doc.Components.SecuritySchemes["OAuth2PasswordBearer"]
		if oauth.Type != "oauth2" || oauth.Flows.Password == nil || oauth.Flows.Password.TokenURL != "/api/v1/auth/login" || oauth.Flows.Password.Scopes == nil {
			t.Errorf("OAuth2 password scheme: %+v", oauth)
		}
		if b := doc.Components.SecuritySchemes["HTTPBearer"]; b.Type != "http" || b.Scheme != "bearer" {
			t.Errorf("bearer scheme: %+v", b)
		}
	})

	t.Run("OK/ListsExactlyTheRoutes", func(t *testing.T) {
		var got []string
		for path, item := range doc.Paths {
			for m := range item {
				got = append(got, strings.ToUpper(m)+" "+path)
			}
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(append(append(slices.Clone(legacyRoutes), sessionRoutes...), accountRoutes...)))
		if !slices.Equal(got, want) {
			t.Errorf("documented routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("OK/EveryOperation", func(t *testing.T) {
		ids := map[string]bool{}
		for path, item := range doc.Paths {
			for m, op := range item {
				name := strings.ToUpper(m) + " " + path
				if op.OperationID == "" || ids[op.OperationID] {
					t.Errorf("%s: operationId %q missing or repeated", name, op.OperationID)
				}
				ids[op.OperationID] = true
				ok, has := op.Responses["200"]
				if !has || ok.Description == "" || ok.Content["application/json"] == nil {
					t.Errorf("%s: no documented 200 JSON response", name)
				}
				for code, r := range op.Responses {
					if r.Description == "" {
						t.Errorf("%s: response %s has no description", name, code)
					}
				}
				if op.RequestBody != nil {
					if op.RequestBody.Content["application/json"] == nil {
						t.Errorf("%s: body without a JSON schema", name)
					}
					if _, has := op.Responses["422"]; !has {
						t.Errorf("%s: reads a body but documents no 422", name)
					}
				}
				for _, p := range pathParamsOf(path) {
					if !slices.ContainsFunc(op.Parameters, func(q struct {
						Name, In string
						Required bool
					}) bool {
						return q.Name == p && q.In == "path" && q.Required
					}) {
						t.Errorf("%s: path parameter %s not documented", name, p)
					}
				}
				public := path == "/api/v1/auth/login" || path == "/api/v1/auth/register" || path == "/api/v1/auth/refresh"
				if !public {
					if _, has := op.Responses["401"]; !has || len(op.Security) == 0 {
						t.Errorf("%s: needs a token but documents no security or 401", name)
					}
				}
				for _, req := range op.Security {
					for scheme := range req {
						if _, ok := doc.Components.SecuritySchemes[scheme]; !ok {
							t.Errorf("%s: unknown security scheme %s", name, scheme)
						}
					}
				}
			}
		}
		if login := doc.Paths["/api/v1/auth/login"]["post"]; login.RequestBody == nil || login.RequestBody.Content["application/x-www-form-urlencoded"] == nil {
			t.Errorf("login does not document the OAuth2 form")
		}
	})

	t.Run("OK/RefsResolve", func(t *testing.T) {
		for _, part := range strings.Split(raw, `"$ref":"`)[1:] {
			ref, _, _ := strings.Cut(part, `"`)
			name, ok := strings.CutPrefix(ref, "#/components/schemas/")
			if _, exists := doc.Components.Schemas[name]; !ok || !exists {
				t.Errorf("dangling $ref %q", ref)
			}
		}
	})

	t.Run("OK/NoPasswordInResponses", func(t *testing.T) {
		for _, name := range []string{"UserResponse", "MeResponse", "TokenResponse"} {
			s := string(doc.Components.Schemas[name])
			if s == "" || strings.Contains(s, "password") {
				t.Errorf("schema %s: %s", name, s)
			}
		}
	})
}

// TestRouterMatchesDocument proves the router serves what the document
// lists and nothing else on those paths: a documented method is routed to
// its endpoint, any other (HEAD included, as with FastAPI's routes) gets
// 405 with an Allow header naming exactly the documented ones.
func TestRouterMatchesDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	doc, _ := fetchDoc(t, e)
	for path, item := range doc.Paths {
		concrete := strings.NewReplacer("{task_id}", "0190c1a8-0000-7000-8000-000000000000", "{user_id}", "VAH1").Replace(path)
		var documented []string
		for m := range item {
			documented = append(documented, strings.ToUpper(m))
		}
		for _, m := range methods {
			t.Run(m+" "+path, func(t *testing.T) {
				r := e.do(t, req{method: m, path: concrete})
				routed := r.status != http.StatusMethodNotAllowed && !(r.status == 404 && r.raw == `{"detail":"Not Found"}`)
				if want := slices.Contains(documented, m); routed != want {
					t.Fatalf("routed=%v, documented=%v (status %d %s)", routed, want, r.status, r.raw)
				}
				if routed {
					return
				}
				allow := strings.Split(r.header.Get("Allow"), ", ")
				want := slices.Clone(documented)
				slices.Sort(allow)
				slices.Sort(want)
				if !slices.Equal(allow, want) || r.raw != `{"detail":"Method Not Allowed"}` {
					t.Errorf("405: Allow %v (want %v), body %s", allow, want, r.raw)
				}
			})
		}
	}
}

func pathParamsOf(path string) []string {
	var names []string
	for _, seg := range strings.Split(path, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			names = append(names, strings.TrimSuffix(name, "}"))
		}
	}
	return names
}
