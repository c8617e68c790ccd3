package hardening_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

// from sends one request straight to the handler from the client address
// addr (as the Lambda adapter or the HTTP server set RemoteAddr), and
// reads the answer; a missing security header fails t.
func (e *env) from(t testing.TB, addr string, r request) reply {
	t.Helper()
	var body *strings.Reader
	if r.body != nil {
		body = strings.NewReader(string(r.body))
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	req.RemoteAddr = addr + ":40000"
	if strings.Contains(addr, ":") {
		req.RemoteAddr = "[" + addr + "]:40000"
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	rep := reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if p := headerProblem(r.method, r.path, rep); p != "" {
		t.Fatalf("%s %s: answer without security headers: %s", r.method, r.path, p)
	}
	return rep
}

func restLogin(email, pw string) request {
	b, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	return request{method: http.MethodPost, path: "/api/v1/auth/login", body: b}
}

func gqlLogin(email, pw string) request {
	return request{method: http.MethodPost, path: "/graphql", body: gqlBody(`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`, vars{"e": email, "p": pw})}
}

func restRegister(email string) request {
	b, _ := json.Marshal(map[string]string{"username": "bot", "email": email, "password": password})
	return request{method: http.MethodPost, path: "/api/v1/auth/register", body: b}
}

func gqlRegister(email string) request {
	return request{method: http.MethodPost, path: "/graphql", body: gqlBody(`mutation($e: String!, $p: String!) { register(input: {username: "bot", email: $e, password: $p}) { id } }`, vars{"e": email, "p": password})}
}

// limited reports whether r is the refusal of a rate limit, as each API
// words it: REST 429 with Retry-After and FastAPI's {"detail": ...};
// GraphQL RATE_LIMITED with retryAfter (seconds).
func limited(t testing.TB, r reply) bool {
	t.Helper()
	if strings.HasPrefix(string(r.body), `{"detail"`) || r.status == http.StatusTooManyRequests {
		var d struct{ Detail string }
		if r.status != http.StatusTooManyRequests {
			return false
		}
		if json.Unmarshal(r.body, &d) != nil || !strings.HasPrefix(d.Detail, "Too many") || r.header.Get("Retry-After") == "" {
			t.Fatalf("a 429 without Retry-After or detail: %s (Retry-After %q)", r, r.header.Get("Retry-After"))
		}
		return true
	}
	g, err := decodeGQL(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Errors) == 0 || g.Errors[0].code() != "RATE_LIMITED" {
		return false
	}
	if s, ok := g.Errors[0].Extensions["retryAfter"].(float64); !ok || s < 1 {
		t.Fatalf("RATE_LIMITED without retryAfter: %s", r)
	}
	return true
}

// attempts sends req until it is refused by a rate limit (at most max
// times) and returns how many were answered before.
func attempts(t testing.TB, max int, send func(i int) reply) int {
	t.Helper()
	for i := range max {
		if limited(t, send(i)) {
			return i
		}
	}
	return max
}

// TestRateLimitsHold drives the limits with their defaults through both
// APIs, from many client addresses, over every store and with Redis frozen:
// brute force from one address is refused after 10 tries at an account (50
// at any), a third party guessing from many addresses never locks the
// owner out, registrations are limited per address and for all, task
// writes per user; a refused request writes nothing.
func TestRateLimitsHold(t *testing.T) {
	limits := core.DefaultLimits()
	limits.LoginSlowdown = 20 * time.Millisecond // the default is 1 s
	limits.RegisterAll = core.Rate{N: 30, Per: time.Hour}
	// Per hour, not minute: the limit refills continuously (GCRA), and at
	// 50 a minute a loaded machine's slow requests let a 51st through
	// (seen once, with Redis frozen).
	limits.Writes = core.Rate{N: 50, Per: time.Hour}
	for _, b := range []backend{{"embedded", openEmbedded}, {"cache+redis", openCached}, {"cache+redis-frozen", openCached}} {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			e := newEnv(t, st, withLimits(limits))
			victim, writer := e.mustUser(t, "victim"), e.mustUser(t, "writer")
			if b.name == "cache+redis-frozen" {
				if err := st.redis.Pause(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = st.redis.Resume() })
			}
			for _, api := range []struct {
				name     string
				login    func(email, pw string) request
				register func(email string) request
			}{{"REST", restLogin, restRegister}, {"GraphQL", gqlLogin, gqlRegister}} {
				net := map[string]string{"REST": "198.51.100", "GraphQL": "203.0.113"}[api.name]
				t.Run(api.name+"/BruteForceOneAccount", func(t *testing.T) {
					n := attempts(t, 30, func(int) reply { return e.from(t, net+".1", api.login(victim.Email, "Wr0ng!pw")) })
					if n != 10 {
						t.Fatalf("%d wrong passwords answered before 429, want 10", n)
					}
					if !limited(t, e.from(t, net+".1", api.login(victim.Email, password))) {
						t.Fatal("the guesser's address got in with the right password while limited")
					}
					if r := e.from(t, net+".2", api.login(victim.Email, password)); r.status != http.StatusOK || limited(t, r) {
						t.Fatalf("the owner, from another address: %s", r)
					}
				})
				t.Run(api.name+"/CredentialStuffingFromOneAddress", func(t *testing.T) {
					n := attempts(t, 80, func(i int) reply {
						return e.from(t, net+".3", api.login(fmt.Sprintf("stuffed%d@example.com", i), "Wr0ng!pw"))
					})
					if n != 50 {
						t.Fatalf("%d logins at different emails answered before 429, want 50", n)
					}
				})
				t.Run(api.name+"/ThirdPartyCannotLockTheOwnerOut", func(t *testing.T) {
					owner := e.mustUser(t, "owner")
					for i := range 120 { // 10 addresses × 10 guesses + more: past the per-email limit (100)
						e.from(t, fmt.Sprintf("%s.%d", net, 100+i/10), api.login(owner.Email, "Wr0ng!pw"))
					}
					start := time.Now()
					if r := e.from(t, net+".250", api.login(owner.Email, password)); r.status != http.StatusOK || limited(t, r) {
						t.Fatalf("the owner after 120 guesses by others: %s", r)
					}
					t.Logf("the owner's login after 120 guesses from 12 addresses: %v (slowed by %v)", time.Since(start), limits.LoginSlowdown)
				})
				t.Run(api.name+"/IPv6RotationInOneSlash64", func(t *testing.T) {
					target := e.mustUser(t, "v6")
					n := attempts(t, 30, func(i int) reply {
						return e.from(t, fmt.Sprintf("2001:db8:%x:1::%x", len(net), i+1), api.login(target.Email, "Wr0ng!pw"))
					})
					if n != 10 {
						t.Fatalf("%d guesses from one /64 answered before 429, want 10", n)
					}
				})
				t.Run(api.name+"/RegistrationFlood", func(t *testing.T) {
					users := len(allUsers(t, e))
					n := attempts(t, 30, func(i int) reply {
						return e.from(t, net+".7", api.register(fmt.Sprintf("flood-%s-%d@example.com", api.name, i)))
					})
					if n != 10 {
						t.Fatalf("%d registrations from one address before 429, want 10", n)
					}
					if got := len(allUsers(t, e)); got != users+10 {
						t.Fatalf("%d users created, want 10", got-users)
					}
				})
			}
			t.Run("RegistrationFloodFromManyAddresses", func(t *testing.T) {
				left := limits.RegisterAll.N - len(allUsers(t, e)) // every user so far registered
				n := attempts(t, 40, func(i int) reply {
					return e.from(t, fmt.Sprintf("192.0.2.%d", i+1), restRegister(fmt.Sprintf("many-%d@example.com", i)))
				})
				if n != left {
					t.Fatalf("%d registrations from fresh addresses before 429, want %d (%d for all)", n, left, limits.RegisterAll.N)
				}
			})
			t.Run("TaskWrites", func(t *testing.T) {
				u := writer
				n := attempts(t, 80, func(i int) reply {
					return e.from(t, "192.0.2.200", request{method: http.MethodPost, path: "/api/v1/tasks/create-task", token: u.Token, body: []byte(`{"title":"spam"}`)})
				})
				if n != 50 {
					t.Fatalf("%d tasks created before 429, want 50", n)
				}
				g, err := decodeGQL(e.from(t, "192.0.2.201", request{method: http.MethodPost, path: "/graphql", token: u.Token, body: gqlBody(`mutation { createTask(input: {title: "spam"}) { id } }`, nil)}))
				if err != nil || len(g.Errors) != 1 || g.Errors[0].code() != "RATE_LIMITED" {
					t.Fatalf("GraphQL write over the limit: %s", g.reply)
				}
				if tasks, err := allTasks(context.Background(), e.truth, u.ID); err != nil || len(tasks) != 50 {
					t.Fatalf("%d tasks stored (%v), want 50", len(tasks), err)
				}
			})
		})
	}
}

func allUsers(t testing.TB, e *env) []core.User {
	t.Helper()
	var all []core.User
	for after := ""; ; {
		users, more, err := e.truth.ListUsers(context.Background(), after, 100)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, users...)
		if !more || len(users) == 0 {
			return all
		}
		after = users[len(users)-1].ID
	}
}
