data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# Only the region's own zones: Local Zones and Wavelength Zones are opt-in,
# and an opted-in one can sort before the regular zones (they lack the
# services this deployment uses). Of those, only the zones where the SSM
# interface endpoint is offered: the Lambda reads its secrets through it.
# Zones where Lambda or the Redis node type is not offered cannot be found
# out from here: excluded_availability_zone_ids leaves them out by zone id.
data "aws_availability_zones" "available" {
  state            = "available"
  exclude_zone_ids = var.excluded_availability_zone_ids

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

data "aws_vpc_endpoint_service" "ssm" {
  service      = "ssm"
  service_type = "Interface"
}

locals {
  prefix        = "${var.name}-${var.stage}"
  function_name = "${var.name}-${var.stage}-api"
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition

  users_table_name = coalesce(var.users_table_name, "${var.name}-${var.stage}-users")
  tasks_table_name = coalesce(var.tasks_table_name, "${var.name}-${var.stage}-tasks")

  # Index names: the code's dynamo.EmailIndex, StatusIndex, UpdatedIndex,
  # DueIndex, StatusUpdatedIndex and StatusDueIndex (internal/infratest
  # proves they match).
  email_index          = "email-index"
  status_index         = "status-index"
  updated_index        = "updated-index"
  due_index            = "due-index"
  status_updated_index = "status-updated-index"
  status_due_index     = "status-due-index"

  # SSM parameter names of the two secrets (the Lambda gets the NAMES in
  # JWT_SECRET_PARAM / PASS_SECRET_KEY_PARAM and reads the values at cold start).
  secret_parameter_path          = "/${var.name}/${var.stage}"
  jwt_secret_parameter_name      = "${local.secret_parameter_path}/jwt-secret"
  pass_secret_key_parameter_name = "${local.secret_parameter_path}/pass-secret-key"
  jwt_secret_parameter_arn       = "arn:${local.partition}:ssm:${var.region}:${local.account_id}:parameter${local.jwt_secret_parameter_name}"
  pass_secret_key_parameter_arn  = "arn:${local.partition}:ssm:${var.region}:${local.account_id}:parameter${local.pass_secret_key_parameter_name}"

  # The first two zones (by name) that are regular zones of the region and
  # offer the SSM endpoint.
  usable_azs = sort(setintersection(data.aws_availability_zones.available.names, data.aws_vpc_endpoint_service.ssm.availability_zones))
  azs        = length(local.usable_azs) >= 2 ? slice(local.usable_azs, 0, 2) : local.usable_azs
}

