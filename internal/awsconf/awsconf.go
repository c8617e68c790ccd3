// Package awsconf loads the AWS SDK configuration of taskapi's two AWS
// clients: the DynamoDB store's, and the one SSM call a Lambda cold start
// makes.
//
// By default it is the SDK's config.LoadDefaultConfig: every credential
// source (environment, shared files and profiles, SSO, web identity, ECS,
// EC2), the shared config file's settings and the AWS_ENDPOINT_URL
// variables. Built with -tags lambdaenv, as the Dockerfile builds the Lambda
// image, it reads only what the Lambda runtime provides, from the
// environment (see env.go). The SDK's config package links the STS, SSO,
// SSO-OIDC and sign-in clients for its credential chain; their package
// initialization cost about 3.5 ms at every start of the image, where the
// environment's credentials are the only ones there are.
package awsconf

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Options are what taskapi sets itself; the rest comes from the
// environment.
type Options struct {
	// Region overrides the environment's (AWS_REGION).
	Region string
	// HTTPClient and Retryer, if set, replace the SDK's defaults.
	HTTPClient aws.HTTPClient
	Retryer    func() aws.Retryer
	// Fallback, if set, signs requests when the environment holds no
	// access key (AWS_ACCESS_KEY_ID): DynamoDB Local accepts any.
	Fallback aws.CredentialsProvider
}

// ErrNoCredentials is Load's error, in a binary built with -tags lambdaenv,
// when the environment holds no credentials and Options.Fallback is nil.
var ErrNoCredentials = errors.New("no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): this binary was built with -tags lambdaenv, which reads no other source")
