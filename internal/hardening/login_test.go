package hardening_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

// loginRequests are the three ways to log in: REST JSON, the OAuth2 form,
// and GraphQL.
var loginRequests = []struct {
	name string
	make func(email, password string) request
}{
	{"REST", func(email, pw string) request {
		b, _ := json.Marshal(map[string]string{"email": email, "password": pw})
		return request{method: http.MethodPost, path: "/api/v1/auth/login", body: b}
	}},
	{"RESTForm", func(email, pw string) request {
		return request{method: http.MethodPost, path: "/api/v1/auth/login", contentType: "application/x-www-form-urlencoded",
			body: []byte(url.Values{"username": {email}, "password": {pw}}.Encode())}
	}},
	{"GraphQL", func(email, pw string) request {
		b, _ := json.Marshal(map[string]any{
			"query":     `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`,
			"variables": map[string]string{"e": email, "p": pw},
		})
		return request{method: http.MethodPost, path: "/graphql", body: b}
	}},
}

// comparable is an answer without what differs between any two requests.
func comparable(r reply) string {
	h := r.header.Clone()
	h.Del("Date")
	h.Del("X-Request-Id")
	keys := make([]string, 0, len(h))
	for k, v := range h {
		keys = append(keys, k+": "+strings.Join(v, ", "))
	}
	slices.Sort(keys)
	return r.String() + "\n" + strings.Join(keys, "\n")
}

// TestLoginDoesNotRevealAccounts: a wrong password, an unknown email and
// an inactive account's wrong password get byte-identical answers (status,
// headers, body) on every login route, over every store.
func TestLoginDoesNotRevealAccounts(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			admin := e.mustAdmin(t)
			known := e.mustUser(t, "known")
			inactive := e.mustUser(t, "inactive")
			off := core.ActivationInactive
			if _, err := e.svc.UpdateUser(admin.ctx(), inactive.ID, core.UpdateUserInput{ActivationStatus: &off}); err != nil {
				t.Fatal(err)
			}
			long := strings.Repeat("x!", 40) // longer than any valid password: refused before hashing
			for _, lr := range loginRequests {
				t.Run(lr.name+"/SameAnswer", func(t *testing.T) {
					cases := []struct{ name, email, pw string }{
						{"WrongPassword", known.Email, "Wr0ng!pw"},
						{"WrongPasswordOtherCase", strings.ToUpper(known.Email), "Wr0ng!pw"},
						{"UnknownEmail", uniqueEmail("nobody"), password},
						{"UnknownEmailWrongPassword", uniqueEmail("nobody"), "Wr0ng!pw"},
						{"InactiveWrongPassword", inactive.Email, "Wr0ng!pw"},
						{"KnownEmailHugePassword", known.Email, long},
						{"UnknownEmailHugePassword", uniqueEmail("nobody"), long},
					}
					var first string
					for _, c := range cases {
						got := comparable(e.do(t, lr.make(c.email, c.pw)))
						if first == "" {
							first = got
							if !strings.Contains(got, "Incorrect email or password") {
								t.Fatalf("%s: %s", c.name, got)
							}
							continue
						}
						if got != first {
							t.Fatalf("%s answered\n%s\nbut %s answered\n%s", c.name, got, cases[0].name, first)
						}
					}
				})
			}
		})
	}
}

// TestLoginTimingDoesNotRevealAccounts measures logins with the production
// argon2id parameters: an unknown email costs as much as a wrong password
// (the service checks a dummy hash), so timing tells an attacker nothing.
// The bound is generous (median ratio within 0.5–2) so load on the machine
// never makes it flaky; skipping the dummy hash would make it about 0.01.
func TestLoginTimingDoesNotRevealAccounts(t *testing.T) {
	owasp := core.OWASPParams
	e := newEnv(t, openEmbedded(t), withHash(&owasp))
	known := e.mustUser(t, "timed")
	rounds := 15
	if testing.Short() {
		rounds = 7
	}
	login := loginRequests[0].make
	measure := func(email, pw string) time.Duration {
		start := time.Now()
		r := e.do(t, login(email, pw))
		d := time.Since(start)
		if r.status != http.StatusUnauthorized {
			t.Fatalf("login answered %s", r)
		}
		return d
	}
	var unknown, wrong []time.Duration
	for i := range rounds {
		if i%2 == 0 {
			unknown = append(unknown, measure(uniqueEmail("ghost"), password))
			wrong = append(wrong, measure(known.Email, "Wr0ng!pw"))
		} else {
			wrong = append(wrong, measure(known.Email, "Wr0ng!pw"))
			unknown = append(unknown, measure(uniqueEmail("ghost"), password))
		}
	}
	mu, mw := median(unknown), median(wrong)
	ratio := float64(mu) / float64(mw)
	t.Logf("median login: unknown email %v, wrong password %v (ratio %.2f, %d rounds)", mu, mw, ratio, rounds)
	if ratio < 0.5 || ratio > 2 {
		t.Fatalf("an unknown email takes %v, a wrong password %v: timing reveals which emails have accounts", mu, mw)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
