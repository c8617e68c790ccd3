# Redis cache: in the private subnets, reachable only from the Lambda's
# security group, encrypted at rest and in transit (the Lambda connects with
# TLS: REDIS_TLS=true). There is no AUTH token: it would be a secret in
# Terraform state, and the security group already admits only the Lambda.

resource "aws_elasticache_subnet_group" "redis" {
  name       = "${local.prefix}-redis"
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_elasticache_replication_group" "redis" {
  replication_group_id = "${local.prefix}-redis"
  description          = "taskapi ${var.stage} cache"

  engine               = "redis"
  engine_version       = var.redis_engine_version
  parameter_group_name = "default.redis7"
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
