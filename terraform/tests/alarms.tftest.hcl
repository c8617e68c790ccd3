# The alarms and the dashboard (alarms.tf, dashboard.tf): what each watches,
# when it fires, and whom it notifies (alarm_sns_topic_arn, alarm_actions).
# internal/infratest checks that every EMF metric and dimension named here
# and in the module is one the code writes.

mock_provider "aws" {
  source = "./tests/aws"
}

variables {
  image_tag                   = "v1"
  lambda_reserved_concurrency = 40
}

run "no_topic_no_actions" {
  command = plan

  assert {
    condition = alltrue([for a in concat(
      [aws_cloudwatch_metric_alarm.api_5xx_rate, aws_cloudwatch_metric_alarm.store_unavailable, aws_cloudwatch_metric_alarm.lambda_errors,
      aws_cloudwatch_metric_alarm.lambda_throttles, aws_cloudwatch_metric_alarm.lambda_concurrency],
      values(aws_cloudwatch_metric_alarm.latency_p99), values(aws_cloudwatch_metric_alarm.breaker_open),
      values(aws_cloudwatch_metric_alarm.dynamodb_throttles), aws_cloudwatch_metric_alarm.redis_cpu, aws_cloudwatch_metric_alarm.redis_evictions,
    ) : length(coalesce(a.alarm_actions, [])) == 0 && length(coalesce(a.ok_actions, [])) == 0])
    error_message = "an alarm notifies someone though alarm_sns_topic_arn and alarm_actions are empty"
  }
}

