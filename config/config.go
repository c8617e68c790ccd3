// Package config reads taskapi's configuration from the environment once, at
// start, and refuses bad values with one clear line. The legacy names stay
// (AWS_REGION, USERS_TABLE, TASKS_TABLE, JWT_SECRET, PASS_SECRET_KEY,
// REDIS_HOST, REDIS_PORT, ENVIRONMENT); the rest are taskapi's own.
//
// Where the HTTP server listens: HOST (an IP address or host name) and
// PORT. In development HOST defaults to 127.0.0.1, so a laptop's server is
// not reachable from the network until someone asks for it (HOST=0.0.0.0);
// with any other ENVIRONMENT it defaults to every interface, as before, for
// a container behind a load balancer. Inside AWS Lambda (the image the
// Dockerfile builds) nothing listens and HOST is ignored.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/taskapi/taskapi/core"
)

// Store kinds.
const (
	StoreEmbedded = "embedded"
	StoreDynamoDB = "dynamodb"
)

// Lambda event formats.
const (
	EventHTTPAPIv2 = "http-api-v2" // API Gateway HTTP API, payload 2.0 (what terraform/ deploys)
	EventRESTAPIv1 = "rest-api-v1" // API Gateway REST API, payload 1.0
)

// MinSecretLen is the shortest JWT_SECRET accepted outside development:
// HS256 wants a key at least as long as its 256-bit output.
const MinSecretLen = 32

// Config is everything taskapi reads from its environment.
type Config struct {
	Environment string // "development" (the default outside Lambda) or anything else, e.g. "production"
	Host        string // HOST: the listener's address ("" is every interface)
	Port        int

	Store            string
	DataDir          string
	DynamoDBEndpoint string
	AWSRegion        string
	UsersTable       string
	TasksTable       string

	JWTSecret      string
	JWTSecretParam string // SSM parameter name holding the JWT secret (Lambda)
	JWTTTL         time.Duration
	PassSecretKey  string
	PassKeyParam   string // SSM parameter name holding PASS_SECRET_KEY (Lambda)

	RedisHost string
	RedisPort int
	RedisTLS  bool

	// Limits are the rate limits (RATE_LIMIT_*, core.DefaultLimits).
	Limits core.Limits

	CORSOrigins   []string
	Introspection bool // GraphQL introspection and field suggestions (default: in development only)
	LogLevel      string
	LogFormat     string // "json" or "text"

	Lambda            bool // AWS_LAMBDA_RUNTIME_API is set
	LambdaEventFormat string

	SessionTTL     time.Duration // SESSION_TTL: a session's absolute lifetime
	SessionIdleTTL time.Duration // SESSION_IDLE_TTL: how long a session lasts without a refresh

	// MetricsAddr is METRICS_ADDR: host:port of the listener serving
	// /metrics (Prometheus), apart from the API's; "" (the default): no
	// metrics. Ignored inside Lambda, where nothing listens.
	MetricsAddr string
	// MetricsNamespace is METRICS_NAMESPACE: the CloudWatch namespace of
	// the Embedded Metric Format lines written inside Lambda (default
	// "taskapi"; terraform/ sets taskapi/<stage>).
	MetricsNamespace string

	// Tracing is on when an OTLP endpoint is configured
	// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
	// and neither OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none
	// says otherwise. The SDK reads the other OTEL_* variables itself
	// (docs/operations.md, "Traces").
	Tracing bool

	MaxTasksPerUser int // MAX_TASKS_PER_USER: the per-user task quota (0: none)
	UserIDBlock     int // USER_ID_BLOCK: user numbers reserved per store round trip
}

// Development reports whether taskapi runs in development mode.
func (c Config) Development() bool { return c.Environment == "development" }

// CacheEnabled reports whether Redis is configured.
func (c Config) CacheEnabled() bool { return c.RedisHost != "" }

// RedisAddr is host:port of Redis.
func (c Config) RedisAddr() string { return fmt.Sprintf("%s:%d", c.RedisHost, c.RedisPort) }

