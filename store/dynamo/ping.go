package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// pingKey names no user, guard, counter or task (ids and prefixes are
// upper-case letters, digits and '#'; this has lower case and '-').
const pingKey = "taskapi-ready-check"

// Ping reports whether both tables answer (for /readyz): a GetItem of a
// key that never exists on each. Why GetItem rather than DescribeTable:
// it needs only the permission serving needs (dynamodb:GetItem; the
// Lambda role may not describe tables), it goes through the data plane
// the requests use (DescribeTable is a control-plane call with its own,
// much lower, account-wide rate limit), and an eventually consistent read
// of an absent item costs 0.5 read capacity unit: /readyz caches its
// answer for a second, so two such reads per second per process at most.
// Errors are translated like every other call's (fail): ErrUnavailable
// for throttling, network failures, a missing table or credentials.
func (s *Store) Ping(ctx context.Context) error {
	for _, in := range []*dynamodb.GetItemInput{
		{TableName: &s.tables.Users, Key: userKey(pingKey), ProjectionExpression: &pingProjection},
		{TableName: &s.tables.Tasks, Key: taskKey(pingKey, pingKey), ProjectionExpression: &pingProjection},
	} {
		if _, err := s.db.GetItem(ctx, in); err != nil {
			return s.fail("Ping", err)
		}
	}
	return nil
}

// pingProjection asks for the key attribute only: nothing to decode.
var pingProjection = attrUserID
