# The Redis cache with one and with two nodes (redis.tf).

mock_provider "aws" {
  source = "./tests/aws"
}

variables {
  image_tag                   = "v1"
  lambda_reserved_concurrency = 40
}

run "one_node" {
  variables {
    redis_num_cache_clusters = 1
  }

  assert {
    condition     = aws_elasticache_replication_group.redis.num_cache_clusters == 1 && !aws_elasticache_replication_group.redis.automatic_failover_enabled && !aws_elasticache_replication_group.redis.multi_az_enabled
    error_message = "one node with failover or Multi-AZ on: ElastiCache refuses it"
  }
  assert {
    condition     = [for a in aws_cloudwatch_metric_alarm.redis_evictions : a.dimensions["CacheClusterId"]] == ["taskapi-prod-redis-001"]
    error_message = "evictions alarms watch ${jsonencode([for a in aws_cloudwatch_metric_alarm.redis_evictions : a.dimensions])}"
  }
}

run "two_nodes" {
  variables {
    redis_num_cache_clusters = 2
    alarm_actions            = ["arn:aws:sns:us-east-1:123456789012:oncall"]
  }

  assert {
    condition     = aws_elasticache_replication_group.redis.num_cache_clusters == 2 && aws_elasticache_replication_group.redis.automatic_failover_enabled && aws_elasticache_replication_group.redis.multi_az_enabled
    error_message = "two nodes without automatic failover across the AZs"
  }
  assert {
    condition     = aws_elasticache_replication_group.redis.transit_encryption_enabled && aws_elasticache_replication_group.redis.at_rest_encryption_enabled && aws_lambda_function.api.environment[0].variables["REDIS_TLS"] == "true"
    error_message = "Redis is not encrypted, or the function does not speak TLS to it"
  }
  assert {
    condition     = [for a in aws_cloudwatch_metric_alarm.redis_evictions : a.dimensions["CacheClusterId"]] == ["taskapi-prod-redis-001", "taskapi-prod-redis-002"]
    error_message = "evictions alarms watch ${jsonencode([for a in aws_cloudwatch_metric_alarm.redis_evictions : a.dimensions])}"
  }
  assert {
    condition = alltrue([for a in aws_cloudwatch_metric_alarm.redis_evictions :
      a.namespace == "AWS/ElastiCache" && a.metric_name == "Evictions" && a.statistic == "Sum" && a.comparison_operator == "GreaterThanThreshold" && a.threshold == 0 &&
      a.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:oncall"])
    ])
    error_message = "the evictions alarms do not fire on the first eviction, or notify someone else"
  }
}

# The parameter group: volatile-ttl, of the family of the engine version
# (before: default.redis7 whatever the version).
run "parameter_group_redis7" {
  command = plan

  assert {
    condition     = aws_elasticache_parameter_group.redis.family == "redis7" && aws_elasticache_replication_group.redis.engine_version == "7.1"
    error_message = "family ${aws_elasticache_parameter_group.redis.family} for engine 7.1"
  }
  assert {
    condition     = aws_elasticache_parameter_group.redis.parameter == toset([{ name = "maxmemory-policy", value = "volatile-ttl" }])
    error_message = "parameters ${jsonencode(aws_elasticache_parameter_group.redis.parameter)}, want maxmemory-policy volatile-ttl"
  }
  assert {
    condition     = aws_elasticache_replication_group.redis.parameter_group_name == aws_elasticache_parameter_group.redis.name
    error_message = "the replication group does not use the module's parameter group"
  }
}

run "parameter_group_redis6" {
  command = plan

  variables {
    redis_engine_version = "6.2"
  }

  assert {
    condition     = aws_elasticache_parameter_group.redis.family == "redis6.x"
    error_message = "family ${aws_elasticache_parameter_group.redis.family} for engine 6.2"
  }
}

run "unknown_engine_version" {
  command = plan

  variables {
    redis_engine_version = "5.0.6"
  }

  expect_failures = [var.redis_engine_version]
}
