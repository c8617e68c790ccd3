package dynamo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskapi/taskapi/core"
)

// countUpdate is the transaction item that adds delta[st] to userID's
// counter of each status st (and their sum to task_count), if userID is a
// user; with limit > 0, only while task_count is below limit (a missing
// task_count, on users written before it existed, counts as 0 until
// `taskapi verify -repair` recounts it).
func (s *Store) countUpdate(userID string, delta map[core.TaskStatus]int, limit int) (types.TransactWriteItem, error) {
	var add expression.UpdateBuilder
	total := 0
	for _, st := range core.TaskStatuses { // a fixed order: stable expressions
		if n, ok := delta[st]; ok && n != 0 {
			add = add.Add(expression.Name(counter(st)), expression.Value(n))
			total += n
		}
	}
	if total != 0 {
		add = add.Add(expression.Name(attrTaskCount), expression.Value(total))
	}
	cond := expression.Name(attrEmail).AttributeExists()
	if limit > 0 {
		cond = cond.And(expression.Or(
			expression.Name(attrTaskCount).AttributeNotExists(),
			expression.Name(attrTaskCount).LessThan(expression.Value(limit)),
		))
	}
	expr, err := expression.NewBuilder().WithUpdate(add).WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.tables.Users, Key: userKey(userID),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}, nil
}

// CreateTask stores t and adds it to its owner's counters in one
// transaction: ErrConflict if the id is taken, ErrPrecondition if the owner
// has limit tasks already.
func (s *Store) CreateTask(ctx context.Context, t core.Task, limit int) error {
	item, err := attributevalue.MarshalMap(toTaskItem(t))
	if err != nil {
		return fmt.Errorf("dynamo: CreateTask: %w", err)
	}
	put, err := putIfAbsent(s.tables.Tasks, item, attrTaskID)
	if err != nil {
		return err
	}
	count, err := s.countUpdate(t.UserID, map[core.TaskStatus]int{t.Status: 1}, limit)
	if err != nil {
		return err
	}
	err = s.transact(ctx, "CreateTask", txItem{"task", put}, txItem{"owner", count})
	var c *canceled
	switch {
	case errors.As(err, &c) && c.failed("task"):
		return core.ErrConflict
	case errors.As(err, &c) && c.failed("owner") && c.item("owner")[attrEmail] != nil:
		return core.ErrPrecondition
	case errors.As(err, &c) && c.failed("owner"):
		return fmt.Errorf("dynamo: CreateTask: no user %s: %w", t.UserID, core.ErrNotFound)
	case err != nil:
		return err
	}
	return nil
}

// GetTask returns userID's task taskID (a strongly consistent read) or
// ErrNotFound.
func (s *Store) GetTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.tables.Tasks, Key: taskKey(userID, taskID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return core.Task{}, s.fail("GetTask", err)
	}
	if out.Item == nil {
		return core.Task{}, core.ErrNotFound
	}
	return decodeTask(out.Item)
}

// UpdateTask applies p. Without a status change, and with a title and a
// description either both changed or both kept, it is one conditional
// UpdateItem. Otherwise it reads the task, then updates it on condition
// that it is unchanged (status and updated_at) — in one transaction with the
// counters' move, for a status change; if another write got there first,
// it starts again from the task as that write left it (bounded). The read
// is what a lone title or description needs: search_text holds both.
func (s *Store) UpdateTask(ctx context.Context, userID, taskID string, p core.TaskPatch) (core.Task, error) {
	if p.Status == nil && !halfSearchText(p) {
		return s.updateTaskItem(ctx, userID, taskID, p, nil)
	}
	cur, err := s.GetTask(ctx, userID, taskID)
	if err != nil {
		return core.Task{}, err
	}
	for attempt := 1; attempt <= maxRaceAttempts; attempt++ {
		var t core.Task
		if p.Status == nil || cur.Status == *p.Status {
			t, err = s.updateTaskItem(ctx, userID, taskID, p, &cur)
		} else {
			t, err = s.moveTask(ctx, cur, p)
		}
		var stale *staleTask
		if !errors.As(err, &stale) {
			return t, err
		}
		// Another writer won the race: let the crowd spread out before
		// trying again from what it wrote (raceBackoff, tx.go).
		if err := sleep(ctx, raceBackoff(attempt)); err != nil {
			return core.Task{}, s.fail("UpdateTask", err)
		}
		if cur, err = s.current(ctx, stale); err != nil {
			return core.Task{}, err
		}
	}
	return core.Task{}, errContention("UpdateTask", maxRaceAttempts)
}

