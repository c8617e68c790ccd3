# The README's deploy, step by step, against a mocked AWS: the first-deploy
# apply of the ECR repository alone, its output, then the full apply in
# each architecture. Runs share one state, as the real steps do.

mock_provider "aws" {
  source = "./tests/aws"
}

variables {
  image_tag = "v1"
}

override_resource {
  target = aws_dynamodb_table.users
  values = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/taskapi-prod-users" }
}

override_resource {
  target = aws_dynamodb_table.tasks
  values = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/taskapi-prod-tasks" }
}

# terraform apply -target=aws_ecr_repository.app -var image_tag=$TAG
# Nothing but the repository: in particular not the secrets' check, so the
# repository can exist before anything else does.
run "first_deploy_ecr_only" {
  plan_options {
    target = [aws_ecr_repository.app]
  }

  # The secrets do not exist yet: the README creates them after this step,
  # from its outputs.
  override_data {
    target = data.aws_ssm_parameters_by_path.secrets[0]
    values = {
      names = []
      types = []
    }
  }

  # What the README's next commands read.
  assert {
    condition     = output.region == "us-east-1" && output.image_platform == "linux/arm64"
    error_message = "region ${output.region}, platform ${output.image_platform}"
  }
  assert {
    condition     = output.jwt_secret_parameter_name == "/taskapi/prod/jwt-secret" && output.pass_secret_key_parameter_name == "/taskapi/prod/pass-secret-key"
    error_message = "parameter names ${output.jwt_secret_parameter_name}, ${output.pass_secret_key_parameter_name}"
  }

  # REPO=$(terraform output -raw ecr_repository_url)
  assert {
    condition     = output.ecr_repository_url == "123456789012.dkr.ecr.us-east-1.amazonaws.com/taskapi-prod"
    error_message = "ecr_repository_url = ${output.ecr_repository_url}"
  }
  assert {
    condition     = aws_ecr_repository.app.name == "taskapi-prod" && aws_ecr_repository.app.image_tag_mutability == "IMMUTABLE"
    error_message = "the repository is ${aws_ecr_repository.app.name}, tags ${aws_ecr_repository.app.image_tag_mutability}"
  }
}

