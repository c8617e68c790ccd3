package core_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/ratelimit"
	"github.com/taskapi/taskapi/store/embedded"
)

// limited is a service over a fresh embedded store with limits counted in
// process, and its admin.
func limited(t *testing.T, l core.Limits) (*core.Service, context.Context) {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc := core.NewService(core.Config{
		Store:        st,
		Hasher:       core.NewHasher("", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, 0),
		Tokens:       core.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour, nil),
		CursorSecret: []byte("cursor"),
		Limiter:      core.NewLimiter(ratelimit.NewLocal(0), l),
	})
	if _, _, err := svc.CreateAdmin(context.Background(), "root@example.com", pw, "root"); err != nil {
		t.Fatal(err)
	}
	p, err := svc.Login(from("198.51.100.1"), "root@example.com", pw)
	if err != nil {
		t.Fatal(err)
	}
	return svc, core.WithRequest(context.Background(), p.AccessToken, "198.51.100.1")
}

func from(addr string) context.Context { return core.WithRequest(context.Background(), "", addr) }

func rateLimited(t *testing.T, err error) {
	t.Helper()
	e, ok := core.AsError(err)
	if !ok || !errors.Is(err, core.ErrRateLimited) || e.RetryAfter < time.Second || e.RetryAfter%time.Second != 0 {
		t.Fatalf("err = %v, want RATE_LIMITED with a whole number of seconds to wait", err)
	}
}

func TestLoginLimits(t *testing.T) {
	l := core.Limits{
		LoginAddress:  core.Rate{N: 20, Per: time.Hour},
		LoginAccount:  core.Rate{N: 5, Per: time.Hour},
		LoginEmail:    core.Rate{N: 8, Per: time.Hour},
		LoginSlowdown: 50 * time.Millisecond,
	}
	t.Run("ErrRateLimited/GuessingOnePasswordFromOneAddress", func(t *testing.T) {
		svc, _ := limited(t, l)
		for range 5 {
			if _, err := svc.Login(from("192.0.2.1"), "root@example.com", "wr0ng!pw"); !errors.Is(err, core.ErrUnauthenticated) {
				t.Fatalf("err = %v", err)
			}
		}
		_, err := svc.Login(from("192.0.2.1"), "root@example.com", pw) // even the right password
		rateLimited(t, err)
		if _, err := svc.Login(from("192.0.2.2"), "root@example.com", pw); err != nil {
			t.Fatalf("the owner, from their own address: %v", err)
		}
	})
	t.Run("ErrRateLimited/ManyEmailsFromOneAddress", func(t *testing.T) {
		svc, _ := limited(t, l)
		for i := range 20 {
			_, _ = svc.Login(from("192.0.2.1"), fmt.Sprintf("u%d@example.com", i), "wr0ng!pw")
		}
		_, err := svc.Login(from("192.0.2.1"), "fresh@example.com", "wr0ng!pw")
		rateLimited(t, err)
	})
	// A third party guessing from many addresses reaches the per-email
	// limit: the owner is slowed, never locked out.
	t.Run("OK/ThirdPartyCannotLockTheOwnerOut", func(t *testing.T) {
		svc, _ := limited(t, l)
		for i := range 40 {
			_, _ = svc.Login(from(fmt.Sprintf("203.0.113.%d", i)), "root@example.com", "wr0ng!pw")
		}
		start := time.Now()
		if _, err := svc.Login(from("192.0.2.9"), "root@example.com", pw); err != nil {
			t.Fatalf("the owner after 40 attempts by others: %v", err)
		}
		if d := time.Since(start); d < l.LoginSlowdown {
			t.Errorf("the owner's login took %v: over the per-email limit it is slowed by %v", d, l.LoginSlowdown)
		}
	})
	t.Run("ErrRateLimited/IPv6ByItsSlash64", func(t *testing.T) {
		svc, _ := limited(t, l)
		for i := range 5 {
			_, _ = svc.Login(from(fmt.Sprintf("2001:db8:1:2::%x", i+1)), "root@example.com", "wr0ng!pw")
		}
		_, err := svc.Login(from("2001:db8:1:2:ffff::1"), "root@example.com", pw)
		rateLimited(t, err)
		if _, err := svc.Login(from("2001:db8:1:3::1"), "root@example.com", pw); err != nil {
			t.Fatalf("another /64: %v", err)
		}
	})
}

func TestRegisterLimits(t *testing.T) {
	l := core.Limits{Register: core.Rate{N: 3, Per: time.Hour}, RegisterAll: core.Rate{N: 5, Per: time.Hour}}
	reg := func(svc *core.Service, ctx context.Context, i int) error {
		_, err := svc.Register(ctx, core.RegisterInput{Username: "u", Email: fmt.Sprintf("u%d@example.com", i), Password: pw})
		return err
	}
	t.Run("ErrRateLimited/PerAddressThenForAll", func(t *testing.T) {
		svc, _ := limited(t, l)
		for i := range 3 {
			if err := reg(svc, from("192.0.2.1"), i); err != nil {
				t.Fatal(err)
			}
		}
		rateLimited(t, reg(svc, from("192.0.2.1"), 3))
		for i := range 2 {
			if err := reg(svc, from(fmt.Sprintf("192.0.2.%d", 10+i)), 10+i); err != nil {
				t.Fatal(err)
			}
		}
		rateLimited(t, reg(svc, from("192.0.2.99"), 99)) // the sixth in all
	})
	t.Run("OK/InvalidInputDoesNotCount", func(t *testing.T) {
		svc, _ := limited(t, l)
		for range 10 {
			_, err := svc.Register(from("192.0.2.1"), core.RegisterInput{Username: "u", Email: "not-an-email", Password: pw})
			if !errors.Is(err, core.ErrInvalid) {
				t.Fatalf("err = %v", err)
			}
		}
		if err := reg(svc, from("192.0.2.1"), 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OK/AdminsAreNotLimited", func(t *testing.T) {
		svc, admin := limited(t, l)
		for i := range 10 {
			if err := reg(svc, admin, i); err != nil {
				t.Fatalf("registration %d by an admin: %v", i+1, err)
			}
		}
	})
}

func TestWriteLimits(t *testing.T) {
	svc, admin := limited(t, core.Limits{Writes: core.Rate{N: 3, Per: time.Hour}})
	u, err := svc.Register(from("192.0.2.1"), core.RegisterInput{Username: "w", Email: "w@example.com", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Login(from("192.0.2.1"), string(u.Email), pw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := core.WithRequest(context.Background(), p.AccessToken, "192.0.2.1")
	task, err := svc.CreateTask(ctx, core.CreateTaskInput{Title: "one"})
	if err != nil {
		t.Fatal(err)
	}
	done := core.StatusComplete
	if _, err := svc.UpdateTask(ctx, task.ID, core.UpdateTaskInput{Status: &done}); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteTask(ctx, task.ID); err != nil {
		t.Fatal(err)
	}
	_, err = svc.CreateTask(ctx, core.CreateTaskInput{Title: "four"})
	rateLimited(t, err)
	if tasks, _ := svc.AllTasks(ctx); len(tasks) != 0 {
		t.Fatalf("a refused write wrote: %d tasks", len(tasks))
	}
	if _, err := svc.CreateTask(admin, core.CreateTaskInput{Title: "another user's"}); err != nil {
		t.Fatalf("another user is limited by the first one's writes: %v", err)
	}
}
