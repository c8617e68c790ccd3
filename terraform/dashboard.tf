# One CloudWatch dashboard with the figures of docs/operations.md: traffic,
# errors and latency (API Gateway and the application's EMF metrics), the
# cache, breakers, rate limits, login failures and store errors (EMF,
# namespace local.metrics_namespace), and the function, tables and Redis
# nodes (AWS's metrics), with the alarms' states on top. Series whose
# dimension values are open-ended (operations, limits) are SEARCH
# expressions over the dimension set the code writes; internal/infratest
# holds every EMF metric and dimension named here to the code.

locals {
  redis_nodes = [for i in range(var.redis_num_cache_clusters) : format("%s-%03d", aws_elasticache_replication_group.redis.replication_group_id, i + 1)]
  tables      = [aws_dynamodb_table.users.name, aws_dynamodb_table.tasks.name]
  ns          = local.metrics_namespace

  # Metric widgets list CloudWatch's metric arrays ([namespace, name,
  # dimension, value, ..., {options}], never the "." shorthand) or
  # {expression = ...}.
  dashboard_widgets = [
    {
      type = "alarm", x = 0, y = 0, width = 24, height = 3
      properties = {
        title = "Alarms"
        # Indexed references (not for-expressions over the resources), so
        # internal/infratest's evaluation of the module sees the ARNs.
        alarms = concat(
          [aws_cloudwatch_metric_alarm.api_5xx_rate.arn, aws_cloudwatch_metric_alarm.store_unavailable.arn,
            aws_cloudwatch_metric_alarm.lambda_errors.arn, aws_cloudwatch_metric_alarm.lambda_throttles.arn,
          aws_cloudwatch_metric_alarm.lambda_concurrency.arn],
          [for k in sort(local.latency_transports) : aws_cloudwatch_metric_alarm.latency_p99[k].arn],
          [for k in sort(local.breaker_components) : aws_cloudwatch_metric_alarm.breaker_open[k].arn],
          [for k in ["users", "tasks"] : aws_cloudwatch_metric_alarm.dynamodb_throttles[k].arn],
          [for i in range(var.redis_num_cache_clusters) : aws_cloudwatch_metric_alarm.redis_cpu[i].arn],
          [for i in range(var.redis_num_cache_clusters) : aws_cloudwatch_metric_alarm.redis_evictions[i].arn],
        )
      }
    },
    {
      type = "metric", x = 0, y = 3, width = 8, height = 6
      properties = {
        title = "API Gateway: requests and errors", region = var.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = [
          ["AWS/ApiGateway", "Count", "ApiId", aws_apigatewayv2_api.http.id, { label = "requests" }],
          ["AWS/ApiGateway", "4xx", "ApiId", aws_apigatewayv2_api.http.id, { label = "4xx" }],
          ["AWS/ApiGateway", "5xx", "ApiId", aws_apigatewayv2_api.http.id, { label = "5xx" }],
        ]
      }
    },
    {
      type = "metric", x = 8, y = 3, width = 8, height = 6
      properties = {
        title = "Requests by transport and code", region = var.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = [
          [{ expression = "SEARCH('{${local.ns},transport,operation,code} MetricName=\"Requests\"', 'Sum', 300)", id = "requests" }],
        ]
      }
    },
    {
      type = "metric", x = 16, y = 3, width = 8, height = 6
      properties = {
        title = "Latency p50 / p99 (ms)", region = var.region, view = "timeSeries", period = 300
        metrics = concat(
          [for t in ["graphql", "rest"] : [local.ns, "Latency", "transport", t, { stat = "p99", label = "${t} p99" }]],
          [for t in ["graphql", "rest"] : [local.ns, "Latency", "transport", t, { stat = "p50", label = "${t} p50" }]],
          [["AWS/ApiGateway", "Latency", "ApiId", aws_apigatewayv2_api.http.id, { stat = "p99", label = "API Gateway p99" }]],
        )
      }
    },
    {
      type = "metric", x = 0, y = 9, width = 8, height = 6
      properties = {
        title = "Cache reads by result", region = var.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = concat(
          [for r in ["hit", "miss", "bypass"] : [local.ns, "CacheReads", "result", r, { id = r, label = r }]],
          [[{ expression = "100 * hit / (hit + miss + bypass)", id = "ratio", label = "hit ratio (%)", yAxis = "right" }]],
        )
      }
    },
    {
      type = "metric", x = 8, y = 9, width = 8, height = 6
      properties = {
        title = "Redis breaker changes", region = var.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = [
          [{ expression = "SEARCH('{${local.ns},component,state} MetricName=\"BreakerStateChanges\"', 'Sum', 300)", id = "breakers" }],
        ]
      }
    },
    {
      type = "metric", x = 16, y = 9, width = 8, height = 6
      properties = {
        title = "Store errors by kind", region = var.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = [
          [{ expression = "SEARCH('{${local.ns},kind} MetricName=\"StoreErrors\"', 'Sum', 300)", id = "store" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 15, width = 12, height = 6
      properties = {
        title = "Rate-limit refusals by limit", region = var.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = [
          [{ expression = "SEARCH('{${local.ns},limit} MetricName=\"RateLimited\"', 'Sum', 300)", id = "limited" }],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 15, width = 12, height = 6
      properties = {
        title = "Login failures by reason", region = var.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = [
          [{ expression = "SEARCH('{${local.ns},reason} MetricName=\"LoginFailures\"', 'Sum', 300)", id = "logins" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 21, width = 12, height = 6
      properties = {
        title = "Lambda: invocations, errors, throttles, concurrency", region = var.region, view = "timeSeries", period = 60
        metrics = [
          ["AWS/Lambda", "Invocations", "FunctionName", aws_lambda_function.api.function_name, { stat = "Sum" }],
          ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.api.function_name, { stat = "Sum" }],
          ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.api.function_name, { stat = "Sum" }],
          ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", aws_lambda_function.api.function_name, { stat = "Maximum", yAxis = "right" }],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 21, width = 12, height = 6
      properties = {
        title = "Lambda duration (ms)", region = var.region, view = "timeSeries", period = 300
        metrics = [
          ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.api.function_name, { stat = "p50" }],
          ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.api.function_name, { stat = "p99" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 27, width = 12, height = 6
      properties = {
        title = "DynamoDB: consumed capacity", region = var.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = concat(
          [for t in local.tables : ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", t, { label = "${t} reads" }]],
          [for t in local.tables : ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", t, { label = "${t} writes" }]],
        )
      }
    },
    {
      type = "metric", x = 12, y = 27, width = 12, height = 6
      properties = {
        title = "DynamoDB: throttle events", region = var.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = concat(
          [for t in local.tables : ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", t, { label = "${t} reads" }]],
          [for t in local.tables : ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", t, { label = "${t} writes" }]],
        )
      }
    },
    {
      type = "metric", x = 0, y = 33, width = 12, height = 6
      properties = {
        title = "Redis: CPU (%)", region = var.region, view = "timeSeries", stat = "Average", period = 300
        metrics = concat(
          [for n in local.redis_nodes : ["AWS/ElastiCache", "CPUUtilization", "CacheClusterId", n, { label = "${n} host" }]],
          [for n in local.redis_nodes : ["AWS/ElastiCache", "EngineCPUUtilization", "CacheClusterId", n, { label = "${n} engine" }]],
        )
      }
    },
    {
      type = "metric", x = 12, y = 33, width = 12, height = 6
      properties = {
        title = "Redis: evictions and memory", region = var.region, view = "timeSeries", period = 300
        metrics = concat(
          [for n in local.redis_nodes : ["AWS/ElastiCache", "Evictions", "CacheClusterId", n, { stat = "Sum", label = "${n} evictions" }]],
          [for n in local.redis_nodes : ["AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "CacheClusterId", n, { stat = "Maximum", label = "${n} memory (%)", yAxis = "right" }]],
        )
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = local.prefix
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
