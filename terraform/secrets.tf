# JWT_SECRET and PASS_SECRET_KEY live in SSM Parameter Store as SecureString
# parameters. The Lambda's environment holds only their NAMES
# (JWT_SECRET_PARAM, PASS_SECRET_KEY_PARAM); it reads the values once per
# cold start through the SSM interface endpoint.
#
# create_secret_parameters = false (default): you create both parameters
# before `terraform apply` (docs/deploy.md); Terraform only checks they exist
# (reading them without decryption) and never sees a value.
#
# create_secret_parameters = true: Terraform generates both values with
# random_password. Convenient, but the plaintext values are then stored in
# Terraform state: use an encrypted, access-controlled backend.
#
# Never change PASS_SECRET_KEY of a live deployment: it keys every password
# hash, so every user would have to reset their password.

resource "random_password" "jwt_secret" {
  count = var.create_secret_parameters ? 1 : 0

  length  = 64
  special = false
}

resource "random_password" "pass_secret_key" {
  count = var.create_secret_parameters ? 1 : 0

  length  = 64
  special = false
}

resource "aws_ssm_parameter" "jwt_secret" {
  count = var.create_secret_parameters ? 1 : 0

  name        = local.jwt_secret_parameter_name
  description = "taskapi ${var.stage}: JWT signing secret (HS256)"
  type        = "SecureString"
  key_id      = var.secrets_kms_key_arn
  value       = random_password.jwt_secret[0].result
}

resource "aws_ssm_parameter" "pass_secret_key" {
  count = var.create_secret_parameters ? 1 : 0

  name        = local.pass_secret_key_parameter_name
  description = "taskapi ${var.stage}: password hashing pepper (PASS_SECRET_KEY)"
  type        = "SecureString"
  key_id      = var.secrets_kms_key_arn
  value       = random_password.pass_secret_key[0].result
}

# With create_secret_parameters = false: fail at plan time, with a clear
# message, when a parameter is missing or not a SecureString. Without
# decryption, state only gets the ciphertext.
data "aws_ssm_parameter" "jwt_secret" {
  count = var.create_secret_parameters ? 0 : 1

  name            = local.jwt_secret_parameter_name
  with_decryption = false

  lifecycle {
    postcondition {
      condition     = self.type == "SecureString"
      error_message = "The SSM parameter ${local.jwt_secret_parameter_name} must be a SecureString."
    }
  }
}

data "aws_ssm_parameter" "pass_secret_key" {
  count = var.create_secret_parameters ? 0 : 1

  name            = local.pass_secret_key_parameter_name
  with_decryption = false

  lifecycle {
    postcondition {
      condition     = self.type == "SecureString"
      error_message = "The SSM parameter ${local.pass_secret_key_parameter_name} must be a SecureString."
    }
  }
}
