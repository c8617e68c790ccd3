// Package embedded is taskapi's zero-configuration store: one bbolt file,
// dir/taskapi.db, pure Go, safe for one process at a time. Every write is one
// bbolt transaction, fsynced before it returns, so nothing acknowledged is
// lost to a crash or restart. docs/embedded-store.md describes the layout.
package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/taskapi/taskapi/core"
)

// FileName is the database file Open keeps in its directory.
const FileName = "taskapi.db"

// OpenTimeout bounds how long Open waits for the file lock that another
// process holds.
const OpenTimeout = time.Second

// ErrLocked is returned by Open when another process (or another Open in this
// one) already holds the database.
var ErrLocked = errors.New("database is locked by another taskapi process")

// Top-level buckets; see docs/embedded-store.md.
var (
	bucketMeta      = []byte("meta")
	bucketUsers     = []byte("users")            // user ID → userRecord
	bucketByCreated = []byte("users_by_created") // 8-byte created_at (Unix ns) + user ID → ""
	bucketEmails    = []byte("emails")           // email key → user ID
	bucketTasks     = []byte("tasks")            // user ID → bucket: task ID → taskRecord
	bucketByStatus  = []byte("by_status")        // until version 4: user ID → status → bucket: task ID → ""
	bucketTaskIndex = []byte("task_index")       // user ID → index (indexName) → bucket: core.TaskKey → task ID, 0, core.SearchText
	bucketStats     = []byte("stats")            // user ID → statsRecord
	bucketSessions  = []byte("sessions")         // session ID → sessionRecord

	keySchema     = []byte("schema")
	keyUserSeq    = []byte("user_seq")    // 8-byte big-endian: the last user number handed out
	keyUserCounts = []byte("user_counts") // userCounts
)

// Store is the embedded core.Store. It is safe for concurrent use.
type Store struct {
	db *bolt.DB
	// counts remembers searches' match counts by the transaction they
	// were read in (CountTasks).
	counts *lru.Cache[searchKey, countAt]
}

type searchKey struct{ user, status, search string }

// countAt is a count and the id of the last committed write it saw.
type countAt struct {
	txID int
	n    int
}

var _ core.Store = (*Store)(nil)

// Open opens the store in dir, creating dir (0700) and the database file
// (0600) if missing. It fails with ErrLocked within OpenTimeout when another
// process has the database open.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("embedded store: empty data directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded store: create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: OpenTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("embedded store: open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("embedded store: open %s: %w", path, err)
	}
	// An existing store at the current schema needs no write (and no fsync).
	var version string
	err = db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil {
			version = string(meta.Get(keySchema))
		}
		return nil
	})
	if err == nil && version != currentSchema() {
		err = db.Update(migrate)
	}
	if err == nil {
		err = sweepSessions(db, time.Now())
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("embedded store: initialize %s: %w", path, err)
	}
	counts, _ := lru.New[searchKey, countAt](256) // only fails for a size below 1
	return &Store{db: db, counts: counts}, nil
}

// Close closes the database; the Store is unusable afterwards.
func (s *Store) Close() error { return s.db.Close() }

// Path is the database file's path.
func (s *Store) Path() string { return s.db.Path() }

// ---- records ----

type userRecord struct {
	ID               string     `json:"user_id"`
	Username         string     `json:"username"`
	Email            string     `json:"email"`
	PasswordHash     string     `json:"password"`
	Role             string     `json:"role"`
	ActivationStatus string     `json:"activation_status"`
	CreatedAt        time.Time  `json:"created_at"`
	Sessions         string     `json:"sessions,omitempty"`   // core.SessionSet's encoding
	DeletedAt        *time.Time `json:"deleted_at,omitempty"` // the deletion has begun (core/account.go)
	PasswordReset    bool       `json:"password_reset_required,omitempty"`
	DuplicateEmail   bool       `json:"duplicate_email,omitempty"`
}

