# JWT_SECRET and PASS_SECRET_KEY live in SSM Parameter Store as SecureString
# parameters. The Lambda's environment holds only their NAMES
# (JWT_SECRET_PARAM, PASS_SECRET_KEY_PARAM); it reads the values once per
# cold start through the SSM interface endpoint.
#
# create_secret_parameters = false (default): you create both parameters
# before `terraform plan` (README, docs/deploy.md); Terraform only checks they
# exist and are SecureStrings (listing them without decryption) and never
# sees a value. A missing parameter fails the plan with its name and the
# command that creates it.
#
# create_secret_parameters = true: Terraform generates both values and
# creates the parameters. The values come from Secrets Manager's
# GetRandomPassword (the AWS provider's aws_secretsmanager_random_password
# data source) rather than hashicorp/random, so the module needs no provider
# but AWS. The generated values are stored in Terraform state: use an
# encrypted, access-controlled backend.
#
# Never change PASS_SECRET_KEY of a live deployment: it keys every password
# hash, so every user would have to reset their password. The data source
# draws a new value at every plan, so the parameters ignore later changes of
# their value: the first one written stays.

data "aws_secretsmanager_random_password" "jwt_secret" {
  count = var.create_secret_parameters ? 1 : 0

  password_length     = 64
  exclude_punctuation = true
}

data "aws_secretsmanager_random_password" "pass_secret_key" {
  count = var.create_secret_parameters ? 1 : 0

  password_length     = 64
  exclude_punctuation = true
}

resource "aws_ssm_parameter" "jwt_secret" {
  count = var.create_secret_parameters ? 1 : 0

  name        = local.jwt_secret_parameter_name
  description = "taskapi ${var.stage}: JWT signing secret (HS256)"
  type        = "SecureString"
  key_id      = var.secrets_kms_key_arn
  value       = sensitive(data.aws_secretsmanager_random_password.jwt_secret[0].random_password)

  lifecycle {
    ignore_changes = [value]
  }
}

resource "aws_ssm_parameter" "pass_secret_key" {
  count = var.create_secret_parameters ? 1 : 0

  name        = local.pass_secret_key_parameter_name
  description = "taskapi ${var.stage}: password hashing pepper (PASS_SECRET_KEY)"
  type        = "SecureString"
  key_id      = var.secrets_kms_key_arn
  value       = sensitive(data.aws_secretsmanager_random_password.pass_secret_key[0].random_password)

  lifecycle {
    ignore_changes = [value]
  }
}

# With create_secret_parameters = false: fail the plan, with a clear message,
# when a parameter is missing or not a SecureString. GetParametersByPath
# answers with what exists (GetParameter would fail with a bare
# ParameterNotFound); without decryption, state gets only ciphertext.
data "aws_ssm_parameters_by_path" "secrets" {
  count = var.create_secret_parameters ? 0 : 1

  path            = local.secret_parameter_path
  recursive       = false
  with_decryption = false

  lifecycle {
    postcondition {
      condition     = contains(self.names, local.jwt_secret_parameter_name)
      error_message = "The SSM parameter ${local.jwt_secret_parameter_name} (JWT_SECRET) does not exist in ${var.region}. Create it before planning: aws ssm put-parameter --region ${var.region} --type SecureString --name ${local.jwt_secret_parameter_name} --value \"$(openssl rand -base64 48)\" (docs/deploy.md), or set create_secret_parameters = true."
    }
    postcondition {
      condition     = contains(self.names, local.pass_secret_key_parameter_name)
      error_message = "The SSM parameter ${local.pass_secret_key_parameter_name} (PASS_SECRET_KEY) does not exist in ${var.region}. Create it before planning: aws ssm put-parameter --region ${var.region} --type SecureString --name ${local.pass_secret_key_parameter_name} --value \"$(openssl rand -base64 48)\" (docs/deploy.md), or set create_secret_parameters = true."
    }
    postcondition {
      condition = alltrue([
        for i, n in self.names : self.types[i] == "SecureString"
        if contains([local.jwt_secret_parameter_name, local.pass_secret_key_parameter_name], n)
      ])
      error_message = "The SSM parameters ${local.jwt_secret_parameter_name} and ${local.pass_secret_key_parameter_name} must be SecureStrings: re-create the other one as a SecureString with the same value (aws ssm delete-parameter, then put-parameter --type SecureString)."
    }
  }
}

# Every cold start reads both secrets with one GetParameters call, and
# Parameter Store's default quota is 40 calls per second shared by the whole
# account and region: a scale-out burst (Lambda adds up to 1,000 instances per
# 10 seconds) would be throttled and those cold starts would fail. Either the
# higher throughput setting (ssm_high_throughput) lifts the quota, or a
# reserved concurrency of at most 40 bounds the calls in flight.
resource "aws_ssm_service_setting" "high_throughput" {
  count = var.ssm_high_throughput ? 1 : 0

  setting_id    = "arn:${local.partition}:ssm:${var.region}:${local.account_id}:servicesetting/ssm/parameter-store/high-throughput-enabled"
  setting_value = "true"
}

check "ssm_throughput" {
  assert {
    condition     = var.ssm_high_throughput || (var.lambda_reserved_concurrency >= 1 && var.lambda_reserved_concurrency <= 40)
    error_message = "Cold starts read SSM Parameter Store (one GetParameters call each; default quota 40 per second for the account and region). With lambda_reserved_concurrency = ${var.lambda_reserved_concurrency}, a burst can exceed it and those cold starts fail: set ssm_high_throughput = true, or lambda_reserved_concurrency to at most 40."
  }
}