// Load reads the configuration with getenv (os.Getenv in main) and
// validates it. Secrets stay as given; ResolveDevSecret fills a missing
// JWT_SECRET in development.
func Load(getenv func(string) string) (Config, error) {
	env := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Lambda:           getenv("AWS_LAMBDA_RUNTIME_API") != "",
		Store:            strings.ToLower(env("STORE", StoreEmbedded)),
		DataDir:          env("DATA_DIR", "./data"),
		DynamoDBEndpoint: env("DYNAMODB_ENDPOINT", ""),
		AWSRegion:        env("AWS_REGION", env("AWS_DEFAULT_REGION", "")),
		UsersTable:       env("USERS_TABLE", "taskapi-users"),
		TasksTable:       env("TASKS_TABLE", "taskapi-tasks"),
		JWTSecret:        getenv("JWT_SECRET"),
		JWTSecretParam:   env("JWT_SECRET_PARAM", ""),
		PassSecretKey:    getenv("PASS_SECRET_KEY"),
		PassKeyParam:     env("PASS_SECRET_KEY_PARAM", ""),
		RedisHost:        env("REDIS_HOST", ""),
		LogLevel:         strings.ToLower(env("LOG_LEVEL", "info")),
		MetricsAddr:      env("METRICS_ADDR", ""),
		MetricsNamespace: env("METRICS_NAMESPACE", "taskapi"),
		Tracing: (env("OTEL_EXPORTER_OTLP_ENDPOINT", "") != "" || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "") != "") &&
			!strings.EqualFold(env("OTEL_SDK_DISABLED", ""), "true") && !strings.EqualFold(env("OTEL_TRACES_EXPORTER", ""), "none"),
		LambdaEventFormat: strings.ToLower(env("LAMBDA_EVENT_FORMAT", EventHTTPAPIv2)),
	}
	defEnv := "development"
	if c.Lambda {
		defEnv = "production"
	}
	c.Environment = strings.ToLower(env("ENVIRONMENT", defEnv))
	defFormat := "json"
	if c.Development() {
		defFormat = "text"
	}
	c.LogFormat = strings.ToLower(env("LOG_FORMAT", defFormat))
	defHost := ""
	if c.Development() {
		defHost = "127.0.0.1"
	}
	c.Host = strings.TrimSuffix(strings.TrimPrefix(env("HOST", defHost), "["), "]")

	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	var err error
	if c.Port, err = port(env("PORT", "8080")); err != nil {
		bad("PORT: %v", err)
	}
	if c.Host == "*" {
		c.Host = "" // every interface, as some servers spell it
	}
	if strings.ContainsAny(c.Host, "/ \t") || (strings.Contains(c.Host, ":") && net.ParseIP(c.Host) == nil) {
		bad("HOST: %q is not an IP address or host name", c.Host)
	}
	if c.MetricsAddr != "" {
		if h, p, err := net.SplitHostPort(c.MetricsAddr); err != nil || strings.ContainsAny(h, "/ \t") {
			bad("METRICS_ADDR: %q is not host:port such as 127.0.0.1:9090 or :9090", c.MetricsAddr)
		} else if _, err := port(p); err != nil && p != "0" {
			bad("METRICS_ADDR: %v", err)
		} else if net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) == net.JoinHostPort(h, p) {
			bad("METRICS_ADDR: %q is the API's address: the metrics must not be served on the public port", c.MetricsAddr)
		}
	}
	if c.RedisPort, err = port(env("REDIS_PORT", "6379")); err != nil {
		bad("REDIS_PORT: %v", err)
	}
	if c.RedisTLS, err = boolean(env("REDIS_TLS", "false")); err != nil {
		bad("REDIS_TLS: %v", err)
	}
	// Introspection (and "did you mean" suggestions with it) shows the whole
	// schema: on in development, where the playground needs it, off
	// elsewhere unless asked for.
	if c.Introspection, err = boolean(env("GRAPHQL_INTROSPECTION", strconv.FormatBool(c.Development()))); err != nil {
		bad("GRAPHQL_INTROSPECTION: %v", err)
	}
	if c.JWTTTL, err = duration(env("JWT_TTL", "1h")); err != nil {
		bad("JWT_TTL: %v", err)
	} else if c.JWTTTL < time.Minute || c.JWTTTL > 30*24*time.Hour {
		bad("JWT_TTL: %s is outside 1m..720h", c.JWTTTL)
	}
	if c.SessionTTL, err = duration(env("SESSION_TTL", "720h")); err != nil {
		bad("SESSION_TTL: %v", err)
	} else if c.SessionTTL < time.Hour || c.SessionTTL > 365*24*time.Hour {
		bad("SESSION_TTL: %s is outside 1h..8760h", c.SessionTTL)
	}
	if c.SessionIdleTTL, err = duration(env("SESSION_IDLE_TTL", "168h")); err != nil {
		bad("SESSION_IDLE_TTL: %v", err)
	} else if c.SessionIdleTTL < c.JWTTTL || c.SessionIdleTTL > c.SessionTTL {
		bad("SESSION_IDLE_TTL: %s must be at least JWT_TTL (%s) and at most SESSION_TTL (%s)", c.SessionIdleTTL, c.JWTTTL, c.SessionTTL)
	}
	if c.MaxTasksPerUser, err = strconv.Atoi(env("MAX_TASKS_PER_USER", "10000")); err != nil || c.MaxTasksPerUser < 0 {
		bad("MAX_TASKS_PER_USER: %q is not a number of tasks (0 for no limit)", env("MAX_TASKS_PER_USER", ""))
	}
	if c.UserIDBlock, err = strconv.Atoi(env("USER_ID_BLOCK", "1")); err != nil || c.UserIDBlock < 1 || c.UserIDBlock > 10_000 {
		bad("USER_ID_BLOCK: %q is not a block size in 1..10000", env("USER_ID_BLOCK", ""))
	}
	switch c.Store {
	case StoreEmbedded:
	case StoreDynamoDB:
		if c.AWSRegion == "" {
			if c.DynamoDBEndpoint == "" {
				bad("AWS_REGION: required with STORE=dynamodb")
			}
			c.AWSRegion = "us-east-1"
		}
		if c.UsersTable == c.TasksTable {
			bad("USERS_TABLE and TASKS_TABLE must differ (both are %q)", c.UsersTable)
		}
	default:
		bad("STORE: %q is not embedded or dynamodb", c.Store)
	}
	if c.DynamoDBEndpoint != "" {
		if u, err := url.Parse(c.DynamoDBEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("DYNAMODB_ENDPOINT: %q is not an http(s) URL", c.DynamoDBEndpoint)
		}
	}
	if !c.Development() && c.JWTSecret == "" && c.JWTSecretParam == "" {
		bad("JWT_SECRET: required when ENVIRONMENT=%s (only development generates one)", c.Environment)
	}
	if c.JWTSecret != "" && !c.Development() && len(c.JWTSecret) < MinSecretLen {
		bad("JWT_SECRET: must be at least %d characters outside development", MinSecretLen)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		bad("LOG_FORMAT: %q is not json or text", c.LogFormat)
	}
	if !validNamespace(c.MetricsNamespace) {
		bad("METRICS_NAMESPACE: %q is not a CloudWatch namespace (1-255 letters, digits or . - _ / # : and spaces, not starting with AWS/ or :)", c.MetricsNamespace)
	}
	switch c.LambdaEventFormat {
	case EventHTTPAPIv2, EventRESTAPIv1:
	default:
		bad("LAMBDA_EVENT_FORMAT: %q is not %s or %s", c.LambdaEventFormat, EventHTTPAPIv2, EventRESTAPIv1)
	}
	c.CORSOrigins = origins(env("CORS_ALLOWED_ORIGINS", "*"), bad)

	c.Limits = core.DefaultLimits()
	for _, l := range []struct {
		name string
		r    *core.Rate
	}{
		{"RATE_LIMIT_LOGIN", &c.Limits.LoginAddress},
		{"RATE_LIMIT_LOGIN_ACCOUNT", &c.Limits.LoginAccount},
		{"RATE_LIMIT_LOGIN_EMAIL", &c.Limits.LoginEmail},
		{"RATE_LIMIT_REGISTER", &c.Limits.Register},
		{"RATE_LIMIT_REGISTER_ALL", &c.Limits.RegisterAll},
		{"RATE_LIMIT_WRITES", &c.Limits.Writes},
	} {
		if v := env(l.name, ""); v != "" {
			if *l.r, err = rate(v); err != nil {
				bad("%s: %v", l.name, err)
			}
		}
	}

	if len(errs) > 0 {
		return Config{}, errors.New("configuration: " + strings.Join(errs, "; "))
	}
	return c, nil
}

