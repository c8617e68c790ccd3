package dynamo_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/dynamo"
	"github.com/taskapi/taskapi/store/storetest"
)

// consumption records what an Observer hears.
type consumption struct {
	mu        sync.Mutex
	units     map[string]float64 // "op table" → units
	throttled map[string]int
}

func (c *consumption) DynamoDBConsumed(op, table string, units float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.units[op+" "+table] += units
}

func (c *consumption) DynamoDBThrottled(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.throttled[op]++
}

// TestObserverHearsConsumedCapacity runs store operations on DynamoDB
// Local with an Observer and checks each reports the capacity DynamoDB
// said it consumed, per table (a transaction on both tables reports both),
// while a client without an Observer asks for none.
func TestObserverHearsConsumedCapacity(t *testing.T) {
	endpoint := testenv.DynamoDB(t)
	obs := &consumption{units: map[string]float64{}, throttled: map[string]int{}}
	client, err := dynamo.NewClient(t.Context(), dynamo.Options{Endpoint: endpoint, Region: "us-east-1", Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	s, tables := MustOpen(t, client)
	ctx := t.Context()
	u := storetest.MustCreateUser(t, s, storetest.UniqueEmail("capacity"))
	tk := storetest.MustCreateTask(t, s, u.ID, "counted")
	if _, err := s.GetTask(ctx, u.ID, tk.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ListTasks(ctx, u.ID, core.TaskQuery{Limit: 10}); err != nil {
		t.Fatal(err)
	}
	obs.mu.Lock()
	got := obs.units
	obs.mu.Unlock()
	for _, want := range []string{
		"TransactWriteItems " + tables.Users, // register: the user and its email guard
		"TransactWriteItems " + tables.Tasks, // create task: the task …
		"GetItem " + tables.Tasks,
		"Query " + tables.Tasks,
	} {
		if got[want] <= 0 {
			t.Errorf("no consumed capacity heard for %q; heard %v", want, got)
		}
	}
	if len(obs.throttled) != 0 {
		t.Errorf("throttles heard on an idle emulator: %v", obs.throttled)
	}

	// Without an Observer the store asks for nothing: the answer says none.
	plain := newClient(t, endpoint, nil)
	out, err := plain.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tables.Tasks),
		Key: map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: u.ID}, "task_id": &types.AttributeValueMemberS{Value: tk.ID}}})
	if err != nil || out.ConsumedCapacity != nil {
		t.Errorf("a client without an Observer: consumed capacity %v, %v", out.ConsumedCapacity, err)
	}
}

// TestObserverHearsEachThrottledAttempt answers every attempt with
// DynamoDB's throttling error (an HTTP stand-in for DynamoDB, which DynamoDB
// Local never throttles) and checks each attempt the client makes is heard.
func TestObserverHearsEachThrottledAttempt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-ErrorType", "ThrottlingException")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`))
	}))
	defer srv.Close()
	obs := &consumption{units: map[string]float64{}, throttled: map[string]int{}}
	client, err := dynamo.NewClient(t.Context(), dynamo.Options{Endpoint: srv.URL, Region: "us-east-1", Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String("t"),
		Key: map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: "VAH1"}}})
	if err == nil {
		t.Fatal("a throttled GetItem succeeded")
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.throttled["GetItem"] != 3 { // NewClient's attempts
		t.Errorf("throttled attempts heard: %v, want GetItem 3", obs.throttled)
	}
}