# terraform apply -var image_tag=$TAG (architecture defaults to arm64)
run "full_apply_arm64" {
  # No concurrency cap and no higher SSM throughput: the warning secrets.tf
  # gives (tests/ssm_quota.tftest.hcl).
  expect_failures = [check.ssm_throughput]

  assert {
    condition     = aws_lambda_function.api.architectures == tolist(["arm64"])
    error_message = "architectures = ${jsonencode(aws_lambda_function.api.architectures)}"
  }
  assert {
    condition     = aws_lambda_function.api.package_type == "Image" && aws_lambda_function.api.image_uri == "123456789012.dkr.ecr.us-east-1.amazonaws.com/taskapi-prod:v1"
    error_message = "image_uri = ${aws_lambda_function.api.image_uri}: not the pushed <repository>:<image_tag>"
  }
  assert {
    condition = aws_lambda_function.api.environment[0].variables == tomap({
      ENVIRONMENT           = "production"
      STORE                 = "dynamodb"
      USERS_TABLE           = "taskapi-prod-users"
      TASKS_TABLE           = "taskapi-prod-tasks"
      REDIS_HOST            = "master.taskapi-prod-redis.abc123.use1.cache.amazonaws.com"
      REDIS_PORT            = "6379"
      REDIS_TLS             = "true"
      JWT_SECRET_PARAM      = "/taskapi/prod/jwt-secret"
      PASS_SECRET_KEY_PARAM = "/taskapi/prod/pass-secret-key"
      JWT_TTL               = "1h"
      LAMBDA_EVENT_FORMAT   = "http-api-v2"
      CORS_ALLOWED_ORIGINS  = ""
      GRAPHQL_INTROSPECTION = "false"
      LOG_LEVEL             = "info"
      LOG_FORMAT            = "json"
      METRICS_NAMESPACE     = "taskapi/prod"
    })
    error_message = "environment = ${jsonencode(aws_lambda_function.api.environment[0].variables)}"
  }
  assert {
    condition     = length(aws_lambda_function.api.vpc_config[0].subnet_ids) == 2
    error_message = "the function is not in the two private subnets"
  }

  # The event format the function expects is the one the integration sends.
  assert {
    condition     = aws_apigatewayv2_integration.lambda.payload_format_version == "2.0" && aws_apigatewayv2_integration.lambda.integration_type == "AWS_PROXY"
    error_message = "integration ${aws_apigatewayv2_integration.lambda.integration_type} payload ${aws_apigatewayv2_integration.lambda.payload_format_version}, want AWS_PROXY 2.0 (LAMBDA_EVENT_FORMAT=http-api-v2)"
  }
  assert {
    condition     = aws_apigatewayv2_integration.lambda.integration_uri == aws_lambda_function.api.invoke_arn && aws_apigatewayv2_route.default.route_key == "$default"
    error_message = "the $default route does not reach the function"
  }

  # IAM: exactly the tables and indexes the code uses (store/dynamo:
  # EmailIndex, StatusIndex, UpdatedIndex, DueIndex, StatusUpdatedIndex,
  # StatusDueIndex), exactly the two parameters, and only the SSM
  # call internal/lambdaserve makes.
  assert {
    condition = toset(one([for s in data.aws_iam_policy_document.lambda.statement : s.resources if s.sid == "TasksAndUsersTables"])) == toset([
      "arn:aws:dynamodb:us-east-1:123456789012:table/taskapi-prod-users",
      "arn:aws:dynamodb:us-east-1:123456789012:table/taskapi-prod-users/index/email-index",
      "arn:aws:dynamodb:us-east-1:123456789012:table/taskapi-prod-tasks",
      "arn:aws:dynamodb:us-east-1:123456789012:table/taskapi-prod-tasks/index/status-index",
      "arn:aws:dynamodb:us-east-1:123456789012:table/taskapi-prod-tasks/index/updated-index",
      "arn:aws:dynamodb:us-east-1:123456789012:table/taskapi-prod-tasks/index/due-index",
      "arn:aws:dynamodb:us-east-1:123456789012:table/taskapi-prod-tasks/index/status-updated-index",
      "arn:aws:dynamodb:us-east-1:123456789012:table/taskapi-prod-tasks/index/status-due-index",
    ])
    error_message = "the DynamoDB statement names other resources than the two tables and their indexes"
  }
  assert {
    condition = toset(one([for s in data.aws_iam_policy_document.lambda.statement : s.resources if s.sid == "ReadOwnSecrets"])) == toset([
      "arn:aws:ssm:us-east-1:123456789012:parameter/taskapi/prod/jwt-secret",
      "arn:aws:ssm:us-east-1:123456789012:parameter/taskapi/prod/pass-secret-key",
    ])
    error_message = "the SSM statement names other resources than the two parameters"
  }
  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.lambda.statement : s.actions if s.sid == "ReadOwnSecrets"])) == toset(["ssm:GetParameters"])
    error_message = "the SSM statement allows more than GetParameters"
  }
  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.lambda.statement : s.resources if s.sid == "OwnLogGroup"])) == toset(["${aws_cloudwatch_log_group.lambda.arn}:*"]) && aws_cloudwatch_log_group.lambda.name == "/aws/lambda/taskapi-prod-api"
    error_message = "the logs statement is not the function's own log group"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.lambda.statement : s if s.sid == "DecryptOwnSecrets"]) == 0 && length(aws_kms_grant.secrets) == 0
    error_message = "KMS permissions without a customer key"
  }

  # X-Ray: active tracing, and the role may write the segments.
  assert {
    condition     = aws_lambda_function.api.tracing_config[0].mode == "Active"
    error_message = "tracing mode ${aws_lambda_function.api.tracing_config[0].mode}, want Active"
  }
  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.lambda.statement : s.actions if s.sid == "XRayTraces"])) == toset(["xray:PutTraceSegments", "xray:PutTelemetryRecords"])
    error_message = "the role cannot write X-Ray segments, or may do more"
  }

  # The ECR image pull is allowed to this function only.
  assert {
    condition     = toset(one(one(data.aws_iam_policy_document.ecr_lambda_pull.statement).condition).values) == toset(["arn:aws:lambda:us-east-1:123456789012:function:taskapi-prod-api"])
    error_message = "the image pull is not limited to the function"
  }
}

# The same deployment moved to x86_64 (the image must then be built for
# linux/amd64: internal/infratest checks the Dockerfile follows --platform).
run "full_apply_x86_64" {
  expect_failures = [check.ssm_throughput]

  variables {
    architecture = "x86_64"
    image_tag    = "v2"
  }

  assert {
    condition     = aws_lambda_function.api.architectures == tolist(["x86_64"]) && output.image_platform == "linux/amd64"
    error_message = "architectures = ${jsonencode(aws_lambda_function.api.architectures)}, platform ${output.image_platform}"
  }
  assert {
    condition     = aws_lambda_function.api.image_uri == "123456789012.dkr.ecr.us-east-1.amazonaws.com/taskapi-prod:v2"
    error_message = "image_uri = ${aws_lambda_function.api.image_uri}"
  }
}
