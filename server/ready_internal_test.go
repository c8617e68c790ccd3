package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadyzCachedForASecond: one round of checks answers every probe for
// a second, however many arrive together; the next round starts after it.
// The clock is the test's: nothing here waits a second.
func TestReadyzCachedForASecond(t *testing.T) {
	var pings atomic.Int32
	now := time.Unix(1_000_000, 0)
	var mu sync.Mutex
	rd := newReadiness([]ReadyCheck{{Name: "store", Ping: func(context.Context) error {
		pings.Add(1)
		time.Sleep(10 * time.Millisecond) // a round under way while other probes arrive
		return nil
	}}}, slog.New(slog.DiscardHandler))
	rd.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	probe := func(n int) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				rec := httptest.NewRecorder()
				rd.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
				if rec.Code != http.StatusOK {
					t.Errorf("status %d: %s", rec.Code, rec.Body)
				}
			})
		}
		wg.Wait()
	}
	for _, step := range []struct {
		name    string
		advance time.Duration
		probes  int
		want    int32 // pings so far
	}{
		{"FirstProbesCheckOnce", 0, 50, 1},
		{"WithinTheSecondCached", 999 * time.Millisecond, 50, 1},
		{"AfterTheSecondCheckedAgain", time.Millisecond, 50, 2},
		{"CachedAgain", 500 * time.Millisecond, 10, 2},
	} {
		t.Run(step.name, func(t *testing.T) {
			advance(step.advance)
			probe(step.probes)
			if got := pings.Load(); got != step.want {
				t.Fatalf("%d pings, want %d", got, step.want)
			}
		})
	}
}

// TestReadyzIgnoresTheProbesCancellation: a probe that hangs up does not
// cancel the check, so no failure it caused is cached for the others.
func TestReadyzIgnoresTheProbesCancellation(t *testing.T) {
	rd := newReadiness([]ReadyCheck{{Name: "store", Ping: func(ctx context.Context) error { return ctx.Err() }}}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	rd.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil).WithContext(ctx))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}
