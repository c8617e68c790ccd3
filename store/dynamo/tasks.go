package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskapi/taskapi/core"
)

// countUpdate is the transaction item that adds delta[st] to userID's
// counter of each status st, if userID is a user.
func (s *Store) countUpdate(userID string, delta map[core.TaskStatus]int) (types.TransactWriteItem, error) {
	var add expression.UpdateBuilder
	for _, st := range core.TaskStatuses { // a fixed order: stable expressions
		if n, ok := delta[st]; ok && n != 0 {
			add = add.Add(expression.Name(counter(st)), expression.Value(n))
		}
	}
	expr, err := expression.NewBuilder().
		WithUpdate(add).
		WithCondition(expression.Name(attrEmail).AttributeExists()).
		Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.tables.Users, Key: userKey(userID),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}, nil
}

// CreateTask stores t and adds it to its owner's counters in one
// transaction: ErrConflict if the id is taken, ErrNotFound if the owner is
// not a user.
func (s *Store) CreateTask(ctx context.Context, t core.Task) error {
	if !validKey(t.ID) || !validKey(t.UserID) {
		return invalid("task id and user id are required")
	}
	if err := validStatus(t.Status); err != nil {
		return err
	}
	if !validUserID(t.UserID) {
		return errUserNotFound
	}
	item, err := attributevalue.MarshalMap(toTaskItem(t))
	if err != nil {
		return fmt.Errorf("dynamo: CreateTask: %w", err)
	}
	absent, err := expression.NewBuilder().WithCondition(expression.Name(attrTaskID).AttributeNotExists()).Build()
	if err != nil {
		return err
	}
	count, err := s.countUpdate(t.UserID, map[core.TaskStatus]int{t.Status: 1})
	if err != nil {
		return err
	}
	err = s.transact(ctx, "CreateTask",
		types.TransactWriteItem{Put: &types.Put{
			TableName: &s.tables.Tasks, Item: item,
			ConditionExpression: absent.Condition(), ExpressionAttributeNames: absent.Names(),
		}},
		count,
	)
	var c *canceled
	switch {
	case errors.As(err, &c) && c.failed(0):
		return errTaskExists
	case errors.As(err, &c) && c.failed(1):
		return errUserNotFound
	case err != nil:
		return err
	}
	return nil
}

