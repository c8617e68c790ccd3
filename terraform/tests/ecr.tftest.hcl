# The ECR lifecycle policy never expires the running image or a rollback
# target (ecr.tf). Before, "keep the newest 20 of any" did once CI had
# pushed 20 newer images.

mock_provider "aws" {
  source = "./tests/aws"
}

variables {
  image_tag                   = "v7"
  lambda_reserved_concurrency = 40
  ecr_protected_image_tags    = ["v6", "v7"]
}

run "running_and_rollback_images_are_kept" {
  command = plan

  assert {
    condition     = [for r in jsondecode(aws_ecr_lifecycle_policy.app.policy).rules : r.selection.tagPatternList if r.selection.tagStatus == "tagged"] == [["v7"], ["v6"]]
    error_message = "protected tags ${jsonencode([for r in jsondecode(aws_ecr_lifecycle_policy.app.policy).rules : r.selection if r.selection.tagStatus == "tagged"])}: want v7 (running) and v6, once each"
  }
  # A rule can expire only images no rule of higher priority (lower
  # number) selected: the protecting rules come first, and keep their one
  # image (tags are immutable).
  assert {
    condition = alltrue([for r in jsondecode(aws_ecr_lifecycle_policy.app.policy).rules :
      r.rulePriority < 3 && r.selection.countType == "imageCountMoreThan" && r.selection.countNumber == 1
      if r.selection.tagStatus == "tagged"
    ])
    error_message = "the protecting rules do not come first or could expire their image"
  }
  assert {
    condition     = [for r in jsondecode(aws_ecr_lifecycle_policy.app.policy).rules : r.rulePriority] == [1, 2, 3, 4]
    error_message = "rule priorities ${jsonencode([for r in jsondecode(aws_ecr_lifecycle_policy.app.policy).rules : r.rulePriority])}"
  }
  # ECR requires the tagStatus any rule to have the lowest priority.
  assert {
    condition     = [for r in jsondecode(aws_ecr_lifecycle_policy.app.policy).rules : r.selection.tagStatus][3] == "any" && [for r in jsondecode(aws_ecr_lifecycle_policy.app.policy).rules : r.selection.countNumber][3] == 20
    error_message = "the last rule is not keep-the-newest-20 of any"
  }
}

run "keep_at_least_one" {
  command = plan
  variables { ecr_keep_images = 0 }
  expect_failures = [var.ecr_keep_images]
}