func toUserRecord(u core.User) userRecord {
	return userRecord{
		ID: u.ID, Username: string(u.Username), Email: string(u.Email), PasswordHash: u.PasswordHash,
		Role: string(u.Role), ActivationStatus: string(u.ActivationStatus), CreatedAt: u.CreatedAt.UTC(),
		Sessions: u.Sessions.Encode(), DeletedAt: timePtr(u.DeletedAt),
		PasswordReset: u.NeedsPasswordReset, DuplicateEmail: u.DuplicateEmail,
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func (r userRecord) user() core.User {
	return core.User{
		ID: r.ID, Username: core.Username(r.Username), Email: core.Email(r.Email), PasswordHash: r.PasswordHash,
		Role: core.Role(r.Role), ActivationStatus: core.ActivationStatus(r.ActivationStatus), CreatedAt: r.CreatedAt,
		Sessions: core.SessionSetOf(r.Sessions), DeletedAt: deref(r.DeletedAt),
		NeedsPasswordReset: r.PasswordReset, DuplicateEmail: r.DuplicateEmail,
	}
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

type sessionRecord struct {
	ID          string    `json:"session_id"`
	UserID      string    `json:"user_id"`
	CreatedAt   time.Time `json:"created_at"`
	LastUsedAt  time.Time `json:"last_used_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	UserAgent   string    `json:"user_agent"`
	IPAddress   string    `json:"ip_address"`
	RefreshHash string    `json:"refresh_hash"`
}

func toSessionRecord(s core.Session) sessionRecord {
	return sessionRecord{
		ID: s.ID, UserID: s.UserID, CreatedAt: s.CreatedAt.UTC(), LastUsedAt: s.LastUsedAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(),
		UserAgent: s.UserAgent, IPAddress: s.IPAddress, RefreshHash: s.RefreshHash,
	}
}

func (r sessionRecord) session() core.Session {
	return core.Session{
		ID: r.ID, UserID: r.UserID, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt, ExpiresAt: r.ExpiresAt,
		UserAgent: r.UserAgent, IPAddress: r.IPAddress, RefreshHash: r.RefreshHash,
	}
}

type taskRecord struct {
	ID          string     `json:"task_id"`
	UserID      string     `json:"user_id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DueDate     *time.Time `json:"due_date,omitempty"` // absent in records written before due dates
}

func toTaskRecord(t core.Task) taskRecord {
	r := taskRecord{
		ID: t.ID, UserID: t.UserID, Title: string(t.Title), Description: string(t.Description),
		Status: string(t.Status), CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(),
	}
	if t.DueDate != nil {
		d := t.DueDate.UTC()
		r.DueDate = &d
	}
	return r
}

func (r taskRecord) task() core.Task {
	return core.Task{
		ID: r.ID, UserID: r.UserID, Title: core.Title(r.Title), Description: core.Description(r.Description),
		Status: core.TaskStatus(r.Status), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DueDate: r.DueDate,
	}
}

// statsRecord counts a user's tasks by status name.
type statsRecord map[core.TaskStatus]int

// userCounts counts users by role and activation status ("admin/active").
type userCounts map[string]int

func countKey(r core.Role, a core.ActivationStatus) string { return string(r) + "/" + string(a) }

// ---- helpers ----

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func createdKey(r userRecord) []byte {
	return append(u64(uint64(r.CreatedAt.UnixNano())), r.ID...)
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("embedded store: decode %q: %w", key, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func getUser(tx *bolt.Tx, id string) (userRecord, error) {
	var r userRecord
	ok, err := getJSON(tx.Bucket(bucketUsers), []byte(id), &r)
	if err == nil && !ok {
		err = core.ErrNotFound
	}
	return r, err
}

// Ping reports whether the store can be read (for /readyz): a read
// transaction, which fails once the file is closed. It reads no data: a
// readiness probe must stay cheap at any size of the file.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(ctx, func(*bolt.Tx) error { return nil })
}

func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(fn)
}

// ---- users ----

// ReserveUserNumbers hands out n numbers of the persistent sequence.
func (s *Store) ReserveUserNumbers(ctx context.Context, n int) (uint64, error) {
	var first uint64
	err := s.update(ctx, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		var last uint64
		if v := meta.Get(keyUserSeq); len(v) == 8 {
			last = binary.BigEndian.Uint64(v)
		}
		first = last + 1
		return meta.Put(keyUserSeq, u64(last+uint64(n)))
	})
	return first, err
}

// addUserCount moves the role × status counts by n for r.
func addUserCount(tx *bolt.Tx, r userRecord, n int) error {
	meta := tx.Bucket(bucketMeta)
	counts := userCounts{}
	if _, err := getJSON(meta, keyUserCounts, &counts); err != nil {
		return err
	}
	counts[countKey(core.Role(r.Role), core.ActivationStatus(r.ActivationStatus))] += n
	return putJSON(meta, keyUserCounts, counts)
}

// CreateUser stores u under its ID with its email key's guard.
func (s *Store) CreateUser(ctx context.Context, u core.User) (core.User, error) {
	r := toUserRecord(u)
	err := s.update(ctx, func(tx *bolt.Tx) error {
		emails, users := tx.Bucket(bucketEmails), tx.Bucket(bucketUsers)
		key := []byte(u.Email.Key())
		if emails.Get(key) != nil || users.Get([]byte(r.ID)) != nil {
			return core.ErrConflict
		}
		if err := putJSON(users, []byte(r.ID), r); err != nil {
			return err
		}
		if err := tx.Bucket(bucketByCreated).Put(createdKey(r), nil); err != nil {
			return err
		}
		if err := addUserCount(tx, r, 1); err != nil {
			return err
		}
		return emails.Put(key, []byte(r.ID))
	})
	if err != nil {
		return core.User{}, err
	}
	return r.user(), nil
}

// GetUser returns user id or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (core.User, error) {
	var r userRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		r, err = getUser(tx, id)
		return err
	})
	if err != nil {
		return core.User{}, err
	}
	return r.user(), nil
}

