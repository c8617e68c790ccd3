#!/usr/bin/env bash
# Refills files/ with the browser files the playground and /docs load, taken
# unchanged from the npm packages (`npm pack`), at the packages' own paths.
# After changing a version here, change it in assets.go too and run
# `go test ./internal/assets/` (it checks every file the pages name exists).
set -euo pipefail

GRAPHIQL=4.1.2 # the version gqlgen's playground page is written for
REACT=18.2.0
SWAGGER_UI=5.35.0

cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" "swagger-ui-dist@$SWAGGER_UI" >/dev/null)
unpack() { mkdir -p "$tmp/$1" && tar -xzf "$tmp/$1.tgz" -C "$tmp/$1" --strip-components=1; }
unpack "graphiql-$GRAPHIQL"
unpack "react-$REACT"
unpack "react-dom-$REACT"
unpack "swagger-ui-dist-$SWAGGER_UI"

rm -rf files
take() { # take <package dir> <destination dir under files/> <file>...
	local src=$1 dst=files/$2
	shift 2
	for f in "$@"; do
		mkdir -p "$(dirname "$dst/$f")"
		cp "$tmp/$src/$f" "$dst/$f"
	done
}
take "graphiql-$GRAPHIQL" "graphiql@$GRAPHIQL" graphiql.min.js graphiql.min.css LICENSE
take "react-$REACT" "react@$REACT" umd/react.production.min.js LICENSE
take "react-dom-$REACT" "react-dom@$REACT" umd/react-dom.production.min.js LICENSE
take "swagger-ui-dist-$SWAGGER_UI" "swagger-ui-dist@$SWAGGER_UI" \
	swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE
du -sh files
