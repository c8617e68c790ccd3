package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/taskapi/taskapi/server"
)

func TestNewHTTPServer(t *testing.T) {
	h := http.NotFoundHandler()
	t.Run("OK/Defaults", func(t *testing.T) {
		s := server.NewHTTPServer(":8080", h, server.Timeouts{}, nil)
		if s.Addr != ":8080" || s.Handler == nil || s.ErrorLog == nil {
			t.Fatalf("server %+v", s)
		}
		got := [...]time.Duration{s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout}
		want := [...]time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second, 120 * time.Second}
		if got != want || s.MaxHeaderBytes != 64<<10 {
			t.Fatalf("timeouts %v, max header %d; want %v and 64 KiB", got, s.MaxHeaderBytes, want)
		}
	})
	t.Run("OK/Overrides", func(t *testing.T) {
		s := server.NewHTTPServer("", h, server.Timeouts{ReadHeader: time.Second, Read: 2 * time.Second, Write: 3 * time.Second, Idle: 4 * time.Second, MaxHeaderBytes: 1024}, nil)
		got := [...]time.Duration{s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout}
		want := [...]time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}
		if got != want || s.MaxHeaderBytes != 1024 {
			t.Fatalf("timeouts %v, max header %d; want %v and 1024", got, s.MaxHeaderBytes, want)
		}
	})
}