// GetUserByEmail returns the user whose email has key, or ErrNotFound.
func (s *Store) GetUserByEmail(ctx context.Context, key core.EmailKey) (core.User, error) {
	var r userRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketEmails).Get([]byte(key))
		if id == nil || key == "" {
			return core.ErrNotFound
		}
		var err error
		r, err = getUser(tx, string(id))
		return err
	})
	if err != nil {
		return core.User{}, err
	}
	return r.user(), nil
}

// UpdateUser applies p to user id; a new email moves its guard, and a role
// or status change moves the counts, in the same transaction.
func (s *Store) UpdateUser(ctx context.Context, id string, p core.UserPatch) (core.User, error) {
	var out core.User
	err := s.update(ctx, func(tx *bolt.Tx) error {
		old, err := getUser(tx, id)
		if err != nil {
			return err
		}
		before := old.user()
		after := p.Apply(before)
		if before.Email.Key() != after.Email.Key() {
			emails := tx.Bucket(bucketEmails)
			key := []byte(after.Email.Key())
			if owner := emails.Get(key); owner != nil && string(owner) != id {
				return core.ErrConflict
			}
			if owner := emails.Get([]byte(before.Email.Key())); string(owner) == id {
				if err := emails.Delete([]byte(before.Email.Key())); err != nil {
					return err
				}
			}
			if err := emails.Put(key, []byte(id)); err != nil {
				return err
			}
		}
		if !p.EndSessionsAt.IsZero() {
			if err := deleteSessions(tx, before.Sessions.IDs(time.Time{})); err != nil {
				return err
			}
		}
		r := toUserRecord(after)
		if before.Role != after.Role || before.ActivationStatus != after.ActivationStatus {
			if p.KeepActiveAdmin && before.IsAdmin() && before.IsActive() {
				counts := userCounts{}
				if _, err := getJSON(tx.Bucket(bucketMeta), keyUserCounts, &counts); err != nil {
					return err
				}
				if counts[countKey(core.RoleAdmin, core.ActivationActive)] <= 1 {
					return core.ErrPrecondition
				}
			}
			if err := addUserCount(tx, old, -1); err != nil {
				return err
			}
			if err := addUserCount(tx, r, 1); err != nil {
				return err
			}
		}
		out = after
		return putJSON(tx.Bucket(bucketUsers), []byte(id), r)
	})
	if err != nil {
		return core.User{}, err
	}
	return out, nil
}

