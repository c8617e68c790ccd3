package dynamo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/taskapi/taskapi/core"
)

// Reconcile walks both tables and brings them to taskapi's layout and
// invariants: what `taskapi migrate-legacy` does to the legacy app's tables
// (Legacy set: its values are mapped too) and `taskapi verify -repair` to
// any (docs/migration.md). Each fix is one conditional write that is right
// whatever ran before it, so a run can be killed anywhere and rerun: the
// counters are set to a recount, never added to.
//
// The invariants: each email key has one guard, owned by one of the users
// with that key (the oldest, unless a guard already names another) — the
// others are marked DuplicateEmail; no guard without a user; the id
// sequence is past every VAH id; the admin counter equals the active
// admins; each task's index attributes (status_task_id, updated_key,
// due_key, user_status, search_text: taskIndexAttrs) are derived from its
// fields, so it is in every index (items written before an attribute
// existed lack it); each user's counters equal their tasks.
func (s *Store) Reconcile(ctx context.Context, o ReconcileOptions) (ReconcileReport, error) {
	r := &reconciler{s: s, o: o, users: map[string]*scannedUser{}, guards: map[core.EmailKey]string{}}
	if o.Now == nil {
		r.o.Now = time.Now
	}
	if o.Log == nil {
		r.o.Log = func(string) {}
	}
	r.lim = rate.NewLimiter(rate.Inf, 1)
	if o.Rate > 0 {
		r.lim = rate.NewLimiter(rate.Limit(o.Rate), max(o.Rate/10, 1))
	}
	steps := []func(context.Context) error{r.scanUsers, r.fixUsers, r.fixGuards, r.fixSequence, r.fixAdmins, r.scanTasks, r.fixCounters, r.fixPasswords}
	for _, step := range steps {
		// A step's writes run concurrently (each is independent of the
		// others of its step); the next step starts once they are done.
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(reconcileWriters)
		r.writes = g
		err := step(gctx)
		if werr := g.Wait(); err == nil {
			err = werr
		}
		if err != nil {
			return r.report(), err
		}
	}
	return r.report(), nil
}

// reconcileWriters bounds the writes in flight: one at a time, a round trip
// each, 100,000 tasks take minutes; -rate still bounds the total.
const reconcileWriters = 16

func (r *reconciler) report() ReconcileReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rep
}

// ReconcileOptions configures Reconcile.
type ReconcileOptions struct {
	// Legacy maps the legacy app's values: roles and statuses in any case,
	// timestamps in any ISO 8601 or epoch form, missing created_at and
	// updated_at, passwords that are not argon2id (see Convert).
	Legacy bool
	// DryRun changes nothing; Log says what would change.
	DryRun bool
	// Rate bounds the items read and written per second (0: no bound).
	Rate int
	// Convert turns legacy password values into argon2id hashes (Legacy
	// only; nil: none can be, and their users are marked NeedsPasswordReset).
	Convert func(ctx context.Context, in []LegacyPassword) ([]ConvertedPassword, error)
	// Log gets one line per change or problem; never a secret.
	Log func(line string)
	Now func() time.Time
}

// LegacyPassword is a stored password value to convert.
type LegacyPassword struct{ UserID, Value string }

// ConvertedPassword is Convert's answer for one user: a hash, or why not.
type ConvertedPassword struct{ UserID, Hash, Error string }

// ReconcileReport counts what Reconcile saw and did.
type ReconcileReport struct {
	Users, Tasks       int
	PasswordsConverted int
	PasswordsNotConverted,
	Duplicates, Skipped int
	Changes   int // writes made (DryRun: needed)
	Retry     int // writes refused because the data changed meanwhile: run again
	Unfixable int // problems only migrate-legacy (Legacy) can fix
}

// Audit is core.Auditor: Reconcile without the legacy mapping, changing
// nothing unless repair is set.
func (s *Store) Audit(ctx context.Context, repair bool, log func(string)) (problems, repaired int, err error) {
	r, err := s.Reconcile(ctx, ReconcileOptions{DryRun: !repair, Log: log})
	problems = r.Changes + r.Unfixable
	if repair {
		repaired = r.Changes - r.Retry
	}
	return problems, repaired, err
}

type scannedUser struct {
	id        string
	num       uint64
	key       core.EmailKey
	item      map[string]types.AttributeValue
	role      core.Role
	active    bool
	deleted   bool
	duplicate bool
	password  string
	reset     bool
	counts    map[string]int // the stored counters, by attribute name
	tasks     map[core.TaskStatus]int
}

