package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/taskapi/taskapi/core"
)

func addTasks(t *testing.T, f *fixture, ctx context.Context, n int) []core.Task {
	t.Helper()
	var out []core.Task
	for i := range n {
		task, err := f.svc.CreateTask(ctx, core.CreateTaskInput{Title: fmt.Sprint("task ", i)})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, task)
	}
	return out
}

// gone checks that the address registers again under a new id (which
// also finishes a deletion left half done), and that nothing of u is left:
// tokens, refresh token, password, the admin's view, the store's records.
func gone(t *testing.T, f *fixture, u core.User, p core.AuthPayload, adminCtx context.Context) {
	t.Helper()
	again, err := f.svc.Register(context.Background(), core.RegisterInput{Username: "again", Email: string(u.Email), Password: "n3w-pass!word"})
	wantCode(t, err, "", "")
	a, _ := core.ParseUserID(again.ID)
	if b, _ := core.ParseUserID(u.ID); a <= b {
		t.Errorf("the new account's id %s is not past the deleted %s", again.ID, u.ID)
	}
	if works(f, p.AccessToken) {
		t.Error("the access token still works")
	}
	if _, err := f.svc.Refresh(bearer(""), p.RefreshToken); err == nil {
		t.Error("the refresh token still works")
	}
	_, err = f.svc.Login(context.Background(), string(u.Email), pw)
	wantCode(t, err, core.CodeUnauthenticated, "Incorrect email or password")
	if adminCtx != nil {
		_, err = f.svc.GetUser(adminCtx, u.ID)
		wantCode(t, err, core.CodeNotFound, "User not found")
		all, err := f.svc.AllUsers(adminCtx)
		wantCode(t, err, "", "")
		for _, x := range all {
			if x.ID == u.ID {
				t.Error("the admin list still shows the deleted user")
			}
		}
	}
	if _, err := f.store.GetUser(context.Background(), u.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("the store still has the user: %v", err)
	}
	st, err := f.store.TaskStats(context.Background(), u.ID)
	if err != nil || st.Total() != 0 {
		t.Errorf("counters of the deleted user: %+v %v", st, err)
	}
}

