package hardening_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// envWriteSeeds, set to 1, rewrites the generated seed corpora.
const envWriteSeeds = "TASKAPI_WRITE_FUZZ_SEEDS"

// seed is one committed input of a fuzz target.
type seed struct {
	target, name string
	values       []any
}

// encodeSeed writes values in the fuzzing engine's corpus format.
func encodeSeed(values []any) string {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range values {
		switch v := v.(type) {
		case string:
			fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(v))
		case []byte:
			fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(v)))
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		case int:
			fmt.Fprintf(&b, "int(%d)\n", v)
		default:
			panic(fmt.Sprintf("seed value of type %T", v))
		}
	}
	return b.String()
}

// generatedSeeds are the committed corpora: hostile and edge-case inputs
// for every fuzz target, built on the fuzz fixtures (fixed ids, fixed token
// clock), so they are the same on every run.
func generatedSeeds(t *testing.T) []seed {
	fx := newFixtures(t)
	cf := newCursorFixtures(t, fx)
	var seeds []seed
	add := func(target, name string, values ...any) {
		seeds = append(seeds, seed{target, name, values})
	}

	// ---- REST ----
	const (
		register = iota
		login
		currentUser
		createTask
		fetchTasks
		updateTaskPUT
		updateTaskPATCH
		deleteTask
		listUsers
		updateUserPUT
		updateUserPATCH
	)
	const asNobody, asUser, asAdmin, asInactive, asGarbage = 0, 1, 2, 3, 4
	json := "application/json"
	rest := func(name string, route int, target, ct, body string, who int) {
		add("FuzzRESTRequest", name, uint8(route), target, ct, []byte(body), uint8(who))
	}
	rest("register-ok", register, "", json, `{"username":"neo","email":"neo@example.com","password":"s3cret!pw"}`, asNobody)
	rest("register-admin-as-user", register, "", json, `{"username":"neo","email":"neo2@example.com","password":"s3cret!pw","role":"admin"}`, asUser)
	rest("register-admin-as-admin", register, "", json, `{"username":"neo","email":"neo3@example.com","password":"s3cret!pw","role":"admin"}`, asAdmin)
	rest("register-duplicate-keys", register, "", json, `{"username":"a","username":"","email":"dup@example.com","password":"s3cret!pw"}`, asNobody)
	rest("register-wrong-types", register, "", json, `{"username":1,"email":["a"],"password":{"x":null},"role":true}`, asNobody)
	rest("register-unicode", register, "", json, `{"username":"名前\u0000\ud800","email":"ü@exämple.com","password":"пароль!!"}`, asNobody)
	rest("register-bom", register, "", json, "\ufeff{\"username\":\"bom\",\"email\":\"bom@example.com\",\"password\":\"s3cret!pw\"}", asNobody)
	rest("register-truncated", register, "", json, `{"username":"neo","email":`, asNobody)
	rest("register-nested", register, "", json, strings.Repeat("[", 64)+strings.Repeat("]", 64), asNobody)
	rest("register-null", register, "", json, `null`, asNobody)
	rest("register-taken-email-case", register, "", json, `{"username":"u","email":"USER@FUZZ.TEST","password":"s3cret!pw"}`, asNobody)
	rest("register-text-plain", register, "", "text/plain", `{"username":"neo","email":"neo4@example.com","password":"s3cret!pw"}`, asNobody)
	rest("login-form", login, "", "application/x-www-form-urlencoded", "username=user%40fuzz.test&password=s3cret%21pw&grant_type=password", asNobody)
	rest("login-multipart-no-boundary", login, "", "multipart/form-data", "--x\r\n", asNobody)
	rest("login-multipart", login, "", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nuser@example.com\r\n--x--\r\n", asNobody)
	rest("login-huge-password", login, "", json, `{"email":"a@example.com","password":"`+strings.Repeat("a!", 500)+`"}`, asNobody)
	rest("create-task-extra-fields", createTask, "", json, `{"title":"t","user_id":"VAH3","task_id":"`+fx.otherTask.ID+`","status":"complete"}`, asUser)
	rest("create-task-empty-title", createTask, "", json, `{"title":"   "}`, asUser)
	rest("create-task-long-title", createTask, "", json, `{"title":"`+strings.Repeat("é", 201)+`"}`, asUser)
	rest("create-task-inactive", createTask, "", json, `{"title":"t"}`, asInactive)
	rest("create-task-garbage-token", createTask, "", json, `{"title":"t"}`, asGarbage)
	rest("fetch-tasks", fetchTasks, "", "", "", asUser)
	rest("update-own-task", updateTaskPUT, "$own", json, `{"status":"ongoing"}`, asUser)
	rest("update-others-task", updateTaskPATCH, fx.otherTask.ID, json, `{"status":"complete"}`, asUser)
	rest("update-others-task-as-admin", updateTaskPUT, "$other", json, `{"status":"complete"}`, asAdmin)
	rest("update-task-bad-status", updateTaskPUT, "$own", json, `{"status":"COMPLETE"}`, asUser)
	rest("update-task-path-traversal", updateTaskPUT, "../../admin/users", json, `{"status":"complete"}`, asUser)
	rest("update-task-uppercase-id", updateTaskPUT, strings.ToUpper(fx.ownTask.ID), json, `{"status":"complete"}`, asUser)
	rest("delete-others-task", deleteTask, "$other", "", "", asUser)
	rest("delete-task-nul", deleteTask, "\x00", "", "", asUser)
	rest("list-users-as-user", listUsers, "", "", "", asUser)
	rest("update-user-promote-self", updateUserPUT, "$self", json, `{"role":"admin"}`, asUser)
	rest("update-user-deactivate-self-admin", updateUserPATCH, "VAH1", json, `{"activation_status":"inactive","role":"user"}`, asAdmin)
	rest("update-user-take-email", updateUserPATCH, "$victim", json, `{"email":"user@fuzz.test"}`, asAdmin)
	rest("update-user-absent", updateUserPUT, "VAH999999", json, `{"username":"ghost"}`, asAdmin)

	// ---- GraphQL ----
	gql := func(name, query, variables string, who int) {
		add("FuzzGraphQLRequest", name, query, []byte(variables), uint8(who))
	}
	gql("me", `{ me { id username email role activationStatus createdAt stats { pending ongoing complete total } } }`, ``, asUser)
	gql("tasks-filtered", `query($s: TaskStatus, $f: Int, $a: String) { tasks(status: $s, first: $f, after: $a) { edges { cursor node { id title status } } pageInfo { hasNextPage endCursor } totalCount } }`, `{"s":"PENDING","f":1}`, asUser)
	gql("tasks-bad-enum", `{ tasks(status: pending) { totalCount } }`, ``, asUser)
	gql("tasks-negative-first", `{ tasks(first: -1) { totalCount } }`, ``, asUser)
	gql("task-others", `query($id: ID!) { task(id: $id) { id title } }`, `{"id":"`+fx.otherTask.ID+`"}`, asUser)
	gql("update-others-task", `mutation($id: ID!) { updateTask(id: $id, input: {status: COMPLETE}) { id } }`, `{"id":"`+fx.otherTask.ID+`"}`, asUser)
	gql("delete-own-task-aliased", `mutation($id: ID!) { a: deleteTask(id: $id) b: deleteTask(id: $id) }`, `{"id":"`+fx.ownTask.ID+`"}`, asUser)
	gql("update-task-empty-input", `mutation($id: ID!) { updateTask(id: $id, input: {}) { id } }`, `{"id":"`+fx.ownTask.ID+`"}`, asUser)
	gql("create-task-partial-batch", `mutation { ok: createTask(input: {title: "fine"}) { id } bad: createTask(input: {title: ""}) { id } }`, ``, asUser)
	gql("create-task-no-token", `mutation { createTask(input: {title: "t"}) { id } }`, ``, asNobody)
	gql("register-admin-as-user", `mutation($in: RegisterInput!) { register(input: $in) { id role } }`, `{"in":{"username":"m","email":"m@example.com","password":"s3cret!pw","role":"ADMIN"}}`, asUser)
	gql("register-lowercase-enum", `mutation { register(input: {username: "m", email: "m2@example.com", password: "s3cret!pw", role: admin}) { id } }`, ``, asNobody)
	gql("register-unknown-field", `mutation($in: RegisterInput!) { register(input: $in) { id } }`, `{"in":{"username":"m","email":"m3@example.com","password":"s3cret!pw","userId":"VAH1"}}`, asNobody)
	gql("login-aliases", `mutation { a: login(email: "user@fuzz.test", password: "x!xxxx") { accessToken } b: login(email: "nobody@example.com", password: "x!xxxx") { accessToken } }`, ``, asNobody)
	gql("users-as-user", `{ users(first: 100) { edges { node { id email stats { total } } } } }`, ``, asUser)
	gql("user-stats-as-admin", `query($id: ID!) { user(id: $id) { id stats { total } } }`, `{"id":"VAH2"}`, asAdmin)
	gql("update-user-self-role", `mutation { updateUser(id: "VAH1", input: {role: USER}) { id } }`, ``, asAdmin)
	gql("update-user-as-user", `mutation { updateUser(id: "VAH2", input: {role: ADMIN}) { id } }`, ``, asUser)
	gql("update-user-as-inactive", `mutation { updateUser(id: "VAH4", input: {activationStatus: ACTIVE}) { id } }`, ``, asInactive)
	gql("directives", `query($no: Boolean!) { me @include(if: $no) { id } tasks @skip(if: true) { totalCount } }`, `{"no":false}`, asUser)
	gql("fragments-on-wrong-type", `{ me { ...T } } fragment T on Task { id }`, ``, asUser)
	gql("fragment-cycle", `{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`, ``, asUser)
	gql("subscription", `subscription { tasks { totalCount } }`, ``, asUser)
	gql("operation-name-mismatch", `query A { me { id } } query B { tasks { totalCount } }`, ``, asUser)
	gql("variables-wrong-types", `query($f: Int) { tasks(first: $f) { totalCount } }`, `{"f":"10"}`, asUser)
	gql("variables-huge-int", `query($f: Int) { tasks(first: $f) { totalCount } }`, `{"f":1e300}`, asUser)
	gql("introspection-off", `{ __schema { types { name fields { name } } } }`, ``, asNobody)
	gql("typename-only", `{ __typename }`, ``, asNobody)
	gql("empty", ``, ``, asUser)
	gql("comment-only", `# nothing`, ``, asUser)
	gql("unterminated-string", `{ task(id: "abc) { id } }`, ``, asUser)
	gql("block-string", `mutation { createTask(input: {title: """multi\nline"""}) { id } }`, ``, asUser)

	// ---- cursors ----
	cursor := func(name, after string, first, status, who int) {
		add("FuzzCursor", name, after, first, uint8(status), uint8(who))
	}
	own := cf.cursors[cursorScope{0, 0}]
	pending := cf.cursors[cursorScope{0, 1}]
	others := cf.cursors[cursorScope{1, 0}]
	cursor("valid", own[2], 3, 0, 0)
	cursor("valid-padded", " "+own[2]+"\n", 3, 0, 0)
	cursor("last", own[len(own)-1], 3, 0, 0)
	cursor("valid-filtered", pending[1], 2, 1, 0)
	cursor("filter-mismatch", pending[1], 2, 2, 0)
	cursor("filter-dropped", pending[1], 2, 0, 0)
	cursor("other-users", others[0], 3, 0, 0)
	cursor("own-used-by-other", own[0], 3, 0, 1)
	cursor("zero-first", own[0], 0, 0, 0)
	cursor("negative-first", own[0], -1, 0, 0)
	cursor("huge-first", "", 1<<40, 0, 0)
	cursor("bad-status", "", 3, 4, 0)
	cursor("empty", "", 3, 0, 0)
	cursor("not-base64", "!!!", 3, 0, 0)
	cursor("std-base64", strings.NewReplacer("-", "+", "_", "/").Replace(own[0])+"==", 3, 0, 0)
	cursor("short", base64.RawURLEncoding.EncodeToString([]byte("short")), 3, 0, 0)
	cursor("id-zero-mac", base64.RawURLEncoding.EncodeToString(append([]byte(fx.ownTask.ID), make([]byte, 16)...)), 3, 0, 0)
	cursor("id-no-mac", base64.RawURLEncoding.EncodeToString([]byte(fx.otherTask.ID)), 3, 0, 0)
	cursor("truncated", own[0][:len(own[0])-2], 3, 0, 0)
	cursor("long", strings.Repeat("A", 4096), 3, 0, 0)

	// ---- bearer tokens ----
	bearer := func(name, header string) { add("FuzzBearerToken", name, header) }
	claims := func(sub any, iat, exp time.Time) jwt.MapClaims {
		c := jwt.MapClaims{"iat": iat.Unix(), "exp": exp.Unix()}
		if sub != nil {
			c["sub"] = sub
		}
		return c
	}
	now := fuzzNow
	ok := claims(fx.user.ID, now, now.Add(time.Hour))
	hmacToken := func(alg string, key []byte, c jwt.MapClaims) string {
		unsigned := strings.TrimSuffix(rawJWT(map[string]any{"alg": alg, "typ": "JWT"}, c, nil), ".")
		m := hmac.New(sha256.New, key)
		m.Write([]byte(unsigned))
		return unsigned + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	bearer("user", "Bearer "+fx.user.Token)
	bearer("admin-lowercase-scheme", "bearer "+fx.admin.Token)
	bearer("inactive", "Bearer "+fx.off.Token)
	bearer("extra-spaces", "  Bearer    "+fx.user.Token+"  ")
	bearer("tab", "Bearer\t"+fx.user.Token)
	bearer("no-scheme", fx.user.Token)
	bearer("basic", "Basic "+base64.StdEncoding.EncodeToString([]byte("user@fuzz.test:"+password)))
	bearer("scheme-only", "Bearer")
	bearer("empty", "")
	bearer("alg-none", "Bearer "+rawJWT(map[string]any{"alg": "none", "typ": "JWT"}, ok, nil))
	bearer("alg-none-mixed-case", "Bearer "+rawJWT(map[string]any{"alg": "nOnE"}, ok, nil))
	bearer("hs512", "Bearer "+signJWT(t, jwt.SigningMethodHS512, jwtSecret, ok))
	bearer("rs256-header-hmac", "Bearer "+hmacToken("RS256", jwtSecret, ok))
	bearer("rs256-garbage-signature", "Bearer "+rawJWT(map[string]any{"alg": "RS256"}, ok, make([]byte, 256)))
	bearer("wrong-secret", "Bearer "+hmacToken("HS256", []byte("not-the-secret"), ok))
	bearer("expired", "Bearer "+hmacToken("HS256", jwtSecret, claims(fx.user.ID, now.Add(-2*time.Hour), now.Add(-time.Hour))))
	bearer("not-yet-valid", "Bearer "+hmacToken("HS256", jwtSecret, jwt.MapClaims{"sub": fx.user.ID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(30 * time.Minute).Unix()}))
	bearer("issued-in-future", "Bearer "+hmacToken("HS256", jwtSecret, claims(fx.user.ID, now.Add(time.Hour), now.Add(2*time.Hour))))
	bearer("no-exp", "Bearer "+hmacToken("HS256", jwtSecret, jwt.MapClaims{"sub": fx.user.ID, "iat": now.Unix()}))
	bearer("no-sub", "Bearer "+hmacToken("HS256", jwtSecret, claims(nil, now, now.Add(time.Hour))))
	bearer("numeric-sub", "Bearer "+hmacToken("HS256", jwtSecret, claims(2, now, now.Add(time.Hour))))
	bearer("deleted-user", "Bearer "+hmacToken("HS256", jwtSecret, claims("VAH99", now, now.Add(time.Hour))))
	bearer("other-user", "Bearer "+hmacToken("HS256", jwtSecret, claims(fx.other.ID, now, now.Add(time.Hour))))
	bearer("extra-segment", "Bearer "+fx.user.Token+".e30")
	bearer("two-tokens", "Bearer "+fx.user.Token+" Bearer "+fx.admin.Token)
	bearer("newline", "Bearer "+fx.user.Token+"\r\nX-Evil: 1")
	return seeds
}

// TestSeedCorporaAreCurrent keeps the committed corpora under
// testdata/fuzz/ equal to generatedSeeds; TASKAPI_WRITE_FUZZ_SEEDS=1
// rewrites them. Inputs the fuzzer finds (failures) are kept beside them.
func TestSeedCorporaAreCurrent(t *testing.T) {
	write := os.Getenv(envWriteSeeds) == "1"
	for _, s := range generatedSeeds(t) {
		path := filepath.Join("testdata", "fuzz", s.target, s.name)
		want := encodeSeed(s.values)
		if write {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is missing or stale (%v): run %s=1 go test -run TestSeedCorporaAreCurrent ./internal/hardening", path, err, envWriteSeeds)
		}
	}
}
