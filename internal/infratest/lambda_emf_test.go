//go:build unix

package infratest_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/internal/metrics"
	"github.com/taskapi/taskapi/internal/metrics/emftest"
)

// emfSamples waits until the function's output holds at least want
// Requests lines (the emulator forwards output on its own schedule), then
// validates every EMF line against the specification and returns the
// samples, and the number of lines.
func (e *emulator) emfSamples(t *testing.T, want int) ([]emftest.Sample, int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var samples []emftest.Sample
		lines, requests := 0, 0
		for _, line := range strings.Split(e.out.String(), "\n") {
			if !emftest.IsEMF([]byte(line)) {
				continue
			}
			// Lambda may put its own metadata before a line; this
			// function writes none, and CloudWatch reads the document
			// from the first brace.
			doc, err := emftest.Parse([]byte(line))
			if err != nil {
				t.Fatalf("the function wrote a line that is not a valid EMF document: %v\n%s", err, line)
			}
			lines++
			for _, s := range doc.Samples {
				if s.Name == metrics.EMFRequests {
					requests++
				}
			}
			samples = append(samples, doc.Samples...)
		}
		if requests >= want || time.Now().After(deadline) {
			return samples, lines
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLambdaImage_WritesEMF runs the Lambda binary under the Runtime
// Interface Emulator and checks the EMF lines its invocations write on
// standard output: each valid by the specification, one request line per
// invocation, every metric with its value and every dimension key set,
// under METRICS_NAMESPACE, with the counts the invocations make.
func TestLambdaImage_WritesEMF(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Lambda binary and runs the emulator")
	}
	rie := rieBinary(t)
	bootstrap := buildBootstrap(t)
	e := startEmulator(t, rie, bootstrap, "http-api-v2")
	e.waitReady(t)

	const email, password = "emf@example.com", "s3cret!pw"
	var reg struct{ Register struct{ ID string } }
	e.gql(t, "", `mutation Register($in: RegisterInput!) { register(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"username": "emf", "email": email, "password": password}}, &reg)
	body, _ := json.Marshal(map[string]any{"query": `mutation { login(email: "nobody@example.com", password: "wrong!pw1") { accessToken } }`})
	e.invoke(t, httpRequest{method: "POST", path: "/graphql", headers: [][2]string{{"Content-Type", "application/json"}}, body: body})
	for range 3 {
		e.invoke(t, httpRequest{method: "GET", path: "/healthz"})
	}
	if resp := e.invoke(t, httpRequest{method: "GET", path: "/api/v1/tasks/fetch-task"}); resp.Status != http.StatusUnauthorized {
		t.Fatalf("fetch-task without a token = %d", resp.Status)
	}
	const invocations = 1 + 1 + 1 + 3 + 1 // waitReady's healthz, register, a login at an unknown email, healthz, fetch-task
	samples, lines := e.emfSamples(t, invocations)
	t.Logf("%d invocations wrote %d EMF lines", invocations, lines)

	req := func(transport, operation, code string) map[string]string {
		return map[string]string{"transport": transport, "operation": operation, "code": code}
	}
	tests := []struct {
		name   string
		metric string
		dims   map[string]string
		want   float64
	}{
		{"HealthzRequests", metrics.EMFRequests, req("other", "GET /healthz", "200"), 4},
		{"RegisterRequest", metrics.EMFRequests, req("graphql", "mutation.register", "OK"), 1},
		{"LoginRefusedRequest", metrics.EMFRequests, req("graphql", "mutation.login", "UNAUTHENTICATED"), 1},
		{"RESTUnauthorized", metrics.EMFRequests, req("rest", "GET /api/v1/tasks/fetch-task", "401"), 1},
		{"LoginFailure", metrics.EMFLoginFailed, map[string]string{"reason": "bad_credentials"}, 1},
		{"UnknownEmailIsAStoreNotFound", metrics.EMFStoreErrors, map[string]string{"kind": "not_found"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got float64
			for _, s := range samples {
				if s.Name == tc.metric && maps.Equal(s.Dimensions, tc.dims) {
					for _, v := range s.Values {
						got += v
					}
				}
			}
			if got != tc.want {
				t.Errorf("%s%v = %v, want %v", tc.metric, tc.dims, got, tc.want)
			}
		})
	}

	t.Run("EveryLineIsWhatTheCodeDeclares", func(t *testing.T) {
		declared := map[string][][]string{}
		for _, m := range metrics.EMFMetrics() {
			declared[m.Name] = m.Dimensions
		}
		requests, latencies := 0, 0
		for _, s := range samples {
			if s.Namespace != testMetricsNamespace {
				t.Errorf("%s in namespace %q, want METRICS_NAMESPACE %q", s.Name, s.Namespace, testMetricsNamespace)
			}
			sets, ok := declared[s.Name]
			if !ok {
				t.Errorf("metric %q is not in metrics.EMFMetrics", s.Name)
				continue
			}
			found := false
			for _, set := range sets {
				if len(set) == len(s.Dimensions) {
					found = true
					for _, k := range set {
						if s.Dimensions[k] == "" {
							found = false
						}
					}
				}
			}
			if !found {
				t.Errorf("%s has dimensions %v, none of its declared sets %v", s.Name, s.Dimensions, sets)
			}
			if len(s.Values) == 0 {
				t.Errorf("%s has no value", s.Name)
			}
			switch s.Name {
			case metrics.EMFRequests:
				requests += int(s.Values[0])
			case metrics.EMFLatency:
				latencies += len(s.Values)
				for _, v := range s.Values {
					if v < 0 || v > 30_000 {
						t.Errorf("Latency %v ms is not a request's duration", v)
					}
				}
			}
		}
		if requests != invocations || latencies != invocations {
			t.Errorf("%d invocations counted %d requests and %d latencies", invocations, requests, latencies)
		}
	})

	t.Run("MetricLinesAreNotInterleavedWithLogs", func(t *testing.T) {
		// Each EMF document must be a log event of its own: a JSON
		// object alone on its line, which the Parse above proved for
		// every line naming "_aws"; and no log line embeds one.
		for _, line := range strings.Split(e.out.String(), "\n") {
			if i := strings.Index(line, `"_aws"`); i >= 0 && !bytes.HasPrefix([]byte(strings.TrimSpace(line)), []byte(`{"_aws"`)) {
				t.Errorf("a line holds an EMF document after other text: %q", line)
			}
		}
	})
}