// halfSearchText reports whether p changes the title or the description
// but not both: the new search_text then depends on the stored other one.
func halfSearchText(p core.TaskPatch) bool { return (p.Title == nil) != (p.Description == nil) }

// staleTask is a conditional task write that failed: the task changed or
// vanished since it was read. item is the task as it is now, when
// DynamoDB returned it.
type staleTask struct {
	userID, taskID string
	item           map[string]types.AttributeValue
}

func (e *staleTask) Error() string { return "dynamo: task " + e.taskID + " changed since it was read" }

// current returns the task a failed conditional write found, reading it
// again when DynamoDB did not return it; ErrNotFound if it is gone.
func (s *Store) current(ctx context.Context, e *staleTask) (core.Task, error) {
	if e.item != nil {
		return decodeTask(e.item)
	}
	return s.GetTask(ctx, e.userID, e.taskID)
}

// taskSet returns the SET (and REMOVE) clause of p (title, description,
// due_date, updated_at) and how many fields it changes.
func taskSet(p core.TaskPatch) (expression.UpdateBuilder, int) {
	var (
		set expression.UpdateBuilder
		n   int
	)
	if p.Title != nil {
		set = set.Set(expression.Name("title"), expression.Value(string(*p.Title)))
		n++
	}
	if p.Description != nil {
		set = set.Set(expression.Name("description"), expression.Value(string(*p.Description)))
		n++
	}
	if p.DueDate != nil && p.DueDate.IsZero() {
		set = set.Remove(expression.Name(attrDueDate))
		n++
	} else if p.DueDate != nil {
		set = set.Set(expression.Name(attrDueDate), expression.Value(formatTime(*p.DueDate)))
		n++
	}
	if !p.UpdatedAt.IsZero() {
		set = set.Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(p.UpdatedAt)))
		n++
	}
	return set, n
}

// indexSet adds to set the derived attributes (taskIndexAttrs) of the task
// as p leaves it: all of them from cur, when it was read; otherwise those
// that p alone determines (halfSearchText patches are read first).
func indexSet(set expression.UpdateBuilder, p core.TaskPatch, taskID string, cur *core.Task) expression.UpdateBuilder {
	if cur != nil {
		attrs := taskIndexAttrs(p.Apply(*cur))
		for _, name := range taskIndexAttrNames {
			set = set.Set(expression.Name(name), expression.Value(attrs[name]))
		}
		return set
	}
	t := p.Apply(core.Task{ID: taskID})
	if !p.UpdatedAt.IsZero() {
		set = set.Set(expression.Name(attrUpdatedKey), expression.Value(core.TaskKey(t, core.OrderUpdatedAt)))
	}
	if p.DueDate != nil {
		set = set.Set(expression.Name(attrDueKey), expression.Value(core.TaskKey(t, core.OrderDueDate)))
	}
	if p.Title != nil && p.Description != nil {
		set = set.Set(expression.Name(attrSearchText), expression.Value(core.SearchText(t)))
	}
	return set
}

// unchanged is the condition that the task is still as cur was read.
func unchanged(cur core.Task) expression.ConditionBuilder {
	return expression.And(
		expression.Name(attrStatus).Equal(expression.Value(string(cur.Status))),
		expression.Name(attrUpdatedAt).Equal(expression.Value(formatTime(cur.UpdatedAt))),
	)
}

