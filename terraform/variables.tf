variable "region" {
  description = "AWS region to deploy into (the Lambda gets it as AWS_REGION from the runtime)."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Project name: the prefix of every resource name (with stage)."
  type        = string
  default     = "taskapi"

  # What every name built from it accepts: ElastiCache ids (<name>-<stage>-redis)
  # start with a letter and have no "--" and no trailing hyphen; SSM
  # parameter names (/<name>/...) cannot start with "aws" or "ssm".
  validation {
    condition     = length(var.name) >= 2 && length(var.name) <= 20 && can(regex("^[a-z](-?[a-z0-9])+$", var.name)) && !can(regex("^(aws|ssm)", var.name))
    error_message = "name must be 2-20 lowercase letters, digits or single hyphens, start with a letter, not end with a hyphen, and not start with aws or ssm."
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
  description = "Reserved concurrent executions of the Lambda (caps its scale and DynamoDB/Redis load, and how many cold starts can read SSM at once); -1 means no reservation."
  type        = number
  default     = -1

  validation {
    condition     = var.lambda_reserved_concurrency == -1 || (var.lambda_reserved_concurrency >= 1 && floor(var.lambda_reserved_concurrency) == var.lambda_reserved_concurrency)
    error_message = "lambda_reserved_concurrency must be -1 (no reservation) or a whole number of at least 1 (0 would stop the function)."
  }
}

variable "ssm_high_throughput" {
  description = "Turn on Parameter Store's higher throughput for the account and region (aws_ssm_service_setting; paid per call, and destroying the deployment turns it off for every application there). Every cold start makes one GetParameters call, and the default shared quota is 40 calls per second."
  type        = bool
  default     = false
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
  description = "Lifetime of issued access tokens (JWT_TTL): a Go duration such as 30m or 1h, or seconds; 1m to 168h."
  type        = string
  default     = "1h"

  # config.Load refuses JWT_TTL outside 1m..720h and above SESSION_IDLE_TTL
  # (168h: this module leaves it at its default), and would then fail every
  # cold start. timeadd parses Go durations exactly as time.ParseDuration
  # does; a plain number is seconds (config/config.go duration).
  validation {
    condition = try(
      timecmp(timeadd("2000-01-01T00:00:00Z", can(regex("^[-+]?[0-9]+$", var.jwt_ttl)) ? "${var.jwt_ttl}s" : var.jwt_ttl), "2000-01-01T00:01:00Z") >= 0 &&
      timecmp(timeadd("2000-01-01T00:00:00Z", can(regex("^[-+]?[0-9]+$", var.jwt_ttl)) ? "${var.jwt_ttl}s" : var.jwt_ttl), "2000-01-08T00:00:00Z") <= 0,
      false
    )
    error_message = "jwt_ttl must be a Go duration (30m, 1h, 1h30m) or a number of seconds, between 1m and 168h (the application's SESSION_IDLE_TTL)."
  }
}

variable "cors_allowed_origins" {
  description = "Browser origins allowed by CORS (CORS_ALLOWED_ORIGINS), e.g. [\"https://app.example.com\"]; empty allows any origin (tokens are bearer headers, not cookies)."
  type        = list(string)
  default     = []

  # What config.Load accepts (CORS_ALLOWED_ORIGINS, config/config.go
  # origins): "*" or scheme://host[:port] with scheme http or https and no
  # path, a trailing slash allowed. The list is joined with commas, so an
  # origin cannot hold one.
  validation {
    condition     = alltrue([for o in var.cors_allowed_origins : o == "*" || can(regex("^https?://(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?/?$", o))])
    error_message = "cors_allowed_origins must hold \"*\" or origins such as https://app.example.com (http or https, a host, an optional port, no path)."
  }
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
  description = "CIDR block of the VPC, /16 to /19; the two private subnets take the first two /20 of it."
  type        = string
  default     = "10.40.0.0/16"

  # AWS accepts IPv4 VPC blocks from /16 to /28, written as the network
  # address (the provider refuses 10.40.1.0/16); the two /20 subnets need
  # /19 or larger.
  validation {
    condition     = can(regex("^[0-9.]+/(1[6-9])$", var.vpc_cidr)) && try(cidrsubnet(var.vpc_cidr, 0, 0) == var.vpc_cidr, false)
    error_message = "vpc_cidr must be an IPv4 network address with a prefix from /16 to /19, e.g. 10.40.0.0/16."
  }
}

variable "excluded_availability_zone_ids" {
  description = "Availability zone ids (e.g. use1-az3) the subnets must not use, such as zones where Lambda or the Redis node type is not offered; the first two remaining regular zones offering the SSM endpoint are used."
  type        = list(string)
  default     = []
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
  description = "Redis engine version of the ElastiCache replication group (6.x or 7.x); the parameter group family follows it."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^(6\\.[02x]|7\\.[0-9]+)$", var.redis_engine_version))
    error_message = "redis_engine_version must be an ElastiCache Redis version such as 7.1, 7.0, 6.2 or 6.x."
  }
}

