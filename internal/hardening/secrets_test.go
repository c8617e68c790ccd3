package hardening_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/taskapi/taskapi/core"
)

// pepper is PASS_SECRET_KEY in the session test.
const pepper = "PEPPER-canary-5e2b8d1f9a4c7036"

// faulty fails CreateTask for the title "explode" with an internal error
// and panics for "panic", as a buggy or broken store would.
type faulty struct{ core.Store }

func (f faulty) CreateTask(ctx context.Context, t core.Task, limit int) error {
	switch t.Title {
	case "explode":
		return errors.New("simulated store failure: disk on fire")
	case "panic":
		panic("simulated store bug")
	}
	return f.Store.CreateTask(ctx, t, limit)
}

// session records every answer of a scripted session and every secret it
// used or received.
type session struct {
	t       *testing.T
	e       *env
	secrets map[string]string // secret → what it is
	bodies  []string
}

func (s *session) secret(what, v string) {
	if v != "" {
		s.secrets[v] = what
	}
}

func (s *session) do(r request) reply {
	s.t.Helper()
	rep := s.e.do(s.t, r)
	s.bodies = append(s.bodies, string(rep.body))
	return rep
}

func (s *session) rest(method, path, token string, body any) reply {
	s.t.Helper()
	return s.do(request{method: method, path: path, token: token, body: jsonBody(s.t, body)})
}

func (s *session) gql(token, query string, v vars) gqlReply {
	s.t.Helper()
	rep := s.do(request{method: http.MethodPost, path: "/graphql", token: token, body: gqlBody(query, v)})
	g, err := decodeGQL(rep)
	if err != nil {
		s.t.Fatal(err)
	}
	return g
}

func (s *session) want(what string, ok bool, r fmt.Stringer) {
	s.t.Helper()
	if !ok {
		s.t.Fatalf("%s: %s", what, r)
	}
}