// updateTaskItem applies p's fields other than status to the task, if it
// exists (and, with cur, if it is still as cur was read), and returns the
// task as stored.
func (s *Store) updateTaskItem(ctx context.Context, userID, taskID string, p core.TaskPatch, cur *core.Task) (core.Task, error) {
	set, n := taskSet(p)
	if n == 0 {
		if cur != nil {
			return *cur, nil
		}
		return s.GetTask(ctx, userID, taskID)
	}
	set = indexSet(set, p, taskID, cur)
	cond := expression.Name(attrTaskID).AttributeExists()
	if cur != nil {
		cond = unchanged(*cur)
	}
	expr, err := expression.NewBuilder().WithUpdate(set).WithCondition(cond).Build()
	if err != nil {
		return core.Task{}, err
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.tables.Tasks,
		Key:                                 taskKey(userID, taskID),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if ccf, ok := conditionFailed(err); ok {
		if cur == nil || ccf.Item == nil {
			return core.Task{}, core.ErrNotFound
		}
		return core.Task{}, &staleTask{userID: userID, taskID: taskID, item: ccf.Item}
	}
	if err != nil {
		return core.Task{}, s.fail("UpdateTask", err)
	}
	return decodeTask(out.Attributes)
}

// moveTask applies p to cur, whose status p changes, and moves it between
// its owner's counters, in one transaction conditioned on cur being current.
func (s *Store) moveTask(ctx context.Context, cur core.Task, p core.TaskPatch) (core.Task, error) {
	to := *p.Status
	set, _ := taskSet(p)
	set = indexSet(set.Set(expression.Name(attrStatus), expression.Value(string(to))), p, cur.ID, &cur)
	expr, err := expression.NewBuilder().WithUpdate(set).WithCondition(unchanged(cur)).Build()
	if err != nil {
		return core.Task{}, err
	}
	count, err := s.countUpdate(cur.UserID, map[core.TaskStatus]int{cur.Status: -1, to: 1}, 0)
	if err != nil {
		return core.Task{}, err
	}
	err = s.transact(ctx, "UpdateTask",
		txItem{"task", types.TransactWriteItem{Update: &types.Update{
			TableName: &s.tables.Tasks, Key: taskKey(cur.UserID, cur.ID),
			UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}}},
		txItem{"owner", count},
	)
	var c *canceled
	switch {
	case errors.As(err, &c) && c.failed("task"):
		return core.Task{}, &staleTask{userID: cur.UserID, taskID: cur.ID, item: c.item("task")}
	case errors.As(err, &c) && c.failed("owner"):
		return core.Task{}, fmt.Errorf("dynamo: UpdateTask: task %s belongs to no user %s", cur.ID, cur.UserID)
	case err != nil:
		return core.Task{}, err
	}
	// As it reads back: times in UTC, at the stored precision.
	return toTaskItem(p.Apply(cur)).task()
}

// DeleteTask removes the task and uncounts it in one transaction,
// conditioned on the task being as it was read (retried if it changed), so
// the task it returns is the one removed.
func (s *Store) DeleteTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	cur, err := s.GetTask(ctx, userID, taskID)
	if err != nil {
		return core.Task{}, err
	}
	for attempt := 1; attempt <= maxRaceAttempts; attempt++ {
		expr, err := expression.NewBuilder().WithCondition(unchanged(cur)).Build()
		if err != nil {
			return core.Task{}, err
		}
		count, err := s.countUpdate(userID, map[core.TaskStatus]int{cur.Status: -1}, 0)
		if err != nil {
			return core.Task{}, err
		}
		err = s.transact(ctx, "DeleteTask",
			txItem{"task", types.TransactWriteItem{Delete: &types.Delete{
				TableName: &s.tables.Tasks, Key: taskKey(userID, taskID),
				ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
				ExpressionAttributeValues:           expr.Values(),
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}}},
			txItem{"owner", count},
		)
		var c *canceled
		switch {
		case errors.As(err, &c) && c.failed("task"):
			if err := sleep(ctx, raceBackoff(attempt)); err != nil {
				return core.Task{}, s.fail("DeleteTask", err)
			}
			if cur, err = s.current(ctx, &staleTask{userID: userID, taskID: taskID, item: c.item("task")}); err != nil {
				return core.Task{}, err
			}
			continue
		case errors.As(err, &c) && c.failed("owner"):
			return core.Task{}, fmt.Errorf("dynamo: DeleteTask: task %s belongs to no user %s", taskID, userID)
		case err != nil:
			return core.Task{}, err
		}
		return cur, nil
	}
	return core.Task{}, errContention("DeleteTask", maxRaceAttempts)
}

