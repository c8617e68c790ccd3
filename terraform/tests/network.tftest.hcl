# The two availability zones (main.tf) and what the function waits for.

mock_provider "aws" {
  source = "./tests/aws"
}

variables {
  image_tag                   = "v1"
  lambda_reserved_concurrency = 40
}

# An opted-in Local Zone is left out by AWS itself (the filter), and a zone
# without the SSM endpoint by the module. Before, the subnets took the first
# two names the call returned.
run "zones_without_opt_in_and_with_ssm" {
  command = plan

  override_data {
    target = data.aws_vpc_endpoint_service.ssm
    values = { availability_zones = ["us-east-1b", "us-east-1c", "us-east-1d"] }
  }

  assert {
    condition     = one([for f in data.aws_availability_zones.available.filter : f.values if f.name == "opt-in-status"]) == toset(["opt-in-not-required"])
    error_message = "the zones are not filtered to the region's own (opt-in-status = opt-in-not-required)"
  }
  assert {
    condition     = [for s in aws_subnet.private : s.availability_zone] == ["us-east-1b", "us-east-1c"]
    error_message = "subnets in ${jsonencode([for s in aws_subnet.private : s.availability_zone])}: want the first two zones offering SSM"
  }
}

run "excluded_zone_ids" {
  command = plan

  variables {
    excluded_availability_zone_ids = ["use1-az3"]
  }

  assert {
    condition     = data.aws_availability_zones.available.exclude_zone_ids == toset(["use1-az3"])
    error_message = "excluded_availability_zone_ids does not reach the zone lookup"
  }
}

run "fewer_than_two_usable_zones" {
  command = plan

  override_data {
    target = data.aws_vpc_endpoint_service.ssm
    values = { availability_zones = ["us-east-1c"] }
  }

  expect_failures = [aws_subnet.private]
}

# The SSM endpoint, in the same subnets as the function.
run "ssm_endpoint" {
  command = plan

  assert {
    condition     = aws_vpc_endpoint.ssm.service_name == "com.amazonaws.us-east-1.ssm" && aws_vpc_endpoint.ssm.private_dns_enabled && aws_vpc_endpoint.ssm.vpc_endpoint_type == "Interface"
    error_message = "no SSM interface endpoint with private DNS"
  }
  assert {
    condition     = aws_vpc_endpoint.dynamodb.service_name == "com.amazonaws.us-east-1.dynamodb" && aws_vpc_endpoint.dynamodb.vpc_endpoint_type == "Gateway"
    error_message = "no DynamoDB gateway endpoint"
  }
}
