//go:build hello_sdk || hello_deps

package main

// The AWS SDK packages taskapi links for its DynamoDB store, and its AWS
// configuration (internal/awsconf: the SDK's credential chain, or with
// -tags lambdaenv, as the image is built, the environment's credentials):
// built with -tags hello_sdk, hello measures what their package
// initialization alone adds to a cold start.
import (
	_ "github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	_ "github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	_ "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	_ "github.com/taskapi/taskapi/internal/awsconf"
)
