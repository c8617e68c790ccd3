variable "region" {
  description = "AWS region to deploy into (the Lambda gets it as AWS_REGION from the runtime)."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Project name: the prefix of every resource name (with stage)."
  type        = string
  default     = "taskapi"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.name))
    error_message = "name must be 2-20 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "stage" {
  description = "Deployment stage (prod, staging, ...): part of resource names, so several stages can share an account. The application always runs with ENVIRONMENT=production."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.stage))
    error_message = "stage must be 2-10 lowercase letters or digits, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags for every resource (Project and Stage are always set)."
  type        = map(string)
  default     = {}
}

variable "image_tag" {
  description = "Tag of the image in the ECR repository that the Lambda runs (tags are immutable: use a new tag, e.g. the git commit, for every release)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a valid Docker tag."
  }
}

variable "architecture" {
  description = "Lambda instruction set: arm64 (Graviton, cheaper) or x86_64. Build the image for the same platform (docker buildx --platform linux/arm64 or linux/amd64)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "lambda_memory_mb" {
  description = "Lambda memory in MB (CPU scales with it; argon2id password hashing wants at least 256)."
  type        = number
  default     = 512

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240
    error_message = "lambda_memory_mb must be between 128 and 10240."
  }
}

variable "lambda_timeout_seconds" {
  description = "Lambda timeout in seconds; at most 30, the API Gateway HTTP API integration limit."
  type        = number
  default     = 15

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 30
    error_message = "lambda_timeout_seconds must be between 1 and 30."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrent executions of the Lambda (caps its scale and DynamoDB/Redis load); -1 means no reservation."
  type        = number
  default     = -1
}

variable "log_retention_days" {
  description = "Retention of the Lambda and API Gateway access log groups, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "log_level" {
  description = "Application log level (LOG_LEVEL): debug, info, warn or error."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "jwt_ttl" {
  description = "Lifetime of issued access tokens (JWT_TTL): a Go duration such as 30m or 1h, or seconds."
  type        = string
  default     = "1h"
}

variable "cors_allowed_origins" {
  description = "Browser origins allowed by CORS (CORS_ALLOWED_ORIGINS), e.g. [\"https://app.example.com\"]; empty allows any origin (tokens are bearer headers, not cookies)."
  type        = list(string)
  default     = []
}

variable "graphql_introspection" {
  description = "Whether the GraphQL schema can be introspected in production (GRAPHQL_INTROSPECTION)."
  type        = bool
  default     = false
}

variable "users_table_name" {
  description = "Name of the users DynamoDB table (USERS_TABLE); null means <name>-<stage>-users."
  type        = string
  default     = null
}

variable "tasks_table_name" {
  description = "Name of the tasks DynamoDB table (TASKS_TABLE); null means <name>-<stage>-tasks."
  type        = string
  default     = null
}

variable "dynamodb_deletion_protection" {
  description = "Whether the DynamoDB tables refuse deletion (turn off, apply, then destroy to remove them)."
  type        = bool
  default     = true
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; the two private subnets take the first two /20 of it."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && can(regex("/([0-9]|1[0-8])$", var.vpc_cidr))
    error_message = "vpc_cidr must be a CIDR block of /18 or larger."
  }
}

variable "redis_node_type" {
  description = "ElastiCache node type of the Redis cache."
  type        = string
  default     = "cache.t4g.micro"
}

variable "redis_num_cache_clusters" {
  description = "Redis nodes (primary + replicas); 2 or more enables automatic failover across the two AZs."
  type        = number
  default     = 2

  validation {
    condition     = var.redis_num_cache_clusters >= 1 && var.redis_num_cache_clusters <= 6
    error_message = "redis_num_cache_clusters must be between 1 and 6."
  }
}

variable "redis_engine_version" {
  description = "Redis engine version of the ElastiCache replication group."
  type        = string
  default     = "7.1"
}

variable "create_secret_parameters" {
  description = "true: Terraform generates JWT_SECRET and PASS_SECRET_KEY (random_password) and stores them as SSM SecureString parameters; the values are then in Terraform state. false (default): you create the two parameters yourself before apply (docs/deploy.md) and no secret ever enters state."
  type        = bool
  default     = false
}

variable "secrets_kms_key_arn" {
  description = "ARN of a customer-managed KMS key encrypting the two SecureString parameters; null means the AWS-managed key alias/aws/ssm (which needs no extra IAM grant)."
  type        = string
  default     = null
}

variable "api_throttling_rate_limit" {
  description = "Steady-state requests per second the API Gateway stage accepts before answering 429."
  type        = number
  default     = 100
}

variable "api_throttling_burst_limit" {
  description = "Request burst the API Gateway stage accepts before answering 429."
  type        = number
  default     = 200
}

variable "ecr_keep_images" {
  description = "How many images the ECR lifecycle policy keeps (older ones expire; untagged ones after 7 days). Keep enough for rollbacks."
  type        = number
  default     = 20
}

variable "ecr_force_delete" {
  description = "Whether terraform destroy may delete the ECR repository while it still holds images."
  type        = bool
  default     = false
}
