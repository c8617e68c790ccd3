package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskapi/taskapi/core"
)

// nextUserSeq takes the next number of the user id sequence: an atomic
// counter, so concurrent registrations never share one. A number burned by
// a registration that then fails is simply skipped.
func (s *Store) nextUserSeq(ctx context.Context) (uint64, error) {
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Add(expression.Name(attrValue), expression.Value(1))).
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
		return 0, s.fail("CreateUser: next id", err)
	}
	var seq struct {
		Value uint64 `dynamodbav:"value"`
	}
	if err := attributevalue.UnmarshalMap(out.Attributes, &seq); err != nil || seq.Value == 0 {
		return 0, fmt.Errorf("dynamo: CreateUser: bad sequence value %v: %w", out.Attributes[attrValue], err)
	}
	return seq.Value, nil
}

// CreateUser stores u as "VAH" + the next sequence number, together with
// the guard item that reserves its email, in one transaction.
func (s *Store) CreateUser(ctx context.Context, u core.User) (core.User, error) {
	u.Email = strings.ToLower(u.Email)
	if !validKey(emailGuardPrefix + u.Email) {
		return core.User{}, invalid("email is required")
	}
	if err := ctx.Err(); err != nil {
		return core.User{}, err // do not burn a sequence number
	}
	n, err := s.nextUserSeq(ctx)
	if err != nil {
		return core.User{}, err
	}
	u.ID = userIDPrefix + strconv.FormatUint(n, 10)
	item, err := attributevalue.MarshalMap(toUserItem(u))
	if err != nil {
		return core.User{}, fmt.Errorf("dynamo: CreateUser: %w", err)
	}
	guard, err := attributevalue.MarshalMap(guardItem{Key: emailGuardPrefix + u.Email, Owner: u.ID})
	if err != nil {
		return core.User{}, fmt.Errorf("dynamo: CreateUser: %w", err)
	}
	absent, err := expression.NewBuilder().WithCondition(expression.Name(attrUserID).AttributeNotExists()).Build()
	if err != nil {
		return core.User{}, err
	}
	err = s.transact(ctx, "CreateUser",
		types.TransactWriteItem{Put: &types.Put{
			TableName: &s.tables.Users, Item: item,
			ConditionExpression: absent.Condition(), ExpressionAttributeNames: absent.Names(),
		}},
		types.TransactWriteItem{Put: &types.Put{
			TableName: &s.tables.Users, Item: guard,
			ConditionExpression: absent.Condition(), ExpressionAttributeNames: absent.Names(),
		}},
	)
	var c *canceled
	switch {
	case errors.As(err, &c) && c.failed(1):
		return core.User{}, errEmailTaken
	case err != nil:
		return core.User{}, err
	}
	// What was stored, as it reads back (times in UTC).
	stored, err := toUserItem(u).user()
	if err != nil {
		return core.User{}, err
	}
	return stored, nil
}

// GetUser returns user id (a strongly consistent read) or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (core.User, error) {
	if !validUserID(id) {
		return core.User{}, errUserNotFound
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.tables.Users, Key: userKey(id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return core.User{}, s.fail("GetUser", err)
	}
	if out.Item == nil || out.Item[attrEmail] == nil {
		return core.User{}, errUserNotFound
	}
	return decodeUser(out.Item)
}

// GetUserByEmail reads the email's guard item, then its owner: two strongly
// consistent reads, so a user can log in right after registering (the
// email-index GSI would be eventually consistent).
func (s *Store) GetUserByEmail(ctx context.Context, email string) (core.User, error) {
	email = strings.ToLower(email)
	if email == "" || !validKey(emailGuardPrefix+email) {
		return core.User{}, errUserNotFound
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.tables.Users, Key: userKey(emailGuardPrefix + email), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return core.User{}, s.fail("GetUserByEmail", err)
	}
	var g guardItem
	if err := attributevalue.UnmarshalMap(out.Item, &g); err != nil {
		return core.User{}, fmt.Errorf("dynamo: GetUserByEmail: decode guard: %w", err)
	}
	if g.Owner == "" {
		return core.User{}, errUserNotFound
	}
	u, err := s.GetUser(ctx, g.Owner)
	if err != nil {
		return core.User{}, err
	}
	if u.Email != email {
		// The owner changed email between the two reads.
		return core.User{}, errUserNotFound
	}
	return u, nil
}

// UpdateUser applies p to user id. Without an email change it is one
// conditional UpdateItem; an email change also moves the guard item, in one
// transaction with the user, retried if the user changed meanwhile.
func (s *Store) UpdateUser(ctx context.Context, id string, p core.UserPatch) (core.User, error) {
	if !validUserID(id) {
		return core.User{}, errUserNotFound
	}
	var newEmail string
	if p.Email != nil {
		newEmail = strings.ToLower(*p.Email)
		if !validKey(emailGuardPrefix + newEmail) {
			return core.User{}, invalid("email is required")
		}
	}
	fields := []struct {
		name string
		v    *string
	}{
		{"username", p.Username}, {"password", p.PasswordHash},
		{"role", (*string)(p.Role)}, {"activation_status", (*string)(p.ActivationStatus)},
	}
	// newSet returns a fresh builder each time: builders share their
	// operation list, so one must never be extended twice.
	newSet := func() (expression.UpdateBuilder, int) {
		var (
			set expression.UpdateBuilder
			n   int
		)
		for _, f := range fields {
			if f.v != nil {
				set = set.Set(expression.Name(f.name), expression.Value(*f.v))
				n++
			}
		}
		return set, n
	}

	if p.Email == nil {
		set, n := newSet()
		return s.updateUserItem(ctx, id, set, n, "")
	}
	for range maxWriteAttempts {
		cur, err := s.GetUser(ctx, id)
		if err != nil {
			return core.User{}, err
		}
		var u core.User
		set, n := newSet()
		switch {
		case cur.Email == newEmail && n == 0:
			return cur, nil
		case cur.Email == newEmail:
			u, err = s.updateUserItem(ctx, id, set, n, newEmail)
		default:
			u, err = s.moveEmail(ctx, cur, newEmail, set)
		}
		if !errors.Is(err, errRetry) {
			return u, err
		}
	}
	return core.User{}, errContention("UpdateUser")
}

