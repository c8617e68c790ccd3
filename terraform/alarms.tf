# CloudWatch alarms an on-call engineer acts on, each notifying
# local.alarm_actions (alarm_sns_topic_arn and alarm_actions; none when both
# are empty) when it fires and when it recovers. AWS's own metrics for the
# API, the function, the tables and Redis; the function's own (the EMF lines
# it writes to its log, namespace local.metrics_namespace, see
# docs/operations.md "On Lambda") for what only the application knows:
# latency by transport, the Redis breaker, a store that cannot answer.
# internal/infratest fails if an alarm or the dashboard names an EMF metric
# or dimension the code does not write.

locals {
  # METRICS_NAMESPACE of the function: one namespace per stage, so stages
  # sharing an account do not mix their figures.
  metrics_namespace = "${var.name}/${var.stage}"

  alarm_actions = distinct(concat(var.alarm_actions, var.alarm_sns_topic_arn == "" ? [] : [var.alarm_sns_topic_arn]))

  # The Redis circuit breakers (store/cache: the cache, the rate-limit
  # counter, persisted queries) and the transports latency is kept for.
  breaker_components = toset(["cache", "rate-limiter", "apq"])
  latency_transports = toset(["graphql", "rest"])

  # 80 % of what caps the function: its reserved concurrency, or the
  # default account quota of 1000 when it has none.
  concurrency_alarm_threshold = var.lambda_reserved_concurrency == -1 ? 800 : ceil(0.8 * var.lambda_reserved_concurrency)
}

# 5xx answers as a share of requests, from API Gateway: it counts what
# clients saw, including the function's crashes and timeouts (502/504),
# which the function cannot count itself. Below 10 requests in 5 minutes
# the share is noise and reads as 0.
resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  alarm_name          = "${local.prefix}-api-5xx-rate"
  alarm_description   = "taskapi ${var.stage}: more than ${var.alarm_5xx_rate_percent}% of API requests answered 5xx in 2 of the last 3 five-minute periods. Look at the function's log (level ERROR) and its StoreErrors kind=unavailable."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_5xx_rate_percent
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests >= 10, 100 * errors / requests, 0)"
    label       = "5xx answers (% of requests)"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "5xx"
      dimensions  = { ApiId = aws_apigatewayv2_api.http.id }
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      dimensions  = { ApiId = aws_apigatewayv2_api.http.id }
      period      = 300
      stat        = "Sum"
    }
  }
}