// ListUsers returns up to limit users in creation order, after the user
// with ID after.
func (s *Store) ListUsers(ctx context.Context, after string, limit int) ([]core.User, bool, error) {
	users := make([]core.User, 0, min(limit, 64))
	more := false
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketByCreated).Cursor()
		k, _ := c.First()
		if after != "" {
			r, err := getUser(tx, after)
			if errors.Is(err, core.ErrNotFound) {
				return nil // nothing follows a user that is not there
			} else if err != nil {
				return err
			}
			start := createdKey(r)
			if k, _ = c.Seek(start); k != nil && bytes.Equal(k, start) {
				k, _ = c.Next()
			}
		}
		for ; k != nil; k, _ = c.Next() {
			if len(users) == limit {
				more = true
				return nil
			}
			r, err := getUser(tx, string(k[8:]))
			if err != nil {
				return fmt.Errorf("embedded store: index names user %s: %w", k[8:], err)
			}
			users = append(users, r.user())
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return users, more, nil
}

// ---- tasks ----

// userTasks returns userID's task bucket, nil if it has none and create is
// false.
func userTasks(tx *bolt.Tx, userID string, create bool) (*bolt.Bucket, error) {
	root := tx.Bucket(bucketTasks)
	if !create {
		return root.Bucket([]byte(userID)), nil
	}
	return root.CreateBucketIfNotExists([]byte(userID))
}

// indexName names one of a user's task indexes: every task, or those of
// one status, in one order.
func indexName(st *core.TaskStatus, field core.TaskOrderField) []byte {
	scope := ""
	if st != nil {
		scope = string(*st)
	}
	if field == "" {
		field = core.OrderCreatedAt
	}
	return []byte(scope + "/" + string(field))
}

// taskIndex returns userID's index of st (nil: every task) in field's
// order, nil if it has none and create is false.
func taskIndex(tx *bolt.Tx, userID string, st *core.TaskStatus, field core.TaskOrderField, create bool) (*bolt.Bucket, error) {
	root := tx.Bucket(bucketTaskIndex)
	if !create {
		if ub := root.Bucket([]byte(userID)); ub != nil {
			return ub.Bucket(indexName(st, field)), nil
		}
		return nil, nil
	}
	ub, err := root.CreateBucketIfNotExists([]byte(userID))
	if err != nil {
		return nil, err
	}
	return ub.CreateBucketIfNotExists(indexName(st, field))
}

// indexTask puts t into (add) or takes it out of its six indexes: every
// task and its status, in each order. A value is the task's id and its
// search text, so a search reads no task record that does not match.
func indexTask(tx *bolt.Tx, t core.Task, add bool) error {
	val := []byte(t.ID + "\x00" + core.SearchText(t))
	status := t.Status
	for _, st := range []*core.TaskStatus{nil, &status} {
		for _, field := range core.TaskOrderFields {
			idx, err := taskIndex(tx, t.UserID, st, field, add)
			if err != nil {
				return err
			}
			key := []byte(core.TaskKey(t, field))
			switch {
			case add:
				err = idx.Put(key, val)
			case idx != nil:
				err = idx.Delete(key)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func getStats(tx *bolt.Tx, userID string) (core.TaskStats, error) {
	var st core.TaskStats
	r := statsRecord{}
	if _, err := getJSON(tx.Bucket(bucketStats), []byte(userID), &r); err != nil {
		return st, err
	}
	for status, n := range r {
		st = st.Add(status, n)
	}
	return st, nil
}

// addStats adds delta to userID's counter for each status in one write.
func addStats(tx *bolt.Tx, userID string, delta map[core.TaskStatus]int) error {
	st, err := getStats(tx, userID)
	if err != nil {
		return err
	}
	for status, n := range delta {
		st = st.Add(status, n)
	}
	if !st.Valid() {
		return fmt.Errorf("embedded store: stats of %s would go negative", userID)
	}
	r := statsRecord{}
	for _, status := range core.TaskStatuses {
		r[status] = st.Count(status)
	}
	return putJSON(tx.Bucket(bucketStats), []byte(userID), r)
}

func getTask(tx *bolt.Tx, userID, taskID string) (taskRecord, *bolt.Bucket, error) {
	b, err := userTasks(tx, userID, false)
	if err != nil {
		return taskRecord{}, nil, err
	}
	if b == nil || taskID == "" {
		return taskRecord{}, nil, core.ErrNotFound
	}
	var r taskRecord
	ok, err := getJSON(b, []byte(taskID), &r)
	if err == nil && !ok {
		err = core.ErrNotFound
	}
	return r, b, err
}

// CreateTask stores t and counts it; ErrConflict if t.ID is already taken,
// ErrPrecondition if its owner already has limit tasks.
func (s *Store) CreateTask(ctx context.Context, t core.Task, limit int) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketUsers).Get([]byte(t.UserID)) == nil {
			return fmt.Errorf("embedded store: CreateTask: no user %s: %w", t.UserID, core.ErrNotFound)
		}
		if limit > 0 {
			st, err := getStats(tx, t.UserID)
			if err != nil {
				return err
			}
			if st.Total() >= limit {
				return core.ErrPrecondition
			}
		}
		b, err := userTasks(tx, t.UserID, true)
		if err != nil {
			return err
		}
		if b.Get([]byte(t.ID)) != nil {
			return core.ErrConflict
		}
		if err := putJSON(b, []byte(t.ID), toTaskRecord(t)); err != nil {
			return err
		}
		if err := indexTask(tx, t, true); err != nil {
			return err
		}
		return addStats(tx, t.UserID, map[core.TaskStatus]int{t.Status: 1})
	})
}