func port(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port number (1-65535)", s)
	}
	return n, nil
}

func boolean(s string) (bool, error) {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%q is not true or false", s)
	}
	return b, nil
}

// rate reads N/duration ("10/15m": ten per fifteen minutes), or "off".
func rate(s string) (core.Rate, error) {
	if strings.EqualFold(s, "off") {
		return core.Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	d, derr := time.ParseDuration(strings.TrimSpace(per))
	if !ok || err != nil || derr != nil || count < 1 || d < time.Second || d > 30*24*time.Hour {
		return core.Rate{}, fmt.Errorf("%q is not N/duration such as 10/15m (N at least 1, duration 1s-720h), or off", s)
	}
	return core.Rate{N: count, Per: d}, nil
}

// duration accepts a Go duration ("90m", "1h") or a number of seconds.
func duration(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 1h or 3600", s)
	}
	return d, nil
}

func origins(s string, bad func(string, ...any)) []string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
				bad("CORS_ALLOWED_ORIGINS: %q is not an origin such as https://app.example.com", o)
				continue
			}
		}
		out = append(out, o)
	}
	return out
}

// ResolveDevSecret returns JWT_SECRET, or in development, when it is unset,
// a random secret generated once and kept in DATA_DIR/jwt-secret so tokens
// survive restarts.
func (c Config) ResolveDevSecret() (string, error) {
	if c.JWTSecret != "" || !c.Development() {
		return c.JWTSecret, nil
	}
	path := filepath.Join(c.DataDir, "jwt-secret")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= MinSecretLen {
		return strings.TrimSpace(string(b)), nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("DATA_DIR: %w", err)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("DATA_DIR: %w", err)
	}
	return secret, nil
}

// validNamespace reports whether CloudWatch accepts ns as a custom
// namespace (PutMetricData's rules, which EMF extraction applies): an
// invalid one would drop every metric silently, so it stops the start.
func validNamespace(ns string) bool {
	if ns == "" || len(ns) > 255 || ns[0] == ':' || strings.HasPrefix(ns, "AWS/") {
		return false
	}
	for _, c := range ns {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune(".-_/#: ", c):
		default:
			return false
		}
	}
	return true
}