type reconciler struct {
	s      *Store
	o      ReconcileOptions
	lim    *rate.Limiter
	writes *errgroup.Group
	mu     sync.Mutex // rep and o.Log, from concurrent writes
	rep    ReconcileReport
	users  map[string]*scannedUser
	order  []*scannedUser // by number: the oldest first
	guards map[core.EmailKey]string
	seq    uint64
	admins *int // the counter item's value, if it exists
}

func (r *reconciler) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.o.Log(line)
}

// count adds to the report's counters under the lock.
func (r *reconciler) count(f func(*ReconcileReport)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.rep)
}

// scan reads every item of table, consistently, a page at a time.
func (r *reconciler) scan(ctx context.Context, table string, each func(map[string]types.AttributeValue) error) error {
	in := &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true), Limit: aws.Int32(500)}
	for {
		out, err := r.s.db.Scan(ctx, in)
		if err != nil {
			return r.s.fail("Reconcile", err)
		}
		for _, item := range out.Items {
			if err := r.lim.Wait(ctx); err != nil {
				return err
			}
			if err := each(item); err != nil {
				return err
			}
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// text returns attribute name of item as a string: S as is, N's digits,
// BOOL as "true"/"false"; "" when absent or of another type.
func text(item map[string]types.AttributeValue, name string) string {
	switch v := item[name].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberBOOL:
		return strconv.FormatBool(v.Value)
	}
	return ""
}

func (r *reconciler) scanUsers(ctx context.Context) error {
	err := r.scan(ctx, r.s.tables.Users, func(item map[string]types.AttributeValue) error {
		id := text(item, attrUserID)
		switch {
		case strings.HasPrefix(id, emailGuardPrefix):
			r.guards[core.EmailKey(strings.TrimPrefix(id, emailGuardPrefix))] = text(item, attrOwner)
			return nil
		case id == userSequenceKey:
			r.seq, _ = strconv.ParseUint(text(item, attrValue), 10, 64)
			return nil
		case id == adminCounterKey:
			if n, err := strconv.Atoi(text(item, attrActive)); err == nil {
				r.admins = &n
			}
			return nil
		case strings.HasPrefix(id, sessionPrefix):
			return nil
		}
		num, ok := core.ParseUserID(id)
		if !ok || text(item, attrEmail) == "" {
			r.count(func(rep *ReconcileReport) { rep.Skipped++ })
			r.logf("skipped %s: not a user (left as it is)", strconv.Quote(id))
			return nil
		}
		u := &scannedUser{
			id: id, num: num, item: item, key: core.KeyOf(text(item, attrEmail)),
			role: core.Role(strings.ToLower(strings.TrimSpace(text(item, "role")))), active: strings.EqualFold(strings.TrimSpace(text(item, "activation_status")), "active"),
			deleted: text(item, attrDeletedAt) != "", duplicate: text(item, attrDuplicate) == "true",
			password: text(item, attrPassword), reset: text(item, attrReset) == "true",
			counts: map[string]int{}, tasks: map[core.TaskStatus]int{},
		}
		for _, st := range core.TaskStatuses {
			u.counts[counter(st)], _ = strconv.Atoi(text(item, counter(st)))
		}
		u.counts[attrTaskCount], _ = strconv.Atoi(text(item, attrTaskCount))
		r.users[id] = u
		r.order = append(r.order, u)
		return nil
	})
	slices.SortFunc(r.order, func(a, b *scannedUser) int { return cmp.Compare(a.num, b.num) })
	r.count(func(rep *ReconcileReport) { rep.Users = len(r.order) })
	return err
}

// update queues one conditional change on the step's writers (or, DryRun,
// logs it): what says what it is for the report. A failed condition means the data changed since it
// was read: counted in Retry, never overwritten.
func (r *reconciler) update(ctx context.Context, what string, in *dynamodb.UpdateItemInput) error {
	r.count(func(rep *ReconcileReport) { rep.Changes++ })
	if r.o.DryRun {
		r.logf("would %s", what)
		return nil
	}
	r.writes.Go(func() error {
		if err := r.lim.Wait(ctx); err != nil {
			return err
		}
		_, err := r.s.db.UpdateItem(ctx, in)
		if _, ok := conditionFailed(err); ok {
			r.count(func(rep *ReconcileReport) { rep.Retry++ })
			r.logf("%s: changed meanwhile, not written (run again)", what)
			return nil
		}
		if err != nil {
			return r.s.fail("Reconcile", err)
		}
		return nil
	})
	return nil
}

func (r *reconciler) updateInput(table string, key map[string]types.AttributeValue, b expression.Builder) (*dynamodb.UpdateItemInput, error) {
	e, err := b.Build()
	if err != nil {
		return nil, err
	}
	return &dynamodb.UpdateItemInput{
		TableName: &table, Key: key, UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	}, nil
}

// fixUsers maps the legacy values of each user (Legacy only).
func (r *reconciler) fixUsers(ctx context.Context) error {
	if !r.o.Legacy {
		return nil
	}
	for _, u := range r.order {
		var set []string
		up := expression.UpdateBuilder{}
		change := func(name, value string) {
			if text(u.item, name) != value {
				up = up.Set(expression.Name(name), expression.Value(value))
				set = append(set, name)
			}
		}
		role := u.role
		if !role.Valid() {
			r.logf("%s: unknown role %q: made a user", u.id, text(u.item, "role"))
			role = core.RoleUser
		}
		change("role", string(role))
		status := core.ActivationActive
		if !u.active {
			status = core.ActivationInactive
			if s := strings.ToLower(strings.TrimSpace(text(u.item, "activation_status"))); s != "inactive" {
				r.logf("%s: unknown activation_status %q: made inactive", u.id, text(u.item, "activation_status"))
			}
		}
		change("activation_status", string(status))
		if e, fe := core.ParseEmail("email", text(u.item, attrEmail)); fe == nil {
			change(attrEmail, string(e))
		} else {
			r.logf("%s: email %q is not valid today (%s): kept as stored", u.id, text(u.item, attrEmail), fe.Message())
		}
		if text(u.item, "username") == "" {
			local, _, _ := strings.Cut(text(u.item, attrEmail), "@")
			change("username", local)
		}
		created, ok := legacyTime(text(u.item, "created_at"))
		if !ok {
			created = r.o.Now()
		}
		change("created_at", formatTime(created))
		if len(set) == 0 {
			continue
		}
		u.role, u.active = role, status == core.ActivationActive
		b := expression.NewBuilder().WithUpdate(up).WithCondition(expression.Name(attrEmail).AttributeExists())
		in, err := r.updateInput(r.s.tables.Users, userKey(u.id), b)
		if err != nil {
			return err
		}
		if err := r.update(ctx, fmt.Sprintf("%s: set %s", u.id, strings.Join(set, ", ")), in); err != nil {
			return err
		}
	}
	return nil
}

// legacyTime reads a timestamp in whatever form the legacy app kept it:
// RFC 3339 / ISO 8601 with or without zone or fraction, a date, or Unix
// seconds or milliseconds.
func legacyTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n > 1e11 { // milliseconds
			n /= 1000
		}
		sec := int64(n)
		return time.Unix(sec, int64((n-float64(sec))*1e9)).UTC().Truncate(time.Millisecond), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// fixGuards gives each email key one guard and marks the duplicates.
func (r *reconciler) fixGuards(ctx context.Context) error {
	byKey := map[core.EmailKey][]*scannedUser{}
	for _, u := range r.order {
		byKey[u.key] = append(byKey[u.key], u)
	}
	for _, u := range r.order {
		group := byKey[u.key]
		if group[0] != u {
			continue // handled with the group's first
		}
		owner := group[0]
		for _, g := range group {
			if g.id == r.guards[u.key] {
				owner = g // the guard already names one of them: keep it
			}
		}
		if cur := r.guards[u.key]; cur != owner.id {
			cond := expression.Name(attrUserID).AttributeNotExists()
			if cur != "" {
				cond = expression.Name(attrOwner).Equal(expression.Value(cur))
			}
			b := expression.NewBuilder().WithUpdate(expression.Set(expression.Name(attrOwner), expression.Value(owner.id))).WithCondition(cond)
			in, err := r.updateInput(r.s.tables.Users, userKey(guardKey(u.key)), b)
			if err != nil {
				return err
			}
			if err := r.update(ctx, fmt.Sprintf("%s: guard its email", owner.id), in); err != nil {
				return err
			}
		}
		for _, g := range group {
			want := g != owner
			if want {
				r.count(func(rep *ReconcileReport) { rep.Duplicates++ })
				if !g.duplicate {
					r.logf("%s: duplicate of %s's email (kept, marked: an admin gives it an address of its own)", g.id, owner.id)
				}
			}
			if want == g.duplicate {
				continue
			}
			up := expression.Set(expression.Name(attrDuplicate), expression.Value(true))
			what := fmt.Sprintf("%s: mark as a duplicate email", g.id)
			if !want {
				up = expression.Remove(expression.Name(attrDuplicate))
				what = fmt.Sprintf("%s: owns its email: duplicate mark removed", g.id)
			}
			in, err := r.updateInput(r.s.tables.Users, userKey(g.id), expression.NewBuilder().WithUpdate(up).WithCondition(expression.Name(attrEmail).AttributeExists()))
			if err != nil {
				return err
			}
			if err := r.update(ctx, what, in); err != nil {
				return err
			}
		}
	}
	for key, owner := range r.guards {
		if _, ok := byKey[key]; ok {
			continue
		}
		r.count(func(rep *ReconcileReport) { rep.Changes++ })
		what := fmt.Sprintf("remove the guard of an address no user has (owner %s)", owner)
		if r.o.DryRun {
			r.logf("would %s", what)
			continue
		}
		cond, err := expression.NewBuilder().WithCondition(expression.Name(attrOwner).Equal(expression.Value(owner))).Build()
		if err != nil {
			return err
		}
		if err := r.lim.Wait(ctx); err != nil {
			return err
		}
		_, err = r.s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: &r.s.tables.Users, Key: userKey(guardKey(key)),
			ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values(),
		})
		if _, ok := conditionFailed(err); ok {
			r.count(func(rep *ReconcileReport) { rep.Retry++ })
			continue
		} else if err != nil {
			return r.s.fail("Reconcile", err)
		}
	}
	return nil
}