// walk is the Query that walks one order's index for ListTasks and
// CountTasks: the table or a GSI, the key condition, and how to turn a
// TaskKey into the ExclusiveStartKey of that index.
type walk struct {
	index      string // "": the table
	key        expression.KeyConditionBuilder
	partition  map[string]types.AttributeValue // the index's partition key, for start keys
	sortAttr   string                          // the index's sort key ("": task_id, the table's)
	sortPrefix string                          // prepended to a TaskKey to make the sort key
}

// taskWalk chooses the index of (order, status): by creation the table (by
// task_id) or status-index; by update or due date updated-index /
// due-index, or with a status status-updated-index / status-due-index,
// whose partition is user_status. A due-date walk covers the dated keys
// (before core.UndatedKeyPrefix) or, undated, the others.
func taskWalk(userID string, order core.TaskOrderField, status *core.TaskStatus, undated bool) walk {
	pk := expression.Key(attrUserID).Equal(expression.Value(userID))
	w := walk{partition: map[string]types.AttributeValue{}}
	if order != core.OrderUpdatedAt && order != core.OrderDueDate {
		w.key = pk
		if status != nil {
			w.index, w.sortAttr, w.sortPrefix = StatusIndex, attrStatusTaskID, statusTaskID(*status, "")
			w.key = pk.And(expression.Key(attrStatusTaskID).BeginsWith(w.sortPrefix))
		}
		return w
	}
	w.sortAttr, w.index = attrUpdatedKey, UpdatedIndex
	if order == core.OrderDueDate {
		w.sortAttr, w.index = attrDueKey, DueIndex
	}
	if status != nil {
		us := userStatus(userID, *status)
		pk = expression.Key(attrUserStatus).Equal(expression.Value(us))
		w.partition[attrUserStatus] = str(us)
		w.index = map[string]string{UpdatedIndex: StatusUpdatedIndex, DueIndex: StatusDueIndex}[w.index]
	}
	switch {
	case order != core.OrderDueDate:
		w.key = pk
	case undated:
		w.key = pk.And(expression.Key(w.sortAttr).BeginsWith(core.UndatedKeyPrefix))
	default:
		w.key = pk.And(expression.Key(w.sortAttr).LessThan(expression.Value(core.UndatedKeyPrefix)))
	}
	return w
}

// start returns the ExclusiveStartKey for the TaskKey after: a GSI's holds
// the table's key (the task id, the end of every TaskKey) and the index's.
func (w walk) start(userID, after string) map[string]types.AttributeValue {
	if after == "" {
		return nil
	}
	k := taskKey(userID, keyTaskID(after))
	for name, v := range w.partition {
		k[name] = v
	}
	if w.sortAttr != "" {
		k[w.sortAttr] = str(w.sortPrefix + after)
	}
	return k
}

// keyTaskID is the task id a core.TaskKey ends with: after the undated
// prefix, or after the last '#' (ids have none), or the whole key (by
// creation).
func keyTaskID(key string) string {
	if core.IsUndatedKey(key) {
		return key[len(core.UndatedKeyPrefix):]
	}
	return key[strings.LastIndexByte(key, '#')+1:]
}

// input builds the Query of w, with search as a contains() filter on
// search_text (core.SearchMatches is the same substring test).
func (w walk) input(table, search string) (*dynamodb.QueryInput, error) {
	b := expression.NewBuilder().WithKeyCondition(w.key)
	if search != "" {
		b = b.WithFilter(expression.Name(attrSearchText).Contains(search))
	}
	expr, err := b.Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{
		TableName: &table, KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}
	if w.index == "" {
		in.ConsistentRead = aws.Bool(true) // GSIs cannot be
	} else {
		in.IndexName = aws.String(w.index)
	}
	return in, nil
}

// Pages of a searched walk: DynamoDB's Limit counts the items read before
// the filter, so a search reads bigger pages (from searchPage, or the
// page's limit + 1 if more, doubling to maxSearchPage; DynamoDB stops each
// at 1 MB anyway) until it has enough matches: few round trips for a rare
// match, little overread for a common one.
const (
	searchPage    = 100
	maxSearchPage = 1000
)

