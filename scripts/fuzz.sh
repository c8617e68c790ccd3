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

# Go 1.26's fuzzing coordinator can end a duration-bounded run with a bare
# "context deadline exceeded" and no failing input: the -fuzztime deadline
# races the workers' shutdown (golang/go#75804, fixed in Go 1.27), more
# often on a loaded machine. That is not a finding, so a failed run counts
# as one only if it wrote a new input under testdata/fuzz/<FuzzName>/ or
# printed anything but that bare error. A bare deadline is reported as
# such, and the target's corpus (seeds and committed inputs) is replayed
# with plain `go test`, which must pass.
corpus_files() { ls -1 "$1/testdata/fuzz/$2" 2>/dev/null || true; }
bare_deadline() { # $1: output of the run, $2: the target's name
  grep -q "^--- FAIL: $2 " "$1" &&
    [ "$(sed -n "/^--- FAIL: $2 /{n;p;}" "$1")" = "    context deadline exceeded" ] &&
    ! grep -qE 'Failing input written|panic:|fuzzing process hung' "$1"
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=()
flaked=()
while read -r pkg names; do
  for name in $names; do
    printf '\n==> %s %s for %s\n' "$pkg" "$name" "$fuzztime"
    before=$(corpus_files "$pkg" "$name")
    if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$out"; then
      continue
    fi
    if [ "$(corpus_files "$pkg" "$name")" = "$before" ] && bare_deadline "$out" "$name"; then
      printf '==> %s: bare "context deadline exceeded" at the end of -fuzztime, no input written (golang/go#75804); replaying its corpus\n' "$name"
      if go test -count=1 -run "^${name}\$" "$pkg"; then
        flaked+=("$pkg $name")
        continue
      fi
    fi
    failed+=("$pkg $name")
  done
done <<<"$targets"

if [ ${#flaked[@]} -gt 0 ]; then
  printf '\nended by the fuzzing coordinator'"'"'s deadline race (golang/go#75804), corpus replayed clean:\n'
  printf '  %s\n' "${flaked[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
  printf '\nfuzzing found failures in:\n' >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo
echo "fuzzing: every target ran for $fuzztime without a finding"