// TestNoSecretInLogs runs a full session over both APIs (registrations,
// logins good and bad, forged and expired tokens, password changes,
// persisted queries, internal errors and panics) with the production
// logger at debug level, then looks for every password, password hash,
// token, the JWT secret and the pepper in the logs (and for hashes and
// server secrets in the answers): none may appear. Every answer of the
// session also carries the security headers (checked by env.send).
func TestNoSecretInLogs(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			spans := tracetest.NewInMemoryExporter()
			e := newEnv(t, b.open(t), withPepper(pepper), withWrap(func(s core.Store) core.Store { return faulty{s} }), withInternalErrors(), withMetrics(), withSpans(spans))
			s := &session{t: t, e: e, secrets: map[string]string{}}
			s.secret("JWT secret", string(jwtSecret))
			s.secret("cursor secret", string(cursorSecret))
			s.secret("pepper", pepper)
			admin := e.mustAdmin(t)
			s.secret("admin token", admin.Token)
			s.secret("admin password", password)

			// Registrations, good and bad.
			aliceEmail, bobEmail := uniqueEmail("alice"), uniqueEmail("bob")
			alicePw, bobPw := "Al1ce#secret", "B0b$ecret!"
			s.secret("alice's password", alicePw)
			s.secret("bob's password", bobPw)
			r := s.rest(http.MethodPost, "/api/v1/auth/register", "", vars{"username": "alice", "email": aliceEmail, "password": alicePw})
			s.want("register alice", r.status == 200, r)
			g := s.gql("", `mutation($in: RegisterInput!) { register(input: $in) { id } }`, vars{"in": vars{"username": "bob", "email": bobEmail, "password": bobPw}})
			s.want("register bob", g.ok(), g)
			weak := "nospecial1234"
			s.secret("a refused password", weak)
			r = s.rest(http.MethodPost, "/api/v1/auth/register", "", vars{"username": "carol", "email": uniqueEmail("carol"), "password": weak})
			s.want("weak password refused", r.status == 422, r)
			g = s.gql("", `mutation { register(input: {username: "dave", email: "`+uniqueEmail("dave")+`", password: "`+weak+`"}) { id } }`, nil)
			s.want("weak password refused", slicesEqual(g.codes(), "BAD_USER_INPUT"), g)
			r = s.rest(http.MethodPost, "/api/v1/auth/register", "", vars{"username": "alice", "email": aliceEmail, "password": alicePw})
			s.want("taken email", r.status == 409, r)

			// Logins, every way, good and bad.
			var aliceToken, bobToken string
			r = s.rest(http.MethodPost, "/api/v1/auth/login", "", vars{"email": aliceEmail, "password": alicePw})
			var tok struct {
				AccessToken  string `json:"access_token"`
				RefreshToken string `json:"refresh_token"`
			}
			_ = json.Unmarshal(r.body, &tok)
			aliceToken = tok.AccessToken
			s.want("alice logs in", r.status == 200 && aliceToken != "" && tok.RefreshToken != "", r)
			s.secret("alice's token", aliceToken)
			s.secret("alice's refresh token", tok.RefreshToken)
			r = s.rest(http.MethodPost, "/api/v1/auth/refresh", "", vars{"refresh_token": tok.RefreshToken})
			s.want("alice refreshes", r.status == 200, r)
			_ = json.Unmarshal(r.body, &tok)
			s.secret("alice's refreshed token", tok.AccessToken)
			s.secret("alice's next refresh token", tok.RefreshToken)
			aliceToken = tok.AccessToken
			r = s.do(request{method: http.MethodPost, path: "/api/v1/auth/login", contentType: "application/x-www-form-urlencoded",
				body: []byte(url.Values{"username": {bobEmail}, "password": {bobPw}, "grant_type": {"password"}}.Encode())})
			_ = json.Unmarshal(r.body, &tok)
			s.secret("bob's form token", tok.AccessToken)
			s.want("bob logs in with the form", r.status == 200, r)
			var login struct{ Login struct{ AccessToken string } }
			g = s.gql("", `mutation { login(email: "`+bobEmail+`", password: "`+bobPw+`") { accessToken } }`, nil)
			s.want("bob logs in over GraphQL", g.ok() && json.Unmarshal(g.Data, &login) == nil, g)
			bobToken = login.Login.AccessToken
			s.secret("bob's token", bobToken)
			for _, wrong := range []string{"Wr0ng!pass", "guess#1234", strings.Repeat("x!", 50)} {
				s.secret("a wrong password", wrong)
				r = s.rest(http.MethodPost, "/api/v1/auth/login", "", vars{"email": aliceEmail, "password": wrong})
				s.want("wrong password", r.status == 401, r)
				g = s.gql("", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`, vars{"e": bobEmail, "p": wrong})
				s.want("wrong password", slicesEqual(g.codes(), "UNAUTHENTICATED"), g)
				r = s.do(request{method: http.MethodPost, path: "/api/v1/auth/login", contentType: "application/x-www-form-urlencoded",
					body: []byte(url.Values{"username": {uniqueEmail("ghost")}, "password": {wrong}}.Encode())})
				s.want("unknown email", r.status == 401, r)
			}

			// Bad tokens of every kind.
			forged := map[string]string{
				"forged token":  signJWT(t, jwt.SigningMethodHS256, []byte("attacker-secret-0123456789abcdef"), validClaims(admin.ID)),
				"alg none":      rawJWT(map[string]any{"alg": "none"}, validClaims(admin.ID), nil),
				"expired token": signJWT(t, jwt.SigningMethodHS256, jwtSecret, jwt.MapClaims{"sub": admin.ID, "iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()}),
				"garbage token": "garbage." + base64.RawURLEncoding.EncodeToString([]byte(alicePw)) + ".x",
			}
			for what, tok := range forged {
				s.secret(what, tok)
				r = s.rest(http.MethodGet, "/api/v1/auth/user", tok, nil)
				s.want(what, r.status == 401, r)
				g = s.gql(tok, `{ me { id } }`, nil)
				s.want(what, slicesEqual(g.codes(), "UNAUTHENTICATED"), g)
			}
			// Tokens where no server reads them (query string, cookie).
			r = s.do(request{method: http.MethodGet, path: "/graphql?query=" + url.QueryEscape(`{ me { id } }`) + "&access_token=" + aliceToken,
				header: map[string]string{"Cookie": "session=" + bobToken}})
			s.want("token in the URL ignored", r.status == 200, r)

			// Ordinary work, persisted queries, password changes.
			for _, tok := range []string{aliceToken, bobToken} {
				r = s.rest(http.MethodPost, "/api/v1/tasks/create-task", tok, vars{"title": "buy milk", "description": "semi-skimmed"})
				s.want("create task", r.status == 200, r)
				g = s.gql(tok, `{ me { id stats { total } } tasks(first: 1) { edges { cursor } pageInfo { endCursor } } }`, nil)
				s.want("read", g.ok(), g)
			}
			apqQuery := `mutation { login(email: "` + aliceEmail + `", password: "` + alicePw + `") { accessToken } }`
			sum := sha256.Sum256([]byte(apqQuery))
			ext := vars{"persistedQuery": vars{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
			rep := s.do(request{method: http.MethodPost, path: "/graphql", body: jsonBody(t, vars{"extensions": ext})})
			s.want("unknown persisted query", strings.Contains(string(rep.body), "PERSISTED_QUERY_NOT_FOUND"), rep)
			rep = s.do(request{method: http.MethodPost, path: "/graphql", body: jsonBody(t, vars{"query": apqQuery, "extensions": ext})})
			s.want("persisted query registered", rep.status == 200, rep)
			if g, _ = decodeGQL(rep); json.Unmarshal(g.Data, &login) == nil {
				s.secret("alice's APQ token", login.Login.AccessToken)
			}
			newPw, newPw2 := "N3w!secret", "An0ther#pw"
			s.secret("a new password", newPw)
			s.secret("a new password", newPw2)
			r = s.rest(http.MethodPut, "/api/v1/admin/update-user/VAH2", admin.Token, vars{"password": newPw})
			s.want("admin resets a password", r.status == 200, r)
			g = s.gql(admin.Token, `mutation($id: ID!, $p: String!) { updateUser(id: $id, input: {password: $p}) { id } }`, vars{"id": "VAH3", "p": newPw2})
			s.want("admin resets a password", g.ok(), g)
			r = s.rest(http.MethodPatch, "/api/v1/admin/update-user/VAH2", admin.Token, vars{"password": weak})
			s.want("weak new password refused", r.status == 422, r)
			// The resets ended alice's and bob's sessions: they log in anew.
			r = s.rest(http.MethodGet, "/api/v1/tasks/fetch-task", aliceToken, nil)
			s.want("a reset ends the sessions", r.status == 401, r)
			for _, who := range []struct {
				token        *string
				email, newPw string
			}{{&aliceToken, aliceEmail, newPw}, {&bobToken, bobEmail, newPw2}} {
				g = s.gql("", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }`, vars{"e": who.email, "p": who.newPw})
				s.want("login with the new password", g.ok(), g)
				var l struct {
					Login struct{ AccessToken, RefreshToken string }
				}
				_ = json.Unmarshal(g.Data, &l)
				s.secret("a token after the reset", l.Login.AccessToken)
				s.secret("a refresh token", l.Login.RefreshToken)
				*who.token = l.Login.AccessToken
			}

			// Internal errors and panics, on both APIs.
			for _, title := range []string{"explode", "panic"} {
				r = s.rest(http.MethodPost, "/api/v1/tasks/create-task", aliceToken, vars{"title": title})
				s.want("internal error", r.status == 500 && string(r.body) == `{"detail":"Internal Server Error"}`, r)
				g = s.gql(bobToken, `mutation($t: String!) { createTask(input: {title: $t}) { id } }`, vars{"t": title})
				s.want("internal error", slicesEqual(g.codes(), "INTERNAL_SERVER_ERROR") && g.Errors[0].Message == "internal server error", g)
			}

			// Every password hash now stored, whole and in parts.
			for _, email := range []string{admin.Email, aliceEmail, bobEmail} {
				u, err := e.truth.GetUserByEmail(t.Context(), core.KeyOf(email))
				if err != nil {
					t.Fatal(err)
				}
				s.secret("a password hash", u.PasswordHash)
				parts := strings.Split(u.PasswordHash, "$") // $argon2id$v=19$m=...$salt$key
				s.secret("a password hash's salt", parts[len(parts)-2])
				s.secret("a password hash's key", parts[len(parts)-1])
			}

			logs := e.logs.String()
			for _, want := range []string{`"msg":"request"`, `"request_id"`, "rest: internal error", "graphql: internal error", "graphql: panic", "disk on fire"} {
				if !strings.Contains(logs, want) {
					t.Fatalf("the logs lack %q: the capture missed the session", want)
				}
			}
			for secret, what := range s.secrets {
				if strings.Contains(logs, secret) {
					t.Errorf("%s appears in the logs", what)
				}
				for _, tokenPart := range strings.Split(secret, ".") {
					if len(tokenPart) > 40 && strings.Count(secret, ".") == 2 && strings.Contains(logs, tokenPart) {
						t.Errorf("part of %s appears in the logs", what)
					}
				}
			}
			for _, body := range s.bodies {
				for secret, what := range s.secrets {
					if (strings.Contains(what, "hash") || strings.Contains(what, "secret") || what == "pepper") && strings.Contains(body, secret) {
						t.Errorf("%s appears in an answer: %s", what, truncate(body, 200))
					}
				}
				if strings.Contains(body, "$argon2id$") || strings.Contains(body, "disk on fire") || strings.Contains(body, "simulated") {
					t.Errorf("an answer leaks internals: %s", truncate(body, 200))
				}
			}
			checkMetrics(t, e, s.secrets, admin.Email, aliceEmail, bobEmail)
			checkSpans(t, spans.GetSpans(), s.secrets, admin.Email, aliceEmail, bobEmail)
			if t.Failed() {
				t.Logf("logs:\n%s", lastLines(logs, 40))
			}
		})
	}
}

