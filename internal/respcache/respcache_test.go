package respcache_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/taskapi/taskapi/internal/respcache"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestCache(t *testing.T) {
	t.Run("HitReturnsWhatWasPut", func(t *testing.T) {
		c := respcache.New(0, 0, nil)
		c.Put("k", []byte("v"))
		if got, ok := c.Get("k"); !ok || string(got) != "v" {
			t.Fatalf("Get = %q, %v; want v, true", got, ok)
		}
	})
	t.Run("MissForAnotherKey", func(t *testing.T) {
		c := respcache.New(0, 0, nil)
		c.Put(respcache.Key("user1", "v1", "q"), []byte("v"))
		for _, k := range []string{respcache.Key("user2", "v1", "q"), respcache.Key("user1", "v2", "q"), respcache.Key("user1\x00v1", "q")} {
			if _, ok := c.Get(k); ok {
				t.Errorf("Get(%q) hit an entry stored under another key", k)
			}
		}
	})
	t.Run("ExpiresAfterMaxAge", func(t *testing.T) {
		clk := &clock{t: time.Unix(1000, 0)}
		c := respcache.New(0, time.Second, clk.now)
		c.Put("k", []byte("v"))
		clk.t = clk.t.Add(999 * time.Millisecond)
		if _, ok := c.Get("k"); !ok {
			t.Fatal("entry gone before MaxAge")
		}
		clk.t = clk.t.Add(time.Millisecond)
		if _, ok := c.Get("k"); ok {
			t.Fatal("entry served at MaxAge")
		}
		if c.Len() != 0 {
			t.Fatalf("Len = %d after expiry; want 0", c.Len())
		}
	})
	t.Run("EvictsLeastRecentlyUsedWithinBudget", func(t *testing.T) {
		c := respcache.New(8*1024, 0, nil) // entries up to 1 KiB are kept
		val := make([]byte, 500)
		for i := range 100 {
			c.Put(fmt.Sprint(i), val)
			if _, ok := c.Get("0"); !ok { // keep "0" recently used
				t.Fatalf("the most recently used entry was evicted after %d puts", i)
			}
		}
		if n := c.Len(); n == 0 || n*(500+128) > 8*1024 {
			t.Fatalf("Len = %d: over the 8 KiB budget or empty", n)
		}
		if _, ok := c.Get("1"); ok {
			t.Fatal("an old entry survived 100 puts into a small cache")
		}
	})
	t.Run("LargeValuesNotKept", func(t *testing.T) {
		c := respcache.New(8*1024, 0, nil)
		c.Put("big", make([]byte, 2048))
		if _, ok := c.Get("big"); ok {
			t.Fatal("a value over an eighth of the budget was kept")
		}
	})
	t.Run("NilCachesNothing", func(t *testing.T) {
		var c *respcache.Cache
		c.Put("k", []byte("v"))
		if _, ok := c.Get("k"); ok || c.Len() != 0 {
			t.Fatal("a nil cache cached")
		}
	})
	t.Run("ConcurrentUse", func(t *testing.T) {
		c := respcache.New(64*1024, 0, nil)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 500 {
					k := fmt.Sprint(g, i%50)
					c.Put(k, []byte(k))
					if v, ok := c.Get(k); ok && string(v) != k {
						t.Errorf("Get(%q) = %q", k, v)
					}
				}
			}()
		}
		wg.Wait()
	})
}
