# What the mocked AWS answers (terraform test, mock_provider "aws"): fixed
# values where the module computes with them (account, partition, zones,
# resource ARNs it puts into policies), so the tests can assert exact
# strings. Everything else is a random placeholder.

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition = "aws"
  }
}

mock_data "aws_availability_zones" {
  defaults = {
    names = ["us-east-1a", "us-east-1b", "us-east-1c"]
  }
}

mock_data "aws_vpc_endpoint_service" {
  defaults = {
    availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
  }
}

# Both secrets exist and are SecureStrings (create_secret_parameters = false).
mock_data "aws_ssm_parameters_by_path" {
  defaults = {
    names = ["/taskapi/prod/jwt-secret", "/taskapi/prod/pass-secret-key"]
    types = ["SecureString", "SecureString"]
  }
}

mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}

mock_data "aws_kms_key" {
  defaults = {
    arn       = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-4172-8394-a5b6c7d8e9f0"
    enabled   = true
    key_state = "Enabled"
    key_usage = "ENCRYPT_DECRYPT"
    key_spec  = "SYMMETRIC_DEFAULT"
  }
}

mock_resource "aws_ecr_repository" {
  defaults = {
    repository_url = "123456789012.dkr.ecr.us-east-1.amazonaws.com/taskapi-prod"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/taskapi-prod-lambda"
  }
}

mock_resource "aws_elasticache_replication_group" {
  defaults = {
    primary_endpoint_address = "master.taskapi-prod-redis.abc123.use1.cache.amazonaws.com"
  }
}

mock_resource "aws_lambda_function" {
  defaults = {
    invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:taskapi-prod-api/invocations"
  }
}

# Attributes the provider checks are ARNs, even in a mocked apply.
mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/mock"
  }
}

mock_resource "aws_apigatewayv2_api" {
  defaults = {
    execution_arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234"
    api_endpoint  = "https://abcdef1234.execute-api.us-east-1.amazonaws.com"
  }
}