variable "create_secret_parameters" {
  description = "true: Terraform generates JWT_SECRET and PASS_SECRET_KEY (Secrets Manager GetRandomPassword, no hashicorp/random) and stores them as SSM SecureString parameters; the values are then in Terraform state. false (default): you create the two parameters yourself before the full plan (README, docs/deploy.md) and no secret ever enters state."
  type        = bool
  default     = false
}

variable "secrets_kms_key_arn" {
  description = "ARN of a customer-managed KMS key encrypting the two SecureString parameters (a symmetric key in the deployment's region; the Lambda's role gets kms:Decrypt through SSM and a KMS grant per parameter); null means the AWS-managed key alias/aws/ssm (which needs no extra grant)."
  type        = string
  default     = null

  # A key ARN, not an alias or a key id: IAM statements and grants name the key.
  validation {
    condition     = var.secrets_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.secrets_kms_key_arn))
    error_message = "secrets_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias or a key id."
  }
}

variable "alarm_actions" {
  description = "ARNs (e.g. SNS topics) the CloudWatch alarms notify when they fire and when they recover, besides alarm_sns_topic_arn."
  type        = list(string)
  default     = []
}

variable "alarm_sns_topic_arn" {
  description = "ARN of the SNS topic every CloudWatch alarm notifies when it fires and when it recovers; empty: the alarms notify nobody (they still show on the dashboard)."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_sns_topic_arn == "" || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be empty or an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)."
  }
}

variable "alarm_5xx_rate_percent" {
  description = "The api-5xx-rate alarm fires when more than this percentage of API requests answer 5xx (in 2 of 3 five-minute periods with at least 10 requests)."
  type        = number
  default     = 5

  validation {
    condition     = var.alarm_5xx_rate_percent > 0 && var.alarm_5xx_rate_percent <= 100
    error_message = "alarm_5xx_rate_percent must be above 0 and at most 100."
  }
}

variable "alarm_latency_p99_ms" {
  description = "The <transport>-latency-p99 alarms fire when the p99 of the application's request duration (EMF Latency, by transport) exceeds this many milliseconds in 2 of 3 five-minute periods."
  type        = number
  default     = 1000

  validation {
    condition     = var.alarm_latency_p99_ms > 0
    error_message = "alarm_latency_p99_ms must be positive."
  }
}

variable "alarm_redis_cpu_percent" {
  description = "The redis-cpu alarms fire when a Redis node's CPUUtilization averages above this percentage for 15 minutes."
  type        = number
  default     = 80

  validation {
    condition     = var.alarm_redis_cpu_percent > 0 && var.alarm_redis_cpu_percent <= 100
    error_message = "alarm_redis_cpu_percent must be above 0 and at most 100."
  }
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
  description = "How many images the ECR lifecycle policy keeps (older ones expire; untagged ones after 7 days). The running image_tag and ecr_protected_image_tags never expire."
  type        = number
  default     = 20

  validation {
    condition     = var.ecr_keep_images >= 1 && floor(var.ecr_keep_images) == var.ecr_keep_images
    error_message = "ecr_keep_images must be a whole number of at least 1."
  }
}

variable "ecr_protected_image_tags" {
  description = "Image tags the ECR lifecycle policy never expires besides the running image_tag, e.g. the previous release you would roll back to."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for t in var.ecr_protected_image_tags : can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", t))])
    error_message = "ecr_protected_image_tags must hold valid Docker tags."
  }
}

variable "ecr_force_delete" {
  description = "Whether terraform destroy may delete the ECR repository while it still holds images."
  type        = bool
  default     = false
}