// GetTask returns userID's task taskID or ErrNotFound.
func (s *Store) GetTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	var r taskRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		r, _, err = getTask(tx, userID, taskID)
		return err
	})
	if err != nil {
		return core.Task{}, err
	}
	return r.task(), nil
}

// UpdateTask applies p, moving the task in its indexes, and between
// counters when its status changes.
func (s *Store) UpdateTask(ctx context.Context, userID, taskID string, p core.TaskPatch) (core.Task, error) {
	var out core.Task
	err := s.update(ctx, func(tx *bolt.Tx) error {
		r, b, err := getTask(tx, userID, taskID)
		if err != nil {
			return err
		}
		before := r.task()
		out = p.Apply(before)
		if err := indexTask(tx, before, false); err != nil {
			return err
		}
		if err := indexTask(tx, out, true); err != nil {
			return err
		}
		if from, to := before.Status, out.Status; from != to {
			if err := addStats(tx, userID, map[core.TaskStatus]int{from: -1, to: 1}); err != nil {
				return err
			}
		}
		return putJSON(b, []byte(taskID), toTaskRecord(out))
	})
	if err != nil {
		return core.Task{}, err
	}
	return out, nil
}

// DeleteTask removes userID's task taskID and uncounts it.
func (s *Store) DeleteTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	var gone core.Task
	err := s.update(ctx, func(tx *bolt.Tx) error {
		r, b, err := getTask(tx, userID, taskID)
		if err != nil {
			return err
		}
		gone = r.task()
		if err := b.Delete([]byte(taskID)); err != nil {
			return err
		}
		if err := indexTask(tx, gone, false); err != nil {
			return err
		}
		return addStats(tx, userID, map[core.TaskStatus]int{gone.Status: -1})
	})
	if err != nil {
		return core.Task{}, err
	}
	return gone, nil
}

// DeleteTasks removes up to n of userID's oldest tasks, and uncounts them,
// in one transaction.
func (s *Store) DeleteTasks(ctx context.Context, userID string, n int) (int, error) {
	removed := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		removed = 0
		b, err := userTasks(tx, userID, false)
		if err != nil || b == nil {
			return err
		}
		var victims []core.Task
		c := b.Cursor()
		for k, v := c.First(); k != nil && len(victims) < n; k, v = c.Next() {
			var r taskRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("embedded store: task %s: %w", k, err)
			}
			victims = append(victims, r.task())
		}
		delta := map[core.TaskStatus]int{}
		for _, v := range victims {
			if err := b.Delete([]byte(v.ID)); err != nil {
				return err
			}
			if err := indexTask(tx, v, false); err != nil {
				return err
			}
			delta[v.Status]--
		}
		removed = len(victims)
		return addStats(tx, userID, delta)
	})
	return removed, err
}

