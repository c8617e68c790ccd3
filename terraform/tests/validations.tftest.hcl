# Values AWS or the application would refuse are refused at plan, not at
# apply or at every cold start. Each case below was accepted before.

mock_provider "aws" {
  source = "./tests/aws"
}

variables {
  image_tag                   = "v1"
  lambda_reserved_concurrency = 40
  create_secret_parameters    = true # names change below: nothing to look up
}

# ElastiCache ids (<name>-<stage>-redis) refuse "--" and a trailing hyphen.
run "name_with_double_hyphen" {
  command = plan
  variables { name = "task--api" }
  expect_failures = [var.name]
}

run "name_ending_with_hyphen" {
  command = plan
  variables { name = "taskapi-" }
  expect_failures = [var.name]
}

# SSM refuses parameter names (/<name>/...) beginning with aws or ssm.
run "name_starting_with_aws" {
  command = plan
  variables { name = "awsapp" }
  expect_failures = [var.name]
}

run "name_with_single_hyphens" {
  command = plan
  variables { name = "task-api-2" }
  assert {
    condition     = aws_elasticache_replication_group.redis.replication_group_id == "task-api-2-prod-redis"
    error_message = "replication group ${aws_elasticache_replication_group.redis.replication_group_id}"
  }
}

# AWS accepts VPC blocks from /16 to /28 only, as network addresses; the two
# /20 subnets need /19 or larger.
run "vpc_cidr_larger_than_16" {
  command = plan
  variables { vpc_cidr = "10.0.0.0/8" }
  expect_failures = [var.vpc_cidr]
}

run "vpc_cidr_not_a_network_address" {
  command = plan
  variables { vpc_cidr = "10.40.1.0/16" }
  expect_failures = [var.vpc_cidr]
}

run "vpc_cidr_too_small_for_two_subnets" {
  command = plan
  variables { vpc_cidr = "10.40.0.0/20" }
  expect_failures = [var.vpc_cidr]
}

run "vpc_cidr_19" {
  command = plan
  variables { vpc_cidr = "10.40.32.0/19" }
  assert {
    condition     = [for s in aws_subnet.private : s.cidr_block] == ["10.40.32.0/20", "10.40.48.0/20"]
    error_message = "subnets ${jsonencode([for s in aws_subnet.private : s.cidr_block])}"
  }
}

# config.Load refuses JWT_TTL outside 1m..720h or above SESSION_IDLE_TTL
# (168h by default): the function would fail every cold start.
run "jwt_ttl_below_a_minute" {
  command = plan
  variables { jwt_ttl = "30s" }
  expect_failures = [var.jwt_ttl]
}

run "jwt_ttl_seconds_below_a_minute" {
  command = plan
  variables { jwt_ttl = "59" }
  expect_failures = [var.jwt_ttl]
}

run "jwt_ttl_above_session_idle_ttl" {
  command = plan
  variables { jwt_ttl = "169h" }
  expect_failures = [var.jwt_ttl]
}

run "jwt_ttl_not_a_duration" {
  command = plan
  variables { jwt_ttl = "1d" }
  expect_failures = [var.jwt_ttl]
}

run "jwt_ttl_accepted_forms" {
  command = plan
  variables { jwt_ttl = "1h30m" }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables["JWT_TTL"] == "1h30m"
    error_message = "JWT_TTL = ${aws_lambda_function.api.environment[0].variables["JWT_TTL"]}"
  }
}

run "jwt_ttl_in_seconds" {
  command = plan
  variables { jwt_ttl = "604800" }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables["JWT_TTL"] == "604800"
    error_message = "JWT_TTL = ${aws_lambda_function.api.environment[0].variables["JWT_TTL"]}"
  }
}

# config.Load refuses CORS origins with a path or without a scheme, and the
# list is joined with commas.
run "cors_origin_with_path" {
  command = plan
  variables { cors_allowed_origins = ["https://app.example.com/app"] }
  expect_failures = [var.cors_allowed_origins]
}

run "cors_origin_without_scheme" {
  command = plan
  variables { cors_allowed_origins = ["app.example.com"] }
  expect_failures = [var.cors_allowed_origins]
}

run "cors_origins_in_one_string" {
  command = plan
  variables { cors_allowed_origins = ["https://a.example.com,https://b.example.com"] }
  expect_failures = [var.cors_allowed_origins]
}

run "cors_origins_accepted" {
  command = plan
  variables {
    cors_allowed_origins = ["https://app.example.com", "http://localhost:3000/", "https://[::1]:8443"]
  }
  assert {
    condition     = aws_lambda_function.api.environment[0].variables["CORS_ALLOWED_ORIGINS"] == "https://app.example.com,http://localhost:3000/,https://[::1]:8443"
    error_message = "CORS_ALLOWED_ORIGINS = ${aws_lambda_function.api.environment[0].variables["CORS_ALLOWED_ORIGINS"]}"
  }
}

run "reserved_concurrency_zero" {
  command = plan
  variables { lambda_reserved_concurrency = 0 }
  expect_failures = [var.lambda_reserved_concurrency]
}