# p99 of the application's own request duration (EMF Latency, by
# transport): from the handler's start to the end of its response, without
# API Gateway's or a cold start's share.
resource "aws_cloudwatch_metric_alarm" "latency_p99" {
  for_each = local.latency_transports

  alarm_name          = "${local.prefix}-${each.key}-latency-p99"
  alarm_description   = "taskapi ${var.stage}: p99 latency of ${each.key} requests above ${var.alarm_latency_p99_ms} ms in 2 of the last 3 five-minute periods. Compare DynamoDB's SuccessfulRequestLatency and throttles, and Redis's CPU, on the dashboard."
  namespace           = local.metrics_namespace
  metric_name         = "Latency"
  dimensions          = { transport = each.key }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_latency_p99_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# A Redis breaker opened: Redis failed 5 times in a row and requests are
# served from DynamoDB without it (slower, and rate limits count per
# instance). One change is worth a look; the alarm clears when no breaker
# opens for 5 minutes.
resource "aws_cloudwatch_metric_alarm" "breaker_open" {
  for_each = local.breaker_components

  alarm_name          = "${local.prefix}-${each.key}-breaker-open"
  alarm_description   = "taskapi ${var.stage}: the Redis circuit breaker of ${each.key} opened (Redis unreachable or too slow). Requests bypass Redis; check the Redis alarms and the function's log (\"breaker\")."
  namespace           = local.metrics_namespace
  metric_name         = "BreakerStateChanges"
  dimensions          = { component = each.key, state = "open" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# The store could not answer (DynamoDB throttling, timeouts, network,
# permissions): every such request failed with 503.
resource "aws_cloudwatch_metric_alarm" "store_unavailable" {
  alarm_name          = "${local.prefix}-store-unavailable"
  alarm_description   = "taskapi ${var.stage}: DynamoDB calls failed as unavailable (throttled, timed out or refused) in 2 of the last 3 five-minute periods; those requests answered 503. See the DynamoDB throttle alarms and the function's log."
  namespace           = local.metrics_namespace
  metric_name         = "StoreErrors"
  dimensions          = { kind = "unavailable" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Throttled reads or writes on a table (on-demand tables throttle too: past
# twice the previous peak, or on a hot partition). GSI throttling reaches
# the table's writes.
resource "aws_cloudwatch_metric_alarm" "dynamodb_throttles" {
  for_each = {
    users = aws_dynamodb_table.users.name
    tasks = aws_dynamodb_table.tasks.name
  }

  alarm_name          = "${local.prefix}-dynamodb-${each.key}-throttles"
  alarm_description   = "taskapi ${var.stage}: DynamoDB throttled requests on the ${each.key} table (${each.value}) in the last 5 minutes."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "throttles"
    expression  = "FILL(reads, 0) + FILL(writes, 0)"
    label       = "throttled reads and writes"
    return_data = true
  }

  metric_query {
    id = "reads"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "ReadThrottleEvents"
      dimensions  = { TableName = each.value }
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id = "writes"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "WriteThrottleEvents"
      dimensions  = { TableName = each.value }
      period      = 300
      stat        = "Sum"
    }
  }
}

# Lambda Errors: the handler never returns an error (internal/lambdaserve),
# so any is a crash, a timeout or running out of memory.
resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  alarm_name          = "${local.prefix}-lambda-errors"
  alarm_description   = "taskapi ${var.stage}: the function failed invocations (crash, timeout or out of memory: the handler itself never fails one). See REPORT and error lines in its log group."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.api.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Invocations refused for want of concurrency: API Gateway answered 429/5xx.
resource "aws_cloudwatch_metric_alarm" "lambda_throttles" {
  alarm_name          = "${local.prefix}-lambda-throttles"
  alarm_description   = "taskapi ${var.stage}: Lambda throttled invocations (reserved concurrency or the account quota reached)."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.api.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Near the concurrency cap, before throttling starts.
resource "aws_cloudwatch_metric_alarm" "lambda_concurrency" {
  alarm_name          = "${local.prefix}-lambda-concurrency"
  alarm_description   = "taskapi ${var.stage}: concurrent executions reached ${local.concurrency_alarm_threshold} (80% of ${var.lambda_reserved_concurrency == -1 ? "the default account quota" : "lambda_reserved_concurrency"}) in 2 of the last 3 minutes."
  namespace           = "AWS/Lambda"
  metric_name         = "ConcurrentExecutions"
  dimensions          = { FunctionName = aws_lambda_function.api.function_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = local.concurrency_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Host CPU of each Redis node (ElastiCache reports per member cluster,
# <replication group>-001, -002, ...).
resource "aws_cloudwatch_metric_alarm" "redis_cpu" {
  count = var.redis_num_cache_clusters

  alarm_name          = "${local.prefix}-redis-cpu-${format("%03d", count.index + 1)}"
  alarm_description   = "taskapi ${var.stage}: Redis node ${format("%03d", count.index + 1)} CPU above ${var.alarm_redis_cpu_percent}% for 15 minutes: give the cache a larger redis_node_type."
  namespace           = "AWS/ElastiCache"
  metric_name         = "CPUUtilization"
  dimensions          = { CacheClusterId = format("%s-%03d", aws_elasticache_replication_group.redis.replication_group_id, count.index + 1) }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_redis_cpu_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
