package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskapi/taskapi/core"
)

// maxTxItems is DynamoDB's limit on the items of one TransactWriteItems.
const maxTxItems = 100

// DeleteTasks removes up to n (at most 99) of userID's oldest tasks in one
// transaction with the owner's counters: each delete is conditioned on the
// status it was read with, so the counters move by exactly what was
// removed; a task changed meanwhile makes the batch start again.
func (s *Store) DeleteTasks(ctx context.Context, userID string, n int) (int, error) {
	n = min(n, maxTxItems-1) // one item is the owner's counters
	if n <= 0 {
		return 0, nil
	}
	for range maxWriteAttempts {
		tasks, _, err := s.ListTasks(ctx, userID, core.TaskQuery{Limit: n})
		if err != nil || len(tasks) == 0 {
			return 0, err
		}
		items := make([]txItem, 0, len(tasks)+1)
		delta := map[core.TaskStatus]int{}
		for _, t := range tasks {
			cond, err := expression.NewBuilder().
				WithCondition(expression.Name(attrStatus).Equal(expression.Value(string(t.Status)))).Build()
			if err != nil {
				return 0, err
			}
			items = append(items, txItem{"task", types.TransactWriteItem{Delete: &types.Delete{
				TableName: &s.tables.Tasks, Key: taskKey(userID, t.ID),
				ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(),
				ExpressionAttributeValues: cond.Values(),
			}}})
			delta[t.Status]--
		}
		count, err := s.countUpdate(userID, delta, 0)
		if err != nil {
			return 0, err
		}
		items = append(items, txItem{"owner", count})
		err = s.transact(ctx, "DeleteTasks", items...)
		var c *canceled
		switch {
		case errors.As(err, &c) && c.failed("owner"):
			return 0, fmt.Errorf("dynamo: DeleteTasks: tasks of no user %s", userID)
		case errors.As(err, &c):
			continue // a task changed or went meanwhile: read the batch again
		case err != nil:
			return 0, err
		}
		return len(tasks), nil
	}
	return 0, errContention("DeleteTasks", maxWriteAttempts)
}

// DeleteUser removes user id, its email guard and its session records in
// one transaction, conditioned on the deletion having begun and no task
// being left.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	u, err := s.GetUser(ctx, id)
	if err != nil {
		return err
	}
	cond, err := expression.NewBuilder().WithCondition(
		expression.Name(attrDeletedAt).AttributeExists().And(expression.Or(
			expression.Name(attrTaskCount).AttributeNotExists(),
			expression.Name(attrTaskCount).Equal(expression.Value(0)),
		)),
	).Build()
	if err != nil {
		return err
	}
	items := []txItem{{"user", types.TransactWriteItem{Delete: &types.Delete{
		TableName: &s.tables.Users, Key: userKey(id),
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(),
		ExpressionAttributeValues:           cond.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}}
	if key := guardKey(u.Email.Key()); validKey(key) {
		// Only a guard that is the user's: never free someone else's address.
		owned, err := expression.NewBuilder().WithCondition(expression.Or(
			expression.Name(attrUserID).AttributeNotExists(),
			expression.Name(attrOwner).Equal(expression.Value(id)),
		)).Build()
		if err != nil {
			return err
		}
		items = append(items, txItem{"guard", types.TransactWriteItem{Delete: &types.Delete{
			TableName: &s.tables.Users, Key: userKey(key),
			ConditionExpression: owned.Condition(), ExpressionAttributeNames: owned.Names(),
			ExpressionAttributeValues: owned.Values(),
		}}})
	}
	for _, sid := range u.Sessions.IDs(time.Time{}) {
		if len(items) == maxTxItems {
			break // the rest expire by TTL: a session its user does not list is over
		}
		items = append(items, txItem{"session", types.TransactWriteItem{Delete: &types.Delete{
			TableName: &s.tables.Users, Key: userKey(sessionPrefix + sid),
		}}})
	}
	err = s.transact(ctx, "DeleteUser", items...)
	var c *canceled
	switch {
	case errors.As(err, &c) && c.failed("user") && c.item("user") == nil:
		return core.ErrNotFound
	case errors.As(err, &c) && c.failed("user"):
		return core.ErrPrecondition
	case errors.As(err, &c) && c.failed("guard"):
		// The address is someone else's already: remove the user alone.
		return s.deleteUserItem(ctx, id, cond)
	}
	return err
}

func (s *Store) deleteUserItem(ctx context.Context, id string, cond expression.Expression) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.tables.Users, Key: userKey(id),
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(),
		ExpressionAttributeValues:           cond.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if ccf, ok := conditionFailed(err); ok {
		if ccf.Item == nil {
			return core.ErrNotFound
		}
		return core.ErrPrecondition
	}
	if err != nil {
		return s.fail("DeleteUser", err)
	}
	return nil
}
