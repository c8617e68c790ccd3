package cache_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/cache"
	"github.com/taskapi/taskapi/store/embedded"
	"github.com/taskapi/taskapi/store/storetest"
)

// startRedis starts a private redis-server and returns it with a client
// built as main builds it, counting the commands it sends.
func startRedis(t testing.TB) (*testenv.RedisServer, *redis.Client, *commandCounter) {
	t.Helper()
	srv := testenv.Redis(t)
	rdb := redis.NewClient(cache.ClientOptions(srv.Addr()))
	t.Cleanup(func() { _ = rdb.Close() })
	cc := &commandCounter{}
	rdb.AddHook(cc)
	return srv, rdb, cc
}

// commandCounter counts the commands the client tries to send, pipelines
// included, whatever becomes of them; connection handshakes are not counted.
type commandCounter struct {
	n     atomic.Int64
	mu    sync.Mutex
	names []string
}

func (c *commandCounter) add(cmds ...redis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cmd := range cmds {
		switch cmd.Name() {
		case "hello", "client", "auth", "select": // a new connection's handshake
			continue
		}
		c.names = append(c.names, cmd.FullName())
		c.n.Add(1)
	}
}

// since returns the names of the commands sent after the first n.
func (c *commandCounter) since(n int64) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.names[n:])
}

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.add(cmd)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.add(cmds...)
		return next(ctx, cmds)
	}
}

var _ redis.Hook = (*commandCounter)(nil)

// openEmbedded opens an empty embedded store that t closes.
func openEmbedded(t testing.TB) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatalf("embedded.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var nsSeq atomic.Int64

// uniqueNamespace keeps stores sharing one Redis apart (their user IDs
// repeat: every fresh store starts at VAH1).
func uniqueNamespace() string { return fmt.Sprintf("taskapi-test:%d", nsSeq.Add(1)) }

// counting is the store under the cache, counting the reads that reach it.
type counting struct {
	core.Store
	getUser, listTasks, taskStats atomic.Int64
}

func (c *counting) GetUser(ctx context.Context, id string) (core.User, error) {
	c.getUser.Add(1)
	return c.Store.GetUser(ctx, id)
}

func (c *counting) ListTasks(ctx context.Context, userID string, q core.TaskQuery) ([]core.Task, bool, error) {
	c.listTasks.Add(1)
	return c.Store.ListTasks(ctx, userID, q)
}

func (c *counting) TaskStats(ctx context.Context, userID string) (core.TaskStats, error) {
	c.taskStats.Add(1)
	return c.Store.TaskStats(ctx, userID)
}

func (c *counting) reads() int64 { return c.getUser.Load() + c.listTasks.Load() + c.taskStats.Load() }

// logBuffer collects slog output, for counting lines.
type logBuffer struct{ testenv.SyncBuffer }

func (l *logBuffer) lines() []string {
	return strings.FieldsFunc(l.String(), func(r rune) bool { return r == '\n' })
}

// count returns how many lines contain every one of subs.
func (l *logBuffer) count(subs ...string) int {
	n := 0
next:
	for _, line := range l.lines() {
		for _, s := range subs {
			if !strings.Contains(line, s) {
				continue next
			}
		}
		n++
	}
	return n
}

func newLogger(l *logBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is one user with tasks in an embedded store, read through a cache.
type fixture struct {
	inner *counting
	cache *cache.Store
	user  core.User
	tasks []core.Task
}

func newFixture(t testing.TB, rdb redis.UniversalClient, o cache.Options, nTasks int) *fixture {
	t.Helper()
	if o.Namespace == "" {
		o.Namespace = uniqueNamespace()
	}
	inner := &counting{Store: openEmbedded(t)}
	f := &fixture{inner: inner, cache: cache.New(inner, rdb, o)}
	f.user = storetest.MustCreateUser(t, inner, storetest.UniqueEmail("owner"))
	for i := range nTasks {
		f.tasks = append(f.tasks, storetest.MustCreateTask(t, inner, f.user.ID, fmt.Sprint("task ", i)))
	}
	return f
}

var firstPage = core.TaskQuery{Limit: 20}

// titles reads the user's first page through the cache.
func (f *fixture) titles(t testing.TB) []string {
	t.Helper()
	tasks, _, err := f.cache.ListTasks(context.Background(), f.user.ID, firstPage)
	if err != nil {
		t.Fatalf("ListTasks: %v", err)
	}
	out := make([]string, len(tasks))
	for i, tk := range tasks {
		out[i] = string(tk.Title) + "/" + string(tk.Status)
	}
	return out
}

func (f *fixture) stats(t testing.TB) core.TaskStats {
	t.Helper()
	st, err := f.cache.TaskStats(context.Background(), f.user.ID)
	if err != nil {
		t.Fatalf("TaskStats: %v", err)
	}
	return st
}

func (f *fixture) getUser(t testing.TB) core.User {
	t.Helper()
	u, err := f.cache.GetUser(context.Background(), f.user.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	return u
}

// readAll does the three cached reads of one authenticated list request.
func (f *fixture) readAll(t testing.TB) {
	t.Helper()
	f.getUser(t)
	f.titles(t)
	f.stats(t)
}

// deadAddr is a loopback address where nothing listens.
func deadAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func ptr[T any](v T) *T { return &v }
