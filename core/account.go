package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The account lifecycle: a user deletes their account (or an admin deletes
// one), and a user exports their data.
//
// Deletion cannot be one store transaction: a user may own thousands of
// tasks (DynamoDB transactions hold 100 items). So it runs in steps, each
// atomic and each leaving the counters exact, and can be interrupted and
// resumed at any point:
//
//  1. mark: one UpdateUser sets User.DeletedAt, deactivates the account
//     (so it stops counting as an active admin, under the same "at least
//     one active admin remains" condition as a deactivation) and ends every
//     session. From here the account is gone for every purpose: its tokens,
//     refresh tokens and password stop working, admins no longer see it;
//  2. DeleteTasks in batches until none is left, each batch uncounting its
//     tasks in the same write;
//  3. DeleteUser: the user record, its email guard, counters and session
//     records in one atomic write, only if no task is left (a task created
//     by a request that authenticated just before step 1 sends us back to 2).
//
// A deletion interrupted after step 1 is finished by whatever touches the
// account next: a registration or create-admin with its email, an admin's
// deleteUser, or `taskapi verify -repair` (Service.Verify), which finds it.

// deleteBatch is how many tasks one DeleteTasks call asks for; a store may
// remove fewer per call (DynamoDB: 99, its transaction limit less the user).
const deleteBatch = 100

var (
	errDeleteSelf = &Error{Code: CodeForbidden, Message: "Admins cannot delete their own account here; use deleteAccount"}
)

// DeleteAccount deletes the caller's account with everything in it, once
// they confirm with their password (rate-limited as a login).
func (s *Service) DeleteAccount(ctx context.Context, password string) error {
	u, err := s.Actor(ctx)
	if err != nil {
		return err
	}
	if err := s.limiter.login(ctx, string(u.Email.Key())); err != nil {
		return err
	}
	if len(password) > 4*MaxPasswordLen {
		return errWrongPassword
	}
	hash, err := s.passwordHash(ctx, u)
	if err != nil {
		return err
	}
	ok, err := s.hasher.Verify(ctx, password, hash)
	if err != nil {
		return err
	}
	if !ok {
		return errWrongPassword
	}
	return s.deleteAccount(ctx, u)
}

// DeleteUser is an admin's deletion of account id: never their own (that is
// DeleteAccount, with a password), never the last active admin. A deletion
// already begun is finished.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	admin, err := s.Admin(ctx)
	if err != nil {
		return err
	}
	id = strings.TrimSpace(id)
	if _, ok := ParseUserID(id); !ok {
		return errUserNotFound
	}
	if id == admin.ID {
		return errDeleteSelf
	}
	target, err := s.store.GetUser(ctx, id)
	if err != nil {
		return notFound(err, errUserNotFound)
	}
	return s.deleteAccount(ctx, target)
}

// deleteAccount runs the steps above for u, from wherever they stand.
func (s *Service) deleteAccount(ctx context.Context, u User) error {
	if !u.Deleted() {
		now := s.now()
		inactive := ActivationInactive
		_, err := s.store.UpdateUser(ctx, u.ID, UserPatch{
			ActivationStatus: &inactive, KeepActiveAdmin: u.IsAdmin() && u.IsActive(),
			EndSessionsAt: now, MarkDeleted: now,
		})
		switch {
		case errors.Is(err, ErrPrecondition):
			return errLastAdmin
		case err != nil:
			return notFound(err, errUserNotFound)
		}
		s.log.InfoContext(ctx, "account deletion begun", "user_id", u.ID)
	}
	// The rest must finish even if the client goes away: what is left would
	// otherwise wait for the next verify -repair.
	return s.finishDeletion(context.WithoutCancel(ctx), u.ID)
}

