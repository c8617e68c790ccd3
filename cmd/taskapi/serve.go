package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/taskapi/taskapi/config"
	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/lambdaserve"
	"github.com/taskapi/taskapi/server"
	"github.com/taskapi/taskapi/store/embedded"
)

// serve serves HTTP, or Lambda events; inside Lambda the metrics are
// written to stdout (CloudWatch Embedded Metric Format).
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	start := time.Now()
	a, err := build(ctx, cfg, log, stdout)
	if err != nil {
		return err
	}
	defer a.Close()

	if cfg.Lambda {
		// No start check here: it would cost every cold start a round trip,
		// and the function's role may read items but not describe tables. A
		// store that cannot answer is a 503 with its cause in the log
		// (store/dynamo's fail, rest's and resolvers' error mapping).
		log.Info("serving AWS Lambda events", "format", cfg.LambdaEventFormat, "store", cfg.Store, "cache", cfg.CacheEnabled(), "metrics_namespace", cfg.MetricsNamespace, "init_ms", time.Since(start).Milliseconds())
		return lambdaserve.Start(ctx, a.handler, cfg.LambdaEventFormat, log)
	}
	if err := a.checkStore(ctx); err != nil {
		return err
	}

	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (HOST, PORT): %w", addr, err)
	}
	srv := server.NewHTTPServer(addr, a.handler, server.Timeouts{}, log)

	var ctl *control
	if cfg.Store == config.StoreEmbedded {
		// The store holds the database's lock from here on: create-admin in
		// another process asks this one (control.go).
		if ctl, err = listenControl(filepath.Join(cfg.DataDir, controlSocket), a.svc, log); err != nil {
			log.Warn("create-admin will not reach this server while it runs", "err", err)
		}
	}

	base := baseURL(ln.Addr(), cfg.Host)
	log.Info("taskapi listening", "addr", ln.Addr().String(), "store", storeLine(cfg), "cache", cacheLine(cfg),
		"environment", cfg.Environment, "startup_ms", time.Since(start).Milliseconds())
	log.Info("ready: open the playground or /docs in a browser", "playground", base+"/", "docs", base+"/docs", "graphql", base+"/graphql", "rest", base+"/api/v1")

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	msrv, err := serveMetrics(a, log, errc)
	if err != nil {
		ctl.Close()
		_ = srv.Close()
		return err
	}
	select {
	case err := <-errc:
		ctl.Close()
		_ = srv.Close()
		if msrv != nil {
			_ = msrv.Close()
		}
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	ctl.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if msrv != nil {
		// Scrapes during the drain would see it end anyway: stop at once.
		_ = msrv.Close()
	}
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// serveMetrics serves /metrics on METRICS_ADDR, a listener apart from the
// API's (a Prometheus in the same network scrapes it; the public never
// reaches it), when metrics are on; its Serve error goes to errc.
func serveMetrics(a *app, log *slog.Logger, errc chan<- error) (*http.Server, error) {
	if a.metrics == nil {
		return nil, nil
	}
	ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (METRICS_ADDR): %w", a.cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.Handler())
	srv := server.NewHTTPServer(a.cfg.MetricsAddr, mux, server.Timeouts{}, log)
	go func() { errc <- fmt.Errorf("metrics listener: %w", srv.Serve(ln)) }()
	log.Info("serving metrics", "addr", ln.Addr().String(), "path", "/metrics")
	return srv, nil
}

// baseURL is what a person types to reach the listener at addr, bound to
// host: the host itself when one was asked for, localhost for every
// interface.
func baseURL(addr net.Addr, host string) string {
	port := "8080"
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(ta.Port)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}).String()
}

// storeLine names the store in use for the start log.
func storeLine(cfg config.Config) string {
	if cfg.Store == config.StoreEmbedded {
		return fmt.Sprintf("embedded (%s)", filepath.Join(cfg.DataDir, embedded.FileName))
	}
	where := "region " + cfg.AWSRegion
	if cfg.DynamoDBEndpoint != "" {
		where = cfg.DynamoDBEndpoint
	}
	return fmt.Sprintf("dynamodb (%s, tables %s and %s)", where, cfg.UsersTable, cfg.TasksTable)
}

// cacheLine names the cache in use for the start log.
func cacheLine(cfg config.Config) string {
	if !cfg.CacheEnabled() {
		return "none (REDIS_HOST unset)"
	}
	return "redis " + cfg.RedisAddr()
}

// startCheckTimeout bounds the store check at start: the SDK's credential
// chain alone may take seconds to give up.
const startCheckTimeout = 15 * time.Second

// checkStore reads one item, absent on purpose, from each DynamoDB table,
// so that missing credentials, a wrong region or a missing table stop the
// start with one line instead of failing the first request. It needs only
// what serving needs (dynamodb:GetItem).
func (a *app) checkStore(ctx context.Context) error {
	if a.raw == nil || a.cfg.Store != config.StoreDynamoDB {
		return nil // the embedded store was opened: nothing left to find out
	}
	ctx, cancel := context.WithTimeout(ctx, startCheckTimeout)
	defer cancel()
	const probe = "taskapi-start-check" // no user or task has this id
	_, uerr := a.raw.GetUser(ctx, probe)
	if uerr == nil || errors.Is(uerr, core.ErrNotFound) {
		_, terr := a.raw.GetTask(ctx, probe, probe)
		if terr == nil || errors.Is(terr, core.ErrNotFound) {
			return nil
		}
		uerr = terr
	}
	err := cause(uerr)
	if strings.Contains(err.Error(), "get credentials") { // the SDK has no error type for it
		return fmt.Errorf("STORE=dynamodb: %s cannot be used: %w; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an IAM role", storeLine(a.cfg), err)
	}
	return fmt.Errorf("STORE=dynamodb: %s cannot be used: %w", storeLine(a.cfg), err)
}

// cause unwraps a store's unavailable error to what went wrong.
func cause(err error) error {
	if e, ok := core.AsError(err); ok && e.Err != nil {
		return e.Err
	}
	return err
}
