resource "aws_cloudwatch_log_group" "lambda" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "api" {
  function_name = local.function_name
  description   = "taskapi ${var.stage}: GraphQL + REST API"
  role          = aws_iam_role.lambda.arn

  package_type  = "Image"
  image_uri     = "${aws_ecr_repository.app.repository_url}:${var.image_tag}"
  architectures = [var.architecture]

  memory_size                    = var.lambda_memory_mb
  timeout                        = var.lambda_timeout_seconds
  reserved_concurrent_executions = var.lambda_reserved_concurrency

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.lambda.id]
  }

  # AWS_REGION is set by Lambda itself (reserved: setting it fails the apply).
  # Secrets are not here: only the names of their SSM parameters.
  environment {
    variables = {
      ENVIRONMENT           = "production"
      STORE                 = "dynamodb"
      USERS_TABLE           = aws_dynamodb_table.users.name
      TASKS_TABLE           = aws_dynamodb_table.tasks.name
      REDIS_HOST            = aws_elasticache_replication_group.redis.primary_endpoint_address
      REDIS_PORT            = tostring(aws_elasticache_replication_group.redis.port)
      REDIS_TLS             = tostring(aws_elasticache_replication_group.redis.transit_encryption_enabled)
      JWT_SECRET_PARAM      = local.jwt_secret_parameter_name
      PASS_SECRET_KEY_PARAM = local.pass_secret_key_parameter_name
      JWT_TTL               = var.jwt_ttl
      LAMBDA_EVENT_FORMAT   = "http-api-v2"
      CORS_ALLOWED_ORIGINS  = join(",", var.cors_allowed_origins)
      GRAPHQL_INTROSPECTION = tostring(var.graphql_introspection)
      LOG_LEVEL             = var.log_level
      LOG_FORMAT            = "json"
    }
  }

  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
    aws_ecr_repository_policy.app,
    aws_ssm_parameter.jwt_secret,
    aws_ssm_parameter.pass_secret_key,
    data.aws_ssm_parameter.jwt_secret,
    data.aws_ssm_parameter.pass_secret_key,
  ]
}
