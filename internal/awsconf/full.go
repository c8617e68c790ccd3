//go:build !lambdaenv

package awsconf

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Load returns the SDK's default configuration with o applied.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	var load []func(*config.LoadOptions) error
	if o.Region != "" {
		load = append(load, config.WithRegion(o.Region))
	}
	if o.HTTPClient != nil {
		load = append(load, config.WithHTTPClient(o.HTTPClient))
	}
	if o.Retryer != nil {
		load = append(load, config.WithRetryer(o.Retryer))
	}
	if o.Fallback != nil {
		env, err := config.NewEnvConfig()
		if err != nil {
			return aws.Config{}, err
		}
		if !env.Credentials.HasKeys() {
			load = append(load, config.WithCredentialsProvider(o.Fallback))
		}
	}
	return config.LoadDefaultConfig(ctx, load...)
}

// Endpoint is the endpoint URL configured for a service (its SDK ID, e.g.
// "SSM"), as the SDK's own client for it finds it: AWS_ENDPOINT_URL_<ID>
// (or the shared config file's services section), else AWS_ENDPOINT_URL (or
// endpoint_url), unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS; "" means the
// region's public endpoint.
func Endpoint(ctx context.Context, cfg aws.Config, service string) string {
	base := aws.ToString(cfg.BaseEndpoint) // already "" when ignored
	for _, src := range cfg.ConfigSources {
		if s, ok := src.(interface {
			GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error)
		}); ok {
			if ignore, found, err := s.GetIgnoreConfiguredEndpoints(ctx); err == nil && found && ignore {
				return base
			}
		}
	}
	for _, src := range cfg.ConfigSources {
		if s, ok := src.(interface {
			GetServiceBaseEndpoint(context.Context, string) (string, bool, error)
		}); ok {
			if v, found, err := s.GetServiceBaseEndpoint(ctx, service); err != nil || found {
				if err == nil {
					return v
				}
				break
			}
		}
	}
	return base
}
