package hardening_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

// Environment variables for the long runs (docs/reliability.md).
const (
	// envLoadDuration is how long each load runs (default 10s, 3s with
	// -short), e.g. TASKAPI_LOAD_DURATION=5m.
	envLoadDuration = "TASKAPI_LOAD_DURATION"
	// envLoadClients is how many clients run at once (default 16).
	envLoadClients = "TASKAPI_LOAD_CLIENTS"
	// envLoadReport names a folder where each run writes its figures as JSON.
	envLoadReport = "TASKAPI_LOAD_REPORT"
)

func loadDuration(t testing.TB) time.Duration {
	t.Helper()
	if s := os.Getenv(envLoadDuration); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			t.Fatalf("%s=%q: want a duration such as 30s or 5m", envLoadDuration, s)
		}
		return d
	}
	if testing.Short() {
		return 3 * time.Second
	}
	return 10 * time.Second
}

func loadClients(t testing.TB) int {
	t.Helper()
	if s := os.Getenv(envLoadClients); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", envLoadClients, s)
		}
		return n
	}
	return 16
}

// TestLoad runs many clients in a mixed workload (register, login, create,
// update, delete, list, stats, admin listing, and probes of other users'
// tasks) over both APIs on loopback for a bounded time, then audits the
// store: every acknowledged write is there, every deleted task is gone,
// every user's stats equal a recount. No request may fail, except the
// probes, which must be refused as "not found".
func TestLoad(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			run := newLoadRun(t, e, loadConfig{clients: loadClients(t), duration: loadDuration(t)})
			run.execute(t, nil)
			run.audit(t)
			run.report(t, "load-"+b.name)
			if n := run.unexpectedCount(); n > 0 {
				t.Fatalf("%d unexpected errors, the first: %v", n, errorsJoin(run.unexpected, 10))
			}
		})
	}
}

// loadConfig shapes a load run.
type loadConfig struct {
	clients  int
	duration time.Duration
	// outageOK accepts "service unavailable" answers (503,
	// SERVICE_UNAVAILABLE) while a dependency is down; none is accepted
	// after strictAfter.
	outageOK bool
	// hang: a request slower than this is an error (0: no bound).
	hang time.Duration
}

// loadRun is one load test: its clients, their models of their own data,
// and the figures.
type loadRun struct {
	e      *env
	cfg    loadConfig
	id     string
	admin  account
	start  time.Time
	strict atomic.Int64 // unix nanos after which no outage is accepted (0: none yet)

	mu          sync.Mutex
	users       []*userModel
	probeable   []string // task ids of every user, for probes by others
	probeOwners []string
	counts      map[string]int
	latencies   []time.Duration
	unexpected  []error
	outages     int           // accepted "unavailable" answers
	outageMax   time.Duration // slowest of them
	refusals    int           // expected refusals (probes)
	events      []string      // faults injected, with their time
}

func newLoadRun(t testing.TB, e *env, cfg loadConfig) *loadRun {
	return &loadRun{e: e, cfg: cfg, id: randomHex(t, 3), admin: e.mustAdmin(t), counts: map[string]int{}}
}

// event records a fault injected (or recovered) at this moment of the run.
func (r *loadRun) event(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("%5.1fs ", time.Since(r.start).Seconds())+fmt.Sprintf(format, args...))
}

// strictFromNow makes every later outage answer an error.
func (r *loadRun) strictFromNow() { r.strict.Store(time.Now().UnixNano()) }

func (r *loadRun) unexpectedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.unexpected)
}

