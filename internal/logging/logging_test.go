package logging_test

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/taskapi/taskapi/internal/logging"
	"github.com/taskapi/taskapi/internal/testenv"
)

func TestMasksSecretsAndCarriesRequestID(t *testing.T) {
	var out bytes.Buffer
	log := logging.New(&out, "json", "info")
	ctx := logging.WithRequestID(context.Background(), "req-1")
	log.InfoContext(ctx, "login", "email", "ann@example.com", "password", "s3cret!", "Authorization", "Bearer abc", "jwt_secret", "k")
	line := out.String()
	for _, secret := range []string{"s3cret!", "Bearer abc", `"k"`} {
		if strings.Contains(line, secret) {
			t.Errorf("log line shows %q: %s", secret, line)
		}
	}
	for _, want := range []string{`"request_id":"req-1"`, `"email":"ann@example.com"`, `"password":"[REDACTED]"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %s: %s", want, line)
		}
	}
}

func TestBufferedFlushesOnIntervalAndStop(t *testing.T) {
	var sink testenv.SyncBuffer
	w, stop := logging.Buffered(&sink, 20*time.Millisecond)
	log := logging.New(w, "text", "info")

	log.Info("first")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(sink.String(), "msg=first") {
		if time.Now().After(deadline) {
			t.Fatal("a buffered line never reached the output while the process ran")
		}
		time.Sleep(5 * time.Millisecond)
	}

	w, stop2 := logging.Buffered(&sink, time.Hour)
	stop() // the first writer is done with
	log = logging.New(w, "text", "info")
	for i := range 100 {
		log.Info("line", "i", i)
	}
	stop2()
	if got := strings.Count(sink.String(), "msg=line"); got != 100 {
		t.Fatalf("after stop, %d of 100 lines reached the output", got)
	}
}

// syncCounter is a writer with a Sync method, as *os.File has.
type syncCounter struct {
	testenv.SyncBuffer
	syncs atomic.Int32
}

func (s *syncCounter) Sync() error { s.syncs.Add(1); return nil }

func TestBufferedNeverSyncsTheOutput(t *testing.T) {
	var out syncCounter
	w, stop := logging.Buffered(&out, time.Millisecond)
	log := logging.New(w, "text", "info")
	for i := range 20 {
		log.Info("line", "i", i)
		time.Sleep(2 * time.Millisecond) // several flush intervals
	}
	stop()
	if got := strings.Count(out.String(), "msg=line"); got != 20 {
		t.Fatalf("%d of 20 lines reached the output", got)
	}
	if n := out.syncs.Load(); n != 0 {
		t.Fatalf("the output was synced %d times: on a log file that is an fsync per flush", n)
	}
}

// TestCarriesTraceIDs: a line logged in a span carries its trace and span
// ids; a line outside any span carries none.
func TestCarriesTraceIDs(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("5759e988bd862e3fe1be46a994272793")
	sid, _ := trace.SpanIDFromHex("53995c3f42cd8ad8")
	traced := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		want  []string
		never []string
	}{
		{"InSpan", traced, []string{`"trace_id":"5759e988bd862e3fe1be46a994272793"`, `"span_id":"53995c3f42cd8ad8"`}, nil},
		{"NoSpan", context.Background(), nil, []string{"trace_id", "span_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			logging.New(&out, "json", "info").InfoContext(tc.ctx, "request", "password", "s3cret!")
			line := out.String()
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("log line lacks %s: %s", w, line)
				}
			}
			for _, n := range append(tc.never, "s3cret!") {
				if strings.Contains(line, n) {
					t.Errorf("log line has %s: %s", n, line)
				}
			}
		})
	}
}
