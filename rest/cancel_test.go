package rest_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
)

// A client that goes away mid-request is not a server error: no 5xx and no
// error in the logs (dashboards alarm on both).
func TestClientClosedRequestIsNotAnError(t *testing.T) {
	e := newEnv(t)
	a := e.mustUser(t, "gone")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequestWithContext(ctx, "GET", "/api/v1/tasks/fetch-task", nil)
	r.Header.Set("Authorization", "Bearer "+a.token)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != 499 {
		t.Fatalf("status %d, want 499 (client closed request): %s", w.Code, w.Body)
	}
	if logs := e.logs.String(); strings.Contains(logs, "internal error") || strings.Contains(logs, "level=ERROR") {
		t.Fatalf("a client going away was logged as an error:\n%s", logs)
	}
}
