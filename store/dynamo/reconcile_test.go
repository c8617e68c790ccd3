package dynamo_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/legacytest"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/dynamo"
	"github.com/taskapi/taskapi/store/storetest"
)

// mustExec runs a PartiQL statement.
func mustExec(t *testing.T, client *dynamodb.Client, statement string) {
	t.Helper()
	if _, err := client.ExecuteStatement(t.Context(), &dynamodb.ExecuteStatementInput{Statement: &statement}); err != nil {
		t.Fatalf("%s: %v", statement, err)
	}
}

// fakeConvert "hashes" what legacytest.Decrypt recovers (the real command
// and argon2id are cmd/taskapi's, tested there end to end).
func fakeConvert(_ context.Context, in []dynamo.LegacyPassword) ([]dynamo.ConvertedPassword, error) {
	out := make([]dynamo.ConvertedPassword, len(in))
	for i, p := range in {
		out[i].UserID = p.UserID
		if pw, ok := legacytest.Decrypt(p.Value); ok {
			out[i].Hash = "$argon2id$fake$" + pw
		} else {
			out[i].Error = "InvalidToken"
		}
	}
	return out, nil
}

func legacyTables(t *testing.T) (*dynamo.Store, *dynamodb.Client, dynamo.Tables, legacytest.Fixture) {
	t.Helper()
	client := newClient(t, testenv.DynamoDB(t), nil)
	tables := uniqueTables(t)
	dropTables(t, client, tables)
	if err := legacytest.CreateTables(t.Context(), client, tables.Users, tables.Tasks); err != nil {
		t.Fatal(err)
	}
	f, err := legacytest.Write(t.Context(), client, tables.Users, tables.Tasks)
	if err != nil {
		t.Fatal(err)
	}
	s := dynamo.New(client, tables)
	return s, client, tables, f
}