// finishDeletion removes the tasks and then the record of user id, whose
// deletion has begun.
func (s *Service) finishDeletion(ctx context.Context, id string) error {
	for attempt := 0; attempt < 5; attempt++ {
		for {
			n, err := s.store.DeleteTasks(ctx, id, deleteBatch)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
		}
		err := s.store.DeleteUser(ctx, id)
		switch {
		case err == nil:
			s.log.InfoContext(ctx, "account deleted", "user_id", id)
			return nil
		case errors.Is(err, ErrNotFound):
			return nil // finished by someone else meanwhile
		case !errors.Is(err, ErrPrecondition):
			return err
		}
		// A task arrived after the last batch: remove it too.
	}
	return fmt.Errorf("core: deleting user %s: tasks keep arriving", id)
}

// ---- export ----

// ExportFormat names the layout ExportMyData writes (docs/graphql.md,
// "Exporting one's data"); it changes only with the layout.
const ExportFormat = "taskapi-export/1"

type exportUser struct {
	ID               string    `json:"id"`
	Username         string    `json:"username"`
	Email            string    `json:"email"`
	Role             string    `json:"role"`
	ActivationStatus string    `json:"activationStatus"`
	CreatedAt        time.Time `json:"createdAt"`
}

type exportSession struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	UserAgent  string    `json:"userAgent"`
	IPAddress  string    `json:"ipAddress"`
	Current    bool      `json:"current"`
}

type exportTask struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	DueDate     *time.Time `json:"dueDate,omitempty"` // absent: none
}

