//go:build lambdaenv

package awsconf

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestLoadReadsOnlyTheEnvironment: a profile's credentials in the shared
// files are not a source in the Lambda build; without keys in the
// environment (and no fallback) Load says so.
func TestLoadReadsOnlyTheEnvironment(t *testing.T) {
	isolate(t)
	if err := os.WriteFile(os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), []byte("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), Options{Region: "us-east-1"}); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("Load = %v, want ErrNoCredentials", err)
	}
	t.Setenv("AWS_DEFAULT_REGION", "ap-south-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	cfg, err := Load(context.Background(), Options{})
	if err != nil || cfg.Region != "ap-south-1" {
		t.Fatalf("Load = %q, %v; want the region of AWS_DEFAULT_REGION", cfg.Region, err)
	}
}

func TestEndpointFromEnvironment(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "OK_NoneConfigured", want: ""},
		{name: "OK_Global", env: map[string]string{"AWS_ENDPOINT_URL": "http://global:4566"}, want: "http://global:4566"},
		{name: "OK_ServiceWinsOverGlobal", env: map[string]string{"AWS_ENDPOINT_URL": "http://global:4566", "AWS_ENDPOINT_URL_SSM": "http://ssm:4566"}, want: "http://ssm:4566"},
		{name: "OK_OtherServiceIgnored", env: map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://ddb:8000"}, want: ""},
		{name: "OK_IgnoreConfigured", env: map[string]string{"AWS_ENDPOINT_URL_SSM": "http://ssm:4566", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if got := Endpoint(context.Background(), aws.Config{}, "SSM"); got != tc.want {
				t.Errorf("Endpoint(SSM) = %q, want %q", got, tc.want)
			}
		})
	}
}
