package main_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/internal/testenv"
)

// get returns the status and body of GET url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// waitStatus polls url until it answers status, and returns the body; it
// fails after 10 s. /readyz caches its answer for a second, so a change
// shows within about one.
func waitStatus(t *testing.T, url string, status int) string {
	t.Helper()
	return waitAnswer(t, url, status, "")
}

// waitAnswer waits until url answers status with body (any body if "").
func waitAnswer(t *testing.T, url string, status int, want string) string {
	t.Helper()
	var code int
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if code, body = get(t, url); code == status && (want == "" || body == want) {
			return body
		}
	}
	t.Fatalf("GET %s: %d %s, want %d %s", url, code, body, status, want)
	return ""
}

// TestReadyz runs the binary on each store and cache and stops what it
// depends on: /readyz turns from 200 "ready" to 503 "unavailable" naming
// the store (never its address or the error), or to 200 "degraded" naming
// Redis (requests still work from the store), /healthz stays 200 (the
// process lives), and the cause is in the log.
func TestReadyz(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local and Redis")
	}
	for _, tc := range []struct {
		name        string
		env         func(t *testing.T) (env []string, stop func() error, addr string)
		ready       string
		unready     string // "" when nothing is stopped
		unreadyCode int
	}{
		{"Embedded", func(t *testing.T) ([]string, func() error, string) {
			return []string{"DATA_DIR=" + t.TempDir()}, nil, ""
		}, `{"status":"ready","checks":{"redis":"not configured","store":"ok"}}`, "", 0},
		{"ErrDynamoDBStopped", func(t *testing.T) ([]string, func() error, string) {
			ddb := testenv.StartDynamoDB(t, testenv.DynamoDBOptions{})
			env, _, _ := dynamoEnv(ddb.Endpoint(), "readyz", "readyz-secret-0123456789abcdef0123456789")
			if out, code := runCLI(t, env, "create-tables"); code != 0 {
				t.Fatalf("create-tables: %d %s", code, out)
			}
			return env, ddb.Stop, strings.TrimPrefix(ddb.Endpoint(), "http://")
		}, `{"status":"ready","checks":{"redis":"not configured","store":"ok"}}`,
			`{"status":"unavailable","checks":{"redis":"not configured","store":"unreachable"}}`, 503},
		{"ErrRedisStopped", func(t *testing.T) ([]string, func() error, string) {
			rs := testenv.Redis(t)
			host, port, _ := strings.Cut(rs.Addr(), ":")
			return []string{"DATA_DIR=" + t.TempDir(), "REDIS_HOST=" + host, "REDIS_PORT=" + port}, rs.Kill, rs.Addr()
		}, `{"status":"ready","checks":{"redis":"ok","store":"ok"}}`,
			`{"status":"degraded","checks":{"redis":"unreachable","store":"ok"}}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, stop, addr := tc.env(t)
			s := start(t, binary(t), env...)
			if body := waitStatus(t, s.url+"/readyz", 200); body != tc.ready {
				t.Fatalf("ready: %s, want %s", body, tc.ready)
			}
			if stop == nil {
				return
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			body := waitAnswer(t, s.url+"/readyz", tc.unreadyCode, tc.unready)
			if strings.Contains(body, addr) || strings.Contains(body, "refused") {
				t.Errorf("the answer shows internals: %s", body)
			}
			if code, _ := get(t, s.url+"/healthz"); code != 200 {
				t.Errorf("/healthz %d: liveness must not follow the dependencies", code)
			}
			s.stop(t) // the logs are written until the process exits
			if !strings.Contains(s.logs.String(), "readiness check failed") {
				t.Errorf("the cause was not logged:\n%s", s.logs)
			}
		})
	}
}

// TestMetricsScrapedByPrometheus: the binary with METRICS_ADDR serves
// /metrics there and only there; a real Prometheus scrapes it every second,
// and its HTTP API gives back the request counters the test's requests
// produced.
func TestMetricsScrapedByPrometheus(t *testing.T) {
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	prom := testenv.Prometheus(t, metricsAddr)
	s := start(t, binary(t), "DATA_DIR="+t.TempDir(), "METRICS_ADDR="+metricsAddr)

	if code, _ := get(t, s.url+"/metrics"); code != http.StatusNotFound {
		t.Fatalf("the public port answers /metrics with %d, want 404", code)
	}
	const logins = 3
	for range logins {
		if code, _, body := s.rest("POST", "/api/v1/auth/login", "", `{"email":"nobody@example.com","password":"wr0ng!pw"}`); code != 401 {
			t.Fatalf("login: %d %s", code, body)
		}
	}
	if out := s.graphqlRaw(t, `{ __typename }`, nil); !strings.Contains(out, "Query") {
		t.Fatalf("graphql: %s", out)
	}
	code, text := get(t, "http://"+metricsAddr+"/metrics")
	if code != 200 || !strings.Contains(text, `taskapi_requests_total{code="401",operation="POST /api/v1/auth/login",transport="rest"} 3`) {
		t.Fatalf("METRICS_ADDR /metrics: %d\n%s", code, text)
	}

	queries := []struct {
		q    string
		want float64
	}{
		{`taskapi_requests_total{transport="rest",operation="POST /api/v1/auth/login",code="401"}`, logins},
		{`taskapi_login_failures_total{reason="bad_credentials"}`, logins},
		{`taskapi_requests_total{transport="graphql",operation="query.__typename",code="OK"}`, 1},
	}
	for _, q := range queries {
		var got []testenv.Sample
		var err error
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if got, err = prom.Query(t.Context(), q.q); err == nil && len(got) == 1 && got[0].Value == q.want {
				break
			}
		}
		if err != nil || len(got) != 1 || got[0].Value != q.want {
			t.Fatalf("Prometheus answers %s with %v (err %v), want one series of %v", q.q, got, err, q.want)
		}
		if got[0].Labels["job"] != "taskapi" || got[0].Labels["instance"] != metricsAddr {
			t.Errorf("series %v: not scraped from %s", got[0].Labels, metricsAddr)
		}
	}
}