// GetTask returns userID's task taskID (a strongly consistent read) or
// ErrNotFound.
func (s *Store) GetTask(ctx context.Context, userID, taskID string) (core.Task, error) {
	if !validKey(userID) || !validKey(taskID) {
		return core.Task{}, errTaskNotFound
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.tables.Tasks, Key: taskKey(userID, taskID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return core.Task{}, s.fail("GetTask", err)
	}
	if out.Item == nil {
		return core.Task{}, errTaskNotFound
	}
	return decodeTask(out.Item)
}

// UpdateTask applies p. Without a status change it is one conditional
// UpdateItem. A status change reads the task, then updates it on condition
// that it is unchanged (status and updated_at) in one transaction with the
// counters' move; if another write got there first, it starts again from
// the task as that write left it (bounded).
func (s *Store) UpdateTask(ctx context.Context, userID, taskID string, p core.TaskPatch) (core.Task, error) {
	if !validKey(userID) || !validKey(taskID) {
		return core.Task{}, errTaskNotFound
	}
	if p.Status != nil {
		if err := validStatus(*p.Status); err != nil {
			return core.Task{}, err
		}
	}
	if p.Status == nil {
		return s.updateTaskItem(ctx, userID, taskID, p, nil)
	}
	cur, err := s.GetTask(ctx, userID, taskID)
	if err != nil {
		return core.Task{}, err
	}
	for range maxWriteAttempts {
		var t core.Task
		if cur.Status == *p.Status {
			t, err = s.updateTaskItem(ctx, userID, taskID, p, &cur)
		} else {
			t, err = s.moveTask(ctx, cur, p)
		}
		var stale *staleTask
		if !errors.As(err, &stale) {
			return t, err
		}
		if cur, err = s.current(ctx, stale); err != nil {
			return core.Task{}, err
		}
	}
	return core.Task{}, errContention("UpdateTask")
}

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

// taskSet returns the SET clause of p (title, description, updated_at) and
// how many fields it sets.
func taskSet(p core.TaskPatch) (expression.UpdateBuilder, int) {
	var (
		set expression.UpdateBuilder
		n   int
	)
	if p.Title != nil {
		set = set.Set(expression.Name("title"), expression.Value(*p.Title))
		n++
	}
	if p.Description != nil {
		set = set.Set(expression.Name("description"), expression.Value(*p.Description))
		n++
	}
	if !p.UpdatedAt.IsZero() {
		set = set.Set(expression.Name(attrUpdatedAt), expression.Value(formatTime(p.UpdatedAt)))
		n++
	}
	return set, n
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
			return core.Task{}, errTaskNotFound
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
	set = set.
		Set(expression.Name(attrStatus), expression.Value(string(to))).
		Set(expression.Name(attrStatusTaskID), expression.Value(statusTaskID(to, cur.ID)))
	expr, err := expression.NewBuilder().WithUpdate(set).WithCondition(unchanged(cur)).Build()
	if err != nil {
		return core.Task{}, err
	}
	count, err := s.countUpdate(cur.UserID, map[core.TaskStatus]int{cur.Status: -1, to: 1})
	if err != nil {
		return core.Task{}, err
	}
	err = s.transact(ctx, "UpdateTask",
		types.TransactWriteItem{Update: &types.Update{
			TableName: &s.tables.Tasks, Key: taskKey(cur.UserID, cur.ID),
			UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		count,
	)
	var c *canceled
	switch {
	case errors.As(err, &c) && c.failed(0):
		return core.Task{}, &staleTask{userID: cur.UserID, taskID: cur.ID, item: c.item(0)}
	case errors.As(err, &c) && c.failed(1):
		return core.Task{}, fmt.Errorf("dynamo: UpdateTask: task %s belongs to no user %s", cur.ID, cur.UserID)
	case err != nil:
		return core.Task{}, err
	}
	t := cur
	if p.Title != nil {
		t.Title = *p.Title
	}
	if p.Description != nil {
		t.Description = *p.Description
	}
	if !p.UpdatedAt.IsZero() {
		t.UpdatedAt = p.UpdatedAt
	}
	t.Status = to
	// As it reads back: times in UTC, at the stored precision.
	return toTaskItem(t).task()
}

// DeleteTask removes the task and uncounts it in one transaction,
// conditioned on the status it was read with (retried if it changed).
func (s *Store) DeleteTask(ctx context.Context, userID, taskID string) error {
	if !validKey(userID) || !validKey(taskID) {
		return errTaskNotFound
	}
	cur, err := s.GetTask(ctx, userID, taskID)
	if err != nil {
		return err
	}
	for range maxWriteAttempts {
		expr, err := expression.NewBuilder().
			WithCondition(expression.Name(attrStatus).Equal(expression.Value(string(cur.Status)))).
			Build()
		if err != nil {
			return err
		}
		count, err := s.countUpdate(userID, map[core.TaskStatus]int{cur.Status: -1})
		if err != nil {
			return err
		}
		err = s.transact(ctx, "DeleteTask",
			types.TransactWriteItem{Delete: &types.Delete{
				TableName: &s.tables.Tasks, Key: taskKey(userID, taskID),
				ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
				ExpressionAttributeValues:           expr.Values(),
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			count,
		)
		var c *canceled
		switch {
		case errors.As(err, &c) && c.failed(0):
			if cur, err = s.current(ctx, &staleTask{userID: userID, taskID: taskID, item: c.item(0)}); err != nil {
				return err
			}
			continue
		case errors.As(err, &c) && c.failed(1):
			return fmt.Errorf("dynamo: DeleteTask: task %s belongs to no user %s", taskID, userID)
		case err != nil:
			return err
		}
		return nil
	}
	return errContention("DeleteTask")
}

// ListTasks returns a page of userID's tasks in task_id order: a Query on
// the table, or on status-index with a status, starting after q.After, for
// limit+1 items (to know whether more follow), continued while DynamoDB
// returns short pages (1 MB limit). The table is read strongly consistent;
// status-index, like any GSI, is eventually consistent.
func (s *Store) ListTasks(ctx context.Context, userID string, q core.TaskQuery) ([]core.Task, bool, error) {
	if q.Limit <= 0 {
		return nil, false, invalid("limit must be positive")
	}
	if q.Status != nil {
		if err := validStatus(*q.Status); err != nil {
			return nil, false, err
		}
	}
	if q.After != "" && !validKey(q.After) {
		return nil, false, invalid("invalid task position")
	}
	if !validKey(userID) {
		return []core.Task{}, false, nil
	}
	key := expression.Key(attrUserID).Equal(expression.Value(userID))
	in := &dynamodb.QueryInput{TableName: &s.tables.Tasks}
	var start map[string]types.AttributeValue
	if q.After != "" {
		start = taskKey(userID, q.After)
	}
	if q.Status == nil {
		in.ConsistentRead = aws.Bool(true)
	} else {
		prefix := statusTaskID(*q.Status, "")
		key = key.And(expression.Key(attrStatusTaskID).BeginsWith(prefix))
		in.IndexName = aws.String(StatusIndex)
		if start != nil {
			start[attrStatusTaskID] = str(prefix + q.After)
		}
	}
	expr, err := expression.NewBuilder().WithKeyCondition(key).Build()
	if err != nil {
		return nil, false, err
	}
	in.KeyConditionExpression = expr.KeyCondition()
	in.ExpressionAttributeNames = expr.Names()
	in.ExpressionAttributeValues = expr.Values()

	want := q.Limit + 1
	tasks := make([]core.Task, 0, min(want, 128))
	for {
		in.ExclusiveStartKey = start
		in.Limit = aws.Int32(int32(min(want-len(tasks), 1000)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, false, s.fail("ListTasks", err)
		}
		for _, av := range out.Items {
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
	if !validUserID(userID) {
		return core.TaskStats{}, nil
	}
	proj, err := expression.NewBuilder().WithProjection(expression.NamesList(
		expression.Name(counter(core.StatusPending)),
		expression.Name(counter(core.StatusOngoing)),
		expression.Name(counter(core.StatusComplete)),
	)).Build()
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
	var it statsItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return core.TaskStats{}, fmt.Errorf("dynamo: TaskStats: decode: %w", err)
	}
	return core.TaskStats{Pending: it.PendingCount, Ongoing: it.OngoingCount, Complete: it.CompleteCount}, nil
}