func TestReconcileLegacy(t *testing.T) {
	t.Parallel()
	s, client, tables, f := legacyTables(t)
	ctx := t.Context()

	t.Run("DryRunChangesNothing", func(t *testing.T) {
		before := [2]any{rawScan(t, client, tables.Users), rawScan(t, client, tables.Tasks)}
		var lines []string
		r, err := s.Reconcile(ctx, dynamo.ReconcileOptions{Legacy: true, DryRun: true, Convert: fakeConvert, Log: func(l string) { lines = append(lines, l) }})
		if err != nil || r.Changes == 0 || len(lines) == 0 {
			t.Fatalf("dry run: %+v %v", r, err)
		}
		after := [2]any{rawScan(t, client, tables.Users), rawScan(t, client, tables.Tasks)}
		if !reflect.DeepEqual(before, after) {
			t.Fatal("the dry run changed the tables")
		}
	})

	if err := s.CreateTables(ctx); err != nil { // as migrate-legacy does: adds status-index
		t.Fatal(err)
	}
	var lines []string
	r, err := s.Reconcile(ctx, dynamo.ReconcileOptions{Legacy: true, Convert: fakeConvert, Log: func(l string) { lines = append(lines, l) }})
	if err != nil {
		t.Fatal(err)
	}
	want := dynamo.ReconcileReport{Users: len(f.Users), Tasks: len(f.Tasks), PasswordsConverted: len(f.Users) - 1, PasswordsNotConverted: 1, Duplicates: 1, Skipped: f.Skipped}
	got := r
	got.Changes, got.Retry, got.Unfixable = 0, 0, 0
	if got != want || r.Retry != 0 {
		t.Fatalf("report %+v, want %+v\n%s", r, want, strings.Join(lines, "\n"))
	}
	for _, u := range f.Users {
		t.Run("User/"+u.ID, func(t *testing.T) {
			got, err := s.GetUser(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Role) != strings.ToLower(u.Role) || got.IsActive() != strings.EqualFold(u.Status, "active") || got.CreatedAt.IsZero() {
				t.Errorf("user %+v", got)
			}
			if got.DuplicateEmail != u.Duplicate || got.NeedsPasswordReset != u.Reset {
				t.Errorf("duplicate %v reset %v, want %v %v", got.DuplicateEmail, got.NeedsPasswordReset, u.Duplicate, u.Reset)
			}
			if !u.Reset && got.PasswordHash != "$argon2id$fake$"+u.Password {
				t.Errorf("password %q not converted", got.PasswordHash)
			}
			byEmail, err := s.GetUserByEmail(ctx, core.KeyOf(u.Email))
			if err != nil || (byEmail.ID == u.ID) == u.Duplicate {
				t.Errorf("GetUserByEmail(%s) = %s, %v", u.Email, byEmail.ID, err)
			}
			stats, err := s.TaskStats(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range core.TaskStatuses {
				if stats.Count(st) != u.Tasks[string(st)] {
					t.Errorf("%s count %d, want %d", st, stats.Count(st), u.Tasks[string(st)])
				}
				listed, _, err := s.ListTasks(ctx, u.ID, core.TaskQuery{Status: &st, Limit: 100})
				if err != nil || len(listed) != u.Tasks[string(st)] {
					t.Errorf("status-index lists %d %s tasks (%v), want %d", len(listed), st, err, u.Tasks[string(st)])
				}
			}
			all, _, err := s.ListTasks(ctx, u.ID, core.TaskQuery{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, task := range all {
				if task.CreatedAt.IsZero() || task.UpdatedAt.Before(task.CreatedAt) {
					t.Errorf("task %+v", task)
				}
			}
			// Every migrated task is in the order indexes too (the
			// legacy tasks have no due date: the undated walk).
			for _, q := range []core.TaskQuery{
				{Order: core.OrderUpdatedAt, Limit: 100},
				{Order: core.OrderDueDate, Undated: true, Limit: 100},
			} {
				for _, st := range append([]*core.TaskStatus{nil}, &core.TaskStatuses[0], &core.TaskStatuses[1], &core.TaskStatuses[2]) {
					q.Status = st
					listed, _, err := s.ListTasks(ctx, u.ID, q)
					want := len(all)
					if st != nil {
						want = u.Tasks[string(*st)]
					}
					if err != nil || len(listed) != want {
						t.Errorf("%+v lists %d tasks (%v), want %d", q, len(listed), err, want)
					}
				}
			}
		})
	}
	first, err := s.ReserveUserNumbers(ctx, 1)
	if err != nil || first <= uint64(f.MaxID) {
		t.Fatalf("the next user number is %d (%v), want past %d", first, err, f.MaxID)
	}

	t.Run("IdempotentAndVerifyIsClean", func(t *testing.T) {
		again, err := s.Reconcile(ctx, dynamo.ReconcileOptions{Legacy: true, Convert: fakeConvert})
		if err != nil || again.Changes != 0 {
			t.Fatalf("second run: %+v %v", again, err)
		}
		var lines []string
		problems, _, err := s.Audit(ctx, false, func(l string) { lines = append(lines, l) })
		if err != nil || problems != 0 {
			t.Fatalf("audit: %d %v\n%s", problems, err, strings.Join(lines, "\n"))
		}
	})

	t.Run("AdminClearsTheMarks", func(t *testing.T) {
		h, email := "$argon2id$fake$new", core.Email(fmt.Sprintf("own-%s@example.com", "alice2"))
		u, err := s.UpdateUser(ctx, "VAH5", core.UserPatch{PasswordHash: &h})
		if err != nil || u.NeedsPasswordReset {
			t.Fatalf("reset: %+v %v", u, err)
		}
		d, err := s.UpdateUser(ctx, "VAH4", core.UserPatch{Email: &email})
		if err != nil || d.DuplicateEmail {
			t.Fatalf("new email for the duplicate: %+v %v", d, err)
		}
		if owner, err := s.GetUserByEmail(ctx, core.KeyOf("alice.smith@example.com")); err != nil || owner.ID != "VAH2" {
			t.Fatalf("the elder lost its address: %s %v", owner.ID, err)
		}
		if got, err := s.GetUserByEmail(ctx, email.Key()); err != nil || got.ID != "VAH4" {
			t.Fatalf("the duplicate's new address: %s %v", got.ID, err)
		}
		if problems, _, err := s.Audit(ctx, false, nil); err != nil || problems != 0 {
			t.Fatalf("audit after the fixes: %d %v", problems, err)
		}
	})
}

// Audit finds what breaks the invariants and repair restores them.
func TestAuditRepairs(t *testing.T) {
	t.Parallel()
	client := newClient(t, testenv.DynamoDB(t), nil)
	s, tables := MustOpen(t, client)
	ctx := t.Context()
	u := storetest.MustCreateUser(t, s, "audited@example.com") // its id is past the sequence
	for range 3 {
		storetest.MustCreateTask(t, s, u.ID, "t")
	}
	// Break things as a stray script would: a counter, a guard.
	mustExec(t, client, fmt.Sprintf(`UPDATE "%s" SET pending_count = 7 WHERE user_id = '%s'`, tables.Users, u.ID))
	mustExec(t, client, fmt.Sprintf(`DELETE FROM "%s" WHERE user_id = 'EMAIL#%s'`, tables.Users, u.Email.Key()))
	mustExec(t, client, fmt.Sprintf(`INSERT INTO "%s" VALUE {'user_id': 'EMAIL#ghost@example.com', 'owner': 'VAH999'}`, tables.Users))

	var lines []string
	problems, repaired, err := s.Audit(ctx, false, func(l string) { lines = append(lines, l) })
	if err != nil || problems != 4 || repaired != 0 {
		t.Fatalf("audit: %d problems, %d repaired, %v\n%s", problems, repaired, err, strings.Join(lines, "\n"))
	}
	if problems, repaired, err = s.Audit(ctx, true, nil); err != nil || repaired != problems {
		t.Fatalf("repair: %d problems, %d repaired, %v", problems, repaired, err)
	}
	if problems, _, err = s.Audit(ctx, false, nil); err != nil || problems != 0 {
		t.Fatalf("after the repair: %d problems, %v", problems, err)
	}
	if st, _ := s.TaskStats(ctx, u.ID); st.Total() != 3 {
		t.Fatalf("counters %+v", st)
	}
	if got, err := s.GetUserByEmail(ctx, u.Email.Key()); err != nil || got.ID != u.ID {
		t.Fatalf("guard not restored: %v", err)
	}
}
