package infratest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/dynamo"
	"github.com/taskapi/taskapi/store/storetest"
)

// actionRecorder is a proxy in front of DynamoDB that notes the IAM action
// every request needs (a transaction needs one per kind of item it holds).
type actionRecorder struct {
	mu      sync.Mutex
	actions map[string]bool
}

func (rec *actionRecorder) serve(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec.add(iamActions(strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810."), body)...)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (rec *actionRecorder) add(actions ...string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, a := range actions {
		rec.actions["dynamodb:"+a] = true
	}
}

// iamActions maps a DynamoDB API call to the IAM actions it is authorised by.
func iamActions(op string, body []byte) []string {
	switch op {
	case "TransactWriteItems", "TransactGetItems":
		var req struct{ TransactItems []map[string]json.RawMessage }
		_ = json.Unmarshal(body, &req)
		perItem := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		var out []string
		for _, item := range req.TransactItems {
			for kind := range item {
				out = append(out, perItem[kind])
			}
		}
		return out
	default:
		return []string{op}
	}
}

// TestTerraform_LambdaRoleGrantsExactlyWhatTheStoreUses runs the store
// contract suite against DynamoDB Local through a recording proxy: every
// DynamoDB action the store performs must be granted to the Lambda, and
// nothing it never performs.
func TestTerraform_LambdaRoleGrantsExactlyWhatTheStoreUses(t *testing.T) {
	endpoint := testenv.DynamoDB(t)
	rec := &actionRecorder{actions: map[string]bool{}}
	proxied := rec.serve(t, endpoint)

	direct := newDynamoClient(t, endpoint)
	viaProxy := newDynamoClient(t, proxied)
	t.Run("StoreContract", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) core.Store {
			tables := freshTables(t)
			// Tables are made by `taskapi create-tables`, not by the Lambda:
			// not through the recorder.
			if err := dynamo.New(direct, tables).CreateTables(t.Context()); err != nil {
				t.Fatalf("CreateTables: %v", err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				for _, name := range []string{tables.Users, tables.Tasks} {
					_, _ = direct.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
				}
			})
			return dynamo.New(viaProxy, tables)
		})
	})
	if t.Failed() {
		t.Fatal("the store contract failed: its actions are not a reliable list")
	}

	m := loadTerraform(t, nil)
	var granted []string
	for _, st := range statements(t, m, "lambda") {
		for _, a := range st.actions {
			if strings.HasPrefix(a, "dynamodb:") {
				granted = append(granted, a)
			}
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for a := range rec.actions {
		if !slices.Contains(granted, a) {
			t.Errorf("the store uses %s but the Lambda's role does not grant it: production requests would fail with AccessDenied", a)
		}
	}
	for _, a := range granted {
		if !rec.actions[a] {
			t.Errorf("the Lambda's role grants %s, which the store never uses: remove it", a)
		}
	}
}

func newDynamoClient(t *testing.T, endpoint string) *dynamodb.Client {
	t.Helper()
	c, err := dynamo.NewClient(t.Context(), dynamo.Options{Endpoint: endpoint, Region: "us-east-1"})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func freshTables(t *testing.T) dynamo.Tables {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "infratest-" + hex.EncodeToString(b)
	return dynamo.Tables{Users: prefix + "-users", Tasks: prefix + "-tasks"}
}
