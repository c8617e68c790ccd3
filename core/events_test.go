package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

// next reads one event within a second.
func next[T any](t *testing.T, ch <-chan T) (T, bool) {
	t.Helper()
	select {
	case e, ok := <-ch:
		return e, ok
	case <-time.After(time.Second):
		t.Fatal("no event within a second")
	}
	var zero T
	return zero, false
}

// quiet checks nothing arrives for a moment.
func quiet[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("unexpected event %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestTaskEvents: each committed task change reaches its owner's
// subscriptions in order, never another user's; a session that ends ends
// the subscription with its error; a refused write sends nothing.
func TestTaskEvents(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.SubscriptionRecheck = 50 * time.Millisecond })
	ann, annCtx := f.user(t, "ann")
	_, bobCtx := f.user(t, "bob")
	sub, cancel := context.WithCancel(annCtx)
	defer cancel()
	events, err := f.svc.TaskEvents(sub)
	if err != nil {
		t.Fatal(err)
	}
	bobSub, bobCancel := context.WithCancel(bobCtx)
	defer bobCancel()
	bobEvents, err := f.svc.TaskEvents(bobSub)
	if err != nil {
		t.Fatal(err)
	}

	tk, err := f.svc.CreateTask(annCtx, core.CreateTaskInput{Title: "watched"})
	if err != nil {
		t.Fatal(err)
	}
	done := core.StatusComplete
	if _, err := f.svc.UpdateTask(annCtx, tk.ID, core.UpdateTaskInput{Status: &done}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateTask(annCtx, "0190a000-0000-7000-8000-000000000000", core.UpdateTaskInput{Status: &done}); err == nil {
		t.Fatal("an update of no task succeeded")
	}
	if err := f.svc.DeleteTask(annCtx, tk.ID); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		kind   core.TaskEventKind
		status core.TaskStatus
	}{{core.TaskCreated, core.StatusPending}, {core.TaskUpdated, core.StatusComplete}, {core.TaskDeleted, ""}} {
		e, ok := next(t, events)
		kind, kerr := e.Kind()
		if !ok || kerr != nil || kind != want.kind || e.TaskID != tk.ID || e.UserID != ann.ID {
			t.Fatalf("event %+v (%v), want %s of %s", e, kerr, want.kind, tk.ID)
		}
		if (e.Task == nil) != (want.kind == core.TaskDeleted) || (e.Task != nil && e.Task.Status != want.status) {
			t.Fatalf("%s carries task %+v", kind, e.Task)
		}
	}
	quiet(t, events)
	quiet(t, bobEvents)

	// The session ends: the next check ends the subscription, with why.
	if err := f.svc.LogoutEverywhere(annCtx); err != nil {
		t.Fatal(err)
	}
	e, ok := next(t, events)
	if _, kerr := e.Kind(); !ok || kerr == nil {
		t.Fatalf("after logout: %+v, %v", e, ok)
	} else if ce, _ := core.AsError(kerr); ce == nil || ce.Code != core.CodeUnauthenticated {
		t.Fatalf("after logout the subscription ends with %v, want UNAUTHENTICATED", kerr)
	}
	if _, ok := next(t, events); ok {
		t.Fatal("the subscription goes on after its last event")
	}
}

// TestUserEvents: admins hear every user change; a demotion ends the
// subscription; a non-admin cannot subscribe.
func TestUserEvents(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.SubscriptionRecheck = 50 * time.Millisecond })
	_, rootCtx := f.admin(t, "root")
	other, _ := f.admin(t, "other")
	_, userCtx := f.user(t, "plain")
	if _, err := f.svc.UserEvents(userCtx); err == nil {
		t.Fatal("a user subscribed to user events")
	}
	_, otherCtx := f.admin(t, "other")
	sub, cancel := context.WithCancel(otherCtx)
	defer cancel()
	events, err := f.svc.UserEvents(sub)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := f.user(t, "newcomer")
	e, _ := next(t, events)
	if kind, _ := e.Kind(); kind != core.UserCreated || e.User.ID != u.ID || e.User.PasswordHash != "" {
		t.Fatalf("register: %+v", e)
	}
	name := "renamed"
	if _, err := f.svc.UpdateUser(rootCtx, u.ID, core.UpdateUserInput{Username: &name}); err != nil {
		t.Fatal(err)
	}
	if e, _ := next(t, events); e.Type != core.UserUpdated || string(e.User.Username) != "renamed" {
		t.Fatalf("update: %+v", e)
	}
	role := core.RoleUser
	if _, err := f.svc.UpdateUser(rootCtx, other.ID, core.UpdateUserInput{Role: &role}); err != nil {
		t.Fatal(err)
	}
	next(t, events) // the demotion itself
	e, ok := next(t, events)
	if _, kerr := e.Kind(); !ok || kerr == nil {
		t.Fatalf("after the demotion: %+v", e)
	}
}

// TestSubscriptionLimits: at most core.MaxSubscriptionsPerUser at once,
// and a slot frees when a subscription ends; a subscriber that does not
// read is dropped, not buffered without bound.
func TestSubscriptionLimits(t *testing.T) {
	f := newFixture(t)
	_, ctx := f.user(t, "many")
	var cancels []context.CancelFunc
	for range core.MaxSubscriptionsPerUser {
		sub, cancel := context.WithCancel(ctx)
		cancels = append(cancels, cancel)
		if _, err := f.svc.TaskEvents(sub); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.TaskEvents(ctx); err == nil {
		t.Fatal("one subscription too many was opened")
	} else if ce, _ := core.AsError(err); ce.Code != core.CodeRateLimited {
		t.Fatalf("%v, want RATE_LIMITED", err)
	}
	cancels[0]()
	deadline := time.Now().Add(time.Second)
	for {
		sub, cancel := context.WithCancel(ctx)
		defer cancel()
		if _, err := f.svc.TaskEvents(sub); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slot of an ended subscription was not freed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range cancels[1:] {
		c()
	}

	bus := core.NewLocalBus()
	slow, stop := bus.Subscribe(core.TaskTopic("VAH1"))
	defer stop()
	for range core.SubscriptionBuffer + 1 {
		bus.Publish(context.Background(), core.Event{Task: &core.TaskEvent{Type: core.TaskCreated, UserID: "VAH1"}})
	}
	n := 0
	for range slow {
		n++
	}
	if n != core.SubscriptionBuffer || bus.Subscribers(core.TaskTopic("VAH1")) != 0 {
		t.Fatalf("a subscriber that did not read got %d events and is still subscribed: %d", n, bus.Subscribers(core.TaskTopic("VAH1")))
	}
}