// errRetry says the optimistic write lost a race and should be redone.
var errRetry = errors.New("dynamo: concurrent change, retry")

// updateUserItem applies set (n fields) to user id, if it exists; with
// email, only if that is still the user's email (else errRetry).
func (s *Store) updateUserItem(ctx context.Context, id string, set expression.UpdateBuilder, n int, email string) (core.User, error) {
	if n == 0 {
		return s.GetUser(ctx, id)
	}
	cond := expression.Name(attrEmail).AttributeExists()
	if email != "" {
		cond = expression.Name(attrEmail).Equal(expression.Value(email))
	}
	expr, err := expression.NewBuilder().WithUpdate(set).WithCondition(cond).Build()
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
		if email != "" {
			return core.User{}, errRetry
		}
		return core.User{}, errUserNotFound
	}
	if err != nil {
		return core.User{}, s.fail("UpdateUser", err)
	}
	return decodeUser(out.Attributes)
}

// moveEmail changes cur's email to email, with the rest of set, in one
// transaction: update the user if its email is still cur's, drop the old
// guard, reserve the new one.
func (s *Store) moveEmail(ctx context.Context, cur core.User, email string, set expression.UpdateBuilder) (core.User, error) {
	userExpr, err := expression.NewBuilder().
		WithUpdate(set.Set(expression.Name(attrEmail), expression.Value(email))).
		WithCondition(expression.Name(attrEmail).Equal(expression.Value(cur.Email))).
		Build()
	if err != nil {
		return core.User{}, err
	}
	// A missing old guard (never expected) is no reason to refuse.
	oldGuard, err := expression.NewBuilder().WithCondition(expression.Or(
		expression.Name(attrOwner).Equal(expression.Value(cur.ID)),
		expression.Name(attrUserID).AttributeNotExists(),
	)).Build()
	if err != nil {
		return core.User{}, err
	}
	absent, err := expression.NewBuilder().WithCondition(expression.Name(attrUserID).AttributeNotExists()).Build()
	if err != nil {
		return core.User{}, err
	}
	guard, err := attributevalue.MarshalMap(guardItem{Key: emailGuardPrefix + email, Owner: cur.ID})
	if err != nil {
		return core.User{}, err
	}
	err = s.transact(ctx, "UpdateUser",
		types.TransactWriteItem{Update: &types.Update{
			TableName: &s.tables.Users, Key: userKey(cur.ID),
			UpdateExpression: userExpr.Update(), ConditionExpression: userExpr.Condition(),
			ExpressionAttributeNames: userExpr.Names(), ExpressionAttributeValues: userExpr.Values(),
		}},
		types.TransactWriteItem{Delete: &types.Delete{
			TableName: &s.tables.Users, Key: userKey(emailGuardPrefix + cur.Email),
			ConditionExpression: oldGuard.Condition(), ExpressionAttributeNames: oldGuard.Names(),
			ExpressionAttributeValues: oldGuard.Values(),
		}},
		types.TransactWriteItem{Put: &types.Put{
			TableName: &s.tables.Users, Item: guard,
			ConditionExpression: absent.Condition(), ExpressionAttributeNames: absent.Names(),
		}},
	)
	var c *canceled
	switch {
	case errors.As(err, &c) && (c.failed(0) || c.failed(1)):
		return core.User{}, errRetry // the user changed (or vanished) since we read it
	case errors.As(err, &c) && c.failed(2):
		return core.User{}, errEmailTaken
	case err != nil:
		return core.User{}, err
	}
	return s.GetUser(ctx, cur.ID)
}

// ListUsers returns up to limit users after the one with ID after, in the
// table's scan order (stable: the order of the partition key's hash). It
// scans pages with a strongly consistent read, skipping guard and sequence
// items, until it has limit+1 users (to know whether more follow) or the
// table ends.
func (s *Store) ListUsers(ctx context.Context, after string, limit int) ([]core.User, bool, error) {
	if limit <= 0 {
		return nil, false, invalid("limit must be positive")
	}
	var start map[string]types.AttributeValue
	if after != "" {
		if !validKey(after) {
			return nil, false, invalid("invalid user position")
		}
		start = userKey(after)
	}
	expr, err := expression.NewBuilder().WithFilter(expression.And(
		expression.Name(attrUserID).BeginsWith(userIDPrefix),
		expression.Name(attrEmail).AttributeExists(),
	)).Build()
	if err != nil {
		return nil, false, err
	}
	want := limit + 1
	users := make([]core.User, 0, min(want, 128))
	for {
		// Guards are about as many as users: read about twice what is missing.
		out, err := s.db.Scan(ctx, &dynamodb.ScanInput{
			TableName:                 &s.tables.Users,
			FilterExpression:          expr.Filter(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
			ExclusiveStartKey:         start,
			Limit:                     aws.Int32(int32(min(2*(want-len(users))+1, 1000))),
			ConsistentRead:            aws.Bool(true),
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
