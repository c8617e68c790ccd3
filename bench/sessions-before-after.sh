#!/usr/bin/env bash
# Latency of an authenticated `{ me { id } }` before and after sessions, as
# docs/performance.md reports it: the same in-process benchmark (the whole
# HTTP handler, bench/bench_test.go's env) built from two commits, the two
# test binaries run in alternating order, round after round, so that the
# machine's other load weighs on both alike. Prints each side's median
# ns/op per store and their ratio. Reports only; never part of CI.
#
#   bench/sessions-before-after.sh              587fa90 (main without sessions) vs e11f9e6 (the merge that added them)
#   BEFORE=<commit> AFTER=<commit> ROUNDS=20 BENCHTIME=500ms bench/sessions-before-after.sh
#   OUT=dir bench/sessions-before-after.sh     also keeps the raw results (dir/before.txt, dir/after.txt)
#
# Needs redis-server (TASKAPI_REDIS_SERVER or on PATH) for the Redis rows.
set -euo pipefail
cd "$(dirname "$0")/.."
before=${BEFORE:-587fa90} after=${AFTER:-e11f9e6} rounds=${ROUNDS:-10} benchtime=${BENCHTIME:-1s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for side in before after; do
	commit=${!side}
	mkdir -p "$tmp/$side"
	git archive "$commit" | tar -x -C "$tmp/$side"
	# The one benchmark both sides run; bench() and env exist in both.
	cat >"$tmp/$side/bench/zz_before_after_test.go" <<'EOF'
package bench_test

import "testing"

func BenchmarkBeforeAfterMe(b *testing.B) {
	me := request{"POST", "/graphql", `{"query":"{ me { id } }"}`}
	b.Run("store=embedded", func(b *testing.B) { bench(b, uncached, 0, me) })
	b.Run("store=embedded+redis", func(b *testing.B) { bench(b, redisWarm, 0, me) })
}
EOF
	echo "building the benchmark of $side ($commit)" >&2
	(cd "$tmp/$side" && go test -c -o "$tmp/$side.test" ./bench/)
done

for round in $(seq "$rounds"); do
	order="before after"
	[ $((round % 2)) -eq 0 ] && order="after before"
	for side in $order; do
		"$tmp/$side.test" -test.run '^$' -test.bench BeforeAfterMe -test.benchtime "$benchtime" >>"$tmp/$side.txt"
	done
	echo "round $round of $rounds done" >&2
done

if [ -n "${OUT:-}" ]; then
	mkdir -p "$OUT" && cp "$tmp/before.txt" "$tmp/after.txt" "$OUT/"
fi

# Median ns/op of each sub-benchmark, per side, and after / before.
for side in before after; do
	awk -v side="$side" '$1 ~ /^BenchmarkBeforeAfterMe\// { sub(/-[0-9]+$/, "", $1); print side, $1, $3 }' "$tmp/$side.txt"
done | sort -k2,2 -k1,1 -k3,3n | awk '
	{ v[$1 " " $2, ++n[$1 " " $2]] = $3; names[$2] = 1 }
	function median(key,   c) { c = n[key]; return c % 2 ? v[key, (c + 1) / 2] : (v[key, c / 2] + v[key, c / 2 + 1]) / 2 }
	END {
		printf "%-45s %12s %12s %8s\n", "benchmark (median of rounds)", "before ns/op", "after ns/op", "ratio"
		for (name in names) {
			b = median("before " name); a = median("after " name)
			printf "%-45s %12.0f %12.0f %8.3f\n", name, b, a, a / b
		}
	}'
