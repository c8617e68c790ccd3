package cache

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/core"
)

// DefaultEventsChannel is the Redis pub/sub channel of the subscriptions'
// events: apart from every key namespace (pub/sub channels are not keys).
const DefaultEventsChannel = "taskapi-events"

// BusOptions configures NewBus.
type BusOptions struct {
	// Channel is the pub/sub channel (DefaultEventsChannel); instances
	// that share one must serve the same users.
	Channel    string
	Resilience Resilience
}

// Bus is a core.EventBus across instances: Publish sends each event to
// one Redis channel, and every instance's one subscription to it hands
// the events to its own subscribers (a core.LocalBus). So an event written
// on one instance reaches a subscriber on any, each instance receives
// every event (one PUBLISH per write, fanned out once per instance), and
// Redis holds nothing: an event Redis could not carry (down, hung, its
// breaker open) reaches the writing instance's subscribers only, and an
// instance that lost its subscription (Redis restarted) misses the events
// until go-redis has subscribed again (it retries at once, then with
// backoff), as docs/cache.md says.
type Bus struct {
	rdb   redis.UniversalClient
	ch    string
	local *core.LocalBus
	g     *guard
	log   *slog.Logger
	ps    *redis.PubSub
	done  chan struct{}
	once  sync.Once
}

var _ core.EventBus = (*Bus)(nil)

// NewBus subscribes to the channel and returns the bus; Close ends it.
func NewBus(rdb redis.UniversalClient, o BusOptions) *Bus {
	if o.Channel == "" {
		o.Channel = DefaultEventsChannel
	}
	r := o.Resilience.withDefaults()
	b := &Bus{rdb: rdb, ch: o.Channel, local: core.NewLocalBus(), g: newGuard("events", r, pinger(rdb)), log: r.Logger, done: make(chan struct{})}
	b.ps = rdb.Subscribe(context.Background(), o.Channel)
	go b.receive()
	return b
}

// Publish sends e to every instance through Redis, or to this one's
// subscribers alone when Redis cannot take it.
func (b *Bus) Publish(ctx context.Context, e core.Event) {
	msg, err := json.Marshal(e)
	if err == nil {
		err = b.g.do(ctx, func(ctx context.Context) error { return b.rdb.Publish(ctx, b.ch, msg).Err() })
	}
	if err != nil {
		// An open breaker was logged once when it opened; anything else is
		// worth a line.
		if !errors.Is(err, ErrUnavailable) {
			b.log.WarnContext(ctx, "event not published to redis: only this instance's subscribers get it", "err", err)
		}
		b.local.Publish(ctx, e)
	}
}

// Subscribe listens to topic's events from every instance.
func (b *Bus) Subscribe(topic string) (<-chan core.Event, func()) { return b.local.Subscribe(topic) }

// receive hands each event of the channel to this instance's subscribers.
func (b *Bus) receive() {
	defer close(b.done)
	for m := range b.ps.Channel() {
		var e core.Event
		if err := json.Unmarshal([]byte(m.Payload), &e); err != nil || (e.Task == nil && e.User == nil) {
			b.log.Warn("an event on the redis channel is not one taskapi sent", "channel", b.ch)
			continue
		}
		b.local.Publish(context.Background(), e)
	}
}

// Close ends the subscription (the client is the caller's to close).
func (b *Bus) Close() error {
	var err error
	b.once.Do(func() {
		err = b.ps.Close()
		<-b.done
	})
	return err
}