// fixSequence moves the id sequence past every existing id.
func (r *reconciler) fixSequence(ctx context.Context) error {
	if len(r.order) == 0 {
		return nil
	}
	top := r.order[len(r.order)-1].num
	if r.seq >= top {
		return nil
	}
	b := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name(attrValue), expression.Value(top))).
		WithCondition(expression.Or(expression.Name(attrValue).AttributeNotExists(), expression.Name(attrValue).LessThan(expression.Value(top))))
	in, err := r.updateInput(r.s.tables.Users, userKey(userSequenceKey), b)
	if err != nil {
		return err
	}
	return r.update(ctx, fmt.Sprintf("set the id sequence to %d (past %s)", top, core.UserID(top)), in)
}

// fixAdmins sets the active-admin counter to the count.
func (r *reconciler) fixAdmins(ctx context.Context) error {
	n := 0
	for _, u := range r.order {
		if u.role == core.RoleAdmin && u.active && !u.deleted {
			n++
		}
	}
	if r.admins != nil && *r.admins == n {
		return nil
	}
	if r.admins == nil && (n == 0 || !r.o.Legacy) {
		return nil // the first admin change counts them (Store.countAdmins)
	}
	cond := expression.Name(attrActive).AttributeNotExists()
	if r.admins != nil {
		cond = expression.Name(attrActive).Equal(expression.Value(*r.admins))
	}
	b := expression.NewBuilder().WithUpdate(expression.Set(expression.Name(attrActive), expression.Value(n))).WithCondition(cond)
	in, err := r.updateInput(r.s.tables.Users, userKey(adminCounterKey), b)
	if err != nil {
		return err
	}
	return r.update(ctx, fmt.Sprintf("set the active-admin counter to %d", n), in)
}