// DeleteUser removes user id, whose deletion has begun and who has no task
// left, with everything kept about them, in one transaction.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		r, err := getUser(tx, id)
		if err != nil {
			return err
		}
		st, err := getStats(tx, id)
		if err != nil {
			return err
		}
		if r.DeletedAt == nil || st.Total() != 0 {
			return core.ErrPrecondition
		}
		u := r.user()
		if err := deleteSessions(tx, u.Sessions.IDs(time.Time{})); err != nil {
			return err
		}
		if owner := tx.Bucket(bucketEmails).Get([]byte(u.Email.Key())); string(owner) == id {
			if err := tx.Bucket(bucketEmails).Delete([]byte(u.Email.Key())); err != nil {
				return err
			}
		}
		for _, root := range [][]byte{bucketTasks, bucketTaskIndex} {
			if tx.Bucket(root).Bucket([]byte(id)) != nil {
				if err := tx.Bucket(root).DeleteBucket([]byte(id)); err != nil {
					return err
				}
			}
		}
		if err := tx.Bucket(bucketStats).Delete([]byte(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketByCreated).Delete(createdKey(r)); err != nil {
			return err
		}
		if err := addUserCount(tx, r, -1); err != nil {
			return err
		}
		return tx.Bucket(bucketUsers).Delete([]byte(id))
	})
}