func TestDeleteAccount(t *testing.T) {
	f := newFixture(t)
	_, adminCtx := f.admin(t, "root")
	u, ctx := f.user(t, "ann")
	other, otherCtx := f.user(t, "bob")
	addTasks(t, f, ctx, 3)
	kept := addTasks(t, f, otherCtx, 2)
	p := login(t, f, "ann@example.com", pw)

	for _, bad := range []string{"", "wrong-password", strings.Repeat("x", 10_000)} {
		wantCode(t, f.svc.DeleteAccount(ctx, bad), core.CodeUnauthenticated, "Incorrect password")
	}
	if !works(f, p.AccessToken) {
		t.Fatal("a refused deletion ended the session")
	}
	if n, _ := f.store.TaskStats(context.Background(), u.ID); n.Total() != 3 {
		t.Fatalf("a refused deletion touched the tasks: %+v", n)
	}
	wantCode(t, f.svc.DeleteAccount(context.Background(), pw), core.CodeUnauthenticated, "")

	wantCode(t, f.svc.DeleteAccount(ctx, pw), "", "")
	gone(t, f, u, p, adminCtx)
	// Nobody else lost anything.
	tasks, err := f.svc.AllTasks(otherCtx)
	if err != nil || len(tasks) != len(kept) {
		t.Fatalf("bob's tasks after ann left: %d, %v", len(tasks), err)
	}
	if _, err := f.svc.GetUser(adminCtx, other.ID); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteUser(t *testing.T) {
	f := newFixture(t)
	root, adminCtx := f.admin(t, "root")
	second, secondCtx := f.admin(t, "second")
	u, userCtx := f.user(t, "ann")
	addTasks(t, f, userCtx, 4)
	p := login(t, f, "ann@example.com", pw)

	refused := []struct {
		name string
		ctx  context.Context
		id   string
		code core.Code
		msg  string
	}{
		{"NoToken", context.Background(), u.ID, core.CodeUnauthenticated, ""},
		{"NotAnAdmin", userCtx, u.ID, core.CodeForbidden, "Admin privileges required"},
		{"UnknownID", adminCtx, core.UserID(999_999), core.CodeNotFound, "User not found"},
		{"GarbageID", adminCtx, "../VAH1", core.CodeNotFound, "User not found"},
		{"Themself", adminCtx, root.ID, core.CodeForbidden, "Admins cannot delete their own account here; use deleteAccount"},
	}
	for _, tt := range refused {
		t.Run("Refused/"+tt.name, func(t *testing.T) {
			wantCode(t, f.svc.DeleteUser(tt.ctx, tt.id), tt.code, tt.msg)
			if !works(f, p.AccessToken) {
				t.Fatal("a refused deletion ended ann's session")
			}
		})
	}

	t.Run("OK/AUser", func(t *testing.T) {
		wantCode(t, f.svc.DeleteUser(adminCtx, u.ID), "", "")
		gone(t, f, u, p, adminCtx)
		wantCode(t, f.svc.DeleteUser(adminCtx, u.ID), core.CodeNotFound, "User not found")
	})
	t.Run("OK/AnotherAdmin", func(t *testing.T) {
		wantCode(t, f.svc.DeleteUser(adminCtx, second.ID), "", "")
		if _, err := f.svc.Me(secondCtx); err == nil {
			t.Fatal("the deleted admin's token still works")
		}
	})
	t.Run("Refused/TheLastActiveAdminLeaving", func(t *testing.T) {
		wantCode(t, f.svc.DeleteAccount(adminCtx, pw), core.CodeConflict, "At least one active admin must remain")
		if _, err := f.svc.Me(adminCtx); err != nil {
			t.Fatalf("the refused admin lost their session: %v", err)
		}
	})
}

// failingDeletes makes DeleteTasks fail after a number of batches, as a
// process killed in the middle of a deletion would leave it.
type failingDeletes struct {
	core.Store
	batches atomic.Int64
}

var errKilled = errors.New("killed")

func (s *failingDeletes) DeleteTasks(ctx context.Context, userID string, n int) (int, error) {
	if s.batches.Add(-1) < 0 {
		return 0, errKilled
	}
	return s.Store.DeleteTasks(ctx, userID, n)
}

func TestAnInterruptedDeletionIsFinished(t *testing.T) {
	for _, resume := range []string{"VerifyRepair", "RegisteringTheAddress", "AnAdminsDeleteUser"} {
		t.Run(resume, func(t *testing.T) {
			var fs *failingDeletes
			f := newFixture(t, func(c *core.Config) { fs = &failingDeletes{Store: c.Store}; c.Store = fs })
			_, adminCtx := f.admin(t, "root")
			u, ctx := f.user(t, "ann")
			addTasks(t, f, ctx, 250)
			p := login(t, f, "ann@example.com", pw)

			fs.batches.Store(1)
			if err := f.svc.DeleteAccount(ctx, pw); !errors.Is(err, errKilled) {
				t.Fatalf("DeleteAccount = %v, want the interruption", err)
			}
			// Half done: the account is already gone for every purpose.
			if works(f, p.AccessToken) {
				t.Fatal("the token works during the deletion")
			}
			_, err := f.svc.Login(context.Background(), "ann@example.com", pw)
			wantCode(t, err, core.CodeUnauthenticated, "Incorrect email or password")
			st, _ := f.store.TaskStats(context.Background(), u.ID)
			if st.Total() != 150 {
				t.Fatalf("after one batch the counters say %d tasks, want 150", st.Total())
			}
			r, err := f.svc.Verify(context.Background(), false)
			if err != nil || r.Problems != 1 || !strings.Contains(r.Lines[0], u.ID+": deletion begun") || r.Repaired != 0 {
				t.Fatalf("verify: %+v %v", r, err)
			}

			fs.batches.Store(1 << 20)
			switch resume {
			case "VerifyRepair":
				r, err := f.svc.Verify(context.Background(), true)
				if err != nil || r.Repaired != 1 || !strings.HasSuffix(r.Lines[0], ": finished") {
					t.Fatalf("verify -repair: %+v %v", r, err)
				}
			case "RegisteringTheAddress":
				// gone() registers the address: that finishes the deletion.
			case "AnAdminsDeleteUser":
				// It is no longer a user for the admin, but deleting it finishes it.
				if _, err := f.svc.GetUser(adminCtx, u.ID); err == nil {
					t.Fatal("the admin still sees the half-deleted user")
				}
				wantCode(t, f.svc.DeleteUser(adminCtx, u.ID), "", "")
			}
			gone(t, f, u, p, nil)
			if r, err := f.svc.Verify(context.Background(), false); err != nil || r.Problems != 0 {
				t.Fatalf("verify after: %+v %v", r, err)
			}
		})
	}
}

func TestExportMyData(t *testing.T) {
	f := newFixture(t)
	u, ctx := f.user(t, "ann")
	_, otherCtx := f.user(t, "bob")
	addTasks(t, f, otherCtx, 2)
	tasks := addTasks(t, f, ctx, 1_234) // more than one store page
	if _, err := f.svc.UpdateTask(ctx, tasks[7].ID, core.UpdateTaskInput{Status: ptr(core.StatusComplete)}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := f.svc.ExportMyData(ctx, &b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Format string `json:"format"`
		User   struct {
			ID, Username, Email, Role, ActivationStatus string
		} `json:"user"`
		TaskStats map[string]int `json:"taskStats"`
		Sessions  []struct {
			ID        string `json:"id"`
			Current   bool   `json:"current"`
			IPAddress string `json:"ipAddress"`
		} `json:"sessions"`
		Tasks []struct {
			ID, Title, Status string
		} `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatalf("not one JSON document: %v", err)
	}
	if doc.Format != core.ExportFormat || doc.User.ID != u.ID || doc.User.Email != "ann@example.com" || doc.User.Role != "USER" {
		t.Fatalf("header %+v", doc)
	}
	if strings.Contains(b.String(), "argon2") || strings.Contains(b.String(), "refresh") {
		t.Fatal("the export carries a secret")
	}
	if doc.TaskStats["total"] != 1_234 || doc.TaskStats["complete"] != 1 || doc.TaskStats["pending"] != 1_233 {
		t.Fatalf("taskStats %v", doc.TaskStats)
	}
	if len(doc.Tasks) != len(tasks) {
		t.Fatalf("%d tasks exported, want %d", len(doc.Tasks), len(tasks))
	}
	for i, task := range doc.Tasks {
		if task.ID != tasks[i].ID {
			t.Fatalf("task %d is %s, want %s (oldest first)", i, task.ID, tasks[i].ID)
		}
	}
	if doc.Tasks[7].Status != "COMPLETE" {
		t.Fatalf("task 7 %+v", doc.Tasks[7])
	}
	current := 0
	for _, s := range doc.Sessions {
		if s.Current {
			current++
		}
	}
	if len(doc.Sessions) != 1 || current != 1 {
		t.Fatalf("sessions %+v", doc.Sessions)
	}
	if err := f.svc.ExportMyData(context.Background(), &b); err == nil {
		t.Fatal("an export without a token")
	}
}

// noHashStore is a Store whose GetUser omits the password hash, as the
// Redis cache's does (store/cache).
type noHashStore struct{ core.Store }

func (s noHashStore) GetUser(ctx context.Context, id string) (core.User, error) {
	u, err := s.Store.GetUser(ctx, id)
	u.PasswordHash = ""
	return u, err
}

func TestPasswordChecksDoNotNeedTheHashInGetUser(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.Store = noHashStore{c.Store} })
	_, ctx := f.user(t, "cached")
	_, err := f.svc.ChangePassword(ctx, "wrong!pw1", "N3w!passw")
	wantCode(t, err, core.CodeUnauthenticated, "Incorrect password")
	p, err := f.svc.ChangePassword(ctx, pw, "N3w!passw")
	wantCode(t, err, "", "")
	ctx = bearer(p.AccessToken)
	wantCode(t, f.svc.DeleteAccount(ctx, pw), core.CodeUnauthenticated, "Incorrect password")
	wantCode(t, f.svc.DeleteAccount(ctx, "N3w!passw"), "", "")
}
