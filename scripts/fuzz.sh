#!/usr/bin/env bash
# Runs every fuzz target of the module, one after the other, each for
# $FUZZTIME (default 10s; e.g. FUZZTIME=5m for the long version). Targets
# are found with `go test -list`, so a new Fuzz function is picked up
# without editing this script. Exits non-zero if any target fails; the
# failing input is then saved under <package>/testdata/fuzz/<FuzzName>/,
# where plain `go test` replays it until it is fixed (commit it with the
# fix). docs/reliability.md describes the targets.
#
#   scripts/fuzz.sh                      every target, 10s each
#   FUZZTIME=5m scripts/fuzz.sh          the long version
#   FUZZ_PKGS=./internal/hardening scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
# Only packages whose tests define a Fuzz function are listed (building
# every test binary just to list them would take longer than the fuzzing).
pkgs=${FUZZ_PKGS:-$(grep -rlE --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.cache '^func Fuzz[A-Z]' . |
  xargs -r -n1 dirname | sort -u | sed 's|^\./||; s|^|./|' || true)}

# "<package> <FuzzA> <FuzzB> ..." per package that has fuzz targets.
targets=$(go test -list '^Fuzz' $pkgs | awk '
  /^Fuzz/ { names = names " " $1; next }
  /^ok / { if (names != "") print $2 names; names = "" }')
if [ -z "$targets" ]; then
  echo "no fuzz targets found in $pkgs" >&2
  exit 1
fi

failed=()
while read -r pkg names; do
  for name in $names; do
    printf '\n==> %s %s for %s\n' "$pkg" "$name" "$fuzztime"
    if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"; then
      failed+=("$pkg $name")
    fi
  done
done <<<"$targets"

if [ ${#failed[@]} -gt 0 ]; then
  printf '\nfuzzing found failures in:\n' >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo
echo "fuzzing: every target ran for $fuzztime without a failure"
