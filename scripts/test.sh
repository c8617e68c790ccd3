#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing (redis-server, prometheus,
# Java, DynamoDB Local, the Lambda Runtime Interface Emulator, terraform),
# starts DynamoDB Local on a free port, then runs the static checks and every
# test with -race. Services the tests need are required: a test that cannot
# reach them fails instead of skipping (TASKAPI_TEST_REQUIRE_SERVICES=1).
#
#   scripts/test.sh            everything (what .ci/run runs)
#   scripts/test.sh -short     skip the slower integration tests' long parts
#   scripts/test.sh -quick     the edit-test loop: every static check and
#                              `go test -race -short ./...` without the load
#                              test (TestLoad), the fuzzing, the browser and
#                              client tests, and the second run with the
#                              Lambda image's tags
# Other arguments go to `go test` (e.g. -run TestX). At the end a summary
# prints one line per stage with its result and elapsed time.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache="$root/.cache"
mkdir -p "$cache/bin"
export PATH="$cache/bin:$(go env GOPATH)/bin:$PATH"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

quick=
args=()
for a in "$@"; do
  if [ "$a" = -quick ] || [ "$a" = --quick ]; then quick=1; else args+=("$a"); fi
done
if [ -n "$quick" ]; then args=(-short -skip '^TestLoad$' "${args[@]}"); fi
set -- ${args[@]+"${args[@]}"}

