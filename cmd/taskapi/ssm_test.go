package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSecretsFromSSM runs the binary with its secrets in SSM Parameter Store
// (as in Lambda), SSM being a fake endpoint named by AWS_ENDPOINT_URL_SSM:
// one signed GetParameters call at start, and a start that fails, naming
// the parameter, when one is missing.
func TestSecretsFromSSM(t *testing.T) {
	const (
		jwtValue    = "jwt-from-ssm-0123456789abcdef0123456789"
		pepperValue = "pepper-from-ssm-0123456789"
	)
	params := map[string]string{"/taskapi/test/jwt-secret": jwtValue, "/taskapi/test/pepper": pepperValue}
	tests := []struct {
		name      string
		env       []string
		wantNames []string
		wantErr   []string // in the output of a start that fails
	}{
		{
			name:      "OK_BothSecrets",
			env:       []string{"JWT_SECRET_PARAM=/taskapi/test/jwt-secret", "PASS_SECRET_KEY_PARAM=/taskapi/test/pepper"},
			wantNames: []string{"/taskapi/test/jwt-secret", "/taskapi/test/pepper"},
		},
		{
			name:      "OK_JWTFromEnvPepperFromSSM",
			env:       []string{"JWT_SECRET=0123456789abcdef0123456789abcdef-env", "PASS_SECRET_KEY_PARAM=/taskapi/test/pepper"},
			wantNames: []string{"/taskapi/test/pepper"},
		},
		{
			name:      "ErrMissingParameter",
			env:       []string{"JWT_SECRET_PARAM=/taskapi/test/jwt-secret", "PASS_SECRET_KEY_PARAM=/taskapi/test/nope"},
			wantNames: []string{"/taskapi/test/jwt-secret", "/taskapi/test/nope"},
			wantErr:   []string{"SSM parameter not found", "/taskapi/test/nope"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var (
				mu    sync.Mutex
				calls [][]string
			)
			ssm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var in struct {
					Names          []string
					WithDecryption bool
				}
				_ = json.NewDecoder(r.Body).Decode(&in)
				mu.Lock()
				calls = append(calls, in.Names)
				mu.Unlock()
				auth := r.Header.Get("Authorization")
				if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameters" || !in.WithDecryption ||
					!strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(auth, "/eu-west-1/ssm/aws4_request") ||
					r.Header.Get("X-Amz-Security-Token") != "TOKEN" {
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"__type":"ValidationException","message":"unexpected request"}`))
					return
				}
				type param struct{ Name, Value string }
				out := struct {
					Parameters        []param
					InvalidParameters []string
				}{Parameters: []param{}, InvalidParameters: []string{}}
				for _, n := range in.Names {
					if v, ok := params[n]; ok {
						out.Parameters = append(out.Parameters, param{n, v})
					} else {
						out.InvalidParameters = append(out.InvalidParameters, n)
					}
				}
				_ = json.NewEncoder(w).Encode(out)
			}))
			defer ssm.Close()

			dir := t.TempDir()
			env := append([]string{
				"ENVIRONMENT=production", "DATA_DIR=" + dir, "AWS_REGION=eu-west-1",
				"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_SESSION_TOKEN=TOKEN",
				"AWS_CONFIG_FILE=" + filepath.Join(dir, "aws-config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "aws-credentials"),
				"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_SSM=" + ssm.URL,
			}, tc.env...)

			var logs string
			if tc.wantErr == nil {
				s := start(t, binary(t), env...)
				s.stop(t)
				logs = s.logs.String()
			} else {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, binary(t))
				cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), fmt.Sprintf("PORT=%d", freePort(t))}, env...)
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Run(); err == nil {
					t.Fatalf("taskapi started without %s\n%s", tc.wantErr, &out)
				}
				logs = out.String()
				for _, s := range tc.wantErr {
					if !strings.Contains(logs, s) {
						t.Errorf("output does not mention %q:\n%s", s, logs)
					}
				}
			}

			mu.Lock()
			defer mu.Unlock()
			if len(calls) != 1 {
				t.Fatalf("%d GetParameters calls (%q), want 1", len(calls), calls)
			}
			got := slices.Sorted(slices.Values(calls[0]))
			if !slices.Equal(got, tc.wantNames) {
				t.Errorf("names read = %q, want %q", got, tc.wantNames)
			}
			for _, v := range []string{jwtValue, pepperValue} {
				if strings.Contains(logs, v) {
					t.Errorf("output contains a secret value:\n%s", logs)
				}
			}
		})
	}
}
