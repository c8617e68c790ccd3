//go:build !lambdaenv

package awsconf

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestSSMEndpoint: the SSM endpoint is configured as for the SDK's own SSM
// client (the shared config file included).
func TestSSMEndpoint(t *testing.T) {
	const services = "[default]\nservices = local\n[services local]\nssm =\n  endpoint_url = http://from-file-ssm:4566\n"
	tests := []struct {
		name       string
		env        map[string]string
		configFile string
		want       string
	}{
		{name: "OK_NoneConfigured", want: ""},
		{name: "OK_Global", env: map[string]string{"AWS_ENDPOINT_URL": "http://global:4566"}, want: "http://global:4566"},
		{
			name: "OK_ServiceWinsOverGlobal",
			env:  map[string]string{"AWS_ENDPOINT_URL": "http://global:4566", "AWS_ENDPOINT_URL_SSM": "http://ssm:4566"},
			want: "http://ssm:4566",
		},
		{name: "OK_OtherServiceIgnored", env: map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://ddb:8000"}, want: ""},
		{name: "OK_ConfigFileGlobal", configFile: "[default]\nendpoint_url = http://from-file:4566\n", want: "http://from-file:4566"},
		{name: "OK_ConfigFileService", configFile: services, want: "http://from-file-ssm:4566"},
		{
			name:       "OK_EnvServiceWinsOverFile",
			env:        map[string]string{"AWS_ENDPOINT_URL_SSM": "http://ssm:4566"},
			configFile: services,
			want:       "http://ssm:4566",
		},
		{
			name: "OK_IgnoreConfigured",
			env: map[string]string{
				"AWS_ENDPOINT_URL": "http://global:4566", "AWS_ENDPOINT_URL_SSM": "http://ssm:4566",
				"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
			},
			configFile: services,
			want:       "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			configFile := filepath.Join(dir, "config")
			if err := os.WriteFile(configFile, []byte(tc.configFile), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			t.Setenv("AWS_CONFIG_FILE", configFile)
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			awsCfg, err := Load(context.Background(), Options{Region: "us-east-1"})
			if err != nil {
				t.Fatal(err)
			}
			if got := Endpoint(context.Background(), awsCfg, "SSM"); got != tc.want {
				t.Errorf("Endpoint(SSM) = %q, want %q", got, tc.want)
			}
		})
	}
}
