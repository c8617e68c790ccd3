package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/server"
	"github.com/taskapi/taskapi/store/embedded"
)

// TestReadyz: /readyz answers 200 "ready" when every configured check
// passes, 503 "unavailable" naming the unreachable one otherwise, "not
// configured" for a dependency that is not; never the cause, which is
// logged. The embedded store's own Ping is the store check (closed: its
// file can no longer be read).
func TestReadyz(t *testing.T) {
	const secretCause = "dial tcp 10.1.2.3:6379: password=hunter2 refused"
	failing := func(context.Context) error { return errors.New(secretCause) }
	hung := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	openStore := func(t *testing.T, closed bool) func(context.Context) error {
		st, err := embedded.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if closed {
			st.Close()
		}
		return st.Ping
	}
	for _, tc := range []struct {
		name       string
		checks     func(t *testing.T) []server.ReadyCheck
		wantStatus int
		want       string
	}{
		{"OK", func(t *testing.T) []server.ReadyCheck {
			return []server.ReadyCheck{{Name: "store", Ping: openStore(t, false)}, {Name: "redis"}}
		}, 200, `{"status":"ready","checks":{"redis":"not configured","store":"ok"}}`},
		{"OKWithRedis", func(t *testing.T) []server.ReadyCheck {
			return []server.ReadyCheck{{Name: "store", Ping: openStore(t, false)}, {Name: "redis", Ping: func(context.Context) error { return nil }}}
		}, 200, `{"status":"ready","checks":{"redis":"ok","store":"ok"}}`},
		{"ErrStoreClosed", func(t *testing.T) []server.ReadyCheck {
			return []server.ReadyCheck{{Name: "store", Ping: openStore(t, true)}, {Name: "redis"}}
		}, 503, `{"status":"unavailable","checks":{"redis":"not configured","store":"unreachable"}}`},
		{"ErrRedisFails", func(t *testing.T) []server.ReadyCheck {
			return []server.ReadyCheck{{Name: "store", Ping: openStore(t, false)}, {Name: "redis", Ping: failing, Advisory: true}}
		}, 200, `{"status":"degraded","checks":{"redis":"unreachable","store":"ok"}}`},
		{"ErrStoreHangsPastTheDeadline", func(t *testing.T) []server.ReadyCheck {
			return []server.ReadyCheck{{Name: "store", Ping: hung}, {Name: "redis", Ping: failing, Advisory: true}}
		}, 503, `{"status":"unavailable","checks":{"redis":"unreachable","store":"unreachable"}}`},
		{"NoChecks", func(*testing.T) []server.ReadyCheck { return nil }, 200, `{"status":"ready","checks":{}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &testenv.SyncBuffer{}
			h := newHandler(t, server.Options{Ready: tc.checks(t), Logger: slog.New(slog.NewJSONHandler(logs, nil))})
			start := time.Now()
			rec := do(h, http.MethodGet, "/readyz", "", nil)
			if rec.Code != tc.wantStatus || strings.TrimSpace(rec.Body.String()) != tc.want {
				t.Fatalf("got %d %s, want %d %s", rec.Code, rec.Body, tc.wantStatus, tc.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if elapsed := time.Since(start); elapsed > 10*server.ReadyCheckTimeout {
				t.Errorf("answered after %s: the deadline did not hold", elapsed) // a bound, not a timing assertion: 10x the deadline
			}
			if tc.wantStatus == 503 && !strings.Contains(logs.String(), "readiness check failed") {
				t.Errorf("the cause was not logged:\n%s", logs)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestNoMetricsOnThePublicPort: /metrics is served by its own listener
// (METRICS_ADDR), never by the API's handler, with metrics on or off.
func TestNoMetricsOnThePublicPort(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    server.Options
	}{
		{"MetricsOff", server.Options{}},
		{"MetricsOn", server.Options{Requests: nopRequests{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, tc.o)
			for _, path := range []string{"/metrics", "/metrics/", "/api/v1/metrics"} {
				if rec := do(h, http.MethodGet, path, "", nil); rec.Code != http.StatusNotFound {
					t.Errorf("GET %s: %d %s, want 404", path, rec.Code, rec.Body)
				}
			}
		})
	}
}

type nopRequests struct{}

func (nopRequests) ObserveRequest(string, string, string, time.Duration) {}
