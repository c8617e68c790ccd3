// Package cache puts Redis in front of a core.Store and offers the other
// Redis-backed pieces of taskapi: the login rate limiter and the GraphQL
// Automatic Persisted Queries cache. docs/cache.md explains what is cached,
// for how long, and what happens when Redis is slow, hung or down.
//
// Redis is never required for correctness or availability: every command
// runs under a short timeout and a circuit breaker, and every failure falls
// back to the store (or to "allow" / "miss").
package cache

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/tracing"
)

// Defaults of Options.
const (
	DefaultTTL = 60 * time.Second
	// DefaultUserTTL bounds how long another instance can take to see a
	// deactivation, role change or session revocation when its writer
	// could not reach Redis: at most 5 s, as docs/cache.md promises
	// (internal/hardening TestStalenessBoundsAcrossInstances). It costs one
	// store read per user every 5 s where 30 s cost one per 30 s.
	DefaultUserTTL       = 5 * time.Second
	DefaultMaxValueBytes = 256 << 10
)

const (
	// versionTTL keeps a scope's version key; when it lapses the next reader
	// starts a new version, which only costs misses.
	versionTTL = time.Hour
	// maxDirty bounds the in-process set of scopes whose invalidation
	// failed; past it every read bypasses Redis until the marks would have
	// expired anyway.
	maxDirty = 10_000
	// maxLimit is the largest page size worth a cache entry.
	maxLimit = 1000
)

