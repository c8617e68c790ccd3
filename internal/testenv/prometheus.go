package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// EnvPrometheus names the prometheus binary to run; without it Prometheus
// looks for prometheus on PATH (Debian's package installs /usr/bin/prometheus).
const EnvPrometheus = "TASKAPI_PROMETHEUS"

// prometheusStartTimeout bounds how long a fresh Prometheus may take to
// report itself ready (a second or two; the margin is for a busy machine).
const prometheusStartTimeout = 20 * time.Second

// PrometheusServer is a private Prometheus owned by one test, scraping one
// target every second, with its data in a temporary folder.
type PrometheusServer struct {
	url string
}

// Prometheus starts a Prometheus ($TASKAPI_PROMETHEUS, else prometheus from
// PATH) that scrapes http://target/metrics every second, on a free
// loopback port, and stops it when t ends. Without the binary it skips t,
// or fails it when $TASKAPI_TEST_REQUIRE_SERVICES=1.
func Prometheus(t testing.TB, target string) *PrometheusServer {
	t.Helper()
	bin := os.Getenv(EnvPrometheus)
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("prometheus"); err != nil {
			unavailable(t, "Prometheus is not available: prometheus is not on PATH (install it, e.g. apt-get install prometheus, or set "+EnvPrometheus+")")
		}
	} else if _, err := os.Stat(bin); err != nil {
		unavailable(t, fmt.Sprintf("Prometheus is not available: %s=%s: %v", EnvPrometheus, bin, err))
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	yml := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: taskapi\n    static_configs:\n      - targets: [%q]\n", target)
	if err := os.WriteFile(conf, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logs := &logBuffer{}
	cmd := exec.Command(bin, "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	s := &PrometheusServer{url: "http://" + addr}
	deadline := time.Now().Add(prometheusStartTimeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-done:
			t.Fatalf("prometheus exited early:\n%s", logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("prometheus did not become ready in %s:\n%s", prometheusStartTimeout, logs)
	return nil
}

// URL is the server's base URL.
func (s *PrometheusServer) URL() string { return s.url }

// Sample is one series of an instant query's answer.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query runs the PromQL instant query q through the HTTP API
// (/api/v1/query) and returns its vector.
func (s *PrometheusServer) Query(ctx context.Context, q string) ([]Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"` // [unix time, "value"]
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	if body.Status != "success" || body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: %s %s (%s)", q, body.Status, body.Error, body.Data.ResultType)
	}
	var out []Sample
	for _, r := range body.Data.Result {
		str, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: value %v: %w", q, r.Value[1], err)
		}
		out = append(out, Sample{Labels: r.Metric, Value: v})
	}
	return out, nil
}
