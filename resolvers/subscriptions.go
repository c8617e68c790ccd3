package resolvers

import (
	"context"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/graph"
)

func (r *resolver) Subscription() graph.SubscriptionResolver { return (*subscriptionResolver)(r) }
func (r *resolver) TaskEvent() graph.TaskEventResolver       { return (*taskEventResolver)(r) }

type subscriptionResolver resolver

var _ graph.SubscriptionResolver = (*subscriptionResolver)(nil)

func (r *subscriptionResolver) TaskEvents(ctx context.Context) (<-chan core.TaskEvent, error) {
	return r.svc.TaskEvents(ctx)
}

func (r *subscriptionResolver) UserEvents(ctx context.Context) (<-chan core.UserEvent, error) {
	return r.svc.UserEvents(ctx)
}

type taskEventResolver resolver

// Stats are the owner's counts when the event is read: after the change
// (a subscription's last event, which only says why it ended, has none).
func (r *taskEventResolver) Stats(ctx context.Context, obj *core.TaskEvent) (core.TaskStats, error) {
	if obj.UserID == "" {
		return core.TaskStats{}, nil
	}
	return r.svc.Stats(ctx, obj.UserID)
}
