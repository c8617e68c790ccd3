package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskapi/taskapi/core"
)

// ReserveUserNumbers adds n to the sequence item: an atomic counter, so
// concurrent reservations never share a number.
func (s *Store) ReserveUserNumbers(ctx context.Context, n int) (uint64, error) {
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Add(expression.Name(attrValue), expression.Value(n))).
		Build()
	if err != nil {
		return 0, err
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.tables.Users,
		Key:                       userKey(userSequenceKey),
		UpdateExpression:          expr.Update(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, s.fail("ReserveUserNumbers", err)
	}
	var seq struct {
		Value uint64 `dynamodbav:"value"`
	}
	if err := attributevalue.UnmarshalMap(out.Attributes, &seq); err != nil || seq.Value < uint64(n) {
		return 0, fmt.Errorf("dynamo: ReserveUserNumbers: bad sequence value %v: %w", out.Attributes[attrValue], err)
	}
	return seq.Value - uint64(n) + 1, nil
}

func absent(attr string) (expression.Expression, error) {
	return expression.NewBuilder().WithCondition(expression.Name(attr).AttributeNotExists()).Build()
}

func putIfAbsent(table string, item map[string]types.AttributeValue, attr string) (types.TransactWriteItem, error) {
	cond, err := absent(attr)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: &table, Item: item,
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(),
	}}, nil
}

// CreateUser stores u together with the guard item that reserves its email
// key (and counts it if it is an active admin), in one transaction.
func (s *Store) CreateUser(ctx context.Context, u core.User) (core.User, error) {
	item, err := attributevalue.MarshalMap(toUserItem(u))
	if err != nil {
		return core.User{}, fmt.Errorf("dynamo: CreateUser: %w", err)
	}
	zero := &types.AttributeValueMemberN{Value: "0"}
	for _, st := range core.TaskStatuses {
		item[counter(st)] = zero
	}
	item[attrTaskCount] = zero
	key := guardKey(u.Email.Key())
	if !validKey(key) {
		return core.User{}, fmt.Errorf("dynamo: CreateUser: unusable email key")
	}
	guard, err := attributevalue.MarshalMap(guardItem{Key: key, Owner: u.ID})
	if err != nil {
		return core.User{}, fmt.Errorf("dynamo: CreateUser: %w", err)
	}
	putUser, err := putIfAbsent(s.tables.Users, item, attrUserID)
	if err != nil {
		return core.User{}, err
	}
	putGuard, err := putIfAbsent(s.tables.Users, guard, attrUserID)
	if err != nil {
		return core.User{}, err
	}
	items := []txItem{{"user", putUser}, {"guard", putGuard}}
	if u.IsAdmin() && u.IsActive() {
		count, err := s.adminCount(1, false)
		if err != nil {
			return core.User{}, err
		}
		items = append(items, txItem{"admins", count})
	}
	for range maxWriteAttempts {
		err = s.transact(ctx, "CreateUser", items...)
		var c *canceled
		switch {
		case errors.As(err, &c) && (c.failed("user") || c.failed("guard")):
			return core.User{}, core.ErrConflict
		case errors.As(err, &c) && c.failed("admins"):
			if err := s.countAdmins(ctx); err != nil {
				return core.User{}, err
			}
			continue
		case err != nil:
			return core.User{}, err
		}
		// What was stored, as it reads back (times in UTC).
		return toUserItem(u).user()
	}
	return core.User{}, errContention("CreateUser", maxWriteAttempts)
}

// GetUser returns user id (a strongly consistent read) or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (core.User, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.tables.Users, Key: userKey(id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return core.User{}, s.fail("GetUser", err)
	}
	if out.Item == nil || out.Item[attrEmail] == nil { // guards and counters have no email
		return core.User{}, core.ErrNotFound
	}
	return decodeUser(out.Item)
}

