package embedded_test

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/embedded"
	"github.com/taskapi/taskapi/store/storetest"
)

// TestOpenMigratesVersion1 writes a file as the first release laid it out
// (users keyed by their 8-byte number, lowercase emails, schema "1") and
// checks that Open brings it to the current layout with nothing lost.
func TestOpenMigratesVersion1(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, embedded.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	users := []map[string]any{
		{"user_id": "VAH1", "username": "ann", "email": "ann@example.com", "password": "h1", "role": "admin", "activation_status": "active", "created_at": "2026-01-01T00:00:00Z"},
		{"user_id": "VAH2", "username": "bob", "email": "bob@example.com", "password": "h2", "role": "user", "activation_status": "inactive", "created_at": "2026-01-02T00:00:00Z"},
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket([]byte("meta"))
		if err := meta.Put([]byte("schema"), []byte("1")); err != nil {
			return err
		}
		ub, _ := tx.CreateBucket([]byte("users"))
		eb, _ := tx.CreateBucket([]byte("emails"))
		for _, name := range []string{"tasks", "by_status", "stats"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		for i, u := range users {
			n, _ := ub.NextSequence()
			data, _ := json.Marshal(u)
			if err := ub.Put(binary.BigEndian.AppendUint64(nil, n), data); err != nil {
				return err
			}
			if err := eb.Put([]byte(u["email"].(string)), []byte(u["user_id"].(string))); err != nil {
				return err
			}
			_ = i
		}
		st, _ := json.Marshal(map[string]int{"pending": 2, "ongoing": 0, "complete": 1})
		return tx.Bucket([]byte("stats")).Put([]byte("VAH1"), st)
	})
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		t.Fatal(err)
	}

	s, err := embedded.Open(dir)
	if err != nil {
		t.Fatalf("Open of a version 1 file: %v", err)
	}
	ctx := t.Context()
	for _, want := range users {
		u, err := s.GetUserByEmail(ctx, core.KeyOf(want["email"].(string)))
		if err != nil || u.ID != want["user_id"] || string(u.Username) != want["username"] || u.PasswordHash != want["password"] {
			t.Errorf("%s after migration: %+v, %v", want["user_id"], u, err)
		}
	}
	list, _, err := s.ListUsers(ctx, "", 10)
	if err != nil || len(list) != 2 || list[0].ID != "VAH1" || list[1].ID != "VAH2" {
		t.Fatalf("ListUsers after migration: %v, %v", list, err)
	}
	if n, err := s.ReserveUserNumbers(ctx, 1); err != nil || n != 3 {
		t.Errorf("the sequence continues at %d (%v), want 3", n, err)
	}
	if st, err := s.TaskStats(ctx, "VAH1"); err != nil || st.Pending() != 2 || st.Complete() != 1 {
		t.Errorf("stats after migration: %+v, %v", st, err)
	}
	// The last active admin is known to the counts the migration built.
	demote := core.RoleUser
	if _, err := s.UpdateUser(ctx, "VAH1", core.UserPatch{Role: &demote, KeepActiveAdmin: true}); err != core.ErrPrecondition {
		t.Errorf("demoting the only active admin: %v, want ErrPrecondition", err)
	}
	// Reopening a migrated file changes nothing.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, embedded.FileName))
	s2, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	after, _ := os.ReadFile(filepath.Join(dir, embedded.FileName))
	if string(before) != string(after) {
		t.Error("reopening a current file rewrote it")
	}
}

// TestOpenMigratesVersion3 lays out a file as version 3 did (tasks with a
// by_status index, no task_index) and checks that Open indexes every task
// in every order, searchable, and drops by_status.
func TestOpenMigratesVersion3(t *testing.T) {
	dir := t.TempDir()
	s, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	u := storetest.MustCreateUser(t, s, storetest.UniqueEmail("old"))
	var tasks []core.Task
	for i, title := range []string{"Café", "report", "other café"} {
		tk := storetest.NewTask(t, u.ID, title)
		if i != 1 {
			d := time.Date(2026, 5, 3-i, 0, 0, 0, 0, time.UTC)
			tk.DueDate = &d
		}
		if err := s.CreateTask(ctx, tk, 0); err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, tk)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, embedded.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte("task_index")); err != nil {
			return err
		}
		bs, _ := tx.CreateBucket([]byte("by_status"))
		ub, _ := bs.CreateBucket([]byte(u.ID))
		pending, _ := ub.CreateBucket([]byte("pending"))
		for _, tk := range tasks {
			if err := pending.Put([]byte(tk.ID), nil); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("3"))
	})
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		t.Fatal(err)
	}

	s, err = embedded.Open(dir)
	if err != nil {
		t.Fatalf("Open of a version 3 file: %v", err)
	}
	defer s.Close()
	list, more, err := s.ListTasks(ctx, u.ID, core.TaskQuery{Order: core.OrderDueDate, Status: ptr(core.StatusPending), Limit: 5})
	if err != nil || more || len(list) != 2 || list[0].ID != tasks[2].ID || list[1].ID != tasks[0].ID {
		t.Errorf("pending by due date after migration: %v (more %v), %v", list, more, err)
	}
	if n, err := s.CountTasks(ctx, u.ID, nil, "cafe"); err != nil || n != 2 {
		t.Errorf("a search after migration counts %d, %v; want 2", n, err)
	}
	s.Close()
	db, err = bolt.Open(filepath.Join(dir, embedded.FileName), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("by_status")) != nil {
			t.Error("by_status is still there")
		}
		return nil
	})
}

func ptr[T any](v T) *T { return &v }
