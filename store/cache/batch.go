package cache

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxBatch bounds the MGETs sent in one pipeline.
const maxBatch = 128

// mgetBatcher sends the MGETs that concurrent requests issue together, in
// one pipeline: one write and one read for a batch instead of one each. The
// round trip is most of what a cached read costs, in CPU as in time, so
// under load this is most of the cache's throughput. There is no timer and
// no background goroutine at rest: the request that finds no batch in
// flight sends its own at once (alone, when there is no load); requests
// arriving meanwhile queue, and go together in the next pipeline, sent by a
// goroutine the previous one starts, so no request waits for batches after
// its own.
type mgetBatcher struct {
	rdb     redis.UniversalClient
	timeout time.Duration // bounds one pipeline

	mu       sync.Mutex
	pending  []*mgetCall
	flushing bool
}

type mgetCall struct {
	keys []string
	vals []any
	err  error
	done chan struct{}
}

func newMGetBatcher(rdb redis.UniversalClient, timeout time.Duration) *mgetBatcher {
	return &mgetBatcher{rdb: rdb, timeout: timeout}
}

// mget is MGET keys, batched with the concurrent ones. The caller's ctx
// bounds its wait (queueing included); the pipeline has its own deadline.
func (b *mgetBatcher) mget(ctx context.Context, keys []string) ([]any, error) {
	c := &mgetCall{keys: keys, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	lead := !b.flushing
	b.flushing = true
	b.mu.Unlock()
	if lead {
		runtime.Gosched() // let the requests already running queue theirs: one pipeline for all
		b.flush()
	}
	select {
	case <-c.done:
		return c.vals, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// flush sends the pending calls (up to maxBatch) in one pipeline, then
// leaves what queued meanwhile to a new goroutine.
func (b *mgetBatcher) flush() {
	b.mu.Lock()
	n := min(len(b.pending), maxBatch)
	batch := b.pending[:n:n]
	b.pending = b.pending[n:]
	b.mu.Unlock()

	b.exec(batch)

	b.mu.Lock()
	more := len(b.pending) > 0
	if !more {
		b.flushing = false
		b.pending = nil
	}
	b.mu.Unlock()
	if more {
		go b.flush()
	}
}

func (b *mgetBatcher) exec(batch []*mgetCall) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	if len(batch) == 1 {
		c := batch[0]
		c.vals, c.err = b.rdb.MGet(ctx, c.keys...).Result()
		close(c.done)
		return
	}
	cmds := make([]*redis.SliceCmd, len(batch))
	_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range batch {
			cmds[i] = p.MGet(ctx, c.keys...)
		}
		return nil
	})
	for i, c := range batch {
		c.vals, c.err = cmds[i].Result()
		close(c.done)
	}
}