// Options configures a Store. Zero values take the defaults.
type Options struct {
	// Namespace starts every key ("taskapi:v1"); tests and environments
	// sharing one Redis use their own. It must not contain '{'.
	Namespace string
	// TTL bounds how long a task page or stats entry is served (DefaultTTL),
	// and so how stale an entry can be when an invalidation never reached
	// Redis and another instance reads it.
	TTL time.Duration
	// UserTTL is the same bound for user records (DefaultUserTTL): it is how
	// long a deactivation can take to reach other instances in that case.
	UserTTL time.Duration
	// MaxValueBytes skips caching larger values (DefaultMaxValueBytes).
	MaxValueBytes int
	// Resilience bounds what Redis failures cost; its Logger also gets the
	// cache's own lines.
	Resilience
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is a core.Store that serves GetUser, ListTasks and TaskStats from
// Redis and everything else, and every miss, from the store it wraps. Every
// write through it invalidates its owner's entries before it returns (see
// docs/cache.md for how this holds when Redis cannot be reached).
type Store struct {
	inner    core.Store
	rdb      redis.UniversalClient
	batch    *mgetBatcher // every read's MGET, pipelined with the concurrent ones
	users    *decoded[userJSON]
	g        *guard
	ns       string
	ttl      time.Duration
	userTTL  time.Duration
	maxValue int
	now      func() time.Time
	log      *slog.Logger
	obs      Observer // nil: reads are not counted

	mu       sync.Mutex
	seq      uint64               // counts dirty marks
	dirty    map[string]dirtyMark // version key → why reads must bypass Redis
	overflow time.Time            // while before it, every read bypasses Redis
	flushing bool                 // a flush of dirty marks is under way
}

var _ core.VersionedStore = (*Store)(nil)

// dirtyMark records a write whose invalidation did not reach Redis.
type dirtyMark struct {
	seq   uint64    // order of the mark, against bumps that raced it
	until time.Time // when every entry it could have left stale is too old to serve
}

// New returns inner decorated with a Redis cache on rdb. The caller owns rdb
// (build it with ClientOptions) and closes it; Close closes inner only.
func New(inner core.Store, rdb redis.UniversalClient, o Options) *Store {
	o.Resilience = o.Resilience.withDefaults()
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.UserTTL <= 0 {
		o.UserTTL = DefaultUserTTL
	}
	if o.MaxValueBytes <= 0 {
		o.MaxValueBytes = DefaultMaxValueBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{
		inner:    inner,
		rdb:      rdb,
		batch:    newMGetBatcher(rdb, o.Resilience.Timeout),
		users:    &decoded[userJSON]{},
		g:        newGuard("cache", o.Resilience, pinger(rdb)),
		ns:       o.Namespace,
		ttl:      o.TTL,
		userTTL:  o.UserTTL,
		maxValue: o.MaxValueBytes,
		now:      o.Now,
		log:      o.Logger.With("component", "cache"),
		obs:      o.Observer,
		dirty:    map[string]dirtyMark{},
	}
}

// BreakerState is "closed" (Redis in use), "open" (Redis skipped after
// failures) or "half-open" (probing), for health reports.
func (s *Store) BreakerState() string { return s.g.state().String() }

// ---- keys ----

// A scope is the set of entries one version key guards: a user's record, or
// a user's task pages and stats. Its keys share the hash tag {userID}, so
// they live in one Redis Cluster slot and MGET works there too.
type scope struct {
	ver string        // the version key
	ttl time.Duration // entries in the scope live this long
}

func (s *Store) key(userID, rest string) string { return s.ns + ":{" + userID + "}:" + rest }

func (s *Store) userScope(id string) scope { return scope{ver: s.key(id, "user:ver"), ttl: s.userTTL} }

func (s *Store) taskScope(userID string) scope {
	return scope{ver: s.key(userID, "tasks:ver"), ttl: s.ttl}
}

// cacheableID reports whether id is safe and short enough to be a key part.
// Anything else (only ever garbage from a client) goes to the store.
func cacheableID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

func newVersion() string { return strconv.FormatUint(rand.Uint64(), 36) }

// ---- reads ----

// GetUser serves the user record from Redis when it can.
func (s *Store) GetUser(ctx context.Context, id string) (core.User, error) {
	if !cacheableID(id) {
		return s.inner.GetUser(ctx, id)
	}
	u, err := read(ctx, s, s.userScope(id), s.key(id, "user"), func(ctx context.Context) (userJSON, error) {
		u, err := s.inner.GetUser(ctx, id)
		return toUserJSON(u), err
	})
	return u.user(), err
}

// ListTasks serves the page from Redis when it can.
func (s *Store) ListTasks(ctx context.Context, userID string, q core.TaskQuery) ([]core.Task, bool, error) {
	// Only forward pages in creation order, unsearched, are cached: they
	// are what a task screen reads first, and what a task write can
	// invalidate by page (the other orders and searches go to the store's
	// indexes).
	if !cacheableID(userID) || (q.After != "" && !cacheableID(q.After)) || q.Limit <= 0 || q.Limit > maxLimit || q.Reverse ||
		(q.Order != "" && q.Order != core.OrderCreatedAt) || q.Search != "" {
		return s.inner.ListTasks(ctx, userID, q)
	}
	status := "*"
	if q.Status != nil {
		status = string(*q.Status)
		if _, err := core.ParseTaskStatus(status); err != nil {
			return s.inner.ListTasks(ctx, userID, q)
		}
	}
	k := s.key(userID, "tasks:page:"+status+":"+q.After+":"+strconv.Itoa(q.Limit))
	p, err := read(ctx, s, s.taskScope(userID), k, func(ctx context.Context) (pageJSON, error) {
		tasks, more, err := s.inner.ListTasks(ctx, userID, q)
		return toPageJSON(tasks, more), err
	})
	if err != nil {
		return nil, false, err
	}
	return p.tasks(), p.More, nil
}

// CountTasks counts a search's matches in the store: a search is not
// cached.
func (s *Store) CountTasks(ctx context.Context, userID string, status *core.TaskStatus, search string) (int, error) {
	return s.inner.CountTasks(ctx, userID, status, search)
}

// TaskStats serves the counts from Redis when it can.
func (s *Store) TaskStats(ctx context.Context, userID string) (core.TaskStats, error) {
	if !cacheableID(userID) {
		return s.inner.TaskStats(ctx, userID)
	}
	st, err := read(ctx, s, s.taskScope(userID), s.key(userID, "tasks:stats"), func(ctx context.Context) (statsJSON, error) {
		st, err := s.inner.TaskStats(ctx, userID)
		return toStatsJSON(st), err
	})
	return st.stats(), err
}

// read returns the entry at key if it was filled under sc's current
// version less than sc.ttl ago; otherwise it loads from the store and fills
// the entry. Any Redis failure means: load, and do not fill.
//
// Why a stale entry is never served after a write that bumped the version:
// an entry records the version read *before* its store read, and the writer
// bumps *after* its store write, so an entry that may predate the write
// carries an older version than the one readers see after the bump.
func read[T any](ctx context.Context, s *Store, sc scope, key string, load func(context.Context) (T, error)) (T, error) {
	v, _, _, err := readVersioned(ctx, s, sc, key, nil, nil, load)
	return v, err
}

// readVersioned is read that also fetches the keys in extra in the same
// round trip (their values, nil where absent, come back in extraVals) and
// returns the version of sc the value is valid under: the value was read
// from the store after that version was read, so it is at least as new as
// the version says. The version is "" when Redis could not be used.
func readVersioned[T any](ctx context.Context, s *Store, sc scope, key string, extra []string, memo *decoded[T], load func(context.Context) (T, error)) (val T, ver string, extraVals []any, err error) {
	if !s.usable(ctx, sc) {
		s.counted(ctx, "bypass")
		val, err = load(ctx)
		return val, "", nil, err
	}
	start := s.now()
	keys := append([]string{sc.ver, key}, extra...)
	var vals []any
	err = s.g.do(ctx, func(ctx context.Context) (err error) {
		vals, err = s.batch.mget(ctx, keys)
		return err
	})
	if err != nil || len(vals) != len(keys) {
		s.counted(ctx, "bypass")
		val, err = load(ctx)
		return val, "", nil, err
	}
	extraVals = vals[2:]
	ver, _ = vals[0].(string)
	if raw, ok := vals[1].(string); ok && ver != "" {
		if e, ok := memo.decode(raw); ok && e.Ver == ver && start.Sub(time.UnixMilli(e.At)) < sc.ttl {
			s.counted(ctx, "hit")
			return e.Data, ver, extraVals, nil
		}
	}
	s.counted(ctx, "miss")
	if ver == "" {
		// No version yet (first use, expiry, eviction, a restarted Redis):
		// start one. If another reader or a writer set one meanwhile, ours
		// may predate a write: load without filling.
		ver = newVersion()
		var set bool
		err := s.g.do(ctx, func(ctx context.Context) (err error) {
			set, err = s.rdb.SetNX(ctx, sc.ver, ver, versionTTL).Result()
			return err
		})
		if err != nil || !set {
			val, err = load(ctx)
			return val, "", extraVals, err
		}
	}
	val, err = load(ctx)
	if err != nil {
		return val, "", extraVals, err
	}
	b, err := json.Marshal(entry[T]{Ver: ver, At: start.UnixMilli(), Data: val})
	if err == nil && len(b) <= s.maxValue {
		_ = s.g.do(ctx, func(ctx context.Context) error { return s.rdb.Set(ctx, key, b, sc.ttl).Err() })
	}
	return val, ver, extraVals, nil
}

// GetUserVersion is GetUser that also returns a version of everything the
// user can read, for response caches (core.VersionedStore): their record's
// version and their tasks' version, read in the same round trip as the
// record. Each changes when a write through any instance bumps it, so a
// response built after reading them is current for as long as they are
// unchanged. It is "" whenever Redis cannot vouch for them: unreachable, or
// a write of this instance whose invalidation has not reached it yet.
func (s *Store) GetUserVersion(ctx context.Context, id string) (core.User, string, error) {
	tasks := s.taskScope(id)
	if !cacheableID(id) || !s.usable(ctx, tasks) {
		u, err := s.GetUser(ctx, id)
		return u, "", err
	}
	u, uver, extra, err := readVersioned(ctx, s, s.userScope(id), s.key(id, "user"), []string{tasks.ver}, s.users, func(ctx context.Context) (userJSON, error) {
		u, err := s.inner.GetUser(ctx, id)
		return toUserJSON(u), err
	})
	if err != nil || uver == "" || len(extra) != 1 {
		return u.user(), "", err
	}
	tver, _ := extra[0].(string)
	if tver == "" {
		// The tasks have no version yet: start one, unless someone else
		// just did (then ours could predate their write).
		tver = newVersion()
		var set bool
		err := s.g.do(ctx, func(ctx context.Context) (err error) {
			set, err = s.rdb.SetNX(ctx, tasks.ver, tver, versionTTL).Result()
			return err
		})
		if err != nil || !set {
			return u.user(), "", nil
		}
	}
	return u.user(), uver + "." + tver, nil
}

// counted tells the Observer, if any, how a read was served, and the
// request's trace (a cache.read event on the current span, if traced).
func (s *Store) counted(ctx context.Context, result string) {
	tracing.CacheRead(ctx, result)
	if s.obs != nil {
		s.obs.CacheRead(result)
	}
}

// usable reports whether reads of sc may use Redis: not while a write's
// invalidation is known to have missed sc, until it is delivered.
func (s *Store) usable(ctx context.Context, sc scope) bool {
	now := s.now()
	s.mu.Lock()
	pending := len(s.dirty) > 0
	overflow := now.Before(s.overflow)
	s.mu.Unlock()
	if overflow {
		return false
	}
	if pending {
		s.flush(ctx, sc.ver)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, dirty := s.dirty[sc.ver]
	if dirty && !now.Before(m.until) {
		delete(s.dirty, sc.ver)
		dirty = false
	}
	return !dirty
}

// flushBatch bounds the invalidations one request delivers late.
const flushBatch = 100

// flush delivers up to flushBatch missed invalidations (first's, if it is
// one of them) in one pipelined round trip, so that once Redis answers again
// this instance's writes stop being invisible to the others at its very
// next request. It is a no-op while Redis is still failing (the breaker
// answers at once) and while another flush is under way.
func (s *Store) flush(ctx context.Context, first string) {
	if s.g.state() == gobreaker.StateOpen {
		return // not worth walking the marks
	}
	now := s.now()
	s.mu.Lock()
	if s.flushing {
		s.mu.Unlock()
		return
	}
	startSeq := s.seq
	keys := make([]string, 0, min(len(s.dirty), flushBatch))
	if m, ok := s.dirty[first]; ok && now.Before(m.until) {
		keys = append(keys, first)
	}
	for k, m := range s.dirty {
		switch {
		case !now.Before(m.until):
			delete(s.dirty, k)
		case len(keys) < flushBatch && k != first:
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		s.mu.Unlock()
		return
	}
	s.flushing = true
	s.mu.Unlock()

	err := s.g.do(context.WithoutCancel(ctx), func(ctx context.Context) error {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Set(ctx, k, newVersion(), versionTTL)
			}
			return nil
		})
		return err
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushing = false
	if err != nil {
		return
	}
	for _, k := range keys {
		if m, ok := s.dirty[k]; ok && m.seq <= startSeq {
			delete(s.dirty, k)
		}
	}
}

// ---- writes ----

// CreateUser creates the user; nothing cached can mention a new ID (misses
// are not cached), so there is nothing to invalidate.
func (s *Store) CreateUser(ctx context.Context, u core.User) (core.User, error) {
	return s.inner.CreateUser(ctx, u)
}

// WriteSessions changes the user's sessions and invalidates their record,
// so an ended session is refused at its very next request.
func (s *Store) WriteSessions(ctx context.Context, userID string, w core.SessionWrite) (core.SessionSet, error) {
	u, err := s.inner.WriteSessions(ctx, userID, w)
	if mayHaveWritten(err) && cacheableID(userID) {
		s.invalidate(ctx, s.userScope(userID))
	}
	return u, err
}

// GetSession is not cached (refresh must see the current hash).
func (s *Store) GetSession(ctx context.Context, id string) (core.Session, error) {
	return s.inner.GetSession(ctx, id)
}

// GetSessions is not cached (listing sessions is rare).
func (s *Store) GetSessions(ctx context.Context, ids []string) ([]core.Session, error) {
	return s.inner.GetSessions(ctx, ids)
}

// ReserveUserNumbers is not cached.
func (s *Store) ReserveUserNumbers(ctx context.Context, n int) (uint64, error) {
	return s.inner.ReserveUserNumbers(ctx, n)
}

// UpdateUser updates the user and invalidates their cached record, so a
// deactivation or role change applies to their very next request.
func (s *Store) UpdateUser(ctx context.Context, id string, p core.UserPatch) (core.User, error) {
	u, err := s.inner.UpdateUser(ctx, id, p)
	if mayHaveWritten(err) && cacheableID(id) {
		s.invalidate(ctx, s.userScope(id))
	}
	return u, err
}

// CreateTask creates the task and invalidates its owner's pages and stats.
func (s *Store) CreateTask(ctx context.Context, t core.Task, limit int) error {
	err := s.inner.CreateTask(ctx, t, limit)
	if mayHaveWritten(err) && cacheableID(t.UserID) {
		s.invalidate(ctx, s.taskScope(t.UserID))
	}
	return err
}

// UpdateTask updates the task and invalidates its owner's pages and stats.
func (s *Store) UpdateTask(ctx context.Context, userID, taskID string, p core.TaskPatch) (core.Task, error) {
	t, err := s.inner.UpdateTask(ctx, userID, taskID, p)
	if mayHaveWritten(err) && cacheableID(userID) {
		s.invalidate(ctx, s.taskScope(userID))
	}
	return t, err
}

// DeleteTask deletes the task and invalidates its owner's pages and stats.
func (s *Store) DeleteTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	t, err := s.inner.DeleteTask(ctx, userID, taskID)
	if mayHaveWritten(err) && cacheableID(userID) {
		s.invalidate(ctx, s.taskScope(userID))
	}
	return t, err
}

// DeleteTasks deletes a batch of tasks and invalidates their owner's pages
// and stats.
func (s *Store) DeleteTasks(ctx context.Context, userID string, n int) (int, error) {
	removed, err := s.inner.DeleteTasks(ctx, userID, n)
	if mayHaveWritten(err) && cacheableID(userID) {
		s.invalidate(ctx, s.taskScope(userID))
	}
	return removed, err
}

// DeleteUser deletes the user, then every entry kept about them: the
// versions move first (so nothing filled before is served, as for any
// write), then the entries themselves go, found by their hash tag. An entry
// the purge misses (Redis failing) is unreadable and expires within its TTL.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	err := s.inner.DeleteUser(ctx, id)
	if mayHaveWritten(err) && cacheableID(id) {
		s.invalidate(ctx, s.userScope(id))
		s.invalidate(ctx, s.taskScope(id))
		if err == nil {
			s.purge(ctx, id)
		}
	}
	return err
}

// purge removes every key of user id's scopes. Their keys share the hash
// tag {id}, so in a cluster they sit on one node; SCAN walks the keyspace
// (an account deletion is rare: its cost is paid once per account).
func (s *Store) purge(ctx context.Context, id string) {
	pattern := globEscape(s.ns+":{"+id+"}:") + "*"
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		var cursor uint64
		for range 10_000 { // bounded: the rest expire within their TTL
			var keys []string
			err := s.g.do(context.WithoutCancel(ctx), func(ctx context.Context) error {
				var err error
				keys, cursor, err = c.Scan(ctx, cursor, pattern, 1000).Result()
				if err == nil && len(keys) > 0 {
					err = c.Del(ctx, keys...).Err()
				}
				return err
			})
			if err != nil || cursor == 0 {
				return err
			}
		}
		return nil
	}
	var err error
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, s.rdb)
	}
	if err != nil {
		s.log.Warn("cache: purging a deleted user's entries failed; they expire within their TTL", "user_id", id, "err", err)
	}
}

