package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/taskapi/taskapi/internal/legacytest"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/dynamo"
)

// The test binary doubles as the operator's -decrypt-command: it speaks the
// protocol with the fixtures' cipher (internal/legacytest).
func init() {
	if os.Getenv("TASKAPI_TEST_DECRYPT") == "1" {
		if err := legacytest.DecryptMain(os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// TestMigrateLegacy takes over tables written as the legacy app writes
// them, on DynamoDB Local: a dry run, a run SIGKILLed halfway, a rerun; then
// every user logs in with their old password through both APIs, every task
// and count is there, legacy tokens and calls work, and verify is clean.
func TestMigrateLegacy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local")
	}
	endpoint := testenv.DynamoDB(t)
	const jwtSecret = "0123456789abcdef0123456789abcdef-legacy"
	env, usersTable, tasksTable := dynamoEnv(endpoint, "legacy", jwtSecret)
	env = append(env, "PASS_SECRET_KEY=crypto_secret_key")
	tables := dynamo.Tables{Users: usersTable, Tasks: tasksTable}
	client, err := dynamo.NewClient(t.Context(), dynamo.Options{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	if err := legacytest.CreateTables(t.Context(), client, tables.Users, tables.Tasks); err != nil {
		t.Fatal(err)
	}
	fx, err := legacytest.Write(t.Context(), client, tables.Users, tables.Tasks)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	decrypt := "TASKAPI_TEST_DECRYPT=1 '" + self + "'"
	run := func(args ...string) (string, int) { t.Helper(); return runCLI(t, env, args...) }
	out, code := run("migrate-legacy", "-dry-run", "-decrypt-command", decrypt)
	if code != 0 || !strings.Contains(out, "would ") || !strings.Contains(out, `skipped "user_counter"`) {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	// Killed halfway: slowed to 15 items a second, SIGKILLed after 2 s.
	slow := cliCommand(t, env, "migrate-legacy", "-rate", "15", "-decrypt-command", decrypt)
	if err := slow.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	_ = slow.Process.Kill()
	_ = slow.Wait()
	out, code = run("migrate-legacy", "-decrypt-command", decrypt)
	if code != 0 {
		t.Fatalf("migrate-legacy: exit %d\n%s", code, out)
	}
	report := fmt.Sprintf("users %d, tasks %d, passwords converted %d, passwords not convertible 1, duplicates 1, skipped items %d,",
		len(fx.Users), len(fx.Tasks), len(fx.Users)-1, fx.Skipped)
	if !strings.Contains(out, report) || strings.Contains(out, "s3cond!") || strings.Contains(out, "al!ce1") {
		t.Fatalf("report: want %q in\n%s", report, out)
	}
	if out, code = run("migrate-legacy", "-decrypt-command", decrypt); code != 0 || !strings.Contains(out, "changes 0,") {
		t.Fatalf("a second run changed something: exit %d\n%s", code, out)
	}
	if out, code = run("verify"); code != 0 {
		t.Fatalf("verify after the migration: exit %d\n%s", code, out)
	}

	s := start(t, binary(t), env...)
	rest := s.rest
	login := func(email, pw string) (int, map[string]any, string) {
		return rest("POST", "/api/v1/auth/login", "", `{"email":"`+email+`","password":"`+pw+`"}`)
	}
	tokens := map[string]string{}
	for _, u := range fx.Users {
		t.Run("Login/"+u.ID, func(t *testing.T) {
			code, body, raw := login(strings.ToUpper(u.Email), u.Password) // any case, as before
			active := strings.EqualFold(u.Status, "active")
			switch {
			case u.Reset:
				if code != 401 || !strings.Contains(raw, "Password reset required") {
					t.Fatalf("REST: %d %s", code, raw)
				}
				g := s.graphqlRaw(t, gqlLogin, map[string]any{"e": u.Email, "p": "anything!1"})
				if !strings.Contains(g, `"code":"PASSWORD_RESET_REQUIRED"`) {
					t.Fatalf("GraphQL: %s", g)
				}
			case u.Duplicate:
				if code != 401 { // the address is the elder's
					t.Fatalf("duplicate: %d %s", code, raw)
				}
			case !active:
				if code != 403 || body["detail"] != "Inactive user" {
					t.Fatalf("inactive: %d %s", code, raw)
				}
			default:
				if code != 200 {
					t.Fatalf("REST login with the old password: %d %s", code, raw)
				}
				tokens[u.ID] = body["access_token"].(string)
				g := s.graphql(t, "", gqlLogin, map[string]any{"e": u.Email, "p": u.Password})
				if g["login"].(map[string]any)["user"].(map[string]any)["id"] != u.ID {
					t.Fatalf("GraphQL login: %v", g)
				}
			}
		})
	}
	for _, u := range fx.Users {
		tok := tokens[u.ID]
		if tok == "" {
			continue
		}
		t.Run("Data/"+u.ID, func(t *testing.T) {
			code, me, raw := rest("GET", "/api/v1/auth/user", tok, "")
			data, _ := me["task_data"].(map[string]any)
			if code != 200 || data == nil {
				t.Fatalf("me: %d %s", code, raw)
			}
			total := 0
			for _, st := range []string{"pending", "ongoing", "complete"} {
				total += u.Tasks[st]
				if int(data[st].(float64)) != u.Tasks[st] {
					t.Errorf("%s: %v, want %d", st, data[st], u.Tasks[st])
				}
			}
			code, _, raw = rest("GET", "/api/v1/tasks/fetch-task", tok, "")
			var tasks []map[string]any
			_ = json.Unmarshal([]byte(raw), &tasks)
			if code != 200 || len(tasks) != total {
				t.Fatalf("fetch-task: %d, %d tasks, want %d: %s", code, len(tasks), total, raw)
			}
			for _, task := range tasks {
				if task["created_at"] == nil || task["updated_at"] == nil || task["description"] == nil {
					t.Errorf("task %v", task)
				}
			}
			g := s.graphql(t, tok, `{ tasks(status: COMPLETE) { totalCount edges { node { id status } } } }`, nil)
			c := g["tasks"].(map[string]any)
			if int(c["totalCount"].(float64)) != u.Tasks["complete"] || len(c["edges"].([]any)) != u.Tasks["complete"] {
				t.Errorf("complete tasks by GraphQL: %v, want %d", c, u.Tasks["complete"])
			}
		})
	}
	// A token the legacy app issued (sub, exp; no session) works until it expires.
	legacy, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "VAH2", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(jwtSecret))
	if code, _, raw := rest("GET", "/api/v1/auth/user", legacy, ""); code != 200 {
		t.Fatalf("a legacy token: %d %s", code, raw)
	}
	// Admins see everyone, duplicates included, and reset a password.
	code, _, raw := rest("GET", "/api/v1/admin/users", tokens["VAH1"], "")
	var users []any
	_ = json.Unmarshal([]byte(raw), &users)
	if code != 200 || len(users) != len(fx.Users) {
		t.Fatalf("admin users: %d %s", code, raw)
	}
	if code, _, raw := rest("PUT", "/api/v1/admin/update-user/VAH5", tokens["VAH1"], `{"password":"N3w!carol"}`); code != 200 {
		t.Fatalf("reset carol: %d %s", code, raw)
	}
	if code, _, raw := login("carol@example.com", "N3w!carol"); code != 200 {
		t.Fatalf("carol after the reset: %d %s", code, raw)
	}
	// New registrations get fresh ids.
	code, reg, raw := rest("POST", "/api/v1/auth/register", "", `{"username":"newbie","email":"newbie@example.com","password":"n3w!bie"}`)
	if code != 200 || reg["user_id"] != fmt.Sprintf("VAH%d", fx.MaxID+1) {
		t.Fatalf("register after the migration: %d %s", code, raw)
	}
	s.stop(t)
	if out, code = run("verify"); code != 0 {
		t.Fatalf("verify at the end: exit %d\n%s", code, out)
	}
}

const gqlLogin = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken user { id } } }`
