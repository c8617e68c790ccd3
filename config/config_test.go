package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/config"
	"github.com/taskapi/taskapi/core"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const secret = "0123456789abcdef0123456789abcdef"

func TestLoad(t *testing.T) {
	t.Run("OK zero configuration is development on the embedded store", func(t *testing.T) {
		c, err := config.Load(envOf(nil))
		if err != nil {
			t.Fatal(err)
		}
		if !c.Development() || c.Store != config.StoreEmbedded || c.Port != 8080 || c.DataDir != "./data" ||
			c.JWTTTL != time.Hour || c.CacheEnabled() || c.LogFormat != "text" || !c.Introspection {
			t.Fatalf("unexpected defaults: %+v", c)
		}
	})
	t.Run("OK production with DynamoDB and Redis", func(t *testing.T) {
		c, err := config.Load(envOf(map[string]string{
			"ENVIRONMENT": "production", "JWT_SECRET": secret, "STORE": "dynamodb", "AWS_REGION": "eu-west-1",
			"USERS_TABLE": "prod-users", "TASKS_TABLE": "prod-tasks", "REDIS_HOST": "redis.local", "REDIS_PORT": "6380",
			"JWT_TTL": "30m", "CORS_ALLOWED_ORIGINS": "https://app.example.com, http://localhost:5173/",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if c.RedisAddr() != "redis.local:6380" || c.JWTTTL != 30*time.Minute || c.LogFormat != "json" || c.Introspection ||
			strings.Join(c.CORSOrigins, " ") != "https://app.example.com http://localhost:5173" {
			t.Fatalf("unexpected: %+v", c)
		}
	})
	t.Run("OK introspection on outside development when asked for", func(t *testing.T) {
		c, err := config.Load(envOf(map[string]string{"ENVIRONMENT": "staging", "JWT_SECRET": secret, "GRAPHQL_INTROSPECTION": "true"}))
		if err != nil || !c.Introspection {
			t.Fatalf("introspection %v, %v", c.Introspection, err)
		}
		c, err = config.Load(envOf(map[string]string{"GRAPHQL_INTROSPECTION": "false"}))
		if err != nil || c.Introspection {
			t.Fatalf("introspection in development with GRAPHQL_INTROSPECTION=false: %v, %v", c.Introspection, err)
		}
	})
	t.Run("OK rate limits default, configured or off", func(t *testing.T) {
		c, err := config.Load(envOf(nil))
		if err != nil || c.Limits != core.DefaultLimits() {
			t.Fatalf("limits %+v, %v; want the defaults", c.Limits, err)
		}
		c, err = config.Load(envOf(map[string]string{"RATE_LIMIT_LOGIN": "10/15m", "RATE_LIMIT_REGISTER": " 3 / 1h ", "RATE_LIMIT_WRITES": "OFF", "RATE_LIMIT_REGISTER_ALL": "100/24h"}))
		if err != nil {
			t.Fatal(err)
		}
		want := core.DefaultLimits()
		want.LoginAddress = core.Rate{N: 10, Per: 15 * time.Minute}
		want.Register = core.Rate{N: 3, Per: time.Hour}
		want.Writes = core.Rate{}
		want.RegisterAll = core.Rate{N: 100, Per: 24 * time.Hour}
		if c.Limits != want {
			t.Fatalf("limits %+v, want %+v", c.Limits, want)
		}
	})
	t.Run("OK Lambda defaults to production", func(t *testing.T) {
		c, err := config.Load(envOf(map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "JWT_SECRET_PARAM": "/taskapi/jwt"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Development() || !c.Lambda || c.LambdaEventFormat != config.EventHTTPAPIv2 || c.Introspection {
			t.Fatalf("unexpected: %+v", c)
		}
	})

	t.Run("OK HOST defaults to loopback in development only", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			env  map[string]string
			want string
		}{
			{"development", nil, "127.0.0.1"},
			{"production", map[string]string{"ENVIRONMENT": "production", "JWT_SECRET": secret}, ""},
			{"Lambda", map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "JWT_SECRET_PARAM": "/taskapi/jwt"}, ""},
			{"every interface asked for", map[string]string{"HOST": "0.0.0.0"}, "0.0.0.0"},
			{"star is every interface", map[string]string{"HOST": "*"}, ""},
			{"IPv6 in brackets", map[string]string{"HOST": "[::1]"}, "::1"},
			{"host name", map[string]string{"ENVIRONMENT": "production", "JWT_SECRET": secret, "HOST": "localhost"}, "localhost"},
		} {
			c, err := config.Load(envOf(tc.env))
			if err != nil || c.Host != tc.want {
				t.Errorf("%s: HOST %q, %v; want %q", tc.name, c.Host, err, tc.want)
			}
		}
	})

	bad := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"ErrMissingSecret", map[string]string{"ENVIRONMENT": "production"}, "JWT_SECRET: required"},
		{"ErrShortSecret", map[string]string{"ENVIRONMENT": "production", "JWT_SECRET": "short"}, "at least 32"},
		{"ErrPort", map[string]string{"PORT": "http"}, "PORT:"},
		{"ErrPortRange", map[string]string{"PORT": "70000"}, "PORT:"},
		{"ErrStore", map[string]string{"STORE": "postgres"}, "STORE:"},
		{"ErrRegion", map[string]string{"STORE": "dynamodb"}, "AWS_REGION"},
		{"ErrEndpoint", map[string]string{"DYNAMODB_ENDPOINT": "localhost:8000"}, "DYNAMODB_ENDPOINT"},
		{"ErrTTL", map[string]string{"JWT_TTL": "forever"}, "JWT_TTL"},
		{"ErrTTLRange", map[string]string{"JWT_TTL": "1s"}, "JWT_TTL"},
		{"ErrOrigin", map[string]string{"CORS_ALLOWED_ORIGINS": "example.com"}, "CORS_ALLOWED_ORIGINS"},
		{"ErrBool", map[string]string{"GRAPHQL_INTROSPECTION": "maybe"}, "GRAPHQL_INTROSPECTION"},
		{"ErrRateNoDuration", map[string]string{"RATE_LIMIT_LOGIN": "10"}, `RATE_LIMIT_LOGIN: "10" is not N/duration`},
		{"ErrRateZero", map[string]string{"RATE_LIMIT_REGISTER": "0/1h"}, "RATE_LIMIT_REGISTER:"},
		{"ErrRateBadDuration", map[string]string{"RATE_LIMIT_WRITES": "10/fortnight"}, "RATE_LIMIT_WRITES:"},
		{"ErrRateTooShort", map[string]string{"RATE_LIMIT_LOGIN_EMAIL": "10/1ms"}, "RATE_LIMIT_LOGIN_EMAIL:"},
		{"ErrEventFormat", map[string]string{"LAMBDA_EVENT_FORMAT": "alb"}, "LAMBDA_EVENT_FORMAT"},
		{"ErrHost", map[string]string{"HOST": "http://example.com"}, "HOST:"},
		{"ErrHostPort", map[string]string{"HOST": "127.0.0.1:8080"}, "HOST:"},
		{"ErrSameTables", map[string]string{"STORE": "dynamodb", "AWS_REGION": "us-east-1", "USERS_TABLE": "t", "TASKS_TABLE": "t"}, "must differ"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(envOf(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
	t.Run("ErrSecretNeverEchoed", func(t *testing.T) {
		_, err := config.Load(envOf(map[string]string{"ENVIRONMENT": "production", "JWT_SECRET": "tiny-secret-value"}))
		if err == nil || strings.Contains(err.Error(), "tiny-secret-value") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestResolveDevSecret(t *testing.T) {
	dir := t.TempDir()
	c, err := config.Load(envOf(map[string]string{"DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	s1, err := c.ResolveDevSecret()
	if err != nil || len(s1) < config.MinSecretLen {
		t.Fatalf("secret %q, err %v", s1, err)
	}
	s2, err := c.ResolveDevSecret()
	if err != nil || s2 != s1 {
		t.Fatalf("second call gave a different secret (tokens would not survive a restart)")
	}
	fi, err := os.Stat(filepath.Join(dir, "jwt-secret"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", fi, err)
	}
}

func TestMetricsNamespace(t *testing.T) {
	for _, tc := range []struct {
		name, ns string
		want     string // the namespace in effect, "" when refused
	}{
		{"OK default", "", "taskapi"},
		{"OK stage", "taskapi/prod", "taskapi/prod"},
		{"OK every allowed character", "My_App-1.0 #a:b/c", "My_App-1.0 #a:b/c"},
		{"ErrAWSPrefix", "AWS/Lambda", ""},
		{"ErrLeadingColon", ":taskapi", ""},
		{"ErrCharacter", "taskapi*", ""},
		{"ErrNonASCII", "täskapi", ""},
		{"ErrTooLong", strings.Repeat("a", 256), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(envOf(map[string]string{"METRICS_NAMESPACE": tc.ns}))
			switch {
			case tc.want == "" && (err == nil || !strings.Contains(err.Error(), "METRICS_NAMESPACE")):
				t.Fatalf("err %v, want a METRICS_NAMESPACE error", err)
			case tc.want != "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && c.MetricsNamespace != tc.want:
				t.Fatalf("MetricsNamespace %q, want %q", c.MetricsNamespace, tc.want)
			}
		})
	}
}

func TestMetricsAddr(t *testing.T) {
	for _, tc := range []struct {
		name, addr, host, port string
		want                   string // "" when valid; else a part of the error
	}{
		{"OK off by default", "", "", "", ""},
		{"OK loopback", "127.0.0.1:9090", "", "", ""},
		{"OK every interface", ":9090", "", "", ""},
		{"OK a free port", "127.0.0.1:0", "", "", ""},
		{"ErrNoPort", "127.0.0.1", "", "", "is not host:port"},
		{"ErrBadPort", "127.0.0.1:99999", "", "", "is not a port number"},
		{"ErrThePublicPort", "127.0.0.1:8080", "127.0.0.1", "8080", "must not be served on the public port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(envOf(map[string]string{"METRICS_ADDR": tc.addr, "HOST": tc.host, "PORT": tc.port}))
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want == "" && c.MetricsAddr != tc.addr:
				t.Fatalf("MetricsAddr %q, want %q", c.MetricsAddr, tc.addr)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}
