#!/usr/bin/env bash
# Drives a running taskapi with the real client software: Apollo Client and
# urql (Node), GraphiQL and Swagger UI (Debian's Chromium via playwright-core).
#
# Builds ./cmd/taskapi, starts it on a free port over a fresh embedded store,
# installs the locked Node packages if needed, runs `node --test` with the
# server's URL in TASKAPI_URL (and its JWT secret in TASKAPI_JWT_SECRET),
# and stops the server. Screenshots go to test-output/clients/. Exits
# non-zero when anything fails.
#
# TASKAPI_BIN=/path/to/taskapi skips the build and tests that binary.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

say() { echo "clients: $*" >&2; }

# Debian's Chromium for the browser tests (playwright-core downloads none).
if [ ! -x /usr/bin/chromium ]; then
	if [ "$(id -u)" -ne 0 ]; then
		say "/usr/bin/chromium is missing: run 'apt-get install -y chromium' as root"
		exit 1
	fi
	say "installing Debian's chromium"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# The Node packages exactly as locked, again whenever the lockfile changed.
lock_sum=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$here/node_modules/.lock-sha256" 2>/dev/null)" != "$lock_sum" ]; then
	say "npm ci"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
	echo "$lock_sum" >"$here/node_modules/.lock-sha256"
fi

bin=${TASKAPI_BIN:-}
if [ -z "$bin" ]; then
	say "building ./cmd/taskapi"
	(cd "$root" && go build -o "$tmp/taskapi" ./cmd/taskapi)
	bin=$tmp/taskapi
fi

free_port() {
	node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# Start taskapi with a clean environment: the embedded store in a temporary
# directory, development mode (introspection on, CORS open to any origin),
# registration limits off (the tests register many users from one address).
# The JWT secret is this run's own and the tests know it: they sign expired
# access tokens instead of waiting JWT_TTL (a minute at least) for one.
jwt_secret=$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')
url=""
for attempt in 1 2 3; do
	port=$(free_port)
	env -i PATH="$PATH" HOME="${HOME:-/tmp}" ENVIRONMENT=development PORT="$port" JWT_SECRET="$jwt_secret" \
		RATE_LIMIT_REGISTER=off RATE_LIMIT_REGISTER_ALL=off RATE_LIMIT_LOGIN=off RATE_LIMIT_LOGIN_ACCOUNT=off \
		DATA_DIR="$tmp/data-$attempt" LOG_LEVEL=warn "$bin" serve >"$tmp/server.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
			url=http://127.0.0.1:$port
			break 2
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=""
	say "taskapi did not start on port $port (attempt $attempt):"
	cat "$tmp/server.log" >&2
done
if [ -z "$url" ]; then
	exit 1
fi
say "taskapi is up at $url"

status=0
(cd "$here" && TASKAPI_URL=$url TASKAPI_JWT_SECRET=$jwt_secret TEST_OUTPUT_DIR="$root/test-output/clients" \
	node --test --test-reporter=spec test/*.test.js) || status=$?
if [ "$status" -ne 0 ]; then
	say "FAILED (exit $status); taskapi's log:"
	cat "$tmp/server.log" >&2
fi
exit "$status"
