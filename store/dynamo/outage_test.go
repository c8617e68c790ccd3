package dynamo_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/dynamo"
	"github.com/taskapi/taskapi/store/storetest"
)

// wantUnavailable checks err is core.ErrUnavailable with a message safe to
// show a client, keeping the cause for the logs.
func wantUnavailable(tb testing.TB, err error) {
	tb.Helper()
	if !errors.Is(err, core.ErrUnavailable) {
		tb.Fatalf("got %v, want ErrUnavailable", err)
	}
	e, _ := core.AsError(err)
	if strings.Contains(e.Error(), "dynamo") || strings.Contains(e.Error(), "127.0.0.1") || e.Err == nil {
		tb.Fatalf("message %q (cause %v): want a client-safe message and the cause kept for logs", e.Error(), e.Err)
	}
}

func TestUnreachableIsErrUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close() // nothing listens there now: connections are refused

	client, err := dynamo.NewClient(t.Context(), dynamo.Options{Endpoint: endpoint, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	s := dynamo.New(client, dynamo.Tables{Users: "u", Tasks: "t"})
	start := time.Now()
	_, err = s.GetUser(t.Context(), "VAH1")
	wantUnavailable(t, err)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v to give up on a refused connection", d)
	}
	_, err = s.CreateUser(t.Context(), storetest.NewUser("x@example.com"))
	wantUnavailable(t, err)
}

// TestOutage stops, freezes and restarts a private DynamoDB Local under a
// store: requests fail fast with ErrUnavailable while it is away, and work
// again, with the data intact, once it is back.
func TestOutage(t *testing.T) {
	srv := testenv.StartDynamoDB(t, testenv.DynamoDBOptions{Persist: true})
	// Tables are made with the default timeout (a cold emulator is slow to
	// create the first one); the store under test gives up after 2s.
	_, tables := MustOpen(t, newClient(t, srv.Endpoint(), nil))
	client, err := dynamo.NewClient(t.Context(), dynamo.Options{Endpoint: srv.Endpoint(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := dynamo.New(client, tables)
	u := storetest.MustCreateUser(t, s, storetest.UniqueEmail("survivor"))

	t.Run("StoppedIsErrUnavailable", func(t *testing.T) {
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err := s.GetUser(t.Context(), u.ID)
		wantUnavailable(t, err)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v to give up on a stopped server", d)
		}
	})

	t.Run("RestartedServesTheSameData", func(t *testing.T) {
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		// A cold JVM may miss the 2s timeout on its first requests: the
		// client recovers by itself, with no reconnect or restart.
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, err := s.GetUser(t.Context(), u.ID)
			if err == nil && got.ID == u.ID {
				break
			}
			if !errors.Is(err, core.ErrUnavailable) || time.Now().After(deadline) {
				t.Fatalf("GetUser after restart = %q, %v; want the user back", got.ID, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("HungIsErrUnavailableWithinTheTimeout", func(t *testing.T) {
		// A client of its own, with no connection from the restart above:
		// once in about 30 runs a GetUser right after the freeze was answered
		// at once with the user, never reaching the frozen server — most
		// likely a stray response read from a pooled keep-alive connection
		// (not proven). What this subtest measures is a request meeting a
		// hung server.
		fresh, err := dynamo.NewClient(t.Context(), dynamo.Options{Endpoint: srv.Endpoint(), Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		s := dynamo.New(fresh, tables)
		if err := srv.Pause(); err != nil {
			t.Fatal(err)
		}
		defer srv.Resume()
		start := time.Now()
		_, err = s.GetUser(t.Context(), u.ID)
		wantUnavailable(t, err)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v, want the 2s operation timeout", d)
		}
	})
}

// fakeDynamo serves DynamoDB's JSON protocol with answer, which gets the
// operation (e.g. "GetItem") and how many calls came before this one.
func fakeDynamo(t *testing.T, answer func(op string, n int64) (status int, body string)) (endpoint string, calls *atomic.Int64) {
	t.Helper()
	calls = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		status, body := answer(op, calls.Add(1)-1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, calls
}

// conflictServer answers TransactWriteItems with a cancellation for a
// conflicting transaction the first `conflicts` times, then with success,
// as DynamoDB does when transactions on the same items overlap (DynamoDB
// Local serializes them instead, so it never says this).
func conflictServer(t *testing.T, conflicts int64) (endpoint string, calls *atomic.Int64) {
	t.Helper()
	return fakeDynamo(t, func(op string, n int64) (int, string) {
		switch {
		case op != "TransactWriteItems":
			return http.StatusNotImplemented, `{}`
		case n < conflicts:
			return http.StatusBadRequest, `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",` +
				`"Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]",` +
				`"CancellationReasons":[{"Code":"None"},{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"}]}`
		}
		return http.StatusOK, `{}`
	})
}

func TestTransactionConflicts(t *testing.T) {
	t.Run("RetriedUntilTheyClear", func(t *testing.T) {
		endpoint, calls := conflictServer(t, 3)
		s := dynamo.New(newClient(t, endpoint, nil), dynamo.Tables{Users: "u", Tasks: "t"})
		if err := s.CreateTask(t.Context(), storetest.NewTask(t, "VAH1", "contended"), 0); err != nil {
			t.Fatalf("CreateTask: %v", err)
		}
		if n := calls.Load(); n != 4 {
			t.Fatalf("%d transactions sent, want 3 conflicts and 1 success", n)
		}
	})

	t.Run("PersistentIsErrUnavailable", func(t *testing.T) {
		endpoint, calls := conflictServer(t, 1000)
		s := dynamo.New(newClient(t, endpoint, nil), dynamo.Tables{Users: "u", Tasks: "t"})
		err := s.CreateTask(t.Context(), storetest.NewTask(t, "VAH1", "contended"), 0)
		wantUnavailable(t, err)
		if n := calls.Load(); n != 10 {
			t.Fatalf("%d transactions sent, want 10 (bounded retries)", n)
		}
	})
}

func TestThrottlingIsErrUnavailableAfterThreeAttempts(t *testing.T) {
	endpoint, calls := fakeDynamo(t, func(string, int64) (int, string) {
		return http.StatusBadRequest, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`
	})
	s := dynamo.New(newClient(t, endpoint, nil), dynamo.Tables{Users: "u", Tasks: "t"})
	start := time.Now()
	_, err := s.GetUser(t.Context(), "VAH1")
	wantUnavailable(t, err)
	if n := calls.Load(); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("gave up after %v, want bounded backoff", d)
	}
}
