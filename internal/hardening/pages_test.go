package hardening_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestPagesAreLockedDown: the playground and /docs run no script but their
// own files and their inline blocks by hash, cannot be framed, and the
// playground keeps no request headers (a bearer token) in localStorage;
// every answer that can carry a user's data is no-store with a CSP that
// allows nothing, a GraphQL GET that asks for HTML included.
func TestPagesAreLockedDown(t *testing.T) {
	e := newEnv(t, openEmbedded(t), withIntrospection(true))
	inline := regexp.MustCompile(`(?s)<(script|style)>(.*?)</(?:script|style)>`)
	handlers := regexp.MustCompile(`(?i)\son[a-z]+\s*=|javascript:`)
	for _, path := range []string{"/", "/playground", "/docs"} {
		t.Run(strings.TrimPrefix(path, "/")+"/CSP", func(t *testing.T) {
			r := e.do(t, request{method: http.MethodGet, path: path, header: map[string]string{"Accept": "text/html"}})
			csp := r.header.Get("Content-Security-Policy")
			if r.status != http.StatusOK || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-") {
				t.Fatalf("%d, CSP %q", r.status, csp)
			}
			blocks := inline.FindAllSubmatch(r.body, -1)
			for _, m := range blocks {
				sum := sha256.Sum256(m[2])
				if src := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, src) {
					t.Errorf("an inline <%s> is not allowed by its hash %s", m[1], src)
				}
			}
			if n := strings.Count(csp, "'sha256-"); n != len(blocks) {
				t.Errorf("the CSP allows %d hashes for %d inline blocks", n, len(blocks))
			}
			if h := handlers.Find(r.body); h != nil {
				t.Errorf("inline event handler or javascript: URL %q", h)
			}
		})
	}
	t.Run("playground/HeadersNotPersisted", func(t *testing.T) {
		r := e.do(t, request{method: http.MethodGet, path: "/"})
		if !strings.Contains(string(r.body), "shouldPersistHeaders: false") {
			t.Fatal("the playground keeps its request headers (the Authorization header) in localStorage")
		}
	})
	t.Run("GraphQLGetAskingForHTML/NoStore", func(t *testing.T) {
		u := e.mustUser(t, "browser")
		for _, accept := range []string{"text/html", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"} {
			r := e.do(t, request{method: http.MethodGet, path: "/graphql?query=" + url.QueryEscape("{ me { email } }"), token: u.Token, header: map[string]string{"Accept": accept}})
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Security-Policy") != "default-src 'none'; frame-ancestors 'none'" {
				t.Fatalf("Accept %q: %s with Cache-Control %q, CSP %q", accept, r, r.header.Get("Cache-Control"), r.header.Get("Content-Security-Policy"))
			}
		}
	})
}
