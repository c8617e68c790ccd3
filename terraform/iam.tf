# The Lambda's execution role: only this deployment's two tables and their
# indexes, its two secret parameters, its own log group, the network
# interfaces Lambda needs to run in the VPC, and writing X-Ray traces.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = "${local.prefix}-lambda"
  description        = "Execution role of the taskapi ${var.stage} Lambda"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "lambda" {
  # Exactly the actions the store performs (internal/infratest records them
  # against DynamoDB Local). TransactWriteItems needs no action of its own:
  # it is authorised per item (PutItem, UpdateItem, DeleteItem; a
  # ConditionCheck item would need dynamodb:ConditionCheckItem).
  statement {
    sid    = "TasksAndUsersTables"
    effect = "Allow"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:UpdateItem",
    ]
    resources = local.dynamodb_resources
  }

  # The one SSM call the function makes (internal/lambdaserve/ssm.go).
  statement {
    sid       = "ReadOwnSecrets"
    effect    = "Allow"
    actions   = ["ssm:GetParameters"]
    resources = [local.jwt_secret_parameter_arn, local.pass_secret_key_parameter_arn]
  }

  dynamic "statement" {
    for_each = var.secrets_kms_key_arn == null ? [] : [var.secrets_kms_key_arn]

    content {
      sid       = "DecryptOwnSecrets"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ssm.${var.region}.amazonaws.com"]
      }
    }
  }

  statement {
    sid       = "OwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  # What the AWSLambdaVPCAccessExecutionRole managed policy grants, minus
  # logs: EC2 network-interface actions do not support resource scoping.
  statement {
    sid    = "VPCNetworkInterfaces"
    effect = "Allow"
    actions = [
      "ec2:AssignPrivateIpAddresses",
      "ec2:CreateNetworkInterface",
      "ec2:DeleteNetworkInterface",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets",
      "ec2:UnassignPrivateIpAddresses",
    ]
    resources = ["*"]
  }

  # Active tracing (lambda.tf): what the AWSXRayDaemonWriteAccess managed
  # policy grants for writing, minus the sampling-rule reads (Lambda
  # samples itself). X-Ray's write actions support no resource scoping.
  statement {
    sid       = "XRayTraces"
    effect    = "Allow"
    actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "lambda" {
  name   = "${local.prefix}-lambda"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}
