package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/embedded"
	"github.com/taskapi/taskapi/store/storetest"
)

func openTemp(t testing.TB) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store { return openTemp(t) })
}

func TestOpen(t *testing.T) {
	t.Run("CreatesPrivateDirAndFile", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nested", "data")
		s, err := embedded.Open(dir)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, embedded.FileName): 0o600} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got&^want != 0 {
				t.Errorf("%s has mode %v, want at most %v", path, got, want)
			}
		}
		if s.Path() != filepath.Join(dir, embedded.FileName) {
			t.Errorf("Path() = %q", s.Path())
		}
	})

	t.Run("SecondOpenFailsFastWithErrLocked", func(t *testing.T) {
		dir := t.TempDir()
		first, err := embedded.Open(dir)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		start := time.Now()
		second, err := embedded.Open(dir)
		if err == nil {
			second.Close()
			first.Close()
			t.Fatal("second Open of an open database succeeded")
		}
		if waited := time.Since(start); waited > embedded.OpenTimeout+5*time.Second {
			t.Errorf("second Open took %v", waited)
		}
		if !errors.Is(err, embedded.ErrLocked) || !strings.Contains(err.Error(), "database is locked by another taskapi process") {
			t.Errorf("error = %v, want ErrLocked", err)
		}
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		third, err := embedded.Open(dir)
		if err != nil {
			t.Fatalf("Open after Close: %v", err)
		}
		third.Close()
	})

	t.Run("UnusableDirIsAnError", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, dir := range []string{"", file} {
			if s, err := embedded.Open(dir); err == nil {
				s.Close()
				t.Errorf("Open(%q) succeeded", dir)
			}
		}
	})

	t.Run("CorruptFileIsAnError", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, embedded.FileName), []byte(strings.Repeat("not a bolt file", 1000)), 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := embedded.Open(dir); err == nil {
			s.Close()
			t.Fatal("Open of a corrupt file succeeded")
		}
	})
}

func TestDataSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	alice := storetest.MustCreateUser(t, s, "alice@example.com")
	bob := storetest.MustCreateUser(t, s, "bob@example.com")
	email := core.Email("robert@example.com")
	if bob, err = s.UpdateUser(t.Context(), bob.ID, core.UserPatch{Email: &email}); err != nil {
		t.Fatal(err)
	}
	kept := storetest.MustCreateTask(t, s, alice.ID, "kept")
	done := storetest.MustSetStatus(t, s, alice.ID, storetest.MustCreateTask(t, s, alice.ID, "done").ID, core.StatusComplete)
	gone := storetest.MustCreateTask(t, s, alice.ID, "gone")
	if _, err := s.DeleteTask(t.Context(), alice.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	lastNumber, err := s.ReserveUserNumbers(t.Context(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = embedded.Open(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	if got, err := s.GetUserByEmail(ctx, core.KeyOf("robert@example.com")); err != nil || got.ID != bob.ID || got.PasswordHash != bob.PasswordHash {
		t.Errorf("bob after reopen: %+v, %v", got, err)
	}
	if _, err := s.GetUserByEmail(ctx, core.KeyOf("bob@example.com")); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("bob's old email after reopen: %v, want ErrNotFound", err)
	}
	if got, err := s.GetUser(ctx, alice.ID); err != nil || got.Email != alice.Email || !got.CreatedAt.Equal(alice.CreatedAt) {
		t.Errorf("alice after reopen: %+v, %v", got, err)
	}
	tasks, more, err := s.ListTasks(ctx, alice.ID, core.TaskQuery{Limit: 10})
	if err != nil || more || len(tasks) != 2 || tasks[0].ID != kept.ID || tasks[1].ID != done.ID || tasks[1].Status != core.StatusComplete {
		t.Errorf("alice's tasks after reopen: %+v (more %v), %v", tasks, more, err)
	}
	if st, err := s.TaskStats(ctx, alice.ID); err != nil || st.Pending() != 1 || st.Complete() != 1 || st.Total() != 2 {
		t.Errorf("alice's stats after reopen: %+v, %v", st, err)
	}
	if n, err := s.ReserveUserNumbers(ctx, 1); err != nil || n != lastNumber+3 {
		t.Errorf("the sequence after reopen gives %d (%v), want %d", n, err, lastNumber+3)
	}
	if _, err := s.CreateUser(ctx, storetest.NewUser("alice@example.com")); !errors.Is(err, core.ErrConflict) {
		t.Errorf("alice's email after reopen: %v, want ErrConflict", err)
	}
}

func TestListUsersIsInCreationOrder(t *testing.T) {
	s := openTemp(t)
	var want []string
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 12 {
		u := storetest.NewUser(fmt.Sprintf("u%d@example.com", i))
		u.ID = core.UserID(uint64(12 - i)) // ids need not follow creation
		u.CreatedAt = base.Add(time.Duration(i) * time.Second)
		if _, err := s.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		want = append(want, u.ID)
	}
	got, more, err := s.ListUsers(t.Context(), "", 20)
	if err != nil || more {
		t.Fatalf("ListUsers: more %v, %v", more, err)
	}
	for i, u := range got {
		if u.ID != want[i] {
			t.Fatalf("user %d is %s, want %s", i, u.ID, want[i])
		}
	}
	rest, more, err := s.ListUsers(t.Context(), want[8], 20)
	if err != nil || more || len(rest) != 3 || rest[0].ID != want[9] {
		t.Fatalf("after %s: %v (more %v), %v", want[8], rest, more, err)
	}
}

func TestCanceledContextIsContextCanceled(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.GetUser(ctx, "VAH1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("GetUser = %v, want context.Canceled", err)
	}
	if _, err := s.CreateUser(ctx, storetest.NewUser("c@example.com")); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateUser = %v, want context.Canceled", err)
	}
}

// benchStore returns a store where one user has n tasks, one in ten of them
// complete.
func benchStore(b *testing.B, n int) (*embedded.Store, core.User) {
	b.Helper()
	s, err := embedded.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	u := storetest.MustCreateUser(b, s, "bench@example.com")
	for i := range n {
		tk := storetest.MustCreateTask(b, s, u.ID, fmt.Sprint("task ", i))
		if i%10 == 9 {
			storetest.MustSetStatus(b, s, u.ID, tk.ID, core.StatusComplete)
		}
	}
	return s, u
}

func BenchmarkCreateTask(b *testing.B) {
	s, u := benchStore(b, 0)
	for b.Loop() {
		storetest.MustCreateTask(b, s, u.ID, "bench")
	}
}

func BenchmarkTaskStats(b *testing.B) {
	s, u := benchStore(b, 300)
	for b.Loop() {
		if _, err := s.TaskStats(b.Context(), u.ID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListTasksByStatus(b *testing.B) {
	s, u := benchStore(b, 300)
	st := core.StatusComplete
	for b.Loop() {
		if _, _, err := s.ListTasks(b.Context(), u.ID, core.TaskQuery{Status: &st, Limit: 20}); err != nil {
			b.Fatal(err)
		}
	}
}
