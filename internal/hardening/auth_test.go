package hardening_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/taskapi/taskapi/core"
)

// operation is one authenticated call of either API, aimed at a target
// (a task id and a user id).
type operation struct {
	name string
	api  string // "REST" or "GraphQL"
	// registerAdmin: a public route where a bad token means "not an
	// admin" (403) rather than "not authenticated" (401).
	registerAdmin bool
	onTask        bool // reads or changes the task it is aimed at
	rest          func(taskID, userID string) (method, path string, body any)
	gql           func(taskID, userID string) (string, vars)
}

// protectedOperations is every operation that needs a token, on both APIs.
func protectedOperations() []operation {
	r := func(name, method, path string, body any) operation {
		return operation{name: name, api: "REST", onTask: strings.Contains(path, "{task_id}"), rest: func(taskID, userID string) (string, string, any) {
			p := strings.NewReplacer("{task_id}", taskID, "{user_id}", userID).Replace(path)
			return method, p, body
		}}
	}
	g := func(name, query string, v func(taskID, userID string) vars) operation {
		return operation{name: name, api: "GraphQL", gql: func(taskID, userID string) (string, vars) {
			if v == nil {
				return query, nil
			}
			return query, v(taskID, userID)
		}}
	}
	sse := func(name, query string) operation {
		o := g(name, query, nil)
		o.api = "SSE"
		return o
	}
	task := func(taskID, _ string) vars { return vars{"id": taskID} }
	onTask := func(o operation) operation { o.onTask = true; return o }
	user := func(_, userID string) vars { return vars{"id": userID} }
	regAdmin := func(api string) operation {
		o := operation{name: "register as admin", api: api, registerAdmin: true}
		body := vars{"username": "mallory", "email": "mallory-" + uuid.NewString() + "@example.com", "password": password, "role": "admin"}
		o.rest = func(string, string) (string, string, any) { return http.MethodPost, "/api/v1/auth/register", body }
		o.gql = func(string, string) (string, vars) {
			return `mutation($in: RegisterInput!) { register(input: $in) { id } }`,
				vars{"in": vars{"username": "mallory", "email": "mallory-" + uuid.NewString() + "@example.com", "password": password, "role": "ADMIN"}}
		}
		return o
	}
	return []operation{
		r("current user", http.MethodGet, "/api/v1/auth/user", nil),
		r("create task", http.MethodPost, "/api/v1/tasks/create-task", vars{"title": "intruder"}),
		r("fetch tasks", http.MethodGet, "/api/v1/tasks/fetch-task", nil),
		r("update task (PUT)", http.MethodPut, "/api/v1/tasks/update-task/{task_id}", vars{"status": "complete"}),
		r("update task (PATCH)", http.MethodPatch, "/api/v1/tasks/update-task/{task_id}", vars{"status": "ongoing"}),
		r("delete task", http.MethodDelete, "/api/v1/tasks/delete-task/{task_id}", nil),
		r("list users", http.MethodGet, "/api/v1/admin/users", nil),
		r("update user (PUT)", http.MethodPut, "/api/v1/admin/update-user/{user_id}", vars{"username": "pwned", "role": "admin"}),
		r("update user (PATCH)", http.MethodPatch, "/api/v1/admin/update-user/{user_id}", vars{"activation_status": "inactive"}),
		regAdmin("REST"),
		r("logout", http.MethodPost, "/api/v1/auth/logout", nil),
		r("logout everywhere", http.MethodPost, "/api/v1/auth/logout-all", nil),
		r("change password", http.MethodPost, "/api/v1/auth/change-password", vars{"current_password": password, "new_password": "Pwn3d!pass"}),
		r("delete account", http.MethodDelete, "/api/v1/auth/user", vars{"password": password}),
		r("export my data", http.MethodGet, "/api/v1/auth/export", nil),
		r("delete user", http.MethodDelete, "/api/v1/admin/delete-user/{user_id}", nil),
		g("me", `{ me { id role } }`, nil),
		g("me.sessions", `{ me { sessions { id userAgent } } }`, nil),
		g("logout", `mutation { logout }`, nil),
		g("logoutEverywhere", `mutation { logoutEverywhere }`, nil),
		g("changePassword", `mutation { changePassword(currentPassword: "`+password+`", newPassword: "Pwn3d!pass") { accessToken } }`, nil),
		g("revokeSession", `mutation { revokeSession(id: "AAAAAAAAAAAAAAAAAAAAAA") }`, nil),
		g("user.sessions", `query($id: ID!) { user(id: $id) { sessions { id } } }`, user),
		g("me.stats", `{ me { stats { total } } }`, nil),
		g("tasks", `{ tasks { totalCount edges { node { id } } } }`, nil),
		onTask(g("task", `query($id: ID!) { task(id: $id) { id title } }`, task)),
		g("createTask", `mutation { createTask(input: {title: "intruder"}) { id } }`, nil),
		onTask(g("updateTask", `mutation($id: ID!) { updateTask(id: $id, input: {title: "pwned", status: COMPLETE}) { id } }`, task)),
		onTask(g("deleteTask", `mutation($id: ID!) { deleteTask(id: $id) }`, task)),
		onTask(g("removeTask", `mutation($id: ID!) { removeTask(id: $id) { deletedTaskId task { title } stats { total } } }`, task)),
		onTask(g("node", `query($id: ID!) { node(id: $id) { id ... on Task { title } } }`, task)),
		g("node (user)", `query($id: ID!) { node(id: $id) { id ... on User { email } } }`, user),
		g("users", `{ users { edges { node { id email } } } }`, nil),
		g("user", `query($id: ID!) { user(id: $id) { id email } }`, user),
		g("user.stats", `query($id: ID!) { user(id: $id) { stats { total } } }`, user),
		g("updateUser", `mutation($id: ID!) { updateUser(id: $id, input: {role: ADMIN, activationStatus: INACTIVE}) { id } }`, user),
		g("deleteAccount", `mutation { deleteAccount(password: "`+password+`") }`, nil),
		g("deleteUser", `mutation($id: ID!) { deleteUser(id: $id) }`, user),
		g("exportMyData", `{ exportMyData }`, nil),
		regAdmin("GraphQL"),
		sse("taskEvents", `subscription { taskEvents { kind taskId task { title } } }`),
		sse("userEvents", `subscription { userEvents { kind user { email } } }`),
	}
}