// GetUserByEmail reads the key's guard item, then its owner: two strongly
// consistent reads, so a user can log in right after registering (the
// email-index GSI would be eventually consistent).
func (s *Store) GetUserByEmail(ctx context.Context, key core.EmailKey) (core.User, error) {
	if key == "" || !validKey(guardKey(key)) {
		return core.User{}, core.ErrNotFound
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.tables.Users, Key: userKey(guardKey(key)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return core.User{}, s.fail("GetUserByEmail", err)
	}
	var g guardItem
	if err := attributevalue.UnmarshalMap(out.Item, &g); err != nil {
		return core.User{}, fmt.Errorf("dynamo: GetUserByEmail: decode guard: %w", err)
	}
	if g.Owner == "" {
		return core.User{}, core.ErrNotFound
	}
	u, err := s.GetUser(ctx, g.Owner)
	if err != nil {
		return core.User{}, err
	}
	if u.Email.Key() != key {
		// The owner changed email between the two reads.
		return core.User{}, core.ErrNotFound
	}
	return u, nil
}

// UpdateUser applies p to user id. A change of username or password hash
// alone is one conditional UpdateItem. A change of email, role or status
// reads the user first, then writes in one transaction conditioned on what
// was read: the user, the email guards it moves, and the active-admin
// counter it moves (on condition that another active admin remains, with
// p.KeepActiveAdmin); it starts again if the user changed meanwhile.
func (s *Store) UpdateUser(ctx context.Context, id string, p core.UserPatch) (core.User, error) {
	if p.Email == nil && p.Role == nil && p.ActivationStatus == nil && p.EndSessionsAt.IsZero() && p.MarkDeleted.IsZero() {
		return s.updateUserItem(ctx, id, userSet(p))
	}
	for range maxWriteAttempts {
		cur, err := s.GetUser(ctx, id)
		if err != nil {
			return core.User{}, err
		}
		u, err := s.updateUserTx(ctx, cur, p)
		if !errors.Is(err, errRetry) {
			return u, err
		}
	}
	return core.User{}, errContention("UpdateUser", maxWriteAttempts)
}

// errRetry says the optimistic write lost a race and should be redone.
var errRetry = errors.New("dynamo: concurrent change, retry")

// userSet returns a fresh SET clause for the fields p sets, nil for none
// (builders share their operation list, so one must never be extended
// twice).
func userSet(p core.UserPatch) *expression.UpdateBuilder {
	var set *expression.UpdateBuilder
	add := func(name string, v any) {
		if set == nil {
			b := expression.Set(expression.Name(name), expression.Value(v))
			set = &b
			return
		}
		*set = set.Set(expression.Name(name), expression.Value(v))
	}
	if p.Username != nil {
		add("username", string(*p.Username))
	}
	if p.PasswordHash != nil {
		add(attrPassword, *p.PasswordHash)
		*set = set.Remove(expression.Name(attrReset)) // a new password is the reset
	}
	if p.Role != nil {
		add("role", string(*p.Role))
	}
	if p.ActivationStatus != nil {
		add("activation_status", string(*p.ActivationStatus))
	}
	if p.Email != nil {
		add(attrEmail, string(*p.Email))
	}
	if !p.MarkDeleted.IsZero() {
		add(attrDeletedAt, formatTime(p.MarkDeleted))
	}
	return set
}

// updateUserItem applies set to user id, if it exists.
func (s *Store) updateUserItem(ctx context.Context, id string, set *expression.UpdateBuilder) (core.User, error) {
	if set == nil {
		return s.GetUser(ctx, id)
	}
	expr, err := expression.NewBuilder().WithUpdate(*set).WithCondition(expression.Name(attrEmail).AttributeExists()).Build()
	if err != nil {
		return core.User{}, err
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.tables.Users,
		Key:                       userKey(id),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ReturnValues:              types.ReturnValueAllNew,
	})
	if _, ok := conditionFailed(err); ok {
		return core.User{}, core.ErrNotFound
	}
	if err != nil {
		return core.User{}, s.fail("UpdateUser", err)
	}
	return decodeUser(out.Attributes)
}

