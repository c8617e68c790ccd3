output "api_url" {
  description = "Base URL of the API (GraphQL at /graphql, REST at /api/v1, docs at /docs)."
  value       = aws_apigatewayv2_api.http.api_endpoint
}

output "graphql_url" {
  description = "URL of the GraphQL endpoint."
  value       = "${aws_apigatewayv2_api.http.api_endpoint}/graphql"
}

output "ecr_repository_url" {
  description = "ECR repository to push images to (docker tag/push <url>:<image_tag>)."
  value       = aws_ecr_repository.app.repository_url
}

output "function_name" {
  description = "Name of the Lambda function (for aws lambda invoke / update-function-code)."
  value       = aws_lambda_function.api.function_name
}

output "lambda_log_group" {
  description = "CloudWatch log group of the Lambda's application logs."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "users_table_name" {
  description = "Name of the users DynamoDB table (USERS_TABLE)."
  value       = aws_dynamodb_table.users.name
}

output "tasks_table_name" {
  description = "Name of the tasks DynamoDB table (TASKS_TABLE)."
  value       = aws_dynamodb_table.tasks.name
}

output "redis_endpoint" {
  description = "Primary endpoint of the Redis replication group (TLS, port 6379; reachable only from the Lambda's security group)."
  value       = aws_elasticache_replication_group.redis.primary_endpoint_address
}

output "jwt_secret_parameter_name" {
  description = "SSM SecureString parameter holding JWT_SECRET."
  value       = local.jwt_secret_parameter_name

  # Also set by the first deploy's targeted apply (README), which only
  # evaluates outputs that depend on its target.
  depends_on = [aws_ecr_repository.app]
}

output "pass_secret_key_parameter_name" {
  description = "SSM SecureString parameter holding PASS_SECRET_KEY."
  value       = local.pass_secret_key_parameter_name

  # Also set by the first deploy's targeted apply (README), which only
  # evaluates outputs that depend on its target.
  depends_on = [aws_ecr_repository.app]
}

output "vpc_id" {
  description = "ID of the VPC the Lambda and Redis run in."
  value       = aws_vpc.main.id
}

output "private_subnet_ids" {
  description = "IDs of the two private subnets (e.g. to run taskapi create-tables or create-admin from inside the VPC)."
  value       = aws_subnet.private[*].id
}

output "lambda_security_group_id" {
  description = "Security group of the Lambda: the only one Redis and the SSM endpoint admit."
  value       = aws_security_group.lambda.id
}

output "region" {
  description = "AWS region of the deployment (for the aws CLI: --region)."
  value       = var.region

  # Also set by the first deploy's targeted apply (README), which only
  # evaluates outputs that depend on its target.
  depends_on = [aws_ecr_repository.app]
}

output "image_platform" {
  description = "The docker buildx --platform to build the image for: linux/arm64 or linux/amd64, following architecture."
  value       = var.architecture == "x86_64" ? "linux/amd64" : "linux/arm64"

  # Also set by the first deploy's targeted apply (README), which only
  # evaluates outputs that depend on its target.
  depends_on = [aws_ecr_repository.app]
}

output "dashboard_url" {
  description = "The CloudWatch dashboard of the deployment (traffic, errors, latency, cache, breakers, the function, tables and Redis, and the alarms)."
  value       = "https://${var.region}.console.aws.amazon.com/cloudwatch/home?region=${var.region}#dashboards:name=${aws_cloudwatch_dashboard.main.dashboard_name}"
}