# The summary: one line per stage, "ok", "FAILED" or "skipped", and its time.
summary=()
stage=
stage_start=$SECONDS
suite_start=$SECONDS
elapsed() { local s=$(($SECONDS - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
end_stage() {
  if [ -n "$stage" ]; then summary+=("$(printf '%-7s %7s  %s' "$1" "$(elapsed "$stage_start")" "$stage")"); fi
  stage=
}
step() { end_stage ok; stage="$*"; stage_start=$SECONDS; printf '\n==> %s\n' "$*"; }
skip() { end_stage ok; summary+=("$(printf '%-7s %7s  %s' skipped - "$*")"); printf '\n==> %s: skipped (-quick)\n' "$*"; }
on_exit() {
  local rc=$?
  if [ -n "${ddb_pid:-}" ]; then kill "$ddb_pid" 2>/dev/null || true; fi
  if [ "$rc" = 0 ]; then end_stage ok; else end_stage FAILED; fi
  printf '\n==> summary%s\n' "${quick:+ (-quick)}"
  printf '%s\n' "${summary[@]}"
  printf '%-7s %7s  %s\n' "$([ "$rc" = 0 ] && echo ok || echo FAILED)" "$(elapsed "$suite_start")" total
}
trap on_exit EXIT

apt_install() {
  if [ -z "${apt_updated:-}" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

step "tools"
command -v redis-server >/dev/null || { echo "installing redis-server"; apt_install redis-server; }
# cmd/taskapi's metrics test has a real Prometheus scrape METRICS_ADDR.
command -v prometheus >/dev/null || { echo "installing prometheus"; apt_install prometheus; }
command -v java >/dev/null || { echo "installing Java 17"; apt_install openjdk-17-jre-headless; }
command -v jq >/dev/null || { echo "installing jq (internal/doctest runs the README's curl sessions)"; apt_install jq; }
# terraform test with mock_provider (internal/infratest) needs 1.7 or later.
command -v terraform >/dev/null || { echo "building terraform 1.11.4 (about 2 minutes, once)"; GOBIN="$cache/bin" GOFLAGS=-buildvcs=false go install github.com/hashicorp/terraform@v1.11.4; }
if [ ! -x "$cache/bin/aws-lambda-rie" ]; then
  echo "building the Lambda Runtime Interface Emulator"
  GOBIN="$cache/bin" go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
fi
export TASKAPI_RIE="$cache/bin/aws-lambda-rie"
export TASKAPI_DYNAMODB_LOCAL_DIR
TASKAPI_DYNAMODB_LOCAL_DIR=$(scripts/dynamodb-local.sh)
export TASKAPI_REDIS_SERVER
TASKAPI_REDIS_SERVER=$(command -v redis-server)
export TASKAPI_PROMETHEUS
TASKAPI_PROMETHEUS=$(command -v prometheus)

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi

step "graph/ is exactly what gqlgen generates from schema.graphqls"
go tool gqlgen generate
if [ -n "$(git status --porcelain -- graph/ gqlgen.yml schema.graphqls)" ]; then
  git status --porcelain -- graph/
  echo "graph/ differs from gqlgen's output: run 'go tool gqlgen generate' and commit"; exit 1
fi

step "rest/openapi.json and resolvers/playground.html are exactly what generates them"
# The generator and the drift test build only with -tags openapi (huma stays
# out of the server binary; see rest/openapi_gen.go).
go test -tags openapi -count=1 -run '^TestOpenAPIDrift$' ./rest/
go test -count=1 -run '^TestPlaygroundPageIsGqlgens$' ./resolvers/
deps=$(go list -deps ./cmd/taskapi)
if grep -q '/huma/' <<<"$deps"; then
  echo "cmd/taskapi links huma: only files built with -tags openapi may import it"; exit 1
fi
# Package initialization runs at every cold start: service/ssm's alone cost
# about 10 ms (internal/ssm makes its one call instead).
if grep -q 'aws-sdk-go-v2/service/ssm$' <<<"$deps"; then
  echo "cmd/taskapi links aws-sdk-go-v2/service/ssm: use internal/ssm's client"; exit 1
fi
# The Lambda image, as the Dockerfile builds it (-tags lambda.norpc,lambdaenv):
# - no html/template: its reflection (MethodByName) stops the linker from
#   dropping unused methods, and the binary grows by half
#   (resolvers/playground.go embeds the page gqlgen renders instead);
# - no SDK config package, nor the STS, SSO, SSO-OIDC and sign-in clients its
#   credential chain links (internal/awsconf reads the Lambda environment);
# - no Prometheus client: nothing listens in Lambda, and its package
#   initialization costs about 0.6 ms (internal/metrics/lambda.go).
image_deps=$(go list -deps -tags lambda.norpc,lambdaenv ./cmd/taskapi)
if grep -qE '^(html|text)/template$' <<<"$image_deps"; then
  echo "the image's cmd/taskapi links html/template or text/template: keep templates out of the server (go generate ./resolvers renders the playground page)"; exit 1
fi
if grep -qE '^github.com/aws/aws-sdk-go-v2/(config|service/(sts|sso|ssooidc|signin))$' <<<"$image_deps"; then
  echo "the image's cmd/taskapi links the SDK's config package or its credential chain's clients: use internal/awsconf"; exit 1
fi
if grep -q '^github.com/prometheus/' <<<"$image_deps"; then
  echo "the image's cmd/taskapi links the Prometheus client: keep it behind !lambdaenv (internal/metrics/lambda.go)"; exit 1
fi
# - no OpenTelemetry SDK, OTLP exporter or otelaws unless built with -tags otel:
#   about 1 ms of package initialization and 15 MB (docs/operations.md, "Traces").
if grep -qE '^go.opentelemetry.io/(otel/sdk|otel/exporters/|contrib/instrumentation/github.com/aws/)' <<<"$image_deps"; then
  echo "the image's cmd/taskapi links the OpenTelemetry SDK or otelaws: keep them behind !lambdaenv || otel (internal/tracing/provider, store/dynamo/trace.go)"; exit 1
fi

step "go vet"
go vet ./...
go vet -tags openapi ./rest/...
go vet -tags lambda.norpc,lambdaenv ./...
go vet -tags lambda.norpc,lambdaenv,otel ./...
(cd internal/otlpsink && go vet ./...)  # a module of its own (the tracing tests' OTLP receiver)

step "staticcheck"
go tool staticcheck ./...
go tool staticcheck -tags openapi ./rest/...
go tool staticcheck -tags lambda.norpc,lambdaenv ./internal/awsconf/... ./internal/metrics/... ./internal/tracing/... ./store/dynamo/...

step "terraform fmt"
TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive -diff terraform

step "DynamoDB Local"
free_port() { # a loopback port nothing listens on
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port found" >&2; return 1
}
ddb_port=$(free_port)
( cd "$TASKAPI_DYNAMODB_LOCAL_DIR" && exec java -Xmx512m -Djava.library.path=DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -sharedDb -disableTelemetry -port "$ddb_port" ) >"$cache/dynamodb-local.log" 2>&1 &
ddb_pid=$!
for i in $(seq 1 120); do
  if curl -s -o /dev/null "http://127.0.0.1:$ddb_port"; then break; fi
  if ! kill -0 $ddb_pid 2>/dev/null; then echo "DynamoDB Local exited:"; cat "$cache/dynamodb-local.log"; exit 1; fi
  sleep 0.5
done
curl -s -o /dev/null "http://127.0.0.1:$ddb_port" || { echo "DynamoDB Local did not start"; cat "$cache/dynamodb-local.log"; exit 1; }
export TASKAPI_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$ddb_port"
echo "DynamoDB Local at $TASKAPI_TEST_DYNAMODB_ENDPOINT"

step "go test -race ./..."
export TASKAPI_TEST_REQUIRE_SERVICES=1
go test -race -count=1 -timeout 20m "$@" ./...

if [ -n "$quick" ]; then
  skip "go test -race with the Lambda image's tags (lambda.norpc,lambdaenv)"
  skip "fuzz"
  skip "real clients: Apollo Client, urql, and the playground and /docs in Chromium"
  exit 0
fi

step "go test -race with the Lambda image's tags (lambda.norpc,lambdaenv)"
# internal/infratest also runs the image's build under the Lambda emulator.
go test -race -count=1 -tags lambda.norpc,lambdaenv "$@" ./internal/awsconf/ ./store/dynamo/ ./cmd/taskapi/ ./internal/lambdaserve/ ./internal/ssm/ ./internal/metrics/

step "fuzz (${FUZZTIME:-10s} per target)"
scripts/fuzz.sh

step "real clients: Apollo Client, urql, and the playground and /docs in Chromium"
clients/run-tests.sh
