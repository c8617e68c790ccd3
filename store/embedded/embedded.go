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
	"strconv"
	"strings"
	"time"

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

// userIDPrefix starts every user ID; a sequence number follows.
const userIDPrefix = "VAH"

// Top-level buckets; see docs/embedded-store.md.
var (
	bucketMeta     = []byte("meta")
	bucketUsers    = []byte("users")     // 8-byte big-endian seq → userRecord
	bucketEmails   = []byte("emails")    // email → user ID
	bucketTasks    = []byte("tasks")     // user ID → bucket: task ID → taskRecord
	bucketByStatus = []byte("by_status") // user ID → status → bucket: task ID → ""
	bucketStats    = []byte("stats")     // user ID → statsRecord

	keySchema = []byte("schema")
)

const schemaVersion = "1"

// Store is the embedded core.Store. It is safe for concurrent use.
type Store struct {
	db *bolt.DB
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
	// An existing store needs no write (and no fsync) to be opened.
	ready := false
	err = db.View(func(tx *bolt.Tx) error {
		for _, name := range topBuckets {
			if tx.Bucket(name) == nil {
				return nil
			}
		}
		if v := tx.Bucket(bucketMeta).Get(keySchema); v == nil || string(v) != schemaVersion {
			return nil
		}
		ready = true
		return nil
	})
	if err == nil && !ready {
		err = db.Update(initialize)
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("embedded store: initialize %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

var topBuckets = [][]byte{bucketMeta, bucketUsers, bucketEmails, bucketTasks, bucketByStatus, bucketStats}

// initialize creates the buckets and the schema version, or refuses a file
// of another schema version.
func initialize(tx *bolt.Tx) error {
	for _, name := range topBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get(keySchema); {
	case v == nil:
		return meta.Put(keySchema, []byte(schemaVersion))
	case string(v) != schemaVersion:
		return fmt.Errorf("unsupported schema version %q (want %s)", v, schemaVersion)
	}
	return nil
}

// Close closes the database; the Store is unusable afterwards.
func (s *Store) Close() error { return s.db.Close() }

// Path is the database file's path.
func (s *Store) Path() string { return s.db.Path() }

// ---- records ----

type userRecord struct {
	ID               string    `json:"user_id"`
	Username         string    `json:"username"`
	Email            string    `json:"email"`
	PasswordHash     string    `json:"password"`
	Role             string    `json:"role"`
	ActivationStatus string    `json:"activation_status"`
	CreatedAt        time.Time `json:"created_at"`
}

func toUserRecord(u core.User) userRecord {
	return userRecord{
		ID: u.ID, Username: u.Username, Email: u.Email, PasswordHash: u.PasswordHash,
		Role: string(u.Role), ActivationStatus: string(u.ActivationStatus), CreatedAt: u.CreatedAt.UTC(),
	}
}

func (r userRecord) user() core.User {
	return core.User{
		ID: r.ID, Username: r.Username, Email: r.Email, PasswordHash: r.PasswordHash,
		Role: core.Role(r.Role), ActivationStatus: core.ActivationStatus(r.ActivationStatus), CreatedAt: r.CreatedAt,
	}
}

type taskRecord struct {
	ID          string    `json:"task_id"`
	UserID      string    `json:"user_id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func toTaskRecord(t core.Task) taskRecord {
	return taskRecord{
		ID: t.ID, UserID: t.UserID, Title: t.Title, Description: t.Description,
		Status: string(t.Status), CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(),
	}
}

func (r taskRecord) task() core.Task {
	return core.Task{
		ID: r.ID, UserID: r.UserID, Title: r.Title, Description: r.Description,
		Status: core.TaskStatus(r.Status), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

type statsRecord struct {
	Pending  int `json:"pending"`
	Ongoing  int `json:"ongoing"`
	Complete int `json:"complete"`
}

// ---- errors ----

func notFound(what string) error {
	return &core.Error{Code: core.CodeNotFound, Message: what + " not found"}
}

var (
	errUserNotFound = notFound("User")
	errTaskNotFound = notFound("Task")
	errEmailTaken   = &core.Error{Code: core.CodeConflict, Message: "Email already registered"}
)

func invalid(format string, args ...any) error {
	return &core.Error{Code: core.CodeInvalid, Message: fmt.Sprintf(format, args...)}
}

// ---- helpers ----

func seqKey(n uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, n)
	return k
}

// parseUserID returns the sequence number in a user ID, or false.
func parseUserID(id string) (uint64, bool) {
	digits, ok := strings.CutPrefix(id, userIDPrefix)
	if !ok || digits == "" || digits[0] == '0' || digits[0] == '+' {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}

func getUser(tx *bolt.Tx, id string) (userRecord, []byte, error) {
	n, ok := parseUserID(id)
	if !ok {
		return userRecord{}, nil, errUserNotFound
	}
	key := seqKey(n)
	v := tx.Bucket(bucketUsers).Get(key)
	if v == nil {
		return userRecord{}, nil, errUserNotFound
	}
	var r userRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return userRecord{}, nil, fmt.Errorf("embedded store: decode user %s: %w", id, err)
	}
	return r, key, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
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

// CreateUser stores u as "VAH" + the next sequence number.
func (s *Store) CreateUser(ctx context.Context, u core.User) (core.User, error) {
	if u.Email == "" {
		return core.User{}, invalid("email is required")
	}
	u.Email = strings.ToLower(u.Email)
	err := s.update(ctx, func(tx *bolt.Tx) error {
		emails := tx.Bucket(bucketEmails)
		if emails.Get([]byte(u.Email)) != nil {
			return errEmailTaken
		}
		users := tx.Bucket(bucketUsers)
		n, err := users.NextSequence()
		if err != nil {
			return err
		}
		u.ID = userIDPrefix + strconv.FormatUint(n, 10)
		r := toUserRecord(u)
		u = r.user()
		if err := putJSON(users, seqKey(n), r); err != nil {
			return err
		}
		return emails.Put([]byte(u.Email), []byte(u.ID))
	})
	if err != nil {
		return core.User{}, err
	}
	return u, nil
}

// GetUser returns user id or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (core.User, error) {
	var r userRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		r, _, err = getUser(tx, id)
		return err
	})
	if err != nil {
		return core.User{}, err
	}
	return r.user(), nil
}

// GetUserByEmail returns the user with email or ErrNotFound.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (core.User, error) {
	var r userRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketEmails).Get([]byte(strings.ToLower(email)))
		if id == nil || email == "" {
			return errUserNotFound
		}
		var err error
		r, _, err = getUser(tx, string(id))
		return err
	})
	if err != nil {
		return core.User{}, err
	}
	return r.user(), nil
}

// UpdateUser applies p to user id; a new email moves its index entry in the
// same transaction.
func (s *Store) UpdateUser(ctx context.Context, id string, p core.UserPatch) (core.User, error) {
	var r userRecord
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var (
			key []byte
			err error
		)
		r, key, err = getUser(tx, id)
		if err != nil {
			return err
		}
		if p.Email != nil {
			email := strings.ToLower(*p.Email)
			if email == "" {
				return invalid("email is required")
			}
			if email != r.Email {
				emails := tx.Bucket(bucketEmails)
				if owner := emails.Get([]byte(email)); owner != nil && string(owner) != r.ID {
					return errEmailTaken
				}
				if err := emails.Delete([]byte(r.Email)); err != nil {
					return err
				}
				if err := emails.Put([]byte(email), []byte(r.ID)); err != nil {
					return err
				}
				r.Email = email
			}
		}
		if p.Username != nil {
			r.Username = *p.Username
		}
		if p.PasswordHash != nil {
			r.PasswordHash = *p.PasswordHash
		}
		if p.Role != nil {
			r.Role = string(*p.Role)
		}
		if p.ActivationStatus != nil {
			r.ActivationStatus = string(*p.ActivationStatus)
		}
		return putJSON(tx.Bucket(bucketUsers), key, r)
	})
	if err != nil {
		return core.User{}, err
	}
	return r.user(), nil
}

// ListUsers returns up to limit users in registration order, after the user
// with ID after.
func (s *Store) ListUsers(ctx context.Context, after string, limit int) ([]core.User, bool, error) {
	if limit <= 0 {
		return nil, false, invalid("limit must be positive")
	}
	var start []byte
	if after != "" {
		n, ok := parseUserID(after)
		if !ok {
			return nil, false, invalid("invalid user position %q", after)
		}
		if n == ^uint64(0) {
			return []core.User{}, false, nil
		}
		start = seqKey(n + 1)
	}
	users := make([]core.User, 0, min(limit, 64))
	more := false
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketUsers).Cursor()
		k, v := c.First()
		if start != nil {
			k, v = c.Seek(start)
		}
		for ; k != nil; k, v = c.Next() {
			if len(users) == limit {
				more = true
				return nil
			}
			var r userRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("embedded store: decode user: %w", err)
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

func statusKey(st core.TaskStatus) ([]byte, error) {
	switch st {
	case core.StatusPending, core.StatusOngoing, core.StatusComplete:
		return []byte(st), nil
	}
	return nil, invalid("unknown task status %q", st)
}

// userTasks returns userID's task bucket, nil if it has none and create is
// false.
func userTasks(tx *bolt.Tx, userID string, create bool) (*bolt.Bucket, error) {
	root := tx.Bucket(bucketTasks)
	if !create {
		return root.Bucket([]byte(userID)), nil
	}
	return root.CreateBucketIfNotExists([]byte(userID))
}

// statusIndex returns userID's index bucket for status st.
func statusIndex(tx *bolt.Tx, userID string, st core.TaskStatus, create bool) (*bolt.Bucket, error) {
	key, err := statusKey(st)
	if err != nil {
		return nil, err
	}
	root := tx.Bucket(bucketByStatus)
	if !create {
		if ub := root.Bucket([]byte(userID)); ub != nil {
			return ub.Bucket(key), nil
		}
		return nil, nil
	}
	ub, err := root.CreateBucketIfNotExists([]byte(userID))
	if err != nil {
		return nil, err
	}
	return ub.CreateBucketIfNotExists(key)
}

func getStats(tx *bolt.Tx, userID string) (core.TaskStats, error) {
	v := tx.Bucket(bucketStats).Get([]byte(userID))
	if v == nil {
		return core.TaskStats{}, nil
	}
	var r statsRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return core.TaskStats{}, fmt.Errorf("embedded store: decode stats of %s: %w", userID, err)
	}
	return core.TaskStats{Pending: r.Pending, Ongoing: r.Ongoing, Complete: r.Complete}, nil
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
	if st.Pending < 0 || st.Ongoing < 0 || st.Complete < 0 {
		return fmt.Errorf("embedded store: stats of %s would go negative", userID)
	}
	return putJSON(tx.Bucket(bucketStats), []byte(userID), statsRecord{Pending: st.Pending, Ongoing: st.Ongoing, Complete: st.Complete})
}

func getTask(tx *bolt.Tx, userID, taskID string) (taskRecord, *bolt.Bucket, error) {
	if userID == "" || taskID == "" {
		return taskRecord{}, nil, errTaskNotFound
	}
	b, err := userTasks(tx, userID, false)
	if err != nil {
		return taskRecord{}, nil, err
	}
	if b == nil {
		return taskRecord{}, nil, errTaskNotFound
	}
	v := b.Get([]byte(taskID))
	if v == nil {
		return taskRecord{}, nil, errTaskNotFound
	}
	var r taskRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return taskRecord{}, nil, fmt.Errorf("embedded store: decode task %s: %w", taskID, err)
	}
	return r, b, nil
}

// CreateTask stores t and counts it; ErrConflict if t.ID is already taken.
func (s *Store) CreateTask(ctx context.Context, t core.Task) error {
	if t.ID == "" || t.UserID == "" {
		return invalid("task id and user id are required")
	}
	if _, err := statusKey(t.Status); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, err := userTasks(tx, t.UserID, true)
		if err != nil {
			return err
		}
		if b.Get([]byte(t.ID)) != nil {
			return &core.Error{Code: core.CodeConflict, Message: "Task already exists"}
		}
		if err := putJSON(b, []byte(t.ID), toTaskRecord(t)); err != nil {
			return err
		}
		idx, err := statusIndex(tx, t.UserID, t.Status, true)
		if err != nil {
			return err
		}
		if err := idx.Put([]byte(t.ID), nil); err != nil {
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

// UpdateTask applies p, moving the task between status index and counters
// when its status changes.
func (s *Store) UpdateTask(ctx context.Context, userID, taskID string, p core.TaskPatch) (core.Task, error) {
	if p.Status != nil {
		if _, err := statusKey(*p.Status); err != nil {
			return core.Task{}, err
		}
	}
	var r taskRecord
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var (
			b   *bolt.Bucket
			err error
		)
		r, b, err = getTask(tx, userID, taskID)
		if err != nil {
			return err
		}
		if p.Title != nil {
			r.Title = *p.Title
		}
		if p.Description != nil {
			r.Description = *p.Description
		}
		if !p.UpdatedAt.IsZero() {
			r.UpdatedAt = p.UpdatedAt.UTC()
		}
		if p.Status != nil && string(*p.Status) != r.Status {
			from, to := core.TaskStatus(r.Status), *p.Status
			if err := moveIndex(tx, userID, taskID, from, to); err != nil {
				return err
			}
			if err := addStats(tx, userID, map[core.TaskStatus]int{from: -1, to: 1}); err != nil {
				return err
			}
			r.Status = string(to)
		}
		return putJSON(b, []byte(taskID), r)
	})
	if err != nil {
		return core.Task{}, err
	}
	return r.task(), nil
}

func moveIndex(tx *bolt.Tx, userID, taskID string, from, to core.TaskStatus) error {
	old, err := statusIndex(tx, userID, from, false)
	if err != nil {
		return err
	}
	if old != nil {
		if err := old.Delete([]byte(taskID)); err != nil {
			return err
		}
	}
	idx, err := statusIndex(tx, userID, to, true)
	if err != nil {
		return err
	}
	return idx.Put([]byte(taskID), nil)
}

// DeleteTask removes userID's task taskID and uncounts it.
func (s *Store) DeleteTask(ctx context.Context, userID, taskID string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		r, b, err := getTask(tx, userID, taskID)
		if err != nil {
			return err
		}
		if err := b.Delete([]byte(taskID)); err != nil {
			return err
		}
		st := core.TaskStatus(r.Status)
		idx, err := statusIndex(tx, userID, st, false)
		if err != nil {
			return err
		}
		if idx != nil {
			if err := idx.Delete([]byte(taskID)); err != nil {
				return err
			}
		}
		return addStats(tx, userID, map[core.TaskStatus]int{st: -1})
	})
}

// ListTasks returns a page of userID's tasks in ID order. With a status it
// walks that status's index only.
func (s *Store) ListTasks(ctx context.Context, userID string, q core.TaskQuery) ([]core.Task, bool, error) {
	if q.Limit <= 0 {
		return nil, false, invalid("limit must be positive")
	}
	if q.Status != nil {
		if _, err := statusKey(*q.Status); err != nil {
			return nil, false, err
		}
	}
	tasks := make([]core.Task, 0, min(q.Limit, 64))
	more := false
	err := s.view(ctx, func(tx *bolt.Tx) error {
		data, err := userTasks(tx, userID, false)
		if err != nil || data == nil {
			return err
		}
		keys := data // the bucket whose keys we walk
		if q.Status != nil {
			if keys, err = statusIndex(tx, userID, *q.Status, false); err != nil || keys == nil {
				return err
			}
		}
		c := keys.Cursor()
		k, _ := c.First()
		if q.After != "" {
			k, _ = c.Seek([]byte(q.After))
			if k != nil && bytes.Equal(k, []byte(q.After)) {
				k, _ = c.Next()
			}
		}
		for ; k != nil; k, _ = c.Next() {
			if len(tasks) == q.Limit {
				more = true
				return nil
			}
			v := data.Get(k)
			if v == nil {
				return fmt.Errorf("embedded store: status index of %s names missing task %s", userID, k)
			}
			var r taskRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("embedded store: decode task %s: %w", k, err)
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