// call runs o with token against the targets.
func (e *env) call(t testing.TB, o operation, token, taskID, userID string) (reply, gqlReply) {
	t.Helper()
	if o.api == "REST" {
		method, path, body := o.rest(taskID, userID)
		return e.rest(t, method, path, token, body), gqlReply{}
	}
	q, v := o.gql(taskID, userID)
	if o.api == "SSE" {
		g := e.sseFirst(t, token, q, v)
		return g.reply, g
	}
	g := e.gql(t, token, q, v)
	return g.reply, g
}

// badTokens are the tokens an attacker (or a stale client) can present.
func badTokens(t *testing.T, victim, admin, inactive account) map[string]string {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := validClaims(victim.ID)
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for k, v := range claims {
			c[k] = v
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	hs256 := func(key []byte, header, c map[string]any) string {
		unsigned := strings.TrimSuffix(rawJWT(header, c, nil), ".")
		m := hmac.New(sha256.New, key)
		m.Write([]byte(unsigned))
		return unsigned + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	header := map[string]any{"alg": "HS256", "typ": "JWT"}
	// The victim's genuine token with the admin as subject: the signature
	// no longer matches.
	parts := strings.Split(victim.Token, ".")
	var payload map[string]any
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(b, &payload)
	payload["sub"] = admin.ID
	pb, _ := json.Marshal(payload)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(pb) + "." + parts[2]

	return map[string]string{
		"Garbage":            "not.a.jwt",
		"Empty segments":     "..",
		"AlgNone":            rawJWT(map[string]any{"alg": "none", "typ": "JWT"}, claims, nil),
		"AlgNoneCapitalized": rawJWT(map[string]any{"alg": "None", "typ": "JWT"}, claims, nil),
		"AlgNoneWithHMAC":    hs256(jwtSecret, map[string]any{"alg": "none"}, claims),
		"HS384":              signJWT(t, jwt.SigningMethodHS384, jwtSecret, claims),
		"HS512":              signJWT(t, jwt.SigningMethodHS512, jwtSecret, claims),
		"RS256":              signJWT(t, jwt.SigningMethodRS256, rsaKey, claims),
		"ES256":              signJWT(t, jwt.SigningMethodES256, ecKey, claims),
		"RS256HeaderHMACKey": hs256(jwtSecret, map[string]any{"alg": "RS256", "typ": "JWT"}, claims),
		"WrongSecret":        hs256([]byte("another-secret-0123456789abcdef"), header, claims),
		"EmptySecret":        hs256(nil, header, claims),
		"TamperedSubject":    tampered,
		"Expired":            hs256(jwtSecret, header, with("exp", now.Add(-time.Hour).Unix())),
		"NotYetValid":        hs256(jwtSecret, header, with("nbf", now.Add(time.Hour).Unix())),
		"IssuedInTheFuture":  hs256(jwtSecret, header, with("iat", now.Add(time.Hour).Unix())),
		"WithoutExpiry":      hs256(jwtSecret, header, with("exp", nil)),
		"WithoutSub":         hs256(jwtSecret, header, with("sub", nil)),
		"EmptySub":           hs256(jwtSecret, header, with("sub", "")),
		"NumericSub":         hs256(jwtSecret, header, with("sub", 1)),
		"DeletedUser":        hs256(jwtSecret, header, validClaims("VAH987654321")),
		"DeactivatedUser":    inactive.Token,
		"ExtraSegment":       victim.Token + ".e30",
	}
}

// unauthenticated are the only answers to a bad token.
var unauthenticated = []string{"Not authenticated", "Could not validate credentials", "Inactive user"}

// TestBadTokensAreRefusedEverywhere presents every kind of bad token to
// every protected operation of both APIs: each is refused as
// unauthenticated (401 with WWW-Authenticate, or UNAUTHENTICATED) with no
// detail of why, and nothing changes.
func TestBadTokensAreRefusedEverywhere(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			admin := e.mustAdmin(t)
			victim := e.mustUser(t, "victim")
			task := e.mustTask(t, victim, "private")
			inactive := e.mustUser(t, "leaver")
			off := core.ActivationInactive
			if _, err := e.svc.UpdateUser(admin.ctx(), inactive.ID, core.UpdateUserInput{ActivationStatus: &off}); err != nil {
				t.Fatal(err)
			}
			tokens := badTokens(t, victim, admin, inactive)
			ops := protectedOperations()

			t.Run("OK/ValidTokenWorks", func(t *testing.T) {
				if r := e.rest(t, http.MethodGet, "/api/v1/auth/user", victim.Token, nil); r.status != http.StatusOK {
					t.Fatalf("genuine token refused: %s", r)
				}
				if r := e.gql(t, victim.Token, `{ me { id } }`, nil); !r.ok() {
					t.Fatalf("genuine token refused: %s", r)
				}
			})

			before, writes := snapshot(t, e.truth), e.store.writes.Load()
			names := append([]string{"NoToken"}, sortedKeys(tokens)...)
			for _, name := range names {
				token := tokens[name]
				for _, o := range ops {
					outcome := "Unauthenticated"
					if o.registerAdmin {
						outcome = "Forbidden"
					}
					t.Run(name+"/"+o.api+"/"+o.name+"/"+outcome, func(t *testing.T) {
						rest, g := e.call(t, o, token, task.ID, victim.ID)
						switch {
						case o.api == "REST" && o.registerAdmin:
							if rest.status != http.StatusForbidden || string(rest.body) != `{"detail":"Only an admin can create an admin"}` {
								t.Fatalf("got %s", rest)
							}
						case o.api == "REST":
							var d struct{ Detail string }
							_ = json.Unmarshal(rest.body, &d)
							if rest.status != http.StatusUnauthorized || rest.header.Get("WWW-Authenticate") != "Bearer" || !slices.Contains(unauthenticated, d.Detail) {
								t.Fatalf("got %s (WWW-Authenticate %q)", rest, rest.header.Get("WWW-Authenticate"))
							}
						case o.registerAdmin:
							wantCode(t, g, "FORBIDDEN")
						default:
							wantCode(t, g, "UNAUTHENTICATED")
							if !slices.Contains(unauthenticated, g.Errors[0].Message) {
								t.Fatalf("message %q says more than it should", g.Errors[0].Message)
							}
							if d := string(g.Data); d != "null" && !strings.HasSuffix(d, ":null}") {
								t.Fatalf("refused call answered data %s", d)
							}
						}
					})
				}
			}

			t.Run("OK/TokenOutsideTheAuthorizationHeaderIsIgnored", func(t *testing.T) {
				for _, r := range []request{
					{method: http.MethodGet, path: "/api/v1/auth/user?access_token=" + url.QueryEscape(victim.Token)},
					{method: http.MethodGet, path: "/api/v1/auth/user", header: map[string]string{"Cookie": "access_token=" + victim.Token}},
					{method: http.MethodGet, path: "/api/v1/auth/user", header: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(victim.Email+":"+password))}},
					{method: http.MethodGet, path: "/api/v1/auth/user", header: map[string]string{"Authorization": victim.Token}},
					{method: http.MethodGet, path: "/api/v1/auth/user", header: map[string]string{"X-Access-Token": victim.Token}},
				} {
					if rep := e.do(t, r); rep.status != http.StatusUnauthorized || string(rep.body) != `{"detail":"Not authenticated"}` {
						t.Errorf("%s %v: got %s", r.path, r.header, rep)
					}
				}
			})

			if n := e.store.writes.Load() - writes; n != 0 {
				t.Errorf("refused calls wrote %d times", n)
			}
			if after := snapshot(t, e.truth); after != before {
				t.Errorf("refused calls changed the store:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestNobodyReachesAnotherUsersTask tries every task operation of both
// APIs on someone else's task, as another user and as an admin: the answer
// is byte for byte the answer for a task that does not exist, the task
// never shows in their lists, and the owner's task and stats stay as they
// were.
func TestNobodyReachesAnotherUsersTask(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			owner := e.mustUser(t, "owner")
			intruder := e.mustUser(t, "intruder")
			admin := e.mustAdmin(t)
			task := e.mustTask(t, owner, "private")
			e.mustTask(t, intruder, "intruder's own")
			absent := uuid.Must(uuid.NewV7()).String()

			var taskOps []operation
			for _, o := range protectedOperations() {
				if o.onTask {
					taskOps = append(taskOps, o)
				}
			}
			if len(taskOps) != 8 {
				t.Fatalf("found %d task operations, want 8 (3 REST, 5 GraphQL)", len(taskOps))
			}

			ownerBefore := ownerState(t, e, owner.ID)
			for _, who := range []struct {
				name string
				a    account
			}{{"User", intruder}, {"Admin", admin}} {
				for _, o := range taskOps {
					t.Run(who.name+"/"+o.api+"/"+o.name+"/SameAsAbsent", func(t *testing.T) {
						got, gotG := e.call(t, o, who.a.Token, task.ID, "")
						want, wantG := e.call(t, o, who.a.Token, absent, "")
						if o.api == "REST" {
							if got.status != http.StatusNotFound || string(got.body) != `{"detail":"Task not found"}` {
								t.Fatalf("someone else's task: %s", got)
							}
							if string(got.body) != string(want.body) || got.status != want.status {
								t.Fatalf("someone else's task %s, absent task %s: they differ", got, want)
							}
							return
						}
						if string(gotG.Data) != string(wantG.Data) || !slices.Equal(gotG.codes(), wantG.codes()) || !sameMessages(gotG, wantG) {
							t.Fatalf("someone else's task %s, absent task %s: they differ", gotG, wantG)
						}
						if c := gotG.codes(); !(len(c) == 0 && (string(gotG.Data) == `{"task":null}` || string(gotG.Data) == `{"node":null}`)) && !slices.Equal(c, []string{"NOT_FOUND"}) {
							t.Fatalf("someone else's task: %s", gotG)
						}
					})
				}
				t.Run(who.name+"/ListsDoNotShowIt", func(t *testing.T) {
					r := e.rest(t, http.MethodGet, "/api/v1/tasks/fetch-task", who.a.Token, nil)
					g := e.gql(t, who.a.Token, `{ tasks(first: 100) { edges { node { id } } } }`, nil)
					if r.status != http.StatusOK || !g.ok() || strings.Contains(string(r.body), task.ID) || strings.Contains(string(g.Data), task.ID) {
						t.Fatalf("lists: %s / %s", r, g)
					}
				})
			}

			t.Run("User/REST/CreateTaskCannotChooseOwnerIDOrStatus", func(t *testing.T) {
				r := e.rest(t, http.MethodPost, "/api/v1/tasks/create-task", intruder.Token,
					vars{"title": "planted", "user_id": owner.ID, "task_id": task.ID, "status": "complete", "created_at": "2000-01-01T00:00:00Z"})
				var got struct {
					TaskID string `json:"task_id"`
					UserID string `json:"user_id"`
					Status string `json:"status"`
				}
				_ = json.Unmarshal(r.body, &got)
				if r.status != http.StatusOK || got.TaskID == task.ID || got.Status != "pending" || got.UserID != intruder.ID {
					t.Fatalf("got %s", r)
				}
				if _, err := e.truth.GetTask(t.Context(), intruder.ID, got.TaskID); err != nil {
					t.Fatalf("the task is not the intruder's: %v", err)
				}
			})

			if after := ownerState(t, e, owner.ID); after != ownerBefore {
				t.Fatalf("the owner's tasks changed:\nbefore %s\nafter  %s", ownerBefore, after)
			}
		})
	}
}

