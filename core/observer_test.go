package core_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/ratelimit"
)

// recorder is a core.Observer that remembers what it was told.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) RateLimited(limit string)  { r.add("rate_limited:" + limit) }
func (r *recorder) LoginFailed(reason string) { r.add("login_failed:" + reason) }
func (r *recorder) SessionEvent(event string) { r.add("session:" + event) }
func (r *recorder) Subscriptions(string, int) {}
func (r *recorder) add(e string)              { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

// TestObserver: core tells its Observer why each login failed and which
// limit refused, once per event, and nothing for a success.
func TestObserver(t *testing.T) {
	rec := &recorder{}
	limits := core.DefaultLimits()
	limits.LoginAccount = core.Rate{N: 4, Per: time.Hour}
	limits.Writes = core.Rate{N: 1, Per: time.Hour}
	f := newFixture(t, func(c *core.Config) {
		c.Observer = rec
		c.Limiter = core.NewLimiter(ratelimit.NewLocal(0), limits)
	})
	_, ann := f.user(t, "ann")
	f.user(t, "ann2")
	_, adminCtx := f.admin(t, "root")
	sleeper, _ := f.user(t, "sleeper")
	off := core.ActivationInactive
	if _, err := f.svc.UpdateUser(adminCtx, sleeper.ID, core.UpdateUserInput{ActivationStatus: &off}); err != nil {
		t.Fatal(err)
	}
	rec.take()
	for _, tc := range []struct {
		name string
		do   func() error
		want []string
	}{
		{"OK", func() error { _, err := f.svc.Login(context.Background(), "ann@example.com", pw); return err }, []string{"session:login"}},
		{"RefreshAndLogout", func() error {
			p, err := f.svc.Login(context.Background(), "ann2@example.com", pw)
			if err != nil {
				return err
			}
			p, err = f.svc.Refresh(context.Background(), p.RefreshToken)
			if err != nil {
				return err
			}
			return f.svc.Logout(core.WithRequest(context.Background(), p.AccessToken, "192.0.2.1"))
		}, []string{"session:login", "session:refresh", "session:logout"}},
		{"WrongPassword", func() error { _, err := f.svc.Login(context.Background(), "ann@example.com", "Wr0ng!pw"); return err },
			[]string{"login_failed:bad_credentials"}},
		{"UnknownEmail", func() error { _, err := f.svc.Login(context.Background(), "nobody@example.com", pw); return err },
			[]string{"login_failed:bad_credentials"}},
		{"Inactive", func() error { _, err := f.svc.Login(context.Background(), "sleeper@example.com", pw); return err },
			[]string{"login_failed:inactive"}},
		{"LoginLimitIsNotALoginFailure", func() error {
			// ann's account has had 3 of its 4 attempts (the fixture's login, OK, WrongPassword).
			_, _ = f.svc.Login(context.Background(), "ann@example.com", "Wr0ng!pw")
			_, err := f.svc.Login(context.Background(), "ann@example.com", "Wr0ng!pw")
			return err
		}, []string{"login_failed:bad_credentials", "rate_limited:login_account"}},
		{"WritesLimit", func() error {
			_, _ = f.svc.CreateTask(ann, core.CreateTaskInput{Title: "one"})
			_, err := f.svc.CreateTask(ann, core.CreateTaskInput{Title: "two"})
			return err
		}, []string{"rate_limited:writes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_ = tc.do()
			if got := rec.take(); !slices.Equal(got, tc.want) {
				t.Fatalf("observed %v, want %v", got, tc.want)
			}
		})
	}
}
