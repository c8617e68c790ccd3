#!/usr/bin/env bash
# taskapi's benchmark suite: installs what is missing (wrk, hey, redis-server,
# Java and DynamoDB Local, the Lambda Runtime Interface Emulator), then runs
# bench/suite, which measures taskapi against a plain net/http baseline in one
# run and writes docs/performance.md and docs/performance.png.
#
#   scripts/bench.sh           the full run (about 8 minutes on 2 cores)
#   scripts/bench.sh -quick    a short run (about 2 minutes)
#   scripts/bench.sh migration the legacy migration at 10,000 users and 100,000
#                              tasks on DynamoDB Local (docs/migration.md; ~5 min)
#
# It only reports: nothing fails on a slow machine. It is not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache="$root/.cache"
mkdir -p "$cache/bin"
export PATH="$cache/bin:$PATH"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

apt_install() {
  if [ -z "${apt_updated:-}" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v wrk >/dev/null || { echo "installing wrk" >&2; apt_install wrk; }
command -v hey >/dev/null || { echo "installing hey" >&2; apt_install hey; }
command -v redis-server >/dev/null || { echo "installing redis-server" >&2; apt_install redis-server; }
command -v java >/dev/null || { echo "installing Java 17" >&2; apt_install openjdk-17-jre-headless; }
if [ ! -x "$cache/bin/aws-lambda-rie" ]; then
  echo "building the Lambda Runtime Interface Emulator" >&2
  GOBIN="$cache/bin" go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
fi
export TASKAPI_RIE="${TASKAPI_RIE:-$cache/bin/aws-lambda-rie}"
if [ -z "${TASKAPI_DYNAMODB_LOCAL_DIR:-}" ]; then
  TASKAPI_DYNAMODB_LOCAL_DIR=$(scripts/dynamodb-local.sh) || { echo "DynamoDB Local is unavailable: its measurements are skipped" >&2; TASKAPI_DYNAMODB_LOCAL_DIR=; }
fi
export TASKAPI_DYNAMODB_LOCAL_DIR
export TASKAPI_REDIS_SERVER="${TASKAPI_REDIS_SERVER:-$(command -v redis-server)}"

if [ "${1:-}" = migration ]; then
  exec env TASKAPI_BENCH_MIGRATION=1 go test -count=1 -v -timeout 60m -run '^TestMigrationScale$' ./store/dynamo/
fi
exec go run ./bench/suite "$@"
