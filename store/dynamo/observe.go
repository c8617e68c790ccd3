package dynamo

import (
	"cmp"
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// Observer hears what DynamoDB reports of each operation: the capacity it
// consumed, per table, and each attempt it throttled (internal/metrics
// implements it). It must be safe for concurrent use.
type Observer interface {
	// DynamoDBConsumed reports the read or write units (RCU and WCU
	// together: DynamoDB's CapacityUnits) an operation consumed on table.
	DynamoDBConsumed(op, table string, units float64)
	// DynamoDBThrottled reports one attempt refused for throughput
	// (ThrottlingException, ProvisionedThroughputExceededException,
	// RequestLimitExceeded); the client retries it (NewClient).
	DynamoDBThrottled(op string)
}

// observeMiddleware asks every operation for its consumed capacity (the
// answer grows by a few bytes) and reports it, and each throttled attempt,
// to obs. It is installed only with an Observer: without one no operation
// asks.
func observeMiddleware(obs Observer) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		op := stack.ID()
		err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("TaskapiConsumedCapacity",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				askCapacity(in.Parameters)
				out, md, err := next.HandleInitialize(ctx, in)
				if err == nil {
					for _, c := range consumed(out.Result) {
						if c.TableName != nil && c.CapacityUnits != nil {
							obs.DynamoDBConsumed(op, *c.TableName, *c.CapacityUnits)
						}
					}
				}
				return out, md, err
			}), middleware.After)
		if err != nil {
			return err
		}
		// The deserialize step runs once per attempt, inside the retries.
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("TaskapiThrottles",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				var api smithy.APIError
				if err != nil && errors.As(err, &api) {
					switch api.ErrorCode() {
					case "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded":
						obs.DynamoDBThrottled(op)
					}
				}
				return out, md, err
			}), middleware.Before) // outside the deserializer, which makes the error
	}
}

// askCapacity sets ReturnConsumedCapacity on the inputs of the operations
// the store makes, unless the caller asked for something.
func askCapacity(params any) {
	total := types.ReturnConsumedCapacityTotal
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = cmp.Or(in.ReturnConsumedCapacity, total)
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = cmp.Or(in.ReturnConsumedCapacity, total)
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = cmp.Or(in.ReturnConsumedCapacity, total)
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = cmp.Or(in.ReturnConsumedCapacity, total)
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = cmp.Or(in.ReturnConsumedCapacity, total)
	case *dynamodb.ScanInput:
		in.ReturnConsumedCapacity = cmp.Or(in.ReturnConsumedCapacity, total)
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = cmp.Or(in.ReturnConsumedCapacity, total)
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = cmp.Or(in.ReturnConsumedCapacity, total)
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = cmp.Or(in.ReturnConsumedCapacity, total)
	case *dynamodb.TransactGetItemsInput:
		in.ReturnConsumedCapacity = cmp.Or(in.ReturnConsumedCapacity, total)
	}
}

// consumed is what an operation's answer says it consumed.
func consumed(result any) []types.ConsumedCapacity {
	one := func(c *types.ConsumedCapacity) []types.ConsumedCapacity {
		if c == nil {
			return nil
		}
		return []types.ConsumedCapacity{*c}
	}
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.PutItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.QueryOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.ScanOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.BatchGetItemOutput:
		return out.ConsumedCapacity
	case *dynamodb.BatchWriteItemOutput:
		return out.ConsumedCapacity
	case *dynamodb.TransactWriteItemsOutput:
		return out.ConsumedCapacity
	case *dynamodb.TransactGetItemsOutput:
		return out.ConsumedCapacity
	}
	return nil
}
