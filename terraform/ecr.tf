resource "aws_ecr_repository" "app" {
  name                 = local.prefix
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.ecr_force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }
}

# The running image and the rollback targets are never expired: an image that
# matches a rule's selection cannot be expired by a rule of lower priority, so
# a first rule per protected tag, selecting the one image with that tag
# (tags are immutable) and expiring only beyond one, keeps it whatever the
# later rules count. Without it, ecr_keep_images pushes that are never
# deployed (CI builds) would expire the image the function runs, and the
# function would fail once Lambda's copy of it is gone.
locals {
  ecr_protected_tags = distinct(concat([var.image_tag], var.ecr_protected_image_tags))
  ecr_protect_rules = [
    for i, tag in local.ecr_protected_tags : {
      rulePriority = i + 1
      description  = "Never expire ${tag}"
      selection = {
        tagStatus      = "tagged"
        tagPatternList = [tag]
        countType      = "imageCountMoreThan"
        countNumber    = 1
      }
      action = { type = "expire" }
    }
  ]
  ecr_cleanup_rules = [
    {
      rulePriority = length(local.ecr_protected_tags) + 1
      description  = "Expire untagged images after 7 days"
      selection = {
        tagStatus   = "untagged"
        countType   = "sinceImagePushed"
        countUnit   = "days"
        countNumber = 7
      }
      action = { type = "expire" }
    },
    {
      rulePriority = length(local.ecr_protected_tags) + 2
      description  = "Keep the newest ${var.ecr_keep_images} images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = var.ecr_keep_images
      }
      action = { type = "expire" }
    },
  ]
}

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy     = jsonencode({ rules = concat(local.ecr_protect_rules, local.ecr_cleanup_rules) })
}

# Lets the Lambda service pull this deployment's image for this function only.
resource "aws_ecr_repository_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy     = data.aws_iam_policy_document.ecr_lambda_pull.json
}

data "aws_iam_policy_document" "ecr_lambda_pull" {
  statement {
    sid     = "LambdaImagePull"
    effect  = "Allow"
    actions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "aws:sourceArn"
      values   = ["arn:${local.partition}:lambda:${var.region}:${local.account_id}:function:${local.function_name}"]
    }
  }
}
