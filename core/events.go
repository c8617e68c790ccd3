package core

import (
	"context"
	"sync"
	"time"
)

// TaskEventKind says what happened to a task.
type TaskEventKind string

const (
	TaskCreated TaskEventKind = "created"
	TaskUpdated TaskEventKind = "updated"
	TaskDeleted TaskEventKind = "deleted"
)

// UserEventKind says what happened to a user.
type UserEventKind string

const (
	UserCreated UserEventKind = "created"
	UserUpdated UserEventKind = "updated"
)

// TaskEvent is one committed change of a task, as its owner's
// subscription (Service.TaskEvents) delivers it.
type TaskEvent struct {
	Type   TaskEventKind
	TaskID string
	Task   *Task // nil for TaskDeleted
	UserID string
	At     time.Time
	// end, set on a subscription's last event, is why it ended (the
	// session ended, the user was deactivated, events were dropped): the
	// event's kind answers it as the error a client reads.
	end error
}

// Kind is what happened, or why the subscription ends.
func (e TaskEvent) Kind() (TaskEventKind, error) { return e.Type, e.end }

// UserEvent is one committed change of a user, as an admin's subscription
// (Service.UserEvents) delivers it. User carries no password hash and no
// sessions.
type UserEvent struct {
	Type UserEventKind
	User User
	At   time.Time
	end  error
}

// Kind is what happened, or why the subscription ends.
func (e UserEvent) Kind() (UserEventKind, error) { return e.Type, e.end }

// Event is what an EventBus carries: one of its fields is set.
type Event struct {
	Task *TaskEvent `json:"task,omitempty"`
	User *UserEvent `json:"user,omitempty"`
}

// Topic is the subscribers an event is for: its task's owner, or the
// admins for a user's change.
func (e Event) Topic() string {
	if e.Task != nil {
		return TaskTopic(e.Task.UserID)
	}
	return UsersTopic
}

// TaskTopic is the topic of userID's task events; UsersTopic is every
// user change's.
func TaskTopic(userID string) string { return "tasks:" + userID }

const UsersTopic = "users"

// EventBus carries committed changes to the subscriptions of their topic,
// in this process (LocalBus) or across instances (store/cache's Redis
// bus). Publish never blocks on a subscriber: one whose buffer is full is
// dropped, its channel closed. Subscribe's stop closes the channel.
type EventBus interface {
	Publish(ctx context.Context, e Event)
	Subscribe(topic string) (events <-chan Event, stop func())
}

// SubscriptionBuffer is how many events a subscriber may have waiting
// before it is dropped as too slow.
const SubscriptionBuffer = 64

// LocalBus is an EventBus within one process.
type LocalBus struct {
	mu   sync.Mutex
	subs map[string]map[chan Event]struct{}
}

// NewLocalBus returns an empty LocalBus.
func NewLocalBus() *LocalBus { return &LocalBus{subs: map[string]map[chan Event]struct{}{}} }

// Publish delivers e to its topic's subscribers, dropping any that is
// SubscriptionBuffer events behind.
func (b *LocalBus) Publish(_ context.Context, e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	topic := e.Topic()
	for ch := range b.subs[topic] {
		select {
		case ch <- e:
		default: // too slow: its memory must not grow
			delete(b.subs[topic], ch)
			close(ch)
		}
	}
}

// Subscribe listens to topic until stop.
func (b *LocalBus) Subscribe(topic string) (<-chan Event, func()) {
	ch := make(chan Event, SubscriptionBuffer)
	b.mu.Lock()
	if b.subs[topic] == nil {
		b.subs[topic] = map[chan Event]struct{}{}
	}
	b.subs[topic][ch] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if _, ok := b.subs[topic][ch]; ok {
				delete(b.subs[topic], ch)
				close(ch)
			}
			if len(b.subs[topic]) == 0 {
				delete(b.subs, topic)
			}
		})
	}
}

// Subscribers counts the subscriptions of topic (tests, metrics).
func (b *LocalBus) Subscribers(topic string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[topic])
}

// Subscription limits and checks.
const (
	// MaxSubscriptionsPerUser bounds one user's open subscriptions, across
	// connections, in one instance.
	MaxSubscriptionsPerUser = 10
	// SubscriptionRecheck is how often a subscription checks its token and
	// user again: a session ended, a deactivation, a demotion or an expired
	// token ends it within this time.
	SubscriptionRecheck = 5 * time.Second
)

var (
	errTooManySubscriptions = &Error{Code: CodeRateLimited, Message: "Too many subscriptions open: at most 10 per user"}
	errEventsDropped        = &Error{Code: CodeUnavailable, Message: "Events came faster than they were read and were dropped: subscribe again"}
)