// execute runs the clients for cfg.duration or, with faults, until faults
// returns (faults runs beside the clients and injects them).
func (r *loadRun) execute(t testing.TB, faults func()) {
	t.Helper()
	// Requests are never cancelled: at the end each client finishes the
	// operation under way, so every write has a known answer.
	r.start = time.Now()
	var done atomic.Bool
	var wg sync.WaitGroup
	for i := range r.cfg.clients {
		w := &worker{run: r, id: i, rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
		wg.Go(func() { w.loop(t.Context(), &done) })
	}
	if faults != nil {
		faults()
	} else {
		time.Sleep(r.cfg.duration)
	}
	done.Store(true)
	wg.Wait()
}

// ---- what each client knows of its own data ----

// taskState is one possible state of a task.
type taskState struct {
	Title  string
	Status core.TaskStatus
}

// taskModel is a task as its owner knows it: one state, or, after a write
// whose answer was "unavailable", every state it may be in.
type taskModel struct {
	id        string
	states    []taskState // len 1 when known
	maybeGone bool        // a delete failed: it may be gone
	history   []string    // what its owner did to it, for a failure's message
}

// note records one step of m's history, timed from the run's start.
func (m *taskModel) note(start time.Time, format string, args ...any) {
	m.history = append(m.history, fmt.Sprintf("%.3fs ", time.Since(start).Seconds())+fmt.Sprintf(format, args...))
}

func (m *taskModel) certain() bool { return len(m.states) == 1 && !m.maybeGone }

// userModel is a user's data as its only writer (one client) knows it.
type userModel struct {
	id, email, token string
	tasks            map[string]*taskModel
	deleted          []string // acknowledged deletes
	maybeCreated     []string // titles of creates answered "unavailable"
}

func (u *userModel) uncertain() bool {
	if len(u.maybeCreated) > 0 {
		return true
	}
	for _, m := range u.tasks {
		if !m.certain() {
			return true
		}
	}
	return false
}

func (u *userModel) counts() core.TaskStats {
	var s core.TaskStats
	for _, m := range u.tasks {
		s = s.Add(m.states[0].Status, 1)
	}
	return s
}

// consistent checks what the store lists for u (all of u's tasks, or those
// with status filter) against what u may hold.
func (u *userModel) consistent(listed []core.Task, filter *core.TaskStatus) error {
	seen := map[string]bool{}
	created := slices.Clone(u.maybeCreated)
	for _, t := range listed {
		seen[t.ID] = true
		if filter != nil && t.Status != *filter {
			return fmt.Errorf("task %s has status %s in a list of %s tasks", t.ID, t.Status, *filter)
		}
		m, ok := u.tasks[t.ID]
		if !ok {
			if slices.Contains(u.deleted, t.ID) {
				return fmt.Errorf("task %s was deleted (acknowledged) but is listed", t.ID)
			}
			if i := slices.Index(created, string(t.Title)); i >= 0 && t.Status == core.StatusPending {
				created = slices.Delete(created, i, i+1)
				continue
			}
			return fmt.Errorf("task %s (%q) was never created by its owner", t.ID, t.Title)
		}
		if !slices.Contains(m.states, taskState{string(t.Title), t.Status}) {
			return fmt.Errorf("task %s is %q/%s, want one of %v", t.ID, t.Title, t.Status, m.states)
		}
	}
	for id, m := range u.tasks {
		if seen[id] || m.maybeGone {
			continue
		}
		if filter == nil || (len(m.states) == 1 && m.states[0].Status == *filter) {
			return fmt.Errorf("task %s (acknowledged, %v) is missing; its history: %s", id, m.states, strings.Join(m.history, "; "))
		}
	}
	return nil
}

// resolve makes u's model exactly the full list its owner just read.
func (u *userModel) resolve(listed []core.Task, start time.Time) {
	old := u.tasks
	u.tasks = map[string]*taskModel{}
	for _, t := range listed {
		m := &taskModel{id: t.ID, states: []taskState{{string(t.Title), t.Status}}}
		if o := old[t.ID]; o != nil {
			m.history = o.history
		}
		if o := old[t.ID]; o == nil || !o.certain() {
			m.note(start, "listed as %s/%s", t.Title, t.Status)
		}
		u.tasks[t.ID] = m
	}
	u.maybeCreated = nil
}

// ---- one client ----

type worker struct {
	run *loadRun
	id  int
	rng *rand.Rand
	me  *userModel
	n   int
}

// errOutage marks an accepted "service unavailable" answer; errLateOutage
// one that came when the service should have been whole again.
var (
	errOutage     = errors.New("service unavailable")
	errLateOutage = errors.New("service unavailable after recovery")
)

// unavailable reports whether err is an "unavailable" answer, after which
// the write it answered may or may not have happened.
func unavailable(err error) bool { return errors.Is(err, errOutage) || errors.Is(err, errLateOutage) }

func (w *worker) loop(ctx context.Context, done *atomic.Bool) {
	ops := []struct {
		name   string
		weight int
		run    func(context.Context) error
	}{
		{"create", 28, w.create}, {"update", 18, w.update}, {"delete", 10, w.delete},
		{"list", 14, w.list}, {"stats", 12, w.stats}, {"login", 5, w.login},
		{"register", 3, w.register}, {"probe", 6, w.probe}, {"admin", 4, w.adminList},
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	for !done.Load() && ctx.Err() == nil {
		var name string
		var err error
		if w.me == nil || w.me.token == "" {
			name, err = "register", w.register(ctx)
		} else {
			k := w.rng.IntN(total)
			for _, o := range ops {
				if k -= o.weight; k < 0 {
					name, err = o.name, o.run(ctx)
					break
				}
			}
		}
		if err != nil {
			w.run.fail(fmt.Errorf("client %d %s: %w", w.id, name, err))
		}
	}
}

// fail records an error, unless it is an accepted outage answer (which
// send has already counted).
func (r *loadRun) fail(err error) {
	if errors.Is(err, errOutage) && r.cfg.outageOK {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unexpected = append(r.unexpected, err)
}

// gql picks an API at random: true for GraphQL.
func (w *worker) gql() bool { return w.rng.IntN(2) == 0 }

// send runs one request, timing it. An outage answer is errOutage
// (counted, and refused when it is not acceptable); any other non-2xx
// answer is an error, unless it is in expect.
func (w *worker) send(ctx context.Context, op string, req request, expect ...int) (reply, error) {
	r := w.run
	start := time.Now()
	rep, err := r.e.send(ctx, req)
	took := time.Since(start)
	r.mu.Lock()
	r.counts[op]++
	r.latencies = append(r.latencies, took)
	r.mu.Unlock()
	if r.cfg.hang > 0 && took > r.cfg.hang {
		r.fail(fmt.Errorf("%s %s took %v: a hang", req.method, req.path, took))
	}
	if err != nil {
		return rep, err
	}
	outage := rep.status == http.StatusServiceUnavailable
	if req.path == "/graphql" && rep.status == http.StatusOK {
		if g, err := decodeGQL(rep); err == nil && len(g.Errors) > 0 && slices.Contains(g.codes(), string(core.CodeUnavailable)) {
			outage = true
			if !strings.HasPrefix(g.Errors[0].Message, "The database is temporarily unavailable") {
				return rep, fmt.Errorf("unclear outage message %q", g.Errors[0].Message)
			}
		}
	}
	if outage {
		if rep.status == http.StatusServiceUnavailable && !strings.HasPrefix(string(rep.body), `{"detail":"The database is temporarily unavailable`) {
			return rep, fmt.Errorf("unclear outage answer %s", rep)
		}
		strict := r.strict.Load()
		if !r.cfg.outageOK || (strict != 0 && start.UnixNano() > strict) {
			return rep, fmt.Errorf("%s %s: %w: %s", req.method, req.path, errLateOutage, rep)
		}
		r.mu.Lock()
		r.outages++
		r.outageMax = max(r.outageMax, took)
		r.mu.Unlock()
		return rep, errOutage
	}
	if rep.status/100 == 2 || slices.Contains(expect, rep.status) {
		return rep, nil
	}
	return rep, fmt.Errorf("%s %s: %s", req.method, req.path, rep)
}

// sendGQL runs a GraphQL operation; any error in the answer is an error.
func (w *worker) sendGQL(ctx context.Context, op, token, query string, v vars, data any) (gqlReply, error) {
	rep, err := w.send(ctx, op, request{method: http.MethodPost, path: "/graphql", token: token, body: gqlBody(query, v)})
	if err != nil {
		return gqlReply{reply: rep}, err
	}
	g, err := decodeGQL(rep)
	if err != nil {
		return g, err
	}
	if len(g.Errors) > 0 {
		return g, fmt.Errorf("GraphQL errors: %s", rep)
	}
	if data != nil {
		if err := json.Unmarshal(g.Data, data); err != nil {
			return g, fmt.Errorf("decode %s: %v", rep, err)
		}
	}
	return g, nil
}

func (w *worker) sendREST(ctx context.Context, op, method, path, token string, body any, out any) error {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	rep, err := w.send(ctx, op, request{method: method, path: path, token: token, body: b})
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(rep.body, out); err != nil {
			return fmt.Errorf("decode %s: %v", rep, err)
		}
	}
	return nil
}

type restTask struct {
	TaskID      string `json:"task_id"`
	UserID      string `json:"user_id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Status      string `json:"status"`
}

func (t restTask) task() core.Task {
	st, _ := core.ParseTaskStatus(t.Status)
	return core.Task{ID: t.TaskID, UserID: t.UserID, Title: core.Title(t.Title), Status: st}
}

type gqlTask struct {
	ID, Title, Status string
}

func (t gqlTask) task() core.Task {
	st, _ := core.ParseTaskStatus(t.Status)
	return core.Task{ID: t.ID, Title: core.Title(t.Title), Status: st}
}

func (w *worker) register(ctx context.Context) error {
	w.n++
	email := fmt.Sprintf("load-%s-c%d-%d@example.com", w.run.id, w.id, w.n)
	name := fmt.Sprintf("client%d", w.id)
	var id string
	if w.gql() {
		var out struct{ Register struct{ ID string } }
		if _, err := w.sendGQL(ctx, "register", "", `mutation($in: RegisterInput!) { register(input: $in) { id } }`,
			vars{"in": vars{"username": name, "email": email, "password": password}}, &out); err != nil {
			return err
		}
		id = out.Register.ID
	} else {
		var out struct {
			UserID string `json:"user_id"`
		}
		if err := w.sendREST(ctx, "register", http.MethodPost, "/api/v1/auth/register", "", vars{"username": name, "email": email, "password": password}, &out); err != nil {
			return err
		}
		id = out.UserID
	}
	if id == "" {
		return errors.New("registered without an id")
	}
	w.me = &userModel{id: id, email: email, tasks: map[string]*taskModel{}}
	w.run.mu.Lock()
	w.run.users = append(w.run.users, w.me)
	w.run.mu.Unlock()
	return w.login(ctx)
}

func (w *worker) login(ctx context.Context) error {
	var token string
	switch w.rng.IntN(3) {
	case 0:
		var out struct{ Login struct{ AccessToken string } }
		if _, err := w.sendGQL(ctx, "login", "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`,
			vars{"e": w.me.email, "p": password}, &out); err != nil {
			return err
		}
		token = out.Login.AccessToken
	case 1:
		var out struct {
			AccessToken string `json:"access_token"`
		}
		if err := w.sendREST(ctx, "login", http.MethodPost, "/api/v1/auth/login", "", vars{"email": w.me.email, "password": password}, &out); err != nil {
			return err
		}
		token = out.AccessToken
	default:
		rep, err := w.send(ctx, "login", request{method: http.MethodPost, path: "/api/v1/auth/login", contentType: "application/x-www-form-urlencoded",
			body: []byte(url.Values{"username": {w.me.email}, "password": {password}}.Encode())})
		if err != nil {
			return err
		}
		var out struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(rep.body, &out); err != nil {
			return err
		}
		token = out.AccessToken
	}
	if token == "" {
		return errors.New("login answered no token")
	}
	w.me.token = token
	return nil
}

