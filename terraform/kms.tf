# A customer-managed KMS key for the two SecureString parameters
# (secrets_kms_key_arn). The role's kms:Decrypt statement (iam.tf) only
# counts if the key's policy delegates to IAM (the "Enable IAM User
# Permissions" statement of the default key policy); a key whose policy does
# not would fail every cold start. So the role also gets a KMS grant per
# parameter: grants authorize on their own, whatever the key policy says, and
# each is limited to Decrypt with the encryption context SSM uses for that
# parameter (PARAMETER_ARN). Creating them needs kms:CreateGrant on the key.

data "aws_kms_key" "secrets" {
  count = var.secrets_kms_key_arn == null ? 0 : 1

  key_id = var.secrets_kms_key_arn

  lifecycle {
    postcondition {
      condition     = self.enabled && self.key_state == "Enabled"
      error_message = "The KMS key ${var.secrets_kms_key_arn} is not enabled (state ${self.key_state})."
    }
    # SSM encrypts with a key of its own region.
    postcondition {
      condition     = try(split(":", self.arn)[3], "") == var.region
      error_message = "The KMS key ${var.secrets_kms_key_arn} is not in ${var.region}, the deployment's region."
    }
    # SecureString parameters need a symmetric encryption key.
    postcondition {
      condition     = self.key_usage == "ENCRYPT_DECRYPT" && self.key_spec == "SYMMETRIC_DEFAULT"
      error_message = "The KMS key ${var.secrets_kms_key_arn} is ${self.key_spec} for ${self.key_usage}: SSM SecureString parameters need a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key."
    }
  }
}

resource "aws_kms_grant" "secrets" {
  for_each = var.secrets_kms_key_arn == null ? {} : {
    jwt-secret      = local.jwt_secret_parameter_arn
    pass-secret-key = local.pass_secret_key_parameter_arn
  }

  name              = "${local.prefix}-lambda-${each.key}"
  key_id            = data.aws_kms_key.secrets[0].arn
  grantee_principal = aws_iam_role.lambda.arn
  operations        = ["Decrypt"]

  constraints {
    encryption_context_subset = {
      PARAMETER_ARN = each.value
    }
  }
}
