package resolvers_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWithoutSubscriptionTransports: the Lambda image's handler
// (NoLive) answers a subscription as unserved, and an event stream request
// as an ordinary one it cannot satisfy, never holding either open.
func TestWithoutSubscriptionTransports(t *testing.T) {
	for _, tc := range []struct {
		name   string
		noLive bool
		want   string
	}{
		{"Served", false, "needs a WebSocket"},
		{"Lambda", true, "not served here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *envConfig) { c.opts.NoLive = tc.noLive })
			r := e.post(t, "", `subscription { taskEvents { kind } }`, nil)
			if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, tc.want) {
				t.Fatalf("a subscription over POST: %d %s", r.Status, r.Body)
			}
			if !tc.noLive {
				return
			}
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"subscription { taskEvents { kind } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "text/event-stream")
			w := httptest.NewRecorder()
			e.handler.ServeHTTP(w, req)
			if w.Code != http.StatusNotAcceptable {
				t.Fatalf("an event stream request in Lambda: %d %s", w.Code, w.Body)
			}
		})
	}
}
