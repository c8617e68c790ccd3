# A customer-managed KMS key for the secrets (secrets_kms_key_arn, kms.tf).

mock_provider "aws" {
  source = "./tests/aws"
}

variables {
  image_tag                   = "v1"
  lambda_reserved_concurrency = 40
  secrets_kms_key_arn         = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-4172-8394-a5b6c7d8e9f0"
}

# The role may decrypt with the key through SSM (IAM), and holds one grant
# per parameter, which works whatever the key policy says about IAM.
run "customer_key" {
  variables {
    create_secret_parameters = true
  }

  assert {
    condition     = aws_ssm_parameter.jwt_secret[0].key_id == var.secrets_kms_key_arn && aws_ssm_parameter.pass_secret_key[0].key_id == var.secrets_kms_key_arn
    error_message = "the parameters are not encrypted with the customer key"
  }
  assert {
    condition = one([for s in data.aws_iam_policy_document.lambda.statement : s if s.sid == "DecryptOwnSecrets"]).actions == toset(["kms:Decrypt"]) && (
    one([for s in data.aws_iam_policy_document.lambda.statement : s if s.sid == "DecryptOwnSecrets"]).resources == toset([var.secrets_kms_key_arn]))
    error_message = "the role's KMS statement is not kms:Decrypt on the key alone"
  }
  assert {
    condition     = toset(one(one([for s in data.aws_iam_policy_document.lambda.statement : s if s.sid == "DecryptOwnSecrets"]).condition).values) == toset(["ssm.us-east-1.amazonaws.com"])
    error_message = "kms:Decrypt is not limited to SSM"
  }
  assert {
    condition     = length(aws_kms_grant.secrets) == 2
    error_message = "want one grant per parameter, got ${length(aws_kms_grant.secrets)}"
  }
  assert {
    condition = alltrue([for g in aws_kms_grant.secrets :
      g.grantee_principal == aws_iam_role.lambda.arn && g.key_id == var.secrets_kms_key_arn && g.operations == toset(["Decrypt"])
    ])
    error_message = "the grants are not Decrypt on the key for the function's role"
  }
  assert {
    condition = toset([for g in aws_kms_grant.secrets : one(g.constraints).encryption_context_subset["PARAMETER_ARN"]]) == toset([
      "arn:aws:ssm:us-east-1:123456789012:parameter/taskapi/prod/jwt-secret",
      "arn:aws:ssm:us-east-1:123456789012:parameter/taskapi/prod/pass-secret-key",
    ])
    error_message = "the grants are not limited to the two parameters' encryption context"
  }
}

# An alias cannot be named in IAM statements or grants.
run "alias_is_refused" {
  command = plan

  variables {
    secrets_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:alias/taskapi"
  }

  expect_failures = [var.secrets_kms_key_arn]
}

run "key_of_another_region" {
  command = plan

  variables {
    secrets_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-4f50-4172-8394-a5b6c7d8e9f0"
  }

  override_data {
    target = data.aws_kms_key.secrets[0]
    values = {
      arn       = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-4f50-4172-8394-a5b6c7d8e9f0"
      enabled   = true
      key_state = "Enabled"
      key_usage = "ENCRYPT_DECRYPT"
      key_spec  = "SYMMETRIC_DEFAULT"
    }
  }

  expect_failures = [data.aws_kms_key.secrets]
}

run "asymmetric_key" {
  command = plan

  override_data {
    target = data.aws_kms_key.secrets[0]
    values = {
      arn       = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-4172-8394-a5b6c7d8e9f0"
      enabled   = true
      key_state = "Enabled"
      key_usage = "ENCRYPT_DECRYPT"
      key_spec  = "RSA_2048"
    }
  }

  expect_failures = [data.aws_kms_key.secrets]
}

run "disabled_key" {
  command = plan

  override_data {
    target = data.aws_kms_key.secrets[0]
    values = {
      arn       = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-4172-8394-a5b6c7d8e9f0"
      enabled   = false
      key_state = "Disabled"
      key_usage = "ENCRYPT_DECRYPT"
      key_spec  = "SYMMETRIC_DEFAULT"
    }
  }

  expect_failures = [data.aws_kms_key.secrets]
}

# The same key with parameters the operator created (put-parameter --key-id):
# the grants do not depend on who created them.
run "customer_key_provided_secrets" {
  command = plan

  assert {
    condition     = length(aws_ssm_parameter.jwt_secret) == 0 && length(aws_kms_grant.secrets) == 2
    error_message = "no grants for parameters the operator created"
  }
  assert {
    condition     = toset([for g in aws_kms_grant.secrets : g.operations]) == toset([toset(["Decrypt"])])
    error_message = "the grants allow more than Decrypt"
  }
}
