// Command otlpsink is a real OTLP receiver for taskapi's tests: the
// OpenTelemetry Collector's otlpreceiver (OTLP/HTTP, protobuf and JSON)
// with a consumer that writes each span it receives to stdout as one JSON
// line. It is a module of its own so that the collector's dependencies stay
// out of taskapi's go.mod; internal/tracing's tests build and run it.
//
//	otlpsink -addr 127.0.0.1:4318
//
// It prints "ready" on stderr once it accepts requests, and runs until
// stdin closes or it is signalled.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// Span is one received span, flattened for the tests.
type Span struct {
	Name       string            `json:"name"`
	Scope      string            `json:"scope"`
	Kind       string            `json:"kind"`
	TraceID    string            `json:"trace_id"`
	SpanID     string            `json:"span_id"`
	ParentID   string            `json:"parent_span_id"`
	Status     string            `json:"status"`
	StatusMsg  string            `json:"status_message"`
	Attributes map[string]string `json:"attributes"`
	Events     []Event           `json:"events"`
	Resource   map[string]string `json:"resource"`
}

// Event is a span event.
type Event struct {
	Name       string            `json:"name"`
	Attributes map[string]string `json:"attributes"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:4318", "host:port of the OTLP/HTTP listener")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "otlpsink:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	sink, err := consumer.NewTraces(func(_ context.Context, td ptrace.Traces) error {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range flatten(td) {
			if err := enc.Encode(s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	f := otlpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlpreceiver.Config)
	cfg.Protocols.GRPC = configoptional.None[configgrpc.ServerConfig]()
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = addr
	ctx := context.Background()
	r, err := f.CreateTraces(ctx, receivertest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		return err
	}
	if err := r.Start(ctx, componenttest.NewNopHost()); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "ready")

	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	select {
	case <-done:
	case <-sig:
	}
	return r.Shutdown(ctx)
}

func flatten(td ptrace.Traces) []Span {
	var out []Span
	for _, rs := range td.ResourceSpans().All() {
		res := attrs(rs.Resource().Attributes())
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				s := Span{
					Name: sp.Name(), Scope: ss.Scope().Name(), Kind: sp.Kind().String(),
					TraceID: hex.EncodeToString(tid(sp.TraceID())), SpanID: sid(sp.SpanID()), ParentID: sid(sp.ParentSpanID()),
					Status: sp.Status().Code().String(), StatusMsg: sp.Status().Message(),
					Attributes: attrs(sp.Attributes()), Resource: res,
				}
				for _, e := range sp.Events().All() {
					s.Events = append(s.Events, Event{Name: e.Name(), Attributes: attrs(e.Attributes())})
				}
				out = append(out, s)
			}
		}
	}
	return out
}

func tid(id pcommon.TraceID) []byte { return id[:] }

func sid(id pcommon.SpanID) string {
	if id.IsEmpty() {
		return ""
	}
	return hex.EncodeToString(id[:])
}

func attrs(m pcommon.Map) map[string]string {
	out := make(map[string]string, m.Len())
	for k, v := range m.All() {
		out[k] = v.AsString()
	}
	return out
}
