data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  prefix        = "${var.name}-${var.stage}"
  function_name = "${var.name}-${var.stage}-api"
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition

  users_table_name = coalesce(var.users_table_name, "${var.name}-${var.stage}-users")
  tasks_table_name = coalesce(var.tasks_table_name, "${var.name}-${var.stage}-tasks")

  # Index names: the code's dynamo.EmailIndex and dynamo.StatusIndex
  # (internal/infratest proves they match).
  email_index  = "email-index"
  status_index = "status-index"

  # SSM parameter names of the two secrets (the Lambda gets the NAMES in
  # JWT_SECRET_PARAM / PASS_SECRET_KEY_PARAM and reads the values at cold start).
  jwt_secret_parameter_name      = "/${var.name}/${var.stage}/jwt-secret"
  pass_secret_key_parameter_name = "/${var.name}/${var.stage}/pass-secret-key"
  jwt_secret_parameter_arn       = "arn:${local.partition}:ssm:${var.region}:${local.account_id}:parameter${local.jwt_secret_parameter_name}"
  pass_secret_key_parameter_arn  = "arn:${local.partition}:ssm:${var.region}:${local.account_id}:parameter${local.pass_secret_key_parameter_name}"

  azs = slice(data.aws_availability_zones.available.names, 0, 2)
}
