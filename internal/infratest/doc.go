// Package infratest holds the tests of what ships taskapi: the Terraform in
// terraform/ (parsed with hcl/v2 and checked against the code: table and
// index names and keys, the Lambda's environment against the production
// configuration, least-privilege IAM, network isolation), the same module
// through Terraform itself (terraform validate, and terraform test with the
// AWS provider mocked: terraform/tests, run when /opt/tf-plugins holds the
// provider), the README's deploy commands against the module, the
// Dockerfile as BuildKit evaluates it, and the Lambda binary itself run end
// to end under the AWS Lambda Runtime Interface Emulator. It has no non-test
// code.
package infratest
