package ratelimit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/ratelimit"
)

func TestLocal(t *testing.T) {
	ctx := context.Background()
	ten := core.Rate{N: 10, Per: 15 * time.Minute}

	t.Run("TheEleventhEventWaits", func(t *testing.T) {
		l := ratelimit.NewLocal(0)
		for i := range 10 {
			if wait := l.Allow(ctx, "k", ten); wait != 0 {
				t.Fatalf("event %d waits %v", i+1, wait)
			}
		}
		if wait := l.Allow(ctx, "k", ten); wait < 80*time.Second || wait > 90*time.Second {
			t.Fatalf("event 11 waits %v, want about 90s (one back every Per/N)", wait)
		}
		if wait := l.Allow(ctx, "other", ten); wait != 0 {
			t.Fatalf("another key waits %v", wait)
		}
	})
	t.Run("ARefusedEventIsNotCounted", func(t *testing.T) {
		l := ratelimit.NewLocal(0)
		two := core.Rate{N: 2, Per: 200 * time.Millisecond}
		l.Allow(ctx, "k", two)
		l.Allow(ctx, "k", two)
		for range 100 {
			l.Allow(ctx, "k", two) // refused: must not push the next slot further
		}
		time.Sleep(150 * time.Millisecond)
		if wait := l.Allow(ctx, "k", two); wait != 0 {
			t.Fatalf("refused events were counted: waits %v", wait)
		}
	})
	t.Run("OffIsUnlimited", func(t *testing.T) {
		l := ratelimit.NewLocal(0)
		for range 1000 {
			if l.Allow(ctx, "k", core.Rate{}) != 0 {
				t.Fatal("a zero Rate limited")
			}
		}
		if l.Len() != 0 {
			t.Fatal("a zero Rate kept a key")
		}
	})
	// A flood of distinct keys costs bounded memory and does not make a key
	// in use forget its count.
	t.Run("BoundedAndKeepsKeysInUse", func(t *testing.T) {
		l := ratelimit.NewLocal(1000)
		for range 10 {
			l.Allow(ctx, "victim", ten)
		}
		for i := range 100_000 {
			l.Allow(ctx, fmt.Sprint("flood-", i), ten)
			if i%100 == 0 && l.Allow(ctx, "victim", ten) == 0 {
				t.Fatalf("after %d other keys the key in use was forgotten", i)
			}
		}
		if n := l.Len(); n > 1000 {
			t.Fatalf("%d keys kept, more than 1000", n)
		}
	})
	t.Run("ConcurrentEventsAreCountedOnce", func(t *testing.T) {
		l := ratelimit.NewLocal(0)
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowed := 0
		for range 50 {
			wg.Go(func() {
				if l.Allow(ctx, "k", ten) == 0 {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if allowed != 10 {
			t.Fatalf("%d of 50 concurrent events allowed, want 10", allowed)
		}
	})
}