// updateUserTx writes p over cur in one transaction conditioned on cur
// being current (errRetry otherwise).
func (s *Store) updateUserTx(ctx context.Context, cur core.User, p core.UserPatch) (core.User, error) {
	after := p.Apply(cur)
	set := userSet(p)
	if !p.EndSessionsAt.IsZero() {
		b := expression.Set(expression.Name(attrSessions), expression.Value(after.Sessions.Encode()))
		if set != nil {
			b = set.Set(expression.Name(attrSessions), expression.Value(after.Sessions.Encode()))
		}
		set = &b
	}
	if cur.DuplicateEmail && !after.DuplicateEmail && set != nil {
		*set = set.Remove(expression.Name(attrDuplicate))
	}
	if set == nil {
		return cur, nil
	}
	asRead := expression.And(
		expression.Name(attrEmail).Equal(expression.Value(string(cur.Email))),
		expression.Name("role").Equal(expression.Value(string(cur.Role))),
		expression.Name("activation_status").Equal(expression.Value(string(cur.ActivationStatus))),
	)
	userExpr, err := expression.NewBuilder().WithUpdate(*set).WithCondition(asRead).Build()
	if err != nil {
		return core.User{}, err
	}
	items := []txItem{{"user", types.TransactWriteItem{Update: &types.Update{
		TableName: &s.tables.Users, Key: userKey(cur.ID),
		UpdateExpression: userExpr.Update(), ConditionExpression: userExpr.Condition(),
		ExpressionAttributeNames: userExpr.Names(), ExpressionAttributeValues: userExpr.Values(),
	}}}}
	if oldKey, newKey := cur.Email.Key(), after.Email.Key(); oldKey != newKey {
		if !validKey(guardKey(newKey)) {
			return core.User{}, fmt.Errorf("dynamo: UpdateUser: unusable email key")
		}
		// A missing old guard (never expected) is no reason to refuse.
		oldGuard, err := expression.NewBuilder().WithCondition(expression.Or(
			expression.Name(attrOwner).Equal(expression.Value(cur.ID)),
			expression.Name(attrUserID).AttributeNotExists(),
		)).Build()
		if err != nil {
			return core.User{}, err
		}
		guard, err := attributevalue.MarshalMap(guardItem{Key: guardKey(newKey), Owner: cur.ID})
		if err != nil {
			return core.User{}, err
		}
		putGuard, err := putIfAbsent(s.tables.Users, guard, attrUserID)
		if err != nil {
			return core.User{}, err
		}
		if !cur.DuplicateEmail { // a duplicate's old address is its elder's
			items = append(items, txItem{"oldGuard", types.TransactWriteItem{Delete: &types.Delete{
				TableName: &s.tables.Users, Key: userKey(guardKey(oldKey)),
				ConditionExpression: oldGuard.Condition(), ExpressionAttributeNames: oldGuard.Names(),
				ExpressionAttributeValues: oldGuard.Values(),
			}}})
		}
		items = append(items, txItem{"newGuard", putGuard})
	}
	wasActiveAdmin, isActiveAdmin := cur.IsAdmin() && cur.IsActive(), after.IsAdmin() && after.IsActive()
	if wasActiveAdmin != isActiveAdmin {
		delta := 1
		if wasActiveAdmin {
			delta = -1
		}
		count, err := s.adminCount(delta, delta < 0 && p.KeepActiveAdmin)
		if err != nil {
			return core.User{}, err
		}
		items = append(items, txItem{"admins", count})
	}
	if !p.EndSessionsAt.IsZero() {
		for _, sid := range cur.Sessions.IDs(time.Time{}) {
			items = append(items, txItem{"ended", types.TransactWriteItem{Delete: &types.Delete{
				TableName: &s.tables.Users, Key: userKey(sessionKey(sid)),
			}}})
		}
	}
	err = s.transact(ctx, "UpdateUser", items...)
	var c *canceled
	switch {
	case errors.As(err, &c) && (c.failed("user") || c.failed("oldGuard")):
		return core.User{}, errRetry // the user changed (or vanished) since we read it
	case errors.As(err, &c) && c.failed("newGuard"):
		return core.User{}, core.ErrConflict
	case errors.As(err, &c) && c.failed("admins") && c.item("admins") == nil:
		if err := s.countAdmins(ctx); err != nil {
			return core.User{}, err
		}
		return core.User{}, errRetry
	case errors.As(err, &c) && c.failed("admins"):
		return core.User{}, core.ErrPrecondition
	case err != nil:
		return core.User{}, err
	}
	return toUserItem(after).user()
}