// globEscape quotes the characters SCAN's MATCH treats as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mayHaveWritten is false only for the errors that say nothing changed;
// any other error (a timeout, a lost connection) leaves the outcome open.
func mayHaveWritten(err error) bool {
	return err == nil || !(errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrConflict) || errors.Is(err, core.ErrInvalid) || errors.Is(err, core.ErrPrecondition))
}

// invalidate bumps sc's version; if Redis cannot be told, it marks sc dirty
// in this process, so this instance reads it from the store until a bump
// gets through or every entry that may be stale has outlived sc.ttl.
func (s *Store) invalidate(ctx context.Context, sc scope) {
	if err := s.bump(ctx, sc); err != nil {
		s.mark(sc)
		return
	}
	s.mu.Lock()
	pending := len(s.dirty) > 0
	s.mu.Unlock()
	if pending { // Redis is back: deliver what earlier writes missed
		s.flush(ctx, "")
	}
}

// bump gives sc a new version, which orphans every entry filled under an
// older one. It ignores the caller's cancellation: a write that happened
// must be invalidated even if its client has gone. Success clears the dirty
// marks made before it started.
func (s *Store) bump(ctx context.Context, sc scope) error {
	s.mu.Lock()
	startSeq := s.seq
	s.mu.Unlock()
	err := s.g.do(context.WithoutCancel(ctx), func(ctx context.Context) error {
		return s.rdb.Set(ctx, sc.ver, newVersion(), versionTTL).Err()
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	if m, ok := s.dirty[sc.ver]; ok && m.seq <= startSeq {
		delete(s.dirty, sc.ver)
	}
	s.mu.Unlock()
	return nil
}

func (s *Store) mark(sc scope) {
	now := s.now()
	until := now.Add(sc.ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.dirty) >= maxDirty {
		for k, m := range s.dirty {
			if !now.Before(m.until) {
				delete(s.dirty, k)
			}
		}
	}
	if _, ok := s.dirty[sc.ver]; !ok && len(s.dirty) >= maxDirty {
		if !now.Before(s.overflow) {
			s.log.Warn("too many writes missed their cache invalidation: reading every user from the store for a while",
				"dirty_users", len(s.dirty), "for", sc.ttl)
		}
		if until.After(s.overflow) {
			s.overflow = until
		}
		return
	}
	s.seq++
	if m, ok := s.dirty[sc.ver]; ok && m.until.After(until) {
		until = m.until
	}
	s.dirty[sc.ver] = dirtyMark{seq: s.seq, until: until}
}

// ---- passed through ----

// GetUserByEmail is not cached: login must see the current password hash
// and status.
func (s *Store) GetUserByEmail(ctx context.Context, key core.EmailKey) (core.User, error) {
	return s.inner.GetUserByEmail(ctx, key)
}

// ListUsers is not cached (admins only, rare).
func (s *Store) ListUsers(ctx context.Context, after string, limit int) ([]core.User, bool, error) {
	return s.inner.ListUsers(ctx, after, limit)
}

// GetTask is not cached (one item; cheap in every store).
func (s *Store) GetTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	return s.inner.GetTask(ctx, userID, taskID)
}

// Close closes the wrapped store; the Redis client is its owner's.
func (s *Store) Close() error { return s.inner.Close() }
