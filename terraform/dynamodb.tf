# The two tables, exactly as docs/dynamodb.md describes them and as
# `taskapi create-tables` creates them (internal/infratest compares both).
# Guard items (EMAIL#<email>) and the user-id sequence (SEQUENCE#users) live
# in the users table: no extra table is needed.

resource "aws_dynamodb_table" "users" {
  name                        = local.users_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "user_id"
  deletion_protection_enabled = var.dynamodb_deletion_protection

  attribute {
    name = "user_id"
    type = "S"
  }

  attribute {
    name = "email"
    type = "S"
  }

  global_secondary_index {
    name            = local.email_index
    hash_key        = "email"
    projection_type = "ALL"
  }

  # Session items expire on their own (store/dynamo/sessions.go).
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "tasks" {
  name                        = local.tasks_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "user_id"
  range_key                   = "task_id"
  deletion_protection_enabled = var.dynamodb_deletion_protection

  attribute {
    name = "user_id"
    type = "S"
  }

  attribute {
    name = "task_id"
    type = "S"
  }

  attribute {
    name = "status_task_id"
    type = "S"
  }

  # The sort keys of the other orders (core.TaskKey) and the partition of
  # one user's tasks of one status ("<user_id>#<status>").
  attribute {
    name = "updated_key"
    type = "S"
  }

  attribute {
    name = "due_key"
    type = "S"
  }

  attribute {
    name = "user_status"
    type = "S"
  }

  global_secondary_index {
    name            = local.status_index
    hash_key        = "user_id"
    range_key       = "status_task_id"
    projection_type = "ALL"
  }

  # Adding indexes to a deployed table: DynamoDB creates one GSI per
  # UpdateTable, which the provider serializes; the items written before
  # are indexed by `taskapi verify -repair` (docs/migration.md).
  global_secondary_index {
    name            = local.updated_index
    hash_key        = "user_id"
    range_key       = "updated_key"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = local.due_index
    hash_key        = "user_id"
    range_key       = "due_key"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = local.status_updated_index
    hash_key        = "user_status"
    range_key       = "updated_key"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = local.status_due_index
    hash_key        = "user_status"
    range_key       = "due_key"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

locals {
  # The tables and the indexes the code queries: the only DynamoDB resources
  # the Lambda may touch.
  dynamodb_resources = [
    aws_dynamodb_table.users.arn,
    "${aws_dynamodb_table.users.arn}/index/${local.email_index}",
    aws_dynamodb_table.tasks.arn,
    "${aws_dynamodb_table.tasks.arn}/index/${local.status_index}",
    "${aws_dynamodb_table.tasks.arn}/index/${local.updated_index}",
    "${aws_dynamodb_table.tasks.arn}/index/${local.due_index}",
    "${aws_dynamodb_table.tasks.arn}/index/${local.status_updated_index}",
    "${aws_dynamodb_table.tasks.arn}/index/${local.status_due_index}",
  ]
}
