package bench_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

// BenchmarkEventLatency measures the time from a task write's call to its
// event in the owner's subscription (core and the embedded store, in
// process: the write itself included), and reports p50 and p99.
func BenchmarkEventLatency(b *testing.B) {
	e := newEnv(b, uncached, 0)
	ctx := core.WithRequest(context.Background(), e.token, "192.0.2.1")
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := e.svc.TaskEvents(sub)
	if err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if _, err := e.svc.CreateTask(ctx, core.CreateTaskInput{Title: fmt.Sprint("event ", i)}); err != nil {
			b.Fatal(err)
		}
		<-events
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// TestSubscriptionFootprint opens 1,000 subscriptions (100 users × 10,
// the per-user limit) and logs the heap and goroutines each holds.
func TestSubscriptionFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("a measurement")
	}
	e := newEnv(t, uncached, 0)
	ctx, cancel := context.WithCancel(context.Background()) // ends every subscription
	defer cancel()
	var ctxs []context.Context
	for i := range 100 {
		u, err := e.svc.Register(context.Background(), core.RegisterInput{Username: fmt.Sprint("s", i), Email: fmt.Sprintf("s%d@example.com", i), Password: "s3cret!pw"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.svc.Login(context.Background(), string(u.Email), "s3cret!pw")
		if err != nil {
			t.Fatal(err)
		}
		ctxs = append(ctxs, core.WithRequest(ctx, p.AccessToken, "192.0.2.1"))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	n := 0
	for _, c := range ctxs {
		for range core.MaxSubscriptionsPerUser {
			if _, err := e.svc.TaskEvents(c); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perSub := float64(after.HeapInuse-before.HeapInuse) / float64(n)
	t.Logf("%d subscriptions: %.1f KiB of heap and %.1f goroutines each", n, perSub/1024, float64(runtime.NumGoroutine()-g0)/float64(n))
}
