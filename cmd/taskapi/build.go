package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskapi/taskapi/config"
	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/awsconf"
	"github.com/taskapi/taskapi/internal/metrics"
	"github.com/taskapi/taskapi/internal/ssm"
	"github.com/taskapi/taskapi/internal/tracing"
	"github.com/taskapi/taskapi/internal/tracing/provider"
	"github.com/taskapi/taskapi/ratelimit"
	"github.com/taskapi/taskapi/server"
	"github.com/taskapi/taskapi/store/cache"
	"github.com/taskapi/taskapi/store/dynamo"
	"github.com/taskapi/taskapi/store/embedded"
)

// app is everything built once per process (once per Lambda cold start).
type app struct {
	cfg     config.Config
	raw     core.Store       // the store under the cache, for the start check
	metrics *metrics.Metrics // nil unless METRICS_ADDR is set (and not in Lambda)
	emf     *metrics.EMF     // inside Lambda only: the same metrics as EMF lines on standard output
	svc     *core.Service
	handler http.Handler
	closers []func() error
}

func (a *app) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		_ = a.closers[i]()
	}
}

// build opens the configured store, wraps it in the Redis cache when one is
// configured, and assembles the service and its handler. Inside Lambda the
// metrics go to emfOut as Embedded Metric Format lines (nil: none).
func build(ctx context.Context, cfg config.Config, log *slog.Logger, emfOut io.Writer) (*app, error) {
	a := &app{cfg: cfg}
	// Tracing first: the store's and Redis's clients are instrumented as
	// they are built. Off (no OTLP endpoint), tp stays nil and nothing is
	// instrumented.
	var (
		tp       trace.TracerProvider
		httpOpts *tracing.HTTPOptions
	)
	if cfg.Tracing && !provider.Linked {
		// The Lambda image leaves the SDK out unless built with -tags otel
		// (docs/operations.md, "Traces"): serve without traces rather
		// than fail every invocation over telemetry.
		log.Warn("an OTLP endpoint is configured but this build has no OpenTelemetry SDK (build with -tags otel): no traces")
	}
	if cfg.Tracing && provider.Linked {
		p, err := provider.New(ctx, provider.Options{Lambda: cfg.Lambda, Version: moduleVersion()})
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return p.Shutdown(ctx)
		})
		tp = p.Tracer
		httpOpts = &tracing.HTTPOptions{Provider: p.Tracer, Propagator: p.Propagator, Lambda: cfg.Lambda}
		if cfg.Lambda {
			httpOpts.Flush = p.Flush
		}
	}
	if cfg.MetricsAddr != "" && !cfg.Lambda {
		a.metrics = metrics.New() // nil in the Lambda image's build (internal/metrics/lambda.go)
	}
	if cfg.Lambda && emfOut != nil {
		a.emf = metrics.NewEMF(emfOut, cfg.MetricsNamespace)
	}
	dopts := dynamo.Options{Timeout: dynamo.RequestTimeout, Logger: log, Tracer: tp}
	if a.metrics != nil {
		dopts.Observer = a.metrics // consumed capacity and throttles
	}
	st, err := openStore(ctx, cfg, dopts)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.raw = st
	a.closers = append(a.closers, st.Close)
	if tp != nil {
		st = tracing.Store(st, tp)
	}
	var obs cache.Observer // stays a nil interface without metrics: no call at all
	switch {
	case a.metrics != nil:
		obs = a.metrics
		st = metrics.Store(st, a.metrics)
	case a.emf != nil:
		obs = a.emf
		st = metrics.Store(st, a.emf)
	}
	ready := []server.ReadyCheck{{Name: "store", Ping: ping(a.raw)}, {Name: "redis", Advisory: true}}

	secrets, err := resolveSecrets(ctx, cfg)
	if err != nil {
		a.Close()
		return nil, err
	}

	// Rate limits hold in every configuration: counted in process with
	// the embedded store alone, in Redis (shared by every instance) when
	// it is configured, and in process again while Redis cannot answer.
	local := ratelimit.NewLocal(0)
	var (
		counter core.RateCounter = local
		apq     graphql.Cache[string]
		store   core.Store    = st
		events  core.EventBus // nil: in process (core's LocalBus)
	)
	if cfg.CacheEnabled() {
		// go-redis logs through a process-wide logger; route it to ours at
		// debug level (the cache logs each breaker state change itself).
		redis.SetLogger(redisLogger{log})
		rdb := redis.NewClient(redisOptions(cfg))
		a.closers = append(a.closers, rdb.Close)
		if tp != nil {
			if err := cache.Instrument(rdb, tp); err != nil {
				a.Close()
				return nil, fmt.Errorf("tracing Redis: %w", err)
			}
		}
		res := cache.Resilience{Logger: log, Observer: obs}
		store = cache.New(st, rdb, cache.Options{Resilience: res})
		counter = cache.NewRateCounter(rdb, cache.LimiterOptions{Fallback: local, Resilience: res})
		apq = cache.NewAPQ(rdb, cache.APQOptions{Logger: log})
		// Subscriptions hear the writes of every instance (Lambda has no
		// subscriptions here: API Gateway's HTTP API cannot upgrade).
		if !cfg.Lambda {
			bus := cache.NewBus(rdb, cache.BusOptions{Resilience: res})
			a.closers = append(a.closers, bus.Close) // closed before rdb (closers run last first)
			events = bus
		}
		ready[1].Ping = func(ctx context.Context) error { return rdb.Ping(ctx).Err() }
	}
	var (
		coreObs core.Observer
		reqObs  server.RequestObserver
	)
	switch {
	case a.metrics != nil:
		coreObs, reqObs = a.metrics, a.metrics
	case a.emf != nil:
		coreObs, reqObs = a.emf, a.emf
	}

	a.svc = core.NewService(core.Config{
		Store:        store,
		Hasher:       core.NewHasher(secrets.pepper, nil, 0),
		Tokens:       core.NewTokens([]byte(secrets.jwt), cfg.JWTTTL, nil),
		CursorSecret: []byte(secrets.jwt),
		Limiter:      core.NewLimiter(counter, cfg.Limits),
		Logger:       log,
		Observer:     coreObs,
		// config reads 0 as "no quota"; core's zero means its default.
		MaxTasksPerUser: cmp.Or(cfg.MaxTasksPerUser, -1),
		UserIDBlock:     cfg.UserIDBlock,
		SessionTTL:      cfg.SessionTTL,
		SessionIdleTTL:  cfg.SessionIdleTTL,
		Authenticated:   authenticated(tp),
		Events:          events,
	})
	a.handler = server.New(a.svc, server.Options{
		Logger:        log,
		CORSOrigins:   cfg.CORSOrigins,
		Introspection: cfg.Introspection,
		APQCache:      apq,
		HSTS:          !cfg.Development(),
		Ready:         ready,
		Requests:      reqObs,
		Tracing:       httpOpts,
		// Lambda's HTTP API can neither upgrade nor stream (docs/graphql.md).
		NoSubscriptions: cfg.Lambda,
	})
	// One request is one invocation: its lines are written before the
	// response goes back to the runtime, which may freeze the process.
	a.handler = a.emf.FlushEach(a.handler)
	return a, nil
}