func sameMessages(a, b gqlReply) bool {
	if len(a.Errors) != len(b.Errors) {
		return false
	}
	for i := range a.Errors {
		if a.Errors[i].Message != b.Errors[i].Message {
			return false
		}
	}
	return true
}

// ownerState is one user's tasks and stats, as stored.
func ownerState(t testing.TB, e *env, userID string) string {
	t.Helper()
	tasks, err := allTasks(t.Context(), e.truth, userID)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := e.truth.TaskStats(t.Context(), userID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(struct {
		Tasks []core.Task
		Stats core.TaskStats
	}{tasks, stats})
	return string(b)
}

// TestAdminOnlyAsUser calls every admin route and field as a user, the
// user's own account included (self-promotion): each is refused as
// forbidden and nothing changes.
func TestAdminOnlyAsUser(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			e.mustAdmin(t)
			user := e.mustUser(t, "user")
			other := e.mustUser(t, "other")
			before, writes := snapshot(t, e.truth), e.store.writes.Load()

			restCalls := []struct {
				name, method, path string
				body               any
				detail             string
			}{
				{"ListUsers", http.MethodGet, "/api/v1/admin/users", nil, "Admin privileges required"},
				{"PromoteSelf", http.MethodPut, "/api/v1/admin/update-user/" + user.ID, vars{"role": "admin"}, "Admin privileges required"},
				{"PromoteSelfPATCH", http.MethodPatch, "/api/v1/admin/update-user/" + user.ID, vars{"role": "admin"}, "Admin privileges required"},
				{"DeactivateOther", http.MethodPut, "/api/v1/admin/update-user/" + other.ID, vars{"activation_status": "inactive"}, "Admin privileges required"},
				{"ResetOthersPassword", http.MethodPatch, "/api/v1/admin/update-user/" + other.ID, vars{"password": "0wned!pw"}, "Admin privileges required"},
				{"TakeOthersEmail", http.MethodPut, "/api/v1/admin/update-user/" + other.ID, vars{"email": "mine@example.com"}, "Admin privileges required"},
				{"RegisterAdmin", http.MethodPost, "/api/v1/auth/register", vars{"username": "deputy", "email": uniqueEmail("deputy"), "password": password, "role": "admin"}, "Only an admin can create an admin"},
			}
			for _, c := range restCalls {
				t.Run("REST/"+c.name+"/Forbidden", func(t *testing.T) {
					r := e.rest(t, c.method, c.path, user.Token, c.body)
					if want := `{"detail":"` + c.detail + `"}`; r.status != http.StatusForbidden || string(r.body) != want {
						t.Fatalf("got %s, want 403 %s", r, want)
					}
				})
			}
			gqlCalls := []struct {
				name, query string
				v           vars
			}{
				{"users", `{ users { edges { node { id } } } }`, nil},
				{"user", `query($id: ID!) { user(id: $id) { id email } }`, vars{"id": other.ID}},
				{"user.stats", `query($id: ID!) { user(id: $id) { stats { total } } }`, vars{"id": other.ID}},
				{"updateUser/PromoteSelf", `mutation($id: ID!) { updateUser(id: $id, input: {role: ADMIN}) { id role } }`, vars{"id": user.ID}},
				{"updateUser/DeactivateOther", `mutation($id: ID!) { updateUser(id: $id, input: {activationStatus: INACTIVE}) { id } }`, vars{"id": other.ID}},
				{"updateUser/ResetOthersPassword", `mutation($id: ID!) { updateUser(id: $id, input: {password: "0wned!pw"}) { id } }`, vars{"id": other.ID}},
				{"register/ADMIN", `mutation($in: RegisterInput!) { register(input: $in) { id } }`,
					vars{"in": vars{"username": "deputy", "email": uniqueEmail("deputy"), "password": password, "role": "ADMIN"}}},
			}
			for _, c := range gqlCalls {
				t.Run("GraphQL/"+c.name+"/FORBIDDEN", func(t *testing.T) {
					wantCode(t, e.gql(t, user.Token, c.query, c.v), "FORBIDDEN")
				})
			}

			if n := e.store.writes.Load() - writes; n != 0 {
				t.Errorf("refused calls wrote %d times", n)
			}
			if after := snapshot(t, e.truth); after != before {
				t.Errorf("refused calls changed the store:\nbefore %s\nafter  %s", before, after)
			}
			var me struct{ Me struct{ Role string } }
			if r := e.gql(t, user.Token, `{ me { role } }`, nil); !r.ok() || json.Unmarshal(r.Data, &me) != nil || me.Me.Role != "USER" {
				t.Fatalf("me: %s", r)
			}
		})
	}
}
