package awsconf

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// isolate clears the AWS variables the tests set and points the shared
// files at an empty directory.
func isolate(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
}

// TestLoad holds both builds (default and -tags lambdaenv) to what the
// Lambda runtime gives: region and credentials from the environment, and
// the fallback only when the environment has no access key.
func TestLoad(t *testing.T) {
	fallback := credentials.NewStaticCredentialsProvider("local", "local", "")
	tests := []struct {
		name       string
		env        map[string]string
		opts       Options
		wantRegion string
		wantKey    string
		wantToken  string
	}{
		{name: "OK/LambdaEnvironment", env: map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDLAMBDA", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"},
			wantRegion: "eu-west-1", wantKey: "AKIDLAMBDA", wantToken: "token"},
		{name: "OK/RegionOption", env: map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"},
			opts: Options{Region: "us-west-2"}, wantRegion: "us-west-2", wantKey: "AKID"},
		{name: "OK/EnvironmentWinsOverFallback", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"},
			opts: Options{Region: "us-east-1", Fallback: fallback}, wantRegion: "us-east-1", wantKey: "AKID"},
		{name: "OK/FallbackWithoutKeys", opts: Options{Region: "us-east-1", Fallback: fallback}, wantRegion: "us-east-1", wantKey: "local"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := Load(context.Background(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != tc.wantRegion {
				t.Errorf("region %q, want %q", cfg.Region, tc.wantRegion)
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if creds.AccessKeyID != tc.wantKey || creds.SessionToken != tc.wantToken {
				t.Errorf("credentials %q/%q, want %q/%q", creds.AccessKeyID, creds.SessionToken, tc.wantKey, tc.wantToken)
			}
			if cfg.HTTPClient == nil {
				t.Error("no HTTP client")
			}
		})
	}
}

func TestLoadKeepsOptions(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	client := awshttp.NewBuildableClient().WithTimeout(7 * time.Second)
	retryer := func() aws.Retryer { return aws.NopRetryer{} }
	cfg, err := Load(context.Background(), Options{Region: "us-east-1", HTTPClient: client, Retryer: retryer})
	if err != nil {
		t.Fatal(err)
	}
	// The SDK may derive a client from it (e.g. to add AWS_CA_BUNDLE).
	if c, ok := cfg.HTTPClient.(*awshttp.BuildableClient); !ok || c.GetTimeout() != 7*time.Second {
		t.Errorf("HTTP client %T, want the one given", cfg.HTTPClient)
	}
	if cfg.Retryer == nil {
		t.Fatal("no retryer")
	}
	if _, ok := cfg.Retryer().(aws.NopRetryer); !ok {
		t.Errorf("retryer %T, want the one given", cfg.Retryer())
	}
}
