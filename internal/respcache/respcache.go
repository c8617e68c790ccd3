// Package respcache keeps encoded responses in process memory so that a
// read nobody's data has changed since is answered without running it
// again: GraphQL queries and the legacy REST reads, per user.
//
// Entries are keyed by the caller, the version of everything the caller can
// read (core.Service.ReadVersion: it changes before any write to that data
// returns, in any instance) and what was asked, so a write never needs to
// find and evict anything: its new version simply stops matching. Old
// entries age out of a least-recently-used list bounded in bytes. MaxAge
// bounds how long an entry is served at all, as the Redis cache's own TTLs
// do when an invalidation cannot reach Redis.
package respcache

import (
	"container/list"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of New.
const (
	DefaultMaxBytes = 4 << 20
	// DefaultMaxAge is what a response adds to the staleness of the data
	// it was made of when an invalidation never reached Redis: at most 5 s
	// more than the Redis cache's own bounds (docs/cache.md). A repeated
	// read a second apart still hits.
	DefaultMaxAge = 5 * time.Second
	entryOverhead = 128 // map, list element and item headers, roughly
)

// Cache is an LRU of byte slices bounded in total size. It is safe for
// concurrent use; a nil *Cache caches nothing.
type Cache struct {
	maxBytes int64
	maxAge   time.Duration
	now      func() time.Time

	mu    sync.Mutex
	size  int64
	order list.List // front: most recently used
	items map[string]*list.Element
}

type item struct {
	key string
	val []byte
	at  time.Time
}

// New returns a Cache holding at most maxBytes (keys and values counted)
// for at most maxAge each; zero values take the defaults. now is the clock
// (nil: time.Now).
func New(maxBytes int64, maxAge time.Duration, now func() time.Time) *Cache {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	if now == nil {
		now = time.Now
	}
	return &Cache{maxBytes: maxBytes, maxAge: maxAge, now: now, items: map[string]*list.Element{}}
}

// Key joins the parts of a key unambiguously (each is length-prefixed).
func Key(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + 8
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range parts {
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}

// Get returns the value stored under key if it is younger than MaxAge. The
// caller must not modify it.
func (c *Cache) Get(key string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	it := e.Value.(*item)
	if now.Sub(it.at) >= c.maxAge {
		c.remove(e)
		return nil, false
	}
	c.order.MoveToFront(e)
	return it.val, true
}

// Put stores val under key; the caller must not modify val afterwards.
// Values larger than an eighth of the cache are not kept.
func (c *Cache) Put(key string, val []byte) {
	if c == nil {
		return
	}
	cost := int64(len(key) + len(val) + entryOverhead)
	if cost > c.maxBytes/8 {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.remove(e)
	}
	c.items[key] = c.order.PushFront(&item{key: key, val: val, at: now})
	c.size += cost
	for c.size > c.maxBytes {
		c.remove(c.order.Back())
	}
}

// Len is the number of entries.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

func (c *Cache) remove(e *list.Element) {
	it := c.order.Remove(e).(*item)
	delete(c.items, it.key)
	c.size -= int64(len(it.key) + len(it.val) + entryOverhead)
}
