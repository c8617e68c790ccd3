// Package logging builds taskapi's slog logger: JSON in production (for
// CloudWatch), text in development, the request id on every line of a
// request (and its trace and span ids when it is traced), and secrets masked by attribute name as a last line of defence
// (the code never logs them on purpose).
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap/zapcore"
)

type ctxKey struct{}

// WithRequestID returns ctx carrying the request id that every log line of
// the request will show.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// New returns a logger writing to w in format "json" or "text" at level
// "debug", "info", "warn" or "error".
func New(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: mask}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(requestIDHandler{h})
}

// sensitive names attributes whose values are never written.
var sensitive = []string{"password", "secret", "token", "authorization", "cookie", "hash", "pepper"}

// plain names the attributes that are never secret: the built-in ones and
// the access log's, which every request writes (a lookup instead of seven
// substring searches).
var plain = map[string]bool{
	slog.TimeKey: true, slog.LevelKey: true, slog.MessageKey: true, slog.SourceKey: true,
	"method": true, "path": true, "status": true, "bytes": true, "duration_ms": true, "request_id": true,
	"trace_id": true, "span_id": true,
}

func mask(_ []string, a slog.Attr) slog.Attr {
	if plain[a.Key] {
		return a
	}
	k := strings.ToLower(a.Key)
	for _, s := range sensitive {
		if strings.Contains(k, s) {
			return slog.String(a.Key, "[REDACTED]")
		}
	}
	return a
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	// The ids of the span the line was logged in (internal/tracing): a
	// log line leads to its trace and back. Without tracing no span is
	// ever started, so this adds nothing.
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// Buffered wraps w (the process's stderr) so that log lines reach it in
// batches: one write system call per 64 KiB or per flushInterval, whichever
// comes first, instead of one per line. Under load the access log's write
// per request costs more than the rest of a cached request (see
// docs/performance.md). stop flushes what is buffered and must run before
// the process exits; a crash loses at most flushInterval of lines.
//
// It is for the long-running HTTP server only: a Lambda instance is frozen
// between invocations, so there every line goes straight out.
func Buffered(w io.Writer, flushInterval time.Duration) (out io.Writer, stop func()) {
	b := &zapcore.BufferedWriteSyncer{
		// Hide w's Sync: the syncer calls it after every flush, and on an
		// *os.File that is fsync(2), every 100 ms on a log file (an error
		// on a pipe). A flush is a write; durability is the log
		// collector's business.
		WS:            zapcore.AddSync(struct{ io.Writer }{w}),
		Size:          64 << 10,
		FlushInterval: flushInterval,
	}
	return b, func() { _ = b.Stop() }
}