// authenticated is core's hook for the user id of a traced request, nil
// without tracing.
func authenticated(tp trace.TracerProvider) func(context.Context, string) {
	if tp == nil {
		return nil
	}
	return tracing.SetUser
}

// ping is st's readiness check for /readyz: its Ping (the embedded store's
// read transaction, DynamoDB's read of an absent item on each table).
func ping(st core.Store) func(context.Context) error {
	if p, ok := st.(interface{ Ping(context.Context) error }); ok {
		return p.Ping
	}
	return func(ctx context.Context) error { // a store without Ping: one read of an id nobody has
		if _, err := st.GetUser(ctx, "taskapi-ready-check"); err != nil && !errors.Is(err, core.ErrNotFound) {
			return err
		}
		return nil
	}
}

// openStore opens the configured store; o gives the DynamoDB client's
// timeout and logger (store/dynamo/client.go), cfg the rest.
func openStore(ctx context.Context, cfg config.Config, o dynamo.Options) (core.Store, error) {
	if cfg.Store == config.StoreEmbedded {
		st, err := embedded.Open(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("embedded store in %s: %w", cfg.DataDir, err)
		}
		return st, nil
	}
	o.Region, o.Endpoint = cfg.AWSRegion, cfg.DynamoDBEndpoint
	client, err := dynamo.NewClient(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("dynamodb client: %w", err)
	}
	return dynamo.New(client, dynamo.Tables{Users: cfg.UsersTable, Tasks: cfg.TasksTable}), nil
}

