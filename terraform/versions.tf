terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
    # No hashicorp/random: the AWS provider is the only one this module
    # needs (the secrets come from Secrets Manager's GetRandomPassword, see
    # secrets.tf), so it validates and tests with nothing but the AWS
    # provider installed (terraform init -plugin-dir, internal/infratest).
  }

  # State holds resource ids and, only with create_secret_parameters = true,
  # the generated secrets: keep it in an encrypted, access-controlled backend,
  # e.g. (see docs/deploy.md):
  #
  # backend "s3" {
  #   bucket         = "my-terraform-state"
  #   key            = "taskapi/prod.tfstate"
  #   region         = "us-east-1"
  #   encrypt        = true
  #   dynamodb_table = "terraform-locks"
  # }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Project = var.name
      Stage   = var.stage
    })
  }
}
