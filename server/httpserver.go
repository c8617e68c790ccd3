package server

import (
	"log/slog"
	"net/http"
	"time"
)

// Defaults of Timeouts: what one client may hold of a server before it is
// cut off.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 15 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
)

// Timeouts bounds what a slow or idle client can cost the plain HTTP
// server; zero fields take the defaults above.
type Timeouts struct {
	// ReadHeader bounds the arrival of a request's headers (a client
	// dribbling them, "slowloris", is cut off after it).
	ReadHeader time.Duration
	// Read bounds the arrival of a whole request, body included.
	Read time.Duration
	// Write bounds the time from the end of the request's headers to the
	// end of the response.
	Write time.Duration
	// Idle bounds how long a keep-alive connection waits for its next request.
	Idle time.Duration
	// MaxHeaderBytes caps the request line and headers (431 above it).
	MaxHeaderBytes int
}

func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.ReadHeader, DefaultReadHeaderTimeout)
	def(&t.Read, DefaultReadTimeout)
	def(&t.Write, DefaultWriteTimeout)
	def(&t.Idle, DefaultIdleTimeout)
	if t.MaxHeaderBytes <= 0 {
		t.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	return t
}

// NewHTTPServer returns the plain HTTP server for h on addr with the
// timeouts t (zero fields: the defaults). The server's own errors (TLS
// handshakes, broken connections) go to log at warning level; nil
// discards them.
func NewHTTPServer(addr string, h http.Handler, t Timeouts, log *slog.Logger) *http.Server {
	t = t.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    t.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
