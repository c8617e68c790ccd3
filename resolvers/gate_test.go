package resolvers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The gate answers every validation error of a document at once (at most
// 100), over POST and GET, and the limits it checks hold for a document
// the query cache has never seen, one byte away from one it has.
func TestGate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	get := func(t *testing.T, q string) response {
		return e.raw(t, http.MethodGet, "/graphql?query="+url.QueryEscape(q), "", "")
	}
	t.Run("AllValidationErrors", func(t *testing.T) {
		q := `{ a1: nope a2: nope a3: nope }`
		for _, r := range []response{e.post(t, "", q, nil), get(t, q)} {
			if len(r.Errors) != 3 {
				t.Fatalf("want 3 errors, got %s", r.Body)
			}
			for _, err := range r.Errors {
				if err.Code() != "GRAPHQL_VALIDATION_FAILED" {
					t.Fatalf("code %q: %s", err.Code(), r.Body)
				}
			}
		}
	})
	t.Run("AtMost100Errors", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{")
		for i := range 60 {
			fmt.Fprintf(&b, " a%d: me { x y }", i)
		}
		b.WriteString(" }")
		if r := e.post(t, "", b.String(), nil); len(r.Errors) != 100 {
			t.Fatalf("want 100 errors, got %d", len(r.Errors))
		}
	})
	t.Run("COMPLEXITY_LIMIT_EXCEEDED/IdenticalFields", func(t *testing.T) {
		ok := "{ " + strings.Repeat("__typename ", 64) + "}"
		if r := e.post(t, "", ok, nil); len(r.Errors) > 0 {
			t.Fatalf("64 identical fields: %s", r.Body)
		}
		for _, q := range []string{strings.Replace(ok, "}", "__typename }", 1), strings.Replace(ok, "{", "{ a: me { id } ", 1)} {
			wantCode(t, e.post(t, "", q, nil), "COMPLEXITY_LIMIT_EXCEEDED")
			wantCode(t, get(t, q), "COMPLEXITY_LIMIT_EXCEEDED")
		}
	})
	t.Run("COMPLEXITY_LIMIT_EXCEEDED/OneByteAwayFromACachedQuery", func(t *testing.T) {
		q := "{ " + strings.Repeat("__typename ", 64) + "}"
		for range 2 { // the second is answered from the query cache
			if r := e.post(t, "", q, nil); len(r.Errors) > 0 {
				t.Fatal(r.Body)
			}
		}
		wantCode(t, e.post(t, "", strings.Replace(q, "{ ", "{ __typename ", 1), nil), "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("COMPLEXITY_LIMIT_EXCEEDED/FragmentSpreads", func(t *testing.T) {
		q := "{ " + strings.Repeat("...F ", 3000) + "} fragment F on Query { __typename }"
		wantCode(t, e.post(t, "", q, nil), "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("GRAPHQL_VALIDATION_FAILED/LongName", func(t *testing.T) {
		wantCode(t, e.post(t, "", "{ "+strings.Repeat("x", 257)+" }", nil), "GRAPHQL_VALIDATION_FAILED")
	})
}