// publish sends e after its write committed; without subscribers it costs
// a map lookup (LocalBus) or one PUBLISH (Redis).
func (s *Service) publish(ctx context.Context, e Event) {
	if e.User != nil {
		u := e.User.User
		u.PasswordHash, u.Sessions = "", SessionSet{}
		e.User.User = u
	}
	s.events.Publish(context.WithoutCancel(ctx), e)
}

func (s *Service) taskChanged(ctx context.Context, kind TaskEventKind, t Task) {
	e := &TaskEvent{Type: kind, TaskID: t.ID, UserID: t.UserID, At: s.now()}
	if kind != TaskDeleted {
		e.Task = &t
	}
	s.publish(ctx, Event{Task: e})
}

func (s *Service) userChanged(ctx context.Context, kind UserEventKind, u User) {
	s.publish(ctx, Event{User: &UserEvent{Type: kind, User: u, At: s.now()}})
}

// TaskEvents streams the caller's task changes, in the order they were
// committed, until ctx ends, the caller's session or account does (checked
// every SubscriptionRecheck), or the caller reads too slowly: the last
// event then answers why (TaskEvent.Kind).
func (s *Service) TaskEvents(ctx context.Context) (<-chan TaskEvent, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return nil, err
	}
	events, err := s.subscribe(ctx, u, TaskTopic(u.ID), false)
	if err != nil {
		return nil, err
	}
	return deliver(ctx, events, func(e Event) *TaskEvent {
		if e.Task != nil && e.Task.UserID == u.ID {
			return e.Task
		}
		return nil
	}, func(err error) TaskEvent { return TaskEvent{end: err} }), nil
}

// UserEvents streams every user change to an admin, as TaskEvents does;
// a demotion ends it.
func (s *Service) UserEvents(ctx context.Context) (<-chan UserEvent, error) {
	u, err := s.Admin(ctx)
	if err != nil {
		return nil, err
	}
	events, err := s.subscribe(ctx, u, UsersTopic, true)
	if err != nil {
		return nil, err
	}
	return deliver(ctx, events, func(e Event) *UserEvent { return e.User }, func(err error) UserEvent { return UserEvent{end: err} }), nil
}

// deliver hands a subscription's events to its reader: those pick keeps,
// then, if the subscription ended for a reason, one last event saying why
// (ended), until ctx ends.
func deliver[T any](ctx context.Context, events <-chan busEvent, pick func(Event) *T, ended func(error) T) <-chan T {
	out := make(chan T, 1)
	go func() {
		defer close(out)
		for e := range events {
			next, last := pick(e.Event), e.end != nil
			if last {
				v := ended(e.end)
				next = &v
			}
			if next == nil {
				continue
			}
			select {
			case out <- *next:
			case <-ctx.Done():
				return
			}
			if last {
				return
			}
		}
	}()
	return out
}

// busEvent is an event or the reason a subscription ended.
type busEvent struct {
	Event
	end error
}

// subscribe holds one of u's subscription slots and listens to topic,
// checking u's standing every SubscriptionRecheck, until ctx ends.
func (s *Service) subscribe(ctx context.Context, u User, topic string, admin bool) (<-chan busEvent, error) {
	if !s.subscriptions.acquire(u.ID) {
		return nil, errTooManySubscriptions
	}
	token := state(ctx).token
	events, stop := s.events.Subscribe(topic)
	kind := SubscriptionTasks
	if topic == UsersTopic {
		kind = SubscriptionUsers
	}
	if s.obs != nil {
		s.obs.Subscriptions(kind, 1)
	}
	out := make(chan busEvent)
	go func() {
		defer close(out)
		defer s.subscriptions.release(u.ID)
		if s.obs != nil {
			defer s.obs.Subscriptions(kind, -1)
		}
		defer stop()
		tick := time.NewTicker(s.recheck)
		defer tick.Stop()
		end := func(err error) {
			select {
			case out <- busEvent{end: err}:
			case <-ctx.Done():
			}
		}
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-events:
				if !ok {
					end(errEventsDropped)
					return
				}
				select {
				case out <- busEvent{Event: e}:
				case <-ctx.Done():
					return
				}
			case <-tick.C:
				// The token and the user as the store has them now: a
				// session ended, a deactivation or an expiry ends the
				// subscription as it would refuse a request.
				cur, _, _, err := s.authenticate(context.WithoutCancel(ctx), token)
				switch {
				case err != nil:
					end(err)
					return
				case admin && cur.Role != RoleAdmin:
					end(errNotAdmin)
					return
				}
			}
		}
	}()
	return out, nil
}

// subscriptionSlots counts each user's open subscriptions.
type subscriptionSlots struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *subscriptionSlots) acquire(userID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	if c.n[userID] >= MaxSubscriptionsPerUser {
		return false
	}
	c.n[userID]++
	return true
}

func (c *subscriptionSlots) release(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[userID]--; c.n[userID] <= 0 {
		delete(c.n, userID)
	}
}