// ExportMyData writes the caller's profile, task counts, live sessions and
// every task as one JSON document to w. Tasks are read and written a page
// at a time, so an account with 10,000 tasks never sits in memory whole
// (w may be an HTTP response; GraphQL, which must answer a String, holds
// the document once). Enum values are spelt as in the GraphQL schema.
// Counted as a write by the rate limits: it reads the whole account.
func (s *Service) ExportMyData(ctx context.Context, w io.Writer) error {
	u, err := s.Actor(ctx)
	if err != nil {
		return err
	}
	if err := s.limiter.write(ctx, u.ID); err != nil {
		return err
	}
	stats, err := s.store.TaskStats(ctx, u.ID)
	if err != nil {
		return err
	}
	sessions, err := s.Sessions(ctx, u.ID)
	if err != nil {
		return err
	}
	current := s.CurrentSession(ctx)
	head := struct {
		Format     string          `json:"format"`
		ExportedAt time.Time       `json:"exportedAt"`
		User       exportUser      `json:"user"`
		TaskStats  map[string]int  `json:"taskStats"`
		Sessions   []exportSession `json:"sessions"`
	}{
		Format: ExportFormat, ExportedAt: s.now(),
		User: exportUser{
			ID: u.ID, Username: string(u.Username), Email: string(u.Email),
			Role: strings.ToUpper(string(u.Role)), ActivationStatus: strings.ToUpper(string(u.ActivationStatus)),
			CreatedAt: u.CreatedAt,
		},
		TaskStats: map[string]int{"total": stats.Total()},
		Sessions:  make([]exportSession, len(sessions)),
	}
	for _, st := range TaskStatuses {
		head.TaskStats[string(st)] = stats.Count(st)
	}
	for i, sess := range sessions {
		head.Sessions[i] = exportSession{
			ID: sess.ID, CreatedAt: sess.CreatedAt, LastUsedAt: sess.LastUsedAt, ExpiresAt: sess.ExpiresAt,
			UserAgent: sess.UserAgent, IPAddress: sess.IPAddress, Current: sess.ID == current,
		}
	}
	b, err := json.Marshal(head)
	if err != nil {
		return err
	}
	// Reopen the object to append "tasks" to it, streamed.
	if _, err := io.WriteString(w, string(b[:len(b)-1])+`,"tasks":[`); err != nil {
		return err
	}
	first := true
	for after := ""; ; {
		tasks, more, err := s.store.ListTasks(ctx, u.ID, TaskQuery{After: after, Limit: scanPageSize})
		if err != nil {
			return err
		}
		for _, t := range tasks {
			b, err := json.Marshal(exportTask{
				ID: t.ID, Title: string(t.Title), Description: string(t.Description),
				Status: strings.ToUpper(string(t.Status)), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, DueDate: t.DueDate,
			})
			if err != nil {
				return err
			}
			if !first {
				b = append([]byte{','}, b...)
			}
			first = false
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		if !more || len(tasks) == 0 {
			break
		}
		after = tasks[len(tasks)-1].ID
	}
	_, err = io.WriteString(w, "]}\n")
	return err
}

// ---- verify ----

// VerifyReport is what Verify found.
type VerifyReport struct {
	Users, Tasks int      // accounts and tasks looked at (Tasks: without an Auditor)
	Lines        []string // what was found or done, for the operator
	Problems     int      // violations found
	Repaired     int      // of them, fixed (with repair)
}

// Auditor is a store that checks (and, with repair, restores) invariants of
// its own layout that the Store interface cannot show — DynamoDB's email
// guards, id sequence and index attributes (store/dynamo/reconcile.go).
// Verify runs it in place of its own counter check.
type Auditor interface {
	Audit(ctx context.Context, repair bool, log func(line string)) (problems, repaired int, err error)
}

// Verify checks the whole store for what an interrupted operation can
// leave behind, for `taskapi verify` (an operator's command, not an API):
// an account deletion begun and not finished (repaired by finishing it),
// and a user's task counters that disagree with their tasks (reported: the
// counters are moved atomically with every task write, so a mismatch means
// data written by something other than taskapi) — or, for an Auditor
// store, everything its Audit checks.
func (s *Service) Verify(ctx context.Context, repair bool) (VerifyReport, error) {
	var r VerifyReport
	var unfinished []User // repaired after the scan: a removed user cannot be a listing's position
	for after := ""; ; {
		users, more, err := s.store.ListUsers(ctx, after, scanPageSize)
		if err != nil {
			return r, err
		}
		for _, u := range users {
			r.Users++
			if u.Deleted() {
				unfinished = append(unfinished, u)
				continue
			}
			if _, ok := s.store.(Auditor); ok {
				continue
			}
			n, line, err := s.verifyCounts(ctx, u.ID)
			if err != nil {
				return r, err
			}
			r.Tasks += n
			if line != "" {
				r.Lines = append(r.Lines, line)
				r.Problems++
			}
		}
		if !more || len(users) == 0 {
			break
		}
		after = users[len(users)-1].ID
	}
	for _, u := range unfinished {
		line := fmt.Sprintf("%s: deletion begun at %s and not finished", u.ID, u.DeletedAt.Format(time.RFC3339))
		if repair {
			if err := s.finishDeletion(ctx, u.ID); err != nil {
				return r, fmt.Errorf("finishing the deletion of %s: %w", u.ID, err)
			}
			line += ": finished"
			r.Repaired++
		}
		r.Lines = append(r.Lines, line)
		r.Problems++
	}
	if a, ok := s.store.(Auditor); ok {
		problems, repaired, err := a.Audit(ctx, repair, func(line string) { r.Lines = append(r.Lines, line) })
		if err != nil {
			return r, err
		}
		r.Problems += problems
		r.Repaired += repaired
	}
	return r, nil
}

// verifyCounts counts user id's tasks per status and compares them with
// the stored counters; it returns the count and a problem line, if any.
func (s *Service) verifyCounts(ctx context.Context, id string) (int, string, error) {
	var got TaskStats
	n := 0
	for after := ""; ; {
		tasks, more, err := s.store.ListTasks(ctx, id, TaskQuery{After: after, Limit: scanPageSize})
		if err != nil {
			return 0, "", err
		}
		for _, t := range tasks {
			got = got.Add(t.Status, 1)
		}
		n += len(tasks)
		if !more || len(tasks) == 0 {
			break
		}
		after = tasks[len(tasks)-1].ID
	}
	want, err := s.store.TaskStats(ctx, id)
	if err != nil {
		return 0, "", err
	}
	if want == got {
		return n, "", nil
	}
	return n, fmt.Sprintf("%s: counters say %s, tasks are %s", id, countsText(want), countsText(got)), nil
}

func countsText(st TaskStats) string {
	parts := make([]string, len(TaskStatuses))
	for i, s := range TaskStatuses {
		parts[i] = fmt.Sprintf("%s=%d", s, st.Count(s))
	}
	return strings.Join(parts, " ")
}
