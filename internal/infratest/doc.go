// Package infratest holds the tests of what ships taskapi: the Terraform in
// terraform/ (parsed with hcl/v2 and checked against the code: table and
// index names and keys, the Lambda's environment against the production
// configuration, least-privilege IAM, network isolation), the Dockerfile,
// and the Lambda binary itself run end to end under the AWS Lambda Runtime
// Interface Emulator. It has no non-test code.
package infratest
