# syntax=docker/dockerfile:1
#
# The taskapi Lambda image: one static Go binary on the AWS base image for
# custom runtimes. Build for the function's architecture (terraform variable
# `architecture`, default arm64; `terraform output -raw image_platform` is
# linux/arm64 or linux/amd64):
#
#   docker buildx build --platform linux/arm64 --provenance=false -t taskapi:dev .
#
# (--provenance=false keeps a single-image manifest, which Lambda requires.)
# internal/infratest builds ./cmd/taskapi with the same flags and runs it under
# the Lambda Runtime Interface Emulator. Tags: lambda.norpc leaves out
# aws-lambda-go's net/rpc mode (the go1.x runtime's); lambdaenv reads the AWS
# configuration from the environment the Lambda runtime sets, without the
# SDK's credential chain (internal/awsconf).

# The builder runs natively ($BUILDPLATFORM) and cross-compiles for the
# platform the image is built for (--platform): no emulation. TARGETOS and
# TARGETARCH come from --platform only if declared WITHOUT a default: a
# default would win over it (docker/buildx#510), and an x86_64 image would
# get an arm64 bootstrap ("exec format error"). internal/infratest checks it.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS
ARG TARGETARCH
# The build tags (docs/operations.md): add otel
# (--build-arg GO_TAGS=lambda.norpc,lambdaenv,otel) for OpenTelemetry traces
# joined to X-Ray, at about 1 ms more per cold start and a 15 MB larger
# binary; without it an OTLP endpoint is ignored with a warning.
ARG GO_TAGS=lambda.norpc,lambdaenv
WORKDIR /src

COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags='-s -w' -tags "$GO_TAGS" -o /out/bootstrap ./cmd/taskapi

FROM public.ecr.aws/lambda/provided:al2023
# The runtime starts ${LAMBDA_RUNTIME_DIR}/bootstrap, i.e. /var/runtime/bootstrap;
# it sees AWS_LAMBDA_RUNTIME_API and serves Lambda events.
COPY --from=build /out/bootstrap /var/runtime/bootstrap
# Handler name: unused by a custom runtime, but the base image's entrypoint
# expects one.
CMD ["bootstrap"]
