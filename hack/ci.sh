#!/usr/bin/env bash
# ci.sh: what `make ci` runs. The cluster suite is the long pole and mostly
# waits on Kubernetes, so it starts as soon as the binary it tests is built
# and the rest runs beside it:
#   1. this machine's release binary (hack/release-bg.sh: GoReleaser,
#      --single-target), which the cluster suite runs as `labs`;
#   2. the cluster suite (make e2e), in the foreground, and beside it
#      lint, unit tests, race, fuzz, image freshness and the browser test
#      (bin/unit-ci.log), plus every release target at the lowest priority;
#   3. each side's verdict: a failure on either fails CI, and its failing
#      lines are printed last (a CI excerpt shows the tail).
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
# Every go command builds as the release does (static, -trimpath; the
# Makefile adds its tags), so lint, the unit tests and the cluster suite
# reuse the release build's compiled packages: on a cold build cache the
# dependencies compile once for them all (the race detector needs cgo:
# its own build).
export CGO_ENABLED=0 GOFLAGS=-trimpath
rel() { bash hack/release-bg.sh "$@"; }
unit=""
cleanup() {
  [ -n "$unit" ] && kill "$unit" 2>/dev/null
  rel stop
}
trap cleanup INT TERM

start=$(date +%s)
rel start || exit 1
rel wait-host || { rel stop; exit 1; }
echo "== the binary under test built in $(($(date +%s) - start)) s"

rm -f bin/unit-ci.rc
(
  t=$(date +%s)
  make -s lint unit-ci fuzz verify-image browser >bin/unit-ci.log 2>&1
  rc=$?
  echo $rc >bin/unit-ci.rc
  echo "== lint, unit, race, fuzz, image freshness, browser: exit $rc after $(($(date +%s) - t)) s (beside the cluster suite; bin/unit-ci.log)"
) &
unit=$!

LABS_BINARY=$PWD/bin/labs-release make e2e
e2e=$?
wait "$unit"
unit=""
urc=$(cat bin/unit-ci.rc 2>/dev/null || echo 1)
if [ "$urc" != 0 ]; then
  echo "== lint, unit, race, fuzz, image freshness or browser failed (exit $urc); from bin/unit-ci.log:"
  grep -E -- '^(--- FAIL|FAIL|panic:|make(\[[0-9]+\])?: \*\*\*)|_test\.go:[0-9]+:|gofmt needed|stale' bin/unit-ci.log | cut -c1-300 | tail -30
fi
if [ "$e2e" != 0 ] || [ "$urc" != 0 ]; then
  rel stop
  [ "$e2e" != 0 ] && echo "== the cluster suite failed (its failing lines are above the unit summary)"
  exit 1
fi
rel wait || exit 1
echo "== CI passed in $(($(date +%s) - start)) s"
