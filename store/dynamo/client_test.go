package dynamo_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"

	"github.com/aws/smithy-go/logging"

	"github.com/taskapi/taskapi/store/dynamo"
)

// isolate hides the machine's AWS configuration from the SDK.
func isolate(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestNewClient(t *testing.T) {
	t.Run("LocalEndpointNeedsNoAWSSetup", func(t *testing.T) {
		isolate(t)
		c, err := dynamo.NewClient(t.Context(), dynamo.Options{Endpoint: "http://127.0.0.1:8000"})
		if err != nil {
			t.Fatalf("NewClient: %v", err)
		}
		o := c.Options()
		if o.Region != "us-east-1" {
			t.Errorf("region %q, want us-east-1 for a local endpoint", o.Region)
		}
		creds, err := o.Credentials.Retrieve(t.Context())
		if err != nil || creds.AccessKeyID != "local" {
			t.Errorf("credentials %q, %v; want static dummy ones", creds.AccessKeyID, err)
		}
		if n := o.Retryer.MaxAttempts(); n != 3 {
			t.Errorf("max attempts %d, want 3", n)
		}
	})

	t.Run("EnvironmentCredentialsWinOverDummyOnes", func(t *testing.T) {
		isolate(t)
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "example")
		c, err := dynamo.NewClient(t.Context(), dynamo.Options{Endpoint: "http://127.0.0.1:8000", Region: "eu-west-1"})
		if err != nil {
			t.Fatalf("NewClient: %v", err)
		}
		creds, err := c.Options().Credentials.Retrieve(t.Context())
		if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" {
			t.Errorf("credentials %q, %v; want the environment's", creds.AccessKeyID, err)
		}
		if r := c.Options().Region; r != "eu-west-1" {
			t.Errorf("region %q, want eu-west-1", r)
		}
	})

	t.Run("NoRegionForAWSIsAnError", func(t *testing.T) {
		isolate(t)
		if _, err := dynamo.NewClient(t.Context(), dynamo.Options{}); err == nil {
			t.Fatal("NewClient without a region succeeded")
		}
	})
}

func TestIndexNames(t *testing.T) {
	// Terraform uses the same names; changing them breaks deployed tables.
	got := []string{dynamo.EmailIndex, dynamo.StatusIndex, dynamo.UpdatedIndex, dynamo.DueIndex, dynamo.StatusUpdatedIndex, dynamo.StatusDueIndex}
	want := []string{"email-index", "status-index", "updated-index", "due-index", "status-updated-index", "status-due-index"}
	if !slices.Equal(got, want) {
		t.Fatalf("index names %q changed, want %q", got, want)
	}
}

// TestSDKLogLinesAreStructured: the SDK's warnings reach the JSON log as
// records of their own, not as plain "SDK … WARN" text on stderr.
func TestSDKLogLinesAreStructured(t *testing.T) {
	var buf bytes.Buffer
	l := dynamo.SDKLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l.Logf(logging.Warn, "Response has no supported checksum. Not validating response payload %s", "x")
	l.Logf(logging.Debug, "request %d", 1)
	var got []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("not a JSON record: %q", line)
		}
		got = append(got, rec)
	}
	if len(got) != 2 || got[0]["level"] != "WARN" || got[0]["source"] != "aws-sdk" ||
		got[0]["msg"] != "Response has no supported checksum. Not validating response payload x" || got[1]["level"] != "DEBUG" {
		t.Fatalf("records %v", got)
	}
}