// redisOptions: the cache must never be a point of failure, so short
// deadlines and no retries on the request path (store/cache adds a circuit
// breaker on top).
func redisOptions(cfg config.Config) *redis.Options {
	o := cache.ClientOptions(cfg.RedisAddr())
	o.DisableIdentity = true
	if cfg.RedisTLS {
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.RedisHost}
	}
	return o
}

// redisLogger adapts slog to go-redis's internal logger.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

type secrets struct{ jwt, pepper string }

// resolveSecrets returns the JWT secret and password pepper: from the
// environment, from SSM Parameter Store when *_PARAM names a parameter (the
// Lambda deployment), or, for the JWT secret in development, generated once
// and kept in DATA_DIR.
func resolveSecrets(ctx context.Context, cfg config.Config) (secrets, error) {
	s := secrets{jwt: cfg.JWTSecret, pepper: cfg.PassSecretKey}
	names := map[string]string{}
	if s.jwt == "" && cfg.JWTSecretParam != "" {
		names["jwt"] = cfg.JWTSecretParam
	}
	if s.pepper == "" && cfg.PassKeyParam != "" {
		names["pepper"] = cfg.PassKeyParam
	}
	if len(names) > 0 {
		vals, err := loadSSM(ctx, cfg, names)
		if err != nil {
			return s, fmt.Errorf("reading secrets from SSM: %w", err)
		}
		if v, ok := vals["jwt"]; ok {
			s.jwt = v
		}
		if v, ok := vals["pepper"]; ok {
			s.pepper = v
		}
		if s.jwt != "" && !cfg.Development() && len(s.jwt) < config.MinSecretLen {
			return s, fmt.Errorf("the JWT secret in %s must be at least %d characters", cfg.JWTSecretParam, config.MinSecretLen)
		}
	}
	if s.jwt == "" {
		var err error
		if s.jwt, err = cfg.ResolveDevSecret(); err != nil {
			return s, err
		}
	}
	if s.jwt == "" {
		return s, errors.New("no JWT secret: set JWT_SECRET or JWT_SECRET_PARAM")
	}
	return s, nil
}

// loadSSM reads SecureString parameters (decrypted) at cold start, with one
// signed HTTPS call rather than the SDK's SSM client: linking
// service/ssm would cost its package initialization at every process start.
// Credentials, region, endpoint and HTTP client come from internal/awsconf,
// as for the DynamoDB client.
func loadSSM(ctx context.Context, cfg config.Config, names map[string]string) (map[string]string, error) {
	awsCfg, err := awsconf.Load(ctx, awsconf.Options{Region: cfg.AWSRegion})
	if err != nil {
		return nil, err
	}
	client := &ssm.Client{
		Region:      awsCfg.Region,
		Credentials: awsCfg.Credentials,
		Endpoint:    awsconf.Endpoint(ctx, awsCfg, "SSM"),
		HTTPClient:  awsCfg.HTTPClient,
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return ssm.LoadParams(ctx, client, names)
}

// describe turns a domain error into one line for the operator.
func describe(err error) error {
	e, ok := core.AsError(err)
	if !ok {
		return err
	}
	if len(e.Fields) == 0 {
		return errors.New(e.Error())
	}
	var parts []string
	for _, f := range e.Fields {
		parts = append(parts, fmt.Sprintf("%s: %s", f.Field, f.Message()))
	}
	return errors.New(strings.Join(parts, "; "))
}

func createTables(ctx context.Context, cfg config.Config, _ *slog.Logger) error {
	if cfg.Store != config.StoreDynamoDB && cfg.DynamoDBEndpoint == "" {
		return usageError{errors.New("create-tables needs STORE=dynamodb (and AWS_REGION or DYNAMODB_ENDPOINT)")}
	}
	if cfg.AWSRegion == "" {
		cfg.AWSRegion = "us-east-1"
	}
	client, err := dynamo.NewClient(ctx, dynamo.Options{Region: cfg.AWSRegion, Endpoint: cfg.DynamoDBEndpoint})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	return dynamo.New(client, dynamo.Tables{Users: cfg.UsersTable, Tasks: cfg.TasksTable}).CreateTables(ctx)
}
