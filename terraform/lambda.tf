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

  # X-Ray records each invocation's trace (the Lambda service's segments);
  # the role may write segments (iam.tf), and the runtime passes the trace
  # header in _X_AMZN_TRACE_ID.
  tracing_config {
    mode = "Active"
  }

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
      METRICS_NAMESPACE     = local.metrics_namespace
    }
  }

  # Everything a cold start needs but the function's arguments do not
  # reference: without these, Terraform may create the function (and API
  # Gateway route traffic to it) while its network path or its permissions
  # are still being created, and the first cold starts fail.
  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
    aws_ecr_repository_policy.app,
    # its secrets, and the KMS grants that let it decrypt them
    aws_ssm_parameter.jwt_secret,
    aws_ssm_parameter.pass_secret_key,
    data.aws_ssm_parameters_by_path.secrets,
    aws_kms_grant.secrets,
    # its network: routes to DynamoDB, the SSM endpoint, and the
    # security-group rules that open the way to them and to Redis
    aws_route_table_association.private,
    aws_vpc_endpoint.dynamodb,
    aws_vpc_endpoint.ssm,
    aws_vpc_security_group_egress_rule.lambda_to_dynamodb,
    aws_vpc_security_group_egress_rule.lambda_to_endpoints,
    aws_vpc_security_group_egress_rule.lambda_to_redis,
    aws_vpc_security_group_ingress_rule.endpoints_from_lambda,
    aws_vpc_security_group_ingress_rule.redis_from_lambda,
  ]
}
