# Redis cache: in the private subnets, reachable only from the Lambda's
# security group, encrypted at rest and in transit (the Lambda connects with
# TLS: REDIS_TLS=true). There is no AUTH token: it would be a secret in
# Terraform state, and the security group already admits only the Lambda.

resource "aws_elasticache_subnet_group" "redis" {
  name       = "${local.prefix}-redis"
  subnet_ids = aws_subnet.private[*].id
}

# The parameter group family follows the engine version (ElastiCache refuses
# a group of another family): redis7 for 7.x, redis6.x for 6.x.
locals {
  redis_major  = tonumber(split(".", var.redis_engine_version)[0])
  redis_family = local.redis_major >= 7 ? "redis${local.redis_major}" : "redis${local.redis_major}.x"
}

# volatile-ttl: when memory runs out, evict the keys closest to expiry. Every
# key store/cache writes has a TTL (entries, version keys, persisted-query
# counters), so this drops the entries that would have gone soonest anyway,
# and the long-lived version keys last; a key written without a TTL would
# never be evicted.
resource "aws_elasticache_parameter_group" "redis" {
  name        = "${local.prefix}-redis-${replace(local.redis_family, ".", "-")}"
  family      = local.redis_family
  description = "taskapi ${var.stage} cache: evict the keys closest to expiry"

  parameter {
    name  = "maxmemory-policy"
    value = "volatile-ttl"
  }

  # A new family means a new group: create it before the old one goes.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_elasticache_replication_group" "redis" {
  replication_group_id = "${local.prefix}-redis"
  description          = "taskapi ${var.stage} cache"

  engine               = "redis"
  engine_version       = var.redis_engine_version
  parameter_group_name = aws_elasticache_parameter_group.redis.name
  node_type            = var.redis_node_type
  num_cache_clusters   = var.redis_num_cache_clusters
  port                 = 6379

  automatic_failover_enabled = var.redis_num_cache_clusters > 1
  multi_az_enabled           = var.redis_num_cache_clusters > 1

  subnet_group_name  = aws_elasticache_subnet_group.redis.name
  security_group_ids = [aws_security_group.redis.id]

  at_rest_encryption_enabled = true
  transit_encryption_enabled = true

  # A cache: nothing to restore.
  snapshot_retention_limit = 0
  apply_immediately        = true
}

# Evictions mean the cache is too small for its working set: every evicted
# entry is a DynamoDB read that should have been a hit. ElastiCache reports
# the metric per node (member clusters <replication group>-001, -002, ...).
resource "aws_cloudwatch_metric_alarm" "redis_evictions" {
  count = var.redis_num_cache_clusters

  alarm_name          = "${local.prefix}-redis-evictions-${format("%03d", count.index + 1)}"
  alarm_description   = "taskapi ${var.stage}: Redis node ${format("%03d", count.index + 1)} evicted keys (maxmemory reached): give the cache a larger redis_node_type."
  namespace           = "AWS/ElastiCache"
  metric_name         = "Evictions"
  dimensions          = { CacheClusterId = format("%s-%03d", aws_elasticache_replication_group.redis.replication_group_id, count.index + 1) }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
