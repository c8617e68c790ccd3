#!/usr/bin/env bash
# Makes sure DynamoDB Local (the official emulator, repackaged on npm as
# amplify-dynamodb-simulator) is unpacked under .cache/dynamodb-local/ in the
# repository, then prints that folder's path on stdout (progress goes to
# stderr). The jar is never committed: .cache/ is ignored.
#
#   TASKAPI_DYNAMODB_LOCAL_DIR=$(scripts/dynamodb-local.sh) go test -race ./store/dynamo/...
#
# Environment:
#   DYNAMODB_LOCAL_NPM_PACKAGE  npm package spec (default amplify-dynamodb-simulator@2.9.30)
#   DYNAMODB_LOCAL_TARBALL      an already downloaded `npm pack` tarball to use instead
set -euo pipefail
cd "$(dirname "$0")/.."
dest="$PWD/.cache/dynamodb-local"

if [ -f "$dest/DynamoDBLocal.jar" ] && [ -d "$dest/DynamoDBLocal_lib" ]; then
  echo "$dest"
  exit 0
fi

command -v java >/dev/null || echo "warning: java is not on PATH; DynamoDB Local needs Java 17+" >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -n "${DYNAMODB_LOCAL_TARBALL:-}" ]; then
  echo "using $DYNAMODB_LOCAL_TARBALL" >&2
  cp "$DYNAMODB_LOCAL_TARBALL" "$tmp/pkg.tgz"
else
  command -v npm >/dev/null || { echo "npm is needed to download DynamoDB Local" >&2; exit 1; }
  pkg="${DYNAMODB_LOCAL_NPM_PACKAGE:-amplify-dynamodb-simulator@2.9.30}"
  echo "downloading DynamoDB Local ($pkg) with npm pack" >&2
  (cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
  mv "$tmp"/*.tgz "$tmp/pkg.tgz"
fi

tar -xzf "$tmp/pkg.tgz" -C "$tmp"
if [ ! -f "$tmp/package/emulator/DynamoDBLocal.jar" ]; then
  echo "the package holds no emulator/DynamoDBLocal.jar" >&2
  exit 1
fi

mkdir -p "$(dirname "$dest")"
rm -rf "$dest.partial"
mv "$tmp/package/emulator" "$dest.partial"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "DynamoDB Local unpacked in $dest" >&2
echo "$dest"