// adminCount is the transaction item that adds delta to the active-admin
// counter, on condition that the counter exists (countAdmins makes it) and,
// with keepOne, that another active admin remains.
func (s *Store) adminCount(delta int, keepOne bool) (types.TransactWriteItem, error) {
	cond := expression.Name(attrActive).AttributeExists()
	if keepOne {
		cond = expression.Name(attrActive).GreaterThan(expression.Value(1))
	}
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Add(expression.Name(attrActive), expression.Value(delta))).
		WithCondition(cond).
		Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.tables.Users, Key: userKey(adminCounterKey),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}, nil
}

// countAdmins creates the active-admin counter from a scan of the users,
// once: tables written before the counter existed (or by the legacy app)
// get it on the first admin change. `taskapi verify` checks it.
func (s *Store) countAdmins(ctx context.Context) error {
	filter, err := expression.NewBuilder().WithFilter(expression.And(
		expression.Name(attrEmail).AttributeExists(),
		expression.Name("role").Equal(expression.Value(string(core.RoleAdmin))),
		expression.Name("activation_status").Equal(expression.Value(string(core.ActivationActive))),
	)).Build()
	if err != nil {
		return err
	}
	n := 0
	var start map[string]types.AttributeValue
	for {
		out, err := s.db.Scan(ctx, &dynamodb.ScanInput{
			TableName: &s.tables.Users, FilterExpression: filter.Filter(),
			ExpressionAttributeNames: filter.Names(), ExpressionAttributeValues: filter.Values(),
			ExclusiveStartKey: start, ConsistentRead: aws.Bool(true), Select: types.SelectCount,
		})
		if err != nil {
			return s.fail("countAdmins", err)
		}
		n += int(out.Count)
		if start = out.LastEvaluatedKey; start == nil {
			break
		}
	}
	cond, err := absent(attrUserID)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &s.tables.Users,
		Item:                map[string]types.AttributeValue{attrUserID: str(adminCounterKey), attrActive: &types.AttributeValueMemberN{Value: fmt.Sprint(n)}},
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(),
	})
	if _, ok := conditionFailed(err); ok {
		return nil // another writer made it first
	}
	return s.fail("countAdmins", err)
}

// ListUsers returns up to limit users after the one with ID after, in the
// table's scan order (stable: the order of the partition key's hash). It
// scans pages with a strongly consistent read, skipping the items that are
// not users (guards, counters), until it has limit+1 users (to know
// whether more follow) or the table ends.
func (s *Store) ListUsers(ctx context.Context, after string, limit int) ([]core.User, bool, error) {
	var start map[string]types.AttributeValue
	if after != "" {
		start = userKey(after)
	}
	expr, err := expression.NewBuilder().WithFilter(expression.Name(attrEmail).AttributeExists()).Build()
	if err != nil {
		return nil, false, err
	}
	want := limit + 1
	users := make([]core.User, 0, min(want, 128))
	for {
		// Guards are about as many as users: read about twice what is missing.
		out, err := s.db.Scan(ctx, &dynamodb.ScanInput{
			TableName:                &s.tables.Users,
			FilterExpression:         expr.Filter(),
			ExpressionAttributeNames: expr.Names(),
			ExclusiveStartKey:        start,
			Limit:                    aws.Int32(int32(min(2*(want-len(users))+1, 1000))),
			ConsistentRead:           aws.Bool(true),
		})
		if err != nil {
			return nil, false, s.fail("ListUsers", err)
		}
		for _, av := range out.Items {
			u, err := decodeUser(av)
			if err != nil {
				return nil, false, err
			}
			users = append(users, u)
		}
		start = out.LastEvaluatedKey
		if len(users) >= want || start == nil {
			break
		}
	}
	if len(users) > limit {
		return users[:limit], true, nil
	}
	return users, false, nil
}