// checkMetrics scrapes the metrics after the session: no label value may
// hold a secret of the session or an email (none holds an "@" at all:
// labels come from closed sets), and no secret may appear anywhere in the
// scrape. The session's requests must have been counted, or the check
// proves nothing.
func checkMetrics(t *testing.T, e *env, secrets map[string]string, emails ...string) {
	t.Helper()
	rec := httptest.NewRecorder()
	e.metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	text := rec.Body.String()
	for _, want := range []string{`operation="POST /api/v1/auth/login"`, `operation="mutation.login"`, `taskapi_login_failures_total{reason="bad_credentials"}`} {
		if !strings.Contains(text, want) {
			t.Fatalf("the metrics lack %s: the session was not counted", want)
		}
	}
	labels := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
	n := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, l := range labels.FindAllStringSubmatch(line, -1) {
			n++
			name, v := l[1], l[2]
			if strings.Contains(v, "@") || strings.Contains(v, "eyJ") {
				t.Errorf("%s: an email or a token in label %s", line, name)
			}
			for _, email := range emails {
				if strings.Contains(v, email) {
					t.Errorf("%s: an email in label %s", line, name)
				}
			}
			for secret, what := range secrets {
				if strings.Contains(v, secret) {
					t.Errorf("%s in label %s of %s", what, name, strings.SplitN(line, "{", 2)[0])
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d labels in the metrics: the parse missed them\n%s", n, text)
	}
	for secret, what := range secrets {
		if strings.Contains(text, secret) {
			t.Errorf("%s appears in the metrics", what)
		}
	}
}

func slicesEqual(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// checkSpans looks through every span of the session (names, attributes,
// events and their attributes, status): no secret of the session, no
// email, no bearer token may be in any. The session's logins must have
// been traced with the user's id, or the check proves nothing.
func checkSpans(t *testing.T, spans tracetest.SpanStubs, secrets map[string]string, emails ...string) {
	t.Helper()
	if len(spans) == 0 {
		t.Fatal("no span was recorded: the check proves nothing")
	}
	withUser := 0
	for _, sp := range spans {
		var texts []string
		texts = append(texts, sp.Name, sp.Status.Description)
		for _, kv := range sp.Attributes {
			texts = append(texts, string(kv.Key)+"="+kv.Value.String())
			if kv.Key == "enduser.id" {
				withUser++
			}
		}
		for _, ev := range sp.Events {
			texts = append(texts, ev.Name)
			for _, kv := range ev.Attributes {
				texts = append(texts, string(kv.Key)+"="+kv.Value.String())
			}
		}
		all := strings.Join(texts, "\n")
		for what, secret := range secrets {
			if strings.Contains(all, secret) {
				t.Errorf("span %q holds %s", sp.Name, what)
			}
		}
		for _, email := range emails {
			if strings.Contains(strings.ToLower(all), strings.ToLower(email)) {
				t.Errorf("span %q holds an email address", sp.Name)
			}
		}
		if strings.Contains(all, "Bearer ") {
			t.Errorf("span %q holds a bearer token", sp.Name)
		}
	}
	if withUser == 0 {
		t.Error("no span carries enduser.id: the requests were not traced as a user's")
	}
}
