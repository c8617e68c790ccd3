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

// Sessions live in USERS_TABLE as items keyed "SESSION#<id>" (no email
// attribute: never listed as users), with expires_at as the table's TTL
// attribute, so DynamoDB removes ended sessions by itself. The user item's
// sessions attribute (core.SessionSet) says which are live.

type sessionItem struct {
	Key         string `dynamodbav:"user_id"` // sessionPrefix + id
	Owner       string `dynamodbav:"owner"`
	CreatedAt   string `dynamodbav:"created_at"`
	LastUsedAt  string `dynamodbav:"last_used_at"`
	ValidUntil  string `dynamodbav:"valid_until"` // absolute end
	UserAgent   string `dynamodbav:"user_agent"`
	IPAddress   string `dynamodbav:"ip_address"`
	RefreshHash string `dynamodbav:"refresh_hash"`
	ExpiresAt   int64  `dynamodbav:"expires_at"` // Unix seconds: TTL
}

func sessionKey(id string) string { return sessionPrefix + id }

func toSessionItem(s core.Session, ttl int64) sessionItem {
	return sessionItem{
		Key: sessionKey(s.ID), Owner: s.UserID, CreatedAt: formatTime(s.CreatedAt), LastUsedAt: formatTime(s.LastUsedAt),
		ValidUntil: formatTime(s.ExpiresAt), UserAgent: s.UserAgent, IPAddress: s.IPAddress, RefreshHash: s.RefreshHash,
		ExpiresAt: ttl,
	}
}

func (it sessionItem) session() (core.Session, error) {
	var s core.Session
	var err error
	s.ID, s.UserID, s.UserAgent, s.IPAddress, s.RefreshHash = it.Key[len(sessionPrefix):], it.Owner, it.UserAgent, it.IPAddress, it.RefreshHash
	if s.CreatedAt, err = parseTime(it.CreatedAt); err == nil {
		if s.LastUsedAt, err = parseTime(it.LastUsedAt); err == nil {
			s.ExpiresAt, err = parseTime(it.ValidUntil)
		}
	}
	if err != nil {
		return core.Session{}, fmt.Errorf("dynamo: session %s: bad time: %w", s.ID, err)
	}
	return s, nil
}

func decodeSession(av map[string]types.AttributeValue) (core.Session, error) {
	var it sessionItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil || len(it.Key) <= len(sessionPrefix) || it.Owner == "" {
		return core.Session{}, fmt.Errorf("dynamo: decode session: %v", err)
	}
	return it.session()
}

// WriteSessions applies w in one transaction conditioned on the user's set
// being the one w.Change saw: the user item (sessions), the record put (on
// condition of its refresh hash, with w.IfHash) and the records of ended
// sessions deleted. It starts again from a fresh read if the set changed.
func (s *Store) WriteSessions(ctx context.Context, userID string, w core.SessionWrite) (core.SessionSet, error) {
	var cur core.User
	known := w.Current != nil
	if known {
		cur.Sessions = *w.Current
	}
	for range maxWriteAttempts {
		if !known {
			var err error
			if cur, err = s.GetUser(ctx, userID); err != nil {
				return core.SessionSet{}, err
			}
		}
		known = false
		set, ended := w.Change(cur.Sessions)
		err := s.writeSessions(ctx, userID, cur.Sessions, set, ended, w)
		if !errors.Is(err, errRetry) {
			return set, err
		}
	}
	return core.SessionSet{}, errContention("WriteSessions", maxWriteAttempts)
}

