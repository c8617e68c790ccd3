# A VPC with two private subnets and no internet path at all (no internet or
# NAT gateway): the Lambda reaches DynamoDB through a gateway endpoint, SSM
# (its secrets, read at cold start) through an interface endpoint, and Redis
# inside the VPC. Lambda ships its logs to CloudWatch itself, outside the
# function's network, so no logs endpoint is needed.

resource "aws_vpc" "main" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # private DNS of the SSM interface endpoint

  tags = {
    Name = local.prefix
  }
}

# The default security group of the VPC, emptied: nothing uses it.
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.main.id
}

resource "aws_subnet" "private" {
  count = 2

  vpc_id                  = aws_vpc.main.id
  availability_zone       = local.azs[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 20 - tonumber(split("/", var.vpc_cidr)[1]), count.index)
  map_public_ip_on_launch = false

  tags = {
    Name = "${local.prefix}-private-${local.azs[count.index]}"
  }

  lifecycle {
    precondition {
      condition     = length(local.usable_azs) >= 2
      error_message = "${var.region} has fewer than two availability zones that are not opt-in zones and offer the SSM interface endpoint (found ${jsonencode(local.usable_azs)}): the VPC needs two."
    }
  }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id

  tags = {
    Name = "${local.prefix}-private"
  }
}

resource "aws_route_table_association" "private" {
  count = 2

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# ---- VPC endpoints ----

resource "aws_vpc_endpoint" "dynamodb" {
  vpc_id            = aws_vpc.main.id
  service_name      = "com.amazonaws.${var.region}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  policy            = data.aws_iam_policy_document.dynamodb_endpoint.json

  tags = {
    Name = "${local.prefix}-dynamodb"
  }
}

# Defence in depth: through this VPC, only this deployment's tables.
data "aws_iam_policy_document" "dynamodb_endpoint" {
  statement {
    sid       = "OnlyThisDeploymentsTables"
    effect    = "Allow"
    actions   = ["dynamodb:*"]
    resources = local.dynamodb_resources

    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }
}

resource "aws_vpc_endpoint" "ssm" {
  vpc_id              = aws_vpc.main.id
  service_name        = "com.amazonaws.${var.region}.ssm"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true

  tags = {
    Name = "${local.prefix}-ssm"
  }
}

# ---- security groups ----
# Rules are separate resources (never inline) so they can reference each
# other; a new aws_security_group has no rules at all.

resource "aws_security_group" "lambda" {
  name        = "${local.prefix}-lambda"
  description = "taskapi Lambda: no ingress; egress to DynamoDB, SSM and Redis only"
  vpc_id      = aws_vpc.main.id
}

resource "aws_security_group" "endpoints" {
  name        = "${local.prefix}-endpoints"
  description = "Interface VPC endpoints: HTTPS from the taskapi Lambda only"
  vpc_id      = aws_vpc.main.id
}

resource "aws_security_group" "redis" {
  name        = "${local.prefix}-redis"
  description = "ElastiCache Redis: port 6379 from the taskapi Lambda only"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_egress_rule" "lambda_to_dynamodb" {
  security_group_id = aws_security_group.lambda.id
  description       = "HTTPS to DynamoDB through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.dynamodb.prefix_list_id
}

resource "aws_vpc_security_group_egress_rule" "lambda_to_endpoints" {
  security_group_id            = aws_security_group.lambda.id
  description                  = "HTTPS to the SSM interface endpoint"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
}

resource "aws_vpc_security_group_egress_rule" "lambda_to_redis" {
  security_group_id            = aws_security_group.lambda.id
  description                  = "Redis (TLS)"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = aws_security_group.redis.id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_lambda" {
  security_group_id            = aws_security_group.endpoints.id
  description                  = "HTTPS from the taskapi Lambda"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.lambda.id
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_lambda" {
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis from the taskapi Lambda"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = aws_security_group.lambda.id
}