// ListTasks returns a page of userID's tasks: a walk of the index of
// q.Status (or every task) in q.Order, filtered by q.Search.
func (s *Store) ListTasks(ctx context.Context, userID string, q core.TaskQuery) ([]core.Task, bool, error) {
	tasks := make([]core.Task, 0, min(q.Limit, 64))
	more := false
	err := s.view(ctx, func(tx *bolt.Tx) error {
		data, err := userTasks(tx, userID, false)
		if err != nil || data == nil {
			return err
		}
		idx, err := taskIndex(tx, userID, q.Status, q.Order, false)
		if err != nil || idx == nil {
			return err
		}
		// By due date the walk covers the dated keys or the undated ones
		// (core.UndatedKeyPrefix, after every date).
		inRange := func([]byte) bool { return true }
		if q.Order == core.OrderDueDate {
			inRange = func(k []byte) bool { return core.IsUndatedKey(string(k)) == q.Undated }
		}
		c := idx.Cursor()
		next := c.Next
		if q.Reverse {
			next = c.Prev
		}
		var k, v []byte
		switch start := []byte(q.After); {
		case q.After == "" && q.Order == core.OrderDueDate && q.Undated != q.Reverse:
			// The boundary between dated and undated keys: forward into
			// the undated ones, or backward from the last dated one.
			if k, v = c.Seek([]byte(core.UndatedKeyPrefix)); q.Reverse {
				if k == nil {
					k, v = c.Last()
				} else {
					k, v = c.Prev()
				}
			}
		case q.After == "" && q.Reverse:
			k, v = c.Last()
		case q.After == "":
			k, v = c.First()
		case q.Reverse: // the last key before q.After
			if k, _ = c.Seek(start); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		default: // the first key after q.After
			if k, v = c.Seek(start); k != nil && bytes.Equal(k, start) {
				k, v = c.Next()
			}
		}
		search := core.NewSearchMatcher(q.Search)
		for ; k != nil && inRange(k); k, v = next() {
			id, text, _ := bytes.Cut(v, []byte{0})
			if q.Search != "" && !search.Match(text) { // on the bytes: no copy of an entry that does not match
				continue
			}
			if len(tasks) == q.Limit {
				more = true
				return nil
			}
			var r taskRecord
			ok, err := getJSON(data, id, &r)
			if err == nil && !ok {
				err = fmt.Errorf("embedded store: task index of %s names missing task %s", userID, id)
			}
			if err != nil {
				return err
			}
			tasks = append(tasks, r.task())
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return tasks, more, nil
}

// CountTasks counts userID's tasks (of status, if set) whose search text
// matches search, reading the index values only.
//
// A count is remembered with the id of the last write committed when it
// was read (a read transaction's ID), and reused while no write has been
// committed since — exact, with nothing to invalidate: paging through a
// search, which asks the count with every page, scans once. At 10,000
// tasks the scan takes about 200 µs, as long as the rest of the page
// (docs/performance.md, BenchmarkTaskOrders).
func (s *Store) CountTasks(ctx context.Context, userID string, status *core.TaskStatus, search string) (int, error) {
	key := searchKey{user: userID, search: search}
	if status != nil {
		key.status = string(*status)
	}
	n, txID, remembered := 0, 0, false
	err := s.view(ctx, func(tx *bolt.Tx) error {
		txID = tx.ID()
		if c, ok := s.counts.Get(key); ok && c.txID == txID {
			n, remembered = c.n, true
			return nil
		}
		idx, err := taskIndex(tx, userID, status, core.OrderCreatedAt, false)
		if err != nil || idx == nil {
			return err
		}
		m := core.NewSearchMatcher(search)
		return idx.ForEach(func(_, v []byte) error {
			if _, text, _ := bytes.Cut(v, []byte{0}); m.Match(text) {
				n++
			}
			return nil
		})
	})
	if err == nil && !remembered {
		s.counts.Add(key, countAt{txID: txID, n: n})
	}
	return n, err
}

// TaskStats returns userID's counters.
func (s *Store) TaskStats(ctx context.Context, userID string) (core.TaskStats, error) {
	var st core.TaskStats
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		st, err = getStats(tx, userID)
		return err
	})
	return st, err
}

// ---- sessions ----

func deleteSessions(tx *bolt.Tx, ids []string) error {
	b := tx.Bucket(bucketSessions)
	for _, id := range ids {
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
	}
	return nil
}

// WriteSessions applies w to user userID's sessions in one transaction.
func (s *Store) WriteSessions(ctx context.Context, userID string, w core.SessionWrite) (core.SessionSet, error) {
	var out core.SessionSet
	err := s.update(ctx, func(tx *bolt.Tx) error {
		r, err := getUser(tx, userID)
		if err != nil {
			return err
		}
		sessions := tx.Bucket(bucketSessions)
		if w.Put != nil && w.IfHash != "" {
			var cur sessionRecord
			switch ok, err := getJSON(sessions, []byte(w.Put.ID), &cur); {
			case err != nil:
				return err
			case !ok:
				return core.ErrNotFound
			case cur.RefreshHash != w.IfHash:
				return core.ErrPrecondition
			}
		}
		u := r.user()
		set, ended := w.Change(u.Sessions)
		u.Sessions = set
		if err := deleteSessions(tx, ended); err != nil {
			return err
		}
		if _, ok := set.Until(putID(w)); ok {
			if err := putJSON(sessions, []byte(w.Put.ID), toSessionRecord(*w.Put)); err != nil {
				return err
			}
		}
		out = set
		return putJSON(tx.Bucket(bucketUsers), []byte(userID), toUserRecord(u))
	})
	if err != nil {
		return core.SessionSet{}, err
	}
	return out, nil
}

func putID(w core.SessionWrite) string {
	if w.Put == nil {
		return ""
	}
	return w.Put.ID
}

// GetSession returns session id's record, or ErrNotFound.
func (s *Store) GetSession(ctx context.Context, id string) (core.Session, error) {
	var r sessionRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketSessions), []byte(id), &r)
		if err == nil && !ok {
			err = core.ErrNotFound
		}
		return err
	})
	if err != nil {
		return core.Session{}, err
	}
	return r.session(), nil
}

// GetSessions returns the records of sessions ids that exist.
func (s *Store) GetSessions(ctx context.Context, ids []string) ([]core.Session, error) {
	out := make([]core.Session, 0, len(ids))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		for _, id := range ids {
			var r sessionRecord
			ok, err := getJSON(b, []byte(id), &r)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, r.session())
			}
		}
		return nil
	})
	return out, err
}

// sweepSessions removes the records of sessions that ended (expired, or no
// longer in their user's set): the embedded store's counterpart of
// DynamoDB's TTL, run at every Open. It writes only if there is something
// to remove.
func sweepSessions(db *bolt.DB, now time.Time) error {
	var gone [][]byte
	err := db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var r sessionRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			u, err := getUser(tx, r.UserID)
			if errors.Is(err, core.ErrNotFound) || (err == nil && !u.user().Sessions.Live(r.ID, now)) {
				gone = append(gone, bytes.Clone(k))
				return nil
			}
			return err
		})
	})
	if err != nil || len(gone) == 0 {
		return err
	}
	return db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		for _, k := range gone {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
