//go:build lambdaenv

package awsconf

import (
	"context"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Load returns the configuration the Lambda runtime's environment gives:
// the region from AWS_REGION (or AWS_DEFAULT_REGION), the execution role's
// credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN (which the runtime sets for the life of the execution
// environment), with o applied. Profiles and the shared files, SSO, web
// identity, the container and instance metadata endpoints, AWS_CA_BUNDLE and
// AWS_ENDPOINT_URL_DYNAMODB (DYNAMODB_ENDPOINT is taskapi's setting) are not
// read.
func Load(_ context.Context, o Options) (aws.Config, error) {
	cfg := aws.Config{
		Region:     firstEnv("AWS_REGION", "AWS_DEFAULT_REGION"),
		HTTPClient: o.HTTPClient,
	}
	if o.Region != "" {
		cfg.Region = o.Region
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = awshttp.NewBuildableClient()
	}
	if o.Retryer != nil {
		cfg.Retryer = o.Retryer
	}
	switch id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); {
	case id != "" && secret != "":
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")))
	case o.Fallback != nil:
		cfg.Credentials = o.Fallback
	default:
		return aws.Config{}, ErrNoCredentials
	}
	return cfg, nil
}

// Endpoint is the endpoint URL the environment configures for a service
// (its SDK ID, e.g. "SSM"): AWS_ENDPOINT_URL_<ID>, else AWS_ENDPOINT_URL,
// unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true; "" means the region's
// public endpoint.
func Endpoint(_ context.Context, _ aws.Config, service string) string {
	if strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return ""
	}
	id := strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_").Replace(service))
	return firstEnv("AWS_ENDPOINT_URL_"+id, "AWS_ENDPOINT_URL")
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}