run "topic_notifies_every_alarm" {
  variables {
    alarm_sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:oncall"
    alarm_actions       = ["arn:aws:sns:us-east-1:123456789012:oncall", "arn:aws:sns:us-east-1:123456789012:audit"]
  }

  assert {
    condition = alltrue([for a in concat(
      [aws_cloudwatch_metric_alarm.api_5xx_rate, aws_cloudwatch_metric_alarm.store_unavailable, aws_cloudwatch_metric_alarm.lambda_errors,
      aws_cloudwatch_metric_alarm.lambda_throttles, aws_cloudwatch_metric_alarm.lambda_concurrency],
      values(aws_cloudwatch_metric_alarm.latency_p99), values(aws_cloudwatch_metric_alarm.breaker_open),
      values(aws_cloudwatch_metric_alarm.dynamodb_throttles), aws_cloudwatch_metric_alarm.redis_cpu, aws_cloudwatch_metric_alarm.redis_evictions,
      ) : a.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:oncall", "arn:aws:sns:us-east-1:123456789012:audit"]) &&
    a.ok_actions == a.alarm_actions])
    error_message = "not every alarm notifies the topic and alarm_actions, once each, when it fires and recovers"
  }

  # 5xx share from API Gateway: what clients saw, crashes and timeouts included.
  assert {
    condition = aws_cloudwatch_metric_alarm.api_5xx_rate.threshold == 5 && aws_cloudwatch_metric_alarm.api_5xx_rate.comparison_operator == "GreaterThanThreshold" && toset([
      for q in aws_cloudwatch_metric_alarm.api_5xx_rate.metric_query : "${q.metric[0].namespace} ${q.metric[0].metric_name}" if length(q.metric) > 0
    ]) == toset(["AWS/ApiGateway 5xx", "AWS/ApiGateway Count"])
    error_message = "the 5xx alarm does not divide API Gateway's 5xx by its Count at 5 %"
  }

  # p99 of the application's latency, per transport, from its EMF lines.
  assert {
    condition = keys(aws_cloudwatch_metric_alarm.latency_p99) == ["graphql", "rest"] && alltrue([for k, a in aws_cloudwatch_metric_alarm.latency_p99 :
      a.namespace == "taskapi/prod" && a.metric_name == "Latency" && a.dimensions == tomap({ transport = k }) &&
      a.extended_statistic == "p99" && a.threshold == 1000
    ])
    error_message = "latency alarms: ${jsonencode({ for k, a in aws_cloudwatch_metric_alarm.latency_p99 : k => [a.namespace, a.metric_name, a.dimensions, a.extended_statistic, a.threshold] })}"
  }

  # Every breaker opening, in the namespace the function writes to.
  assert {
    condition = keys(aws_cloudwatch_metric_alarm.breaker_open) == ["apq", "cache", "rate-limiter"] && alltrue([for k, a in aws_cloudwatch_metric_alarm.breaker_open :
      a.namespace == aws_lambda_function.api.environment[0].variables["METRICS_NAMESPACE"] && a.metric_name == "BreakerStateChanges" &&
      a.dimensions == tomap({ component = k, state = "open" }) && a.statistic == "Sum" && a.threshold == 0
    ])
    error_message = "breaker alarms: ${jsonencode({ for k, a in aws_cloudwatch_metric_alarm.breaker_open : k => [a.namespace, a.metric_name, a.dimensions] })}"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.store_unavailable.metric_name == "StoreErrors" && aws_cloudwatch_metric_alarm.store_unavailable.dimensions == tomap({ kind = "unavailable" })
    error_message = "the store alarm does not watch StoreErrors kind=unavailable"
  }

  # Throttles on both tables, reads and writes.
  assert {
    condition = alltrue([for k, a in aws_cloudwatch_metric_alarm.dynamodb_throttles :
      toset([for q in a.metric_query : "${q.metric[0].metric_name} ${q.metric[0].dimensions["TableName"]}" if length(q.metric) > 0]) ==
      toset(["ReadThrottleEvents taskapi-prod-${k}", "WriteThrottleEvents taskapi-prod-${k}"])
    ]) && keys(aws_cloudwatch_metric_alarm.dynamodb_throttles) == ["tasks", "users"]
    error_message = "the throttle alarms do not watch both tables' read and write throttle events"
  }

  # The function: errors, throttles, and concurrency at 80 % of its reservation.
  assert {
    condition = (aws_cloudwatch_metric_alarm.lambda_errors.metric_name == "Errors" && aws_cloudwatch_metric_alarm.lambda_throttles.metric_name == "Throttles" &&
      aws_cloudwatch_metric_alarm.lambda_concurrency.metric_name == "ConcurrentExecutions" && aws_cloudwatch_metric_alarm.lambda_concurrency.threshold == 32 &&
    alltrue([for a in [aws_cloudwatch_metric_alarm.lambda_errors, aws_cloudwatch_metric_alarm.lambda_throttles, aws_cloudwatch_metric_alarm.lambda_concurrency] : a.namespace == "AWS/Lambda" && a.dimensions == tomap({ FunctionName = "taskapi-prod-api" })]))
    error_message = "Lambda alarms: concurrency threshold ${aws_cloudwatch_metric_alarm.lambda_concurrency.threshold}, want 32 (80 % of 40)"
  }

  # Redis CPU per node.
  assert {
    condition = ([for a in aws_cloudwatch_metric_alarm.redis_cpu : a.dimensions["CacheClusterId"]] == ["taskapi-prod-redis-001", "taskapi-prod-redis-002"] &&
    alltrue([for a in aws_cloudwatch_metric_alarm.redis_cpu : a.namespace == "AWS/ElastiCache" && a.metric_name == "CPUUtilization" && a.threshold == 80]))
    error_message = "Redis CPU alarms: ${jsonencode([for a in aws_cloudwatch_metric_alarm.redis_cpu : a.dimensions])}"
  }

  # The dashboard shows every alarm and the EMF figures of this stage.
  assert {
    condition     = length(one([for w in jsondecode(aws_cloudwatch_dashboard.main.dashboard_body).widgets : w.properties.alarms if w.type == "alarm"])) == 5 + 2 + 3 + 2 + 2 + 2
    error_message = "the dashboard's alarm widget does not list the 16 alarms"
  }
  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.main.dashboard_body, "{taskapi/prod,transport,operation,code} MetricName=\\\"Requests\\\"")
    error_message = "the dashboard does not search the stage's Requests"
  }
}

run "no_reservation_uses_the_account_quota" {
  command = plan

  variables {
    lambda_reserved_concurrency = -1
  }

  expect_failures = [check.ssm_throughput]

  assert {
    condition     = aws_cloudwatch_metric_alarm.lambda_concurrency.threshold == 800
    error_message = "concurrency threshold ${aws_cloudwatch_metric_alarm.lambda_concurrency.threshold}, want 800 (80 % of the default quota of 1000)"
  }
}

run "thresholds_follow_the_variables" {
  command = plan

  variables {
    alarm_5xx_rate_percent  = 1
    alarm_latency_p99_ms    = 250
    alarm_redis_cpu_percent = 60
  }

  assert {
    condition = (aws_cloudwatch_metric_alarm.api_5xx_rate.threshold == 1 && alltrue([for a in aws_cloudwatch_metric_alarm.latency_p99 : a.threshold == 250]) &&
    alltrue([for a in aws_cloudwatch_metric_alarm.redis_cpu : a.threshold == 60]))
    error_message = "the thresholds are not the variables'"
  }
}

run "topic_must_be_an_sns_arn" {
  command = plan

  variables {
    alarm_sns_topic_arn = "oncall"
  }

  expect_failures = [var.alarm_sns_topic_arn]
}

run "fifo_topic_accepted" {
  command = plan

  variables {
    alarm_sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:oncall.fifo"
  }
}
