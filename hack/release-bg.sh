#!/usr/bin/env bash
# release-bg.sh start|wait: `make release` in the background at the lowest
# CPU priority, so CI builds every release target in the time its other
# suites leave idle (the cluster suite mostly waits on Kubernetes), without
# slowing them. `wait` waits for it, prints its log's tail and fails when it
# failed (a broken cross-compile or an oversized binary fails CI).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
case "${1:-}" in
start)
  rm -f bin/release.rc
  (nice -n 19 make -s release >bin/release.log 2>&1; echo $? >bin/release.rc) &
  echo "release build started in the background (log: bin/release.log)"
  ;;
wait)
  start=$(date +%s)
  while [ ! -s bin/release.rc ]; do
    if (($(date +%s) - start > 3600)); then
      echo "release build: no result after an hour" >&2
      exit 1
    fi
    sleep 2
  done
  echo "== release build (waited $(($(date +%s) - start)) s):"
  tail -15 bin/release.log
  rc=$(cat bin/release.rc)
  if [ "$rc" != 0 ]; then
    echo "release build failed (exit $rc); bin/release.log has all of it" >&2
    exit 1
  fi
  ;;
*)
  echo "usage: $0 start|wait" >&2
  exit 2
  ;;
esac