func (w *worker) create(ctx context.Context) error {
	if len(w.me.tasks) >= 40 {
		return w.delete(ctx)
	}
	w.n++
	title := fmt.Sprintf("c%d-task-%d", w.id, w.n)
	desc := strings.Repeat("d", w.rng.IntN(200))
	var got core.Task
	var err error
	via := "REST"
	if w.gql() {
		via = "GraphQL"
		var out struct{ CreateTask gqlTask }
		_, err = w.sendGQL(ctx, "create", w.me.token, `mutation($in: CreateTaskInput!) { createTask(input: $in) { id title status } }`,
			vars{"in": vars{"title": title, "description": desc}}, &out)
		got = out.CreateTask.task()
	} else {
		var out restTask
		err = w.sendREST(ctx, "create", http.MethodPost, "/api/v1/tasks/create-task", w.me.token, vars{"title": title, "description": desc}, &out)
		got = out.task()
		if err == nil && out.UserID != w.me.id {
			return fmt.Errorf("created task belongs to %q, not %q", out.UserID, w.me.id)
		}
	}
	if unavailable(err) {
		w.me.maybeCreated = append(w.me.maybeCreated, title)
	}
	if err != nil {
		return err
	}
	if got.ID == "" || string(got.Title) != title || got.Status != core.StatusPending {
		return fmt.Errorf("created %+v, want a pending %q", got, title)
	}
	m := &taskModel{id: got.ID, states: []taskState{{title, core.StatusPending}}}
	m.note(w.run.start, "created by %s: acknowledged", via)
	w.me.tasks[got.ID] = m
	w.run.mu.Lock()
	w.run.probeable = append(w.run.probeable, got.ID)
	w.run.probeOwners = append(w.run.probeOwners, w.me.id)
	w.run.mu.Unlock()
	return nil
}

