# Copy to <stage>.tfvars (ignored by git) and pass with -var-file.
region               = "us-east-1"
name                 = "taskapi"
stage                = "prod"
architecture         = "arm64"
cors_allowed_origins = ["https://app.example.com"]
# image_tag is given on the command line: -var image_tag=$(git rev-parse --short HEAD)
