# Every cold start makes one GetParameters call against Parameter Store's
# default 40 per second (account and region). The plan warns unless the
# higher throughput is on or the reserved concurrency keeps the calls in
# flight within it (secrets.tf).

mock_provider "aws" {
  source = "./tests/aws"
}

variables {
  image_tag = "v1"
}

run "unbounded_cold_starts_warn" {
  command         = plan
  expect_failures = [check.ssm_throughput]
}

run "capped_concurrency" {
  command = plan
  variables { lambda_reserved_concurrency = 40 }
  assert {
    condition     = aws_lambda_function.api.reserved_concurrent_executions == 40 && length(aws_ssm_service_setting.high_throughput) == 0
    error_message = "the concurrency cap is not applied"
  }
}

run "high_throughput" {
  variables { ssm_high_throughput = true }
  assert {
    condition     = aws_ssm_service_setting.high_throughput[0].setting_id == "arn:aws:ssm:us-east-1:123456789012:servicesetting/ssm/parameter-store/high-throughput-enabled" && aws_ssm_service_setting.high_throughput[0].setting_value == "true"
    error_message = "the higher throughput setting is not turned on"
  }
}