// ListTasks returns a page of userID's tasks in q.Order (descending with
// q.Reverse: the same Query read backward): one Query of the index
// taskWalk chooses, starting after q.After, for limit+1 items (to know
// whether more follow), continued while DynamoDB returns short pages (the
// 1 MB limit, or a search filter that kept fewer). The table is read
// strongly consistent; the GSIs are eventually consistent.
func (s *Store) ListTasks(ctx context.Context, userID string, q core.TaskQuery) ([]core.Task, bool, error) {
	if q.Order == core.OrderDueDate && q.After != "" && core.IsUndatedKey(q.After) != q.Undated {
		// A key of the other part of the due-date list: this walk lies
		// wholly before it (undated after a dated key) or after it.
		if q.Undated == q.Reverse {
			return nil, false, nil
		}
		q.After = ""
	}
	w := taskWalk(userID, q.Order, q.Status, q.Undated)
	in, err := w.input(s.tables.Tasks, q.Search)
	if err != nil {
		return nil, false, err
	}
	in.ScanIndexForward = aws.Bool(!q.Reverse)
	start := w.start(userID, q.After)

	want := q.Limit + 1
	page := min(max(cmp.Or(s.searchPage, searchPage), want), maxSearchPage) // never fewer than a page could match
	tasks := make([]core.Task, 0, min(want, 128))
	for {
		in.ExclusiveStartKey = start
		if q.Search == "" {
			in.Limit = aws.Int32(int32(min(want-len(tasks), 1000)))
		} else {
			in.Limit, page = aws.Int32(int32(page)), min(2*page, maxSearchPage)
		}
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, false, s.fail("ListTasks", err)
		}
		for _, av := range out.Items[:min(len(out.Items), want-len(tasks))] {
			t, err := decodeTask(av)
			if err != nil {
				return nil, false, err
			}
			tasks = append(tasks, t)
		}
		start = out.LastEvaluatedKey
		if len(tasks) >= want || start == nil {
			break
		}
	}
	if len(tasks) > q.Limit {
		return tasks[:q.Limit], true, nil
	}
	return tasks, false, nil
}

// TaskStats reads userID's counters from the user item: one strongly
// consistent read. Zero for anyone without tasks, or unknown.
func (s *Store) TaskStats(ctx context.Context, userID string) (core.TaskStats, error) {
	names := make([]expression.NameBuilder, len(core.TaskStatuses))
	for i, st := range core.TaskStatuses {
		names[i] = expression.Name(counter(st))
	}
	proj, err := expression.NewBuilder().WithProjection(expression.NamesList(names[0], names[1:]...)).Build()
	if err != nil {
		return core.TaskStats{}, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.tables.Users, Key: userKey(userID), ConsistentRead: aws.Bool(true),
		ProjectionExpression: proj.Projection(), ExpressionAttributeNames: proj.Names(),
	})
	if err != nil {
		return core.TaskStats{}, s.fail("TaskStats", err)
	}
	var counts map[string]int
	if err := attributevalue.UnmarshalMap(out.Item, &counts); err != nil {
		return core.TaskStats{}, fmt.Errorf("dynamo: TaskStats: decode: %w", err)
	}
	var st core.TaskStats
	for _, status := range core.TaskStatuses {
		st = st.Add(status, counts[counter(status)])
	}
	return st, nil
}

// CountTasks counts userID's tasks (of status, if set) whose search_text
// contains search: a COUNT Query of the table (or status-index) with the
// search filter, summed over its 1 MB pages. It returns no items, but
// DynamoDB charges for every item it reads.
func (s *Store) CountTasks(ctx context.Context, userID string, status *core.TaskStatus, search string) (int, error) {
	in, err := taskWalk(userID, core.OrderCreatedAt, status, false).input(s.tables.Tasks, search)
	if err != nil {
		return 0, err
	}
	in.Select = types.SelectCount
	n := 0
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, s.fail("CountTasks", err)
		}
		n += int(out.Count)
		if out.LastEvaluatedKey == nil {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
