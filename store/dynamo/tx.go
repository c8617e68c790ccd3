package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskapi/taskapi/core"
)

// maxWriteAttempts bounds the optimistic retries of one store write: conflicts
// with concurrent transactions, or a task whose status changed between the
// read and the write.
const maxWriteAttempts = 10

// canceled is a transaction DynamoDB cancelled because the condition of at
// least one item failed; nothing of it was written.
type canceled struct {
	op      string
	reasons []types.CancellationReason
}

func (c *canceled) Error() string {
	codes := make([]string, len(c.reasons))
	for i, r := range c.reasons {
		codes[i] = aws.ToString(r.Code)
	}
	return "dynamo: " + c.op + ": transaction canceled: [" + strings.Join(codes, " ") + "]"
}

// failed reports whether the condition of item i failed.
func (c *canceled) failed(i int) bool {
	return i < len(c.reasons) && aws.ToString(c.reasons[i].Code) == "ConditionalCheckFailed"
}

// item returns item i as it was when its condition failed, if DynamoDB
// returned it (ReturnValuesOnConditionCheckFailure ALL_OLD and it existed).
func (c *canceled) item(i int) map[string]types.AttributeValue {
	if i < len(c.reasons) {
		return c.reasons[i].Item
	}
	return nil
}

func (c *canceled) any(code string) bool {
	for _, r := range c.reasons {
		if aws.ToString(r.Code) == code {
			return true
		}
	}
	return false
}

// transact writes items in one transaction: all of them or none. A
// cancellation for failed conditions returns a *canceled; one caused by a
// conflicting transaction in flight, or throttling, is retried a bounded
// number of times with jittered backoff, then reported as unavailable.
// Every other error is already translated (see fail).
func (s *Store) transact(ctx context.Context, op string, items ...types.TransactWriteItem) error {
	for attempt := 1; ; attempt++ {
		// A fresh input each time: the SDK fills in a new idempotency token,
		// so a retried request is not mistaken for the cancelled one.
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return s.fail(op, err)
		}
		c := &canceled{op: op, reasons: tce.CancellationReasons}
		if c.any("ConditionalCheckFailed") {
			return c
		}
		if !c.any("TransactionConflict") && !c.any("ThrottlingError") && !c.any("ProvisionedThroughputExceeded") {
			return s.fail(op, err)
		}
		if attempt == maxWriteAttempts {
			return contention(fmt.Errorf("dynamo: %s: %d attempts: %w", op, attempt, err))
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return s.fail(op, err)
		}
	}
}

// backoff is the pause before retry number attempt: full jitter over an
// exponential ceiling, capped at 250ms.
func backoff(attempt int) time.Duration {
	ceiling := min(10*time.Millisecond<<min(attempt, 5), 250*time.Millisecond)
	return time.Duration(rand.Int64N(int64(ceiling))) + time.Millisecond
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errContention is returned when a write lost maxWriteAttempts races in a
// row: the caller may try again.
func errContention(op string) error {
	return contention(fmt.Errorf("dynamo: %s: still contended after %d attempts", op, maxWriteAttempts))
}

func contention(cause error) error {
	return &core.Error{Code: core.CodeUnavailable, Message: "Too many concurrent changes; try again", Err: cause}
}