// legacyStatus maps the legacy app's task statuses (and obvious variants).
func legacyStatus(s string) (core.TaskStatus, bool) {
	switch strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.TrimSpace(s))) {
	case "pending", "todo", "new", "open":
		return core.StatusPending, true
	case "ongoing", "inprogress", "started", "doing":
		return core.StatusOngoing, true
	case "complete", "completed", "done", "finished", "closed":
		return core.StatusComplete, true
	}
	return "", false
}

// scanTasks fixes each task's index attributes (and, Legacy, its values)
// and counts the tasks per owner.
func (r *reconciler) scanTasks(ctx context.Context) error {
	type fix struct {
		key  map[string]types.AttributeValue
		what string
		up   expression.UpdateBuilder
		cond expression.ConditionBuilder
	}
	var fixes []fix
	err := r.scan(ctx, r.s.tables.Tasks, func(item map[string]types.AttributeValue) error {
		owner, id := text(item, attrUserID), text(item, attrTaskID)
		r.count(func(rep *ReconcileReport) { rep.Tasks++ })
		u := r.users[owner]
		if u == nil {
			r.count(func(rep *ReconcileReport) { rep.Skipped++ })
			r.logf("skipped task %s: its user %q does not exist (left as it is)", id, owner)
			return nil
		}
		stored := text(item, attrStatus)
		st := core.TaskStatus(stored)
		if !st.Valid() {
			mapped, ok := legacyStatus(stored)
			switch {
			case ok && r.o.Legacy:
				st = mapped
			case r.o.Legacy:
				r.logf("task %s of %s: unknown status %q: made pending", id, owner, stored)
				st = core.StatusPending
			default:
				r.logf("task %s of %s: unknown status %q (migrate-legacy maps it)", id, owner, stored)
				r.count(func(rep *ReconcileReport) { rep.Unfixable++ })
				return nil
			}
		}
		u.tasks[st]++
		var set []string
		up := expression.UpdateBuilder{}
		change := func(name, value string) {
			if text(item, name) != value {
				up = up.Set(expression.Name(name), expression.Value(value))
				set = append(set, name)
			}
		}
		change(attrStatus, string(st))
		var updated time.Time
		var badTime []string
		if r.o.Legacy {
			created, ok := legacyTime(text(item, "created_at"))
			if !ok {
				created = r.o.Now()
			}
			change("created_at", formatTime(created))
			if updated, ok = legacyTime(text(item, attrUpdatedAt)); !ok {
				updated = created
			}
			change(attrUpdatedAt, formatTime(updated))
			if _, ok := item["description"]; !ok {
				change("description", "")
			}
		} else if t, err := parseTime(text(item, attrUpdatedAt)); err == nil {
			updated = t
		} else {
			badTime = append(badTime, attrUpdatedAt)
		}
		// The index attributes, from the fields as they are after this fix.
		t := core.Task{ID: id, UserID: owner, Status: st, UpdatedAt: updated,
			Title: core.Title(text(item, "title")), Description: core.Description(text(item, "description"))}
		if d := text(item, attrDueDate); d != "" {
			if due, err := parseTime(d); err == nil {
				t.DueDate = &due
			} else {
				badTime = append(badTime, attrDueDate)
			}
		}
		attrs := taskIndexAttrs(t)
		for _, name := range taskIndexAttrNames {
			skip := (name == attrUpdatedKey && slices.Contains(badTime, attrUpdatedAt)) ||
				(name == attrDueKey && slices.Contains(badTime, attrDueDate))
			if !skip {
				change(name, attrs[name])
			}
		}
		if len(badTime) > 0 {
			r.logf("task %s of %s: %s not RFC 3339: its index attributes left as they are", id, owner, strings.Join(badTime, ", "))
			r.count(func(rep *ReconcileReport) { rep.Unfixable++ })
		}
		if len(set) > 0 {
			fixes = append(fixes, fix{taskKey(owner, id), fmt.Sprintf("task %s of %s: set %s", id, owner, strings.Join(set, ", ")), up, unchangedSince(item)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range fixes {
		in, err := r.updateInput(r.s.tables.Tasks, f.key, expression.NewBuilder().WithUpdate(f.up).WithCondition(f.cond))
		if err != nil {
			return err
		}
		if err := r.update(ctx, f.what, in); err != nil {
			return err
		}
	}
	return nil
}

// unchangedSince is the condition that a task item still is as scanned:
// every write of the app sets updated_at (a string), so a write in between
// fails it and the fix, computed from the old fields, is not written
// (counted in Retry).
func unchangedSince(item map[string]types.AttributeValue) expression.ConditionBuilder {
	cond := expression.Name(attrTaskID).AttributeExists()
	switch v := item[attrUpdatedAt].(type) {
	case nil:
		return cond.And(expression.Name(attrUpdatedAt).AttributeNotExists())
	case *types.AttributeValueMemberS:
		return cond.And(expression.Name(attrUpdatedAt).Equal(expression.Value(v.Value)))
	case *types.AttributeValueMemberN:
		return cond.And(expression.Name(attrUpdatedAt).AttributeType(expression.Number))
	}
	return cond
}

// fixCounters sets each user's counters to the recount, on condition that
// they are still what was read before the tasks were counted (a write in
// between moved them: counted in Retry).
func (r *reconciler) fixCounters(ctx context.Context) error {
	for _, u := range r.order {
		want := map[string]int{attrTaskCount: 0}
		for _, st := range core.TaskStatuses {
			want[counter(st)] = u.tasks[st]
			want[attrTaskCount] += u.tasks[st]
		}
		_, complete := u.item[attrTaskCount]
		for _, st := range core.TaskStatuses {
			_, ok := u.item[counter(st)]
			complete = complete && ok
		}
		if complete && sameCounts(u.counts, want) {
			continue
		}
		up := expression.UpdateBuilder{}
		var cond expression.ConditionBuilder
		names := make([]string, 0, len(want))
		for name := range want {
			names = append(names, name)
		}
		slices.Sort(names)
		for i, name := range names {
			up = up.Set(expression.Name(name), expression.Value(want[name]))
			c := expression.Name(name).AttributeNotExists()
			if _, ok := u.item[name]; ok {
				c = expression.Name(name).Equal(expression.Value(u.counts[name]))
			}
			if i == 0 {
				cond = c
			} else {
				cond = cond.And(c)
			}
		}
		in, err := r.updateInput(r.s.tables.Users, userKey(u.id), expression.NewBuilder().WithUpdate(up).WithCondition(cond))
		if err != nil {
			return err
		}
		what := fmt.Sprintf("%s: counters set to %d tasks (%s)", u.id, want[attrTaskCount], countsLine(want))
		if err := r.update(ctx, what, in); err != nil {
			return err
		}
	}
	return nil
}

// sameCounts reports whether a holds b's value for every key of b.
func sameCounts(a, b map[string]int) bool {
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

func countsLine(m map[string]int) string {
	parts := make([]string, len(core.TaskStatuses))
	for i, st := range core.TaskStatuses {
		parts[i] = fmt.Sprintf("%s %d", st, m[counter(st)])
	}
	return strings.Join(parts, ", ")
}

// fixPasswords converts the passwords that are not taskapi's (Legacy):
// through o.Convert, each hash written on condition the stored value is
// still the one converted; the others mark their user NeedsPasswordReset.
func (r *reconciler) fixPasswords(ctx context.Context) error {
	var todo []LegacyPassword
	byID := map[string]*scannedUser{}
	for _, u := range r.order {
		if strings.HasPrefix(u.password, "$argon2id$") || u.deleted {
			continue
		}
		if !r.o.Legacy {
			if !u.reset {
				r.count(func(rep *ReconcileReport) { rep.Unfixable++ })
				r.logf("%s: password not in taskapi's format (migrate-legacy converts it)", u.id)
			}
			continue
		}
		todo = append(todo, LegacyPassword{UserID: u.id, Value: u.password})
		byID[u.id] = u
	}
	if len(todo) == 0 {
		return nil
	}
	results := make([]ConvertedPassword, len(todo))
	for i, p := range todo {
		results[i] = ConvertedPassword{UserID: p.UserID, Error: "no -decrypt-command"}
	}
	if r.o.DryRun {
		r.logf("would convert %d passwords", len(todo))
		r.count(func(rep *ReconcileReport) { rep.Changes += len(todo) })
		return nil
	}
	if r.o.Convert != nil {
		got, err := r.o.Convert(ctx, todo)
		if err != nil {
			return fmt.Errorf("converting passwords: %w", err)
		}
		for i := range results {
			if i < len(got) && got[i].UserID == todo[i].UserID {
				results[i] = got[i]
			}
		}
	}
	for i, res := range results {
		u := byID[todo[i].UserID]
		var up expression.UpdateBuilder
		what := u.id + ": password converted"
		if res.Hash != "" && res.Error == "" {
			r.count(func(rep *ReconcileReport) { rep.PasswordsConverted++ })
			up = expression.Set(expression.Name(attrPassword), expression.Value(res.Hash)).Remove(expression.Name(attrReset))
		} else {
			r.count(func(rep *ReconcileReport) { rep.PasswordsNotConverted++ })
			r.logf("%s: password not converted (%s): login answers PASSWORD_RESET_REQUIRED until an admin sets one", u.id, res.Error)
			if u.reset {
				continue
			}
			up = expression.Set(expression.Name(attrReset), expression.Value(true))
			what = u.id + ": marked as needing a password reset"
		}
		// Written only over the very value converted: a password set
		// meanwhile (an admin's reset) is never replaced.
		b := expression.NewBuilder().WithUpdate(up).WithCondition(expression.Name(attrPassword).Equal(expression.Value(todo[i].Value)))
		in, err := r.updateInput(r.s.tables.Users, userKey(u.id), b)
		if err != nil {
			return err
		}
		if err := r.update(ctx, what, in); err != nil {
			return err
		}
	}
	return nil
}
