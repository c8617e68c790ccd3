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

// maxRaceAttempts bounds the retries of a task write that lost a race (the
// task changed between the read and the conditional write). Losing means
// another writer won, so the crowd makes progress; each retry is one round
// trip after a short jittered pause (raceBackoff), and with 200 writers on
// one task nearly all get through (TestContendedStatusChanges).
const maxRaceAttempts = 100

// raceBackoff is the pause before retry number attempt of a lost race: full
// jitter below a ceiling that grows to 40 ms. Shorter than backoff's:
// the winner has already written, so there is nothing to wait out but the
// other losers.
func raceBackoff(attempt int) time.Duration {
	ceiling := min(2*time.Millisecond<<min(attempt, 5), 40*time.Millisecond)
	return time.Duration(rand.Int64N(int64(ceiling)))
}

// txItem is one item of a transaction, named so that a cancellation's
// reasons (which DynamoDB lists by position) are read by what they concern.
type txItem struct {
	name string
	item types.TransactWriteItem
}

// canceled is a transaction DynamoDB cancelled because the condition of at
// least one item failed; nothing of it was written.
type canceled struct {
	op      string
	names   []string // of the items, in order
	reasons []types.CancellationReason
}

func (c *canceled) Error() string {
	codes := make([]string, len(c.reasons))
	for i, r := range c.reasons {
		name := "?"
		if i < len(c.names) {
			name = c.names[i]
		}
		codes[i] = name + "=" + aws.ToString(r.Code)
	}
	return "dynamo: " + c.op + ": transaction canceled: [" + strings.Join(codes, " ") + "]"
}

func (c *canceled) reason(name string) (types.CancellationReason, bool) {
	for i, n := range c.names {
		if n == name && i < len(c.reasons) {
			return c.reasons[i], true
		}
	}
	return types.CancellationReason{}, false
}

// failed reports whether the condition of the item named name failed.
func (c *canceled) failed(name string) bool {
	r, ok := c.reason(name)
	return ok && aws.ToString(r.Code) == "ConditionalCheckFailed"
}

// item returns the item named name as it was when its condition failed, if
// DynamoDB returned it (ReturnValuesOnConditionCheckFailure ALL_OLD and it
// existed).
func (c *canceled) item(name string) map[string]types.AttributeValue {
	r, _ := c.reason(name)
	return r.Item
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
func (s *Store) transact(ctx context.Context, op string, named ...txItem) error {
	items := make([]types.TransactWriteItem, len(named))
	names := make([]string, len(named))
	for i, n := range named {
		items[i], names[i] = n.item, n.name
	}
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
		c := &canceled{op: op, names: names, reasons: tce.CancellationReasons}
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
func errContention(op string, attempts int) error {
	return contention(fmt.Errorf("dynamo: %s: still contended after %d attempts", op, attempts))
}

func contention(cause error) error { return &core.Error{Code: core.CodeUnavailable, Err: cause} }