func (s *Store) writeSessions(ctx context.Context, userID string, was, set core.SessionSet, ended []string, w core.SessionWrite) error {
	cond := expression.Name(attrEmail).AttributeExists()
	if was.Encode() == "" {
		cond = cond.And(expression.Or(
			expression.Name(attrSessions).AttributeNotExists(),
			expression.Name(attrSessions).Equal(expression.Value("")),
		))
	} else {
		cond = cond.And(expression.Name(attrSessions).Equal(expression.Value(was.Encode())))
	}
	userExpr, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name(attrSessions), expression.Value(set.Encode()))).
		WithCondition(cond).Build()
	if err != nil {
		return err
	}
	items := []txItem{{"user", types.TransactWriteItem{Update: &types.Update{
		TableName: &s.tables.Users, Key: userKey(userID),
		UpdateExpression: userExpr.Update(), ConditionExpression: userExpr.Condition(),
		ExpressionAttributeNames: userExpr.Names(), ExpressionAttributeValues: userExpr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}}
	if expiry, ok := set.Until(putID(w)); ok {
		item, err := attributevalue.MarshalMap(toSessionItem(*w.Put, expiry.Unix()))
		if err != nil {
			return err
		}
		put := &types.Put{TableName: &s.tables.Users, Item: item}
		if w.IfHash != "" {
			c, err := expression.NewBuilder().WithCondition(expression.Name("refresh_hash").Equal(expression.Value(w.IfHash))).Build()
			if err != nil {
				return err
			}
			put.ConditionExpression, put.ExpressionAttributeNames, put.ExpressionAttributeValues = c.Condition(), c.Names(), c.Values()
			put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		}
		items = append(items, txItem{"session", types.TransactWriteItem{Put: put}})
	}
	for _, id := range ended {
		if w.Put != nil && id == w.Put.ID {
			continue
		}
		items = append(items, txItem{"ended", types.TransactWriteItem{Delete: &types.Delete{
			TableName: &s.tables.Users, Key: userKey(sessionKey(id)),
		}}})
	}
	err = s.transact(ctx, "WriteSessions", items...)
	var c *canceled
	switch {
	case errors.As(err, &c) && c.failed("user") && c.item("user") == nil:
		return core.ErrNotFound
	case errors.As(err, &c) && c.failed("user"):
		return errRetry
	case errors.As(err, &c) && c.failed("session") && c.item("session") == nil:
		return core.ErrNotFound
	case errors.As(err, &c) && c.failed("session"):
		return core.ErrPrecondition
	case err != nil:
		return err
	}
	return nil
}

func putID(w core.SessionWrite) string {
	if w.Put == nil {
		return ""
	}
	return w.Put.ID
}

// GetSession returns session id's record (a strongly consistent read).
func (s *Store) GetSession(ctx context.Context, id string) (core.Session, error) {
	if !validKey(sessionKey(id)) {
		return core.Session{}, core.ErrNotFound
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.tables.Users, Key: userKey(sessionKey(id)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return core.Session{}, s.fail("GetSession", err)
	}
	if out.Item == nil || out.Item[attrOwner] == nil {
		return core.Session{}, core.ErrNotFound
	}
	return decodeSession(out.Item)
}

// GetSessions reads the records of sessions ids in one BatchGetItem (ids
// are at most core.MaxSessionsPerUser, well under its 100 keys).
func (s *Store) GetSessions(ctx context.Context, ids []string) ([]core.Session, error) {
	if len(ids) == 0 {
		return []core.Session{}, nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, userKey(sessionKey(id)))
	}
	byID := map[string]core.Session{}
	pending := map[string]types.KeysAndAttributes{s.tables.Users: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return nil, s.fail("GetSessions", err)
			}
		}
		if attempt == maxWriteAttempts {
			return nil, errContention("GetSessions", maxWriteAttempts)
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			return nil, s.fail("GetSessions", err)
		}
		for _, av := range out.Responses[s.tables.Users] {
			sess, err := decodeSession(av)
			if err != nil {
				return nil, err
			}
			byID[sess.ID] = sess
		}
		pending = out.UnprocessedKeys
	}
	list := make([]core.Session, 0, len(ids))
	for _, id := range ids {
		if sess, ok := byID[id]; ok {
			list = append(list, sess)
		}
	}
	return list, nil
}