// pick returns a random task whose state is known, or nil.
func (w *worker) pick() *taskModel {
	var ids []string
	for id, m := range w.me.tasks {
		if m.certain() {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	return w.me.tasks[ids[w.rng.IntN(len(ids))]]
}

func (w *worker) update(ctx context.Context) error {
	m := w.pick()
	if m == nil {
		return w.create(ctx)
	}
	old := m.states[0]
	next := old
	for next.Status == old.Status {
		next.Status = core.TaskStatuses[w.rng.IntN(len(core.TaskStatuses))]
	}
	var got core.Task
	var err error
	via := "REST"
	start := time.Now()
	if w.gql() {
		via = "GraphQL"
		if w.rng.IntN(2) == 0 {
			w.n++
			next.Title = fmt.Sprintf("c%d-renamed-%d", w.id, w.n)
		}
		var out struct{ UpdateTask gqlTask }
		_, err = w.sendGQL(ctx, "update", w.me.token, `mutation($id: ID!, $in: UpdateTaskInput!) { updateTask(id: $id, input: $in) { id title status } }`,
			vars{"id": m.id, "in": vars{"title": next.Title, "status": strings.ToUpper(string(next.Status))}}, &out)
		got = out.UpdateTask.task()
	} else {
		method := http.MethodPut
		if w.rng.IntN(2) == 0 {
			method = http.MethodPatch
		}
		var out struct {
			Message string
			Task    restTask
		}
		err = w.sendREST(ctx, "update", method, "/api/v1/tasks/update-task/"+m.id, w.me.token, vars{"status": next.Status}, &out)
		got = out.Task.task()
	}
	if err != nil {
		m.note(w.run.start, "update to %v by %s (sent at %.3fs): %v", next, via, start.Sub(w.run.start).Seconds(), err)
	}
	if unavailable(err) {
		m.states = []taskState{old, next}
	}
	if err != nil {
		return err
	}
	m.note(w.run.start, "update to %v by %s (sent at %.3fs): acknowledged", next, via, start.Sub(w.run.start).Seconds())
	if got.ID != m.id || string(got.Title) != next.Title || got.Status != next.Status {
		return fmt.Errorf("updated to %+v, want %+v", got, next)
	}
	m.states = []taskState{next}
	return nil
}

func (w *worker) delete(ctx context.Context) error {
	m := w.pick()
	if m == nil {
		return w.create(ctx)
	}
	var err error
	via := "REST"
	start := time.Now()
	if w.gql() {
		via = "GraphQL"
		var out struct{ DeleteTask string }
		_, err = w.sendGQL(ctx, "delete", w.me.token, `mutation($id: ID!) { deleteTask(id: $id) }`, vars{"id": m.id}, &out)
		if err == nil && out.DeleteTask != m.id {
			return fmt.Errorf("deleteTask answered %q", out.DeleteTask)
		}
	} else {
		err = w.sendREST(ctx, "delete", http.MethodDelete, "/api/v1/tasks/delete-task/"+m.id, w.me.token, nil, nil)
	}
	if err != nil {
		m.note(w.run.start, "delete by %s (sent at %.3fs): %v", via, start.Sub(w.run.start).Seconds(), err)
	}
	if unavailable(err) {
		m.maybeGone = true
	}
	if err != nil {
		return err
	}
	delete(w.me.tasks, m.id)
	w.me.deleted = append(w.me.deleted, m.id)
	return nil
}

// fetchAll reads every task of the caller over REST.
func (w *worker) fetchAll(ctx context.Context, op string) ([]core.Task, error) {
	var out []restTask
	if err := w.sendREST(ctx, op, http.MethodGet, "/api/v1/tasks/fetch-task", w.me.token, nil, &out); err != nil {
		return nil, err
	}
	tasks := make([]core.Task, len(out))
	for i, t := range out {
		if t.UserID != w.me.id {
			return nil, fmt.Errorf("fetch-task listed %s's task %s", t.UserID, t.TaskID)
		}
		tasks[i] = t.task()
	}
	return tasks, nil
}

// check compares a list with the model: exactly when the model is
// certain, within the possibilities otherwise (then a full list resolves
// them).
func (w *worker) check(listed []core.Task, filter *core.TaskStatus) error {
	if err := w.me.consistent(listed, filter); err != nil {
		return err
	}
	var want []string
	for id, m := range w.me.tasks {
		if filter == nil || m.states[0].Status == *filter {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	got := make([]string, len(listed))
	for i, t := range listed {
		got[i] = t.ID
	}
	if !w.me.uncertain() && !slices.Equal(got, want) {
		return fmt.Errorf("listed %v, want %v (in creation order)", got, want)
	}
	if filter == nil {
		w.me.resolve(listed, w.run.start)
	}
	return nil
}

func (w *worker) list(ctx context.Context) error {
	if !w.gql() {
		tasks, err := w.fetchAll(ctx, "list")
		if err != nil {
			return err
		}
		return w.check(tasks, nil)
	}
	var filter *core.TaskStatus
	v := vars{"first": 1 + w.rng.IntN(25)}
	if w.rng.IntN(3) == 0 {
		st := core.TaskStatuses[w.rng.IntN(len(core.TaskStatuses))]
		filter = &st
		v["status"] = strings.ToUpper(string(st))
	}
	var all []core.Task
	total := -1
	for page := 0; ; page++ {
		var out struct {
			Tasks struct {
				Edges []struct {
					Cursor string
					Node   gqlTask
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   *string
				}
				TotalCount int
			}
		}
		if _, err := w.sendGQL(ctx, "list", w.me.token, `query($status: TaskStatus, $first: Int, $after: String) {
			tasks(status: $status, first: $first, after: $after) { edges { cursor node { id title status } } pageInfo { hasNextPage endCursor } totalCount } }`, v, &out); err != nil {
			return err
		}
		c := out.Tasks
		if len(c.Edges) > v["first"].(int) {
			return fmt.Errorf("page of %d, asked for %d", len(c.Edges), v["first"])
		}
		if total >= 0 && c.TotalCount != total && !w.me.uncertain() {
			return fmt.Errorf("totalCount changed from %d to %d with no writer", total, c.TotalCount)
		}
		total = c.TotalCount
		for _, e := range c.Edges {
			all = append(all, e.Node.task())
		}
		if !c.PageInfo.HasNextPage {
			break
		}
		if c.PageInfo.EndCursor == nil || page > 100 {
			return errors.New("hasNextPage without an end cursor, or endless pages")
		}
		v["after"] = *c.PageInfo.EndCursor
	}
	if total != len(all) {
		return fmt.Errorf("totalCount %d, but %d tasks listed", total, len(all))
	}
	return w.check(all, filter)
}

func (w *worker) stats(ctx context.Context) error {
	var got core.TaskStats
	var total int
	if w.gql() {
		var out struct {
			Me struct {
				ID    string
				Stats struct{ Pending, Ongoing, Complete, Total int }
			}
		}
		if _, err := w.sendGQL(ctx, "stats", w.me.token, `{ me { id stats { pending ongoing complete total } } }`, nil, &out); err != nil {
			return err
		}
		if out.Me.ID != w.me.id {
			return fmt.Errorf("me is %q, want %q", out.Me.ID, w.me.id)
		}
		s := out.Me.Stats
		got, total = core.TaskStats{}.Add(core.StatusPending, s.Pending).Add(core.StatusOngoing, s.Ongoing).Add(core.StatusComplete, s.Complete), s.Total
	} else {
		var out struct {
			TaskData struct{ Pending, Ongoing, Complete, Total int } `json:"task_data"`
			UserData struct {
				UserID string `json:"user_id"`
			} `json:"user_data"`
		}
		if err := w.sendREST(ctx, "stats", http.MethodGet, "/api/v1/auth/user", w.me.token, nil, &out); err != nil {
			return err
		}
		if out.UserData.UserID != w.me.id {
			return fmt.Errorf("current user is %q, want %q", out.UserData.UserID, w.me.id)
		}
		s := out.TaskData
		got, total = core.TaskStats{}.Add(core.StatusPending, s.Pending).Add(core.StatusOngoing, s.Ongoing).Add(core.StatusComplete, s.Complete), s.Total
	}
	if total != got.Total() {
		return fmt.Errorf("stats %+v with total %d", got, total)
	}
	if !w.me.uncertain() {
		if want := w.me.counts(); got != want {
			return fmt.Errorf("stats %+v, want %+v", got, want)
		}
		return nil
	}
	// After a failed write: the counters must match the tasks themselves.
	tasks, err := w.fetchAll(ctx, "stats")
	if err != nil {
		return err
	}
	if want := recount(tasks); got != want {
		return fmt.Errorf("stats %+v, but the tasks count %+v: a half-written counter", got, want)
	}
	return w.check(tasks, nil)
}

// probe aims one task operation at another user's task: it must be
// refused as not found, and change nothing (the owner's checks and the
// audit would see it).
func (w *worker) probe(ctx context.Context) error {
	w.run.mu.Lock()
	var id string
	if n := len(w.run.probeable); n > 0 {
		i := w.rng.IntN(n)
		if w.run.probeOwners[i] != w.me.id {
			id = w.run.probeable[i]
		}
	}
	w.run.mu.Unlock()
	if id == "" {
		return nil
	}
	var err error
	switch w.rng.IntN(4) {
	case 0:
		var rep reply
		rep, err = w.send(ctx, "probe", request{method: http.MethodPost, path: "/graphql", token: w.me.token, body: gqlBody(`query($id: ID!) { task(id: $id) { id title } }`, vars{"id": id})})
		if err == nil && string(rep.body) != `{"data":{"task":null}}` {
			err = fmt.Errorf("someone else's task answered %s", rep)
		}
	case 1:
		var rep gqlReply
		rep, err = w.sendGQL(ctx, "probe", w.me.token, `mutation($id: ID!) { deleteTask(id: $id) }`, vars{"id": id}, nil)
		if err != nil && !unavailable(err) && slices.Equal(rep.codes(), []string{"NOT_FOUND"}) {
			err = nil
		} else if err == nil {
			err = fmt.Errorf("deleted someone else's task: %s", rep)
		}
	default:
		method, path, body := http.MethodPut, "/api/v1/tasks/update-task/"+id, []byte(`{"status":"complete"}`)
		if w.rng.IntN(2) == 0 {
			method, path, body = http.MethodDelete, "/api/v1/tasks/delete-task/"+id, nil
		}
		var rep reply
		rep, err = w.send(ctx, "probe", request{method: method, path: path, token: w.me.token, body: body}, http.StatusNotFound)
		if err == nil && (rep.status != http.StatusNotFound || string(rep.body) != `{"detail":"Task not found"}`) {
			err = fmt.Errorf("someone else's task answered %s", rep)
		}
	}
	if err == nil {
		w.run.mu.Lock()
		w.run.refusals++
		w.run.mu.Unlock()
	}
	return err
}

// adminList: the admin lists every user; the caller must be among them.
func (w *worker) adminList(ctx context.Context) error {
	admin := w.run.admin.Token
	ids := map[string]bool{}
	if w.gql() {
		v := vars{"first": 100}
		for page := 0; page < 1000; page++ {
			var out struct {
				Users struct {
					Edges    []struct{ Node struct{ ID string } }
					PageInfo struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
			if _, err := w.sendGQL(ctx, "admin", admin, `query($first: Int, $after: String) { users(first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`, v, &out); err != nil {
				return err
			}
			for _, e := range out.Users.Edges {
				ids[e.Node.ID] = true
			}
			if !out.Users.PageInfo.HasNextPage || out.Users.PageInfo.EndCursor == nil {
				break
			}
			v["after"] = *out.Users.PageInfo.EndCursor
		}
	} else {
		var out []struct {
			UserID   string `json:"user_id"`
			Password *string
		}
		if err := w.sendREST(ctx, "admin", http.MethodGet, "/api/v1/admin/users", admin, nil, &out); err != nil {
			return err
		}
		for _, u := range out {
			if u.Password != nil {
				return errors.New("the user list shows passwords")
			}
			ids[u.UserID] = true
		}
	}
	if !ids[w.me.id] {
		return fmt.Errorf("the admin's list lacks %s", w.me.id)
	}
	return nil
}

// ---- after the load ----

// audit reads the store directly (under any cache) and checks it against
// every client's model: acknowledged tasks present as last acknowledged,
// deleted tasks gone, stats equal to a recount; and the same through the
// served store (the cache), which must not serve anything stale.
func (r *loadRun) audit(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	r.mu.Lock()
	users := slices.Clone(r.users)
	r.mu.Unlock()
	var problems []error
	tasks, deleted := 0, 0
	for _, u := range users {
		for _, st := range []struct {
			name string
			s    core.Store
		}{{"store", r.e.truth}, {"served store", r.e.served}} {
			listed, err := allTasks(ctx, st.s, u.id)
			if err != nil {
				t.Fatalf("audit: %s: ListTasks(%s): %v", st.name, u.id, err)
			}
			stats, err := st.s.TaskStats(ctx, u.id)
			if err != nil {
				t.Fatalf("audit: %s: TaskStats(%s): %v", st.name, u.id, err)
			}
			if want := recount(listed); stats != want {
				problems = append(problems, fmt.Errorf("%s: user %s: stats %+v, recount %+v", st.name, u.id, stats, want))
			}
			for _, task := range listed {
				if task.UserID != u.id {
					problems = append(problems, fmt.Errorf("%s: user %s lists %s's task", st.name, u.id, task.UserID))
				}
			}
			if err := u.consistent(listed, nil); err != nil {
				problems = append(problems, fmt.Errorf("%s: user %s: %w", st.name, u.id, err))
			}
			if !u.uncertain() && stats != u.counts() {
				problems = append(problems, fmt.Errorf("%s: user %s: stats %+v, acknowledged writes make %+v", st.name, u.id, stats, u.counts()))
			}
			for _, id := range u.deleted {
				if _, err := st.s.GetTask(ctx, u.id, id); !errors.Is(err, core.ErrNotFound) {
					problems = append(problems, fmt.Errorf("%s: deleted task %s: GetTask = %v, want ErrNotFound", st.name, id, err))
				}
			}
		}
		got, err := r.e.truth.GetUserByEmail(ctx, core.KeyOf(u.email))
		if err != nil || got.ID != u.id || !got.IsActive() {
			problems = append(problems, fmt.Errorf("user %s (%s): %+v, %v", u.id, u.email, got.ID, err))
		}
		tasks += len(u.tasks)
		deleted += len(u.deleted)
	}
	t.Logf("audit: %d users, %d tasks present, %d deleted tasks gone, stats recounted", len(users), tasks, deleted)
	if len(problems) > 0 {
		t.Fatalf("audit found %d problems: %v", len(problems), errorsJoin(problems, 10))
	}
}

// figures are what a run reports (docs/reliability.md).
type figures struct {
	Test       string         `json:"test"`
	Clients    int            `json:"clients"`
	Seconds    float64        `json:"seconds"`
	Requests   int            `json:"requests"`
	PerSecond  float64        `json:"requests_per_second"`
	ByOp       map[string]int `json:"by_operation"`
	Unexpected int            `json:"unexpected_errors"`
	Refusals   int            `json:"expected_refusals"`
	Outages    int            `json:"unavailable_answers"`
	OutageMax  string         `json:"slowest_unavailable_answer,omitempty"`
	P50        string         `json:"p50"`
	P99        string         `json:"p99"`
	Max        string         `json:"max"`
	Faults     []string       `json:"faults,omitempty"`
}

// report logs the run's figures, and writes them to
// $TASKAPI_LOAD_REPORT/<name>.json when that is set.
func (r *loadRun) report(t testing.TB, name string) figures {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := slices.Clone(r.latencies)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	secs := time.Since(r.start).Seconds()
	f := figures{
		Test: name, Clients: r.cfg.clients, Seconds: round(secs), Requests: len(lat), PerSecond: round(float64(len(lat)) / secs),
		ByOp: r.counts, Unexpected: len(r.unexpected), Refusals: r.refusals, Outages: r.outages,
		P50: pct(0.50).Round(time.Microsecond * 10).String(), P99: pct(0.99).Round(time.Microsecond * 10).String(),
		Max: pct(1).Round(time.Millisecond).String(), Faults: r.events,
	}
	if r.outages > 0 {
		f.OutageMax = r.outageMax.Round(time.Millisecond).String()
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	t.Logf("figures:\n%s", b)
	if dir := os.Getenv(envLoadReport); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644); err != nil {
			t.Errorf("write report: %v", err)
		}
	}
	return f
}

func round(f float64) float64 { return float64(int(f*10+0.5)) / 10 }
