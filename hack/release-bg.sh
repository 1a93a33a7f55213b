#!/usr/bin/env bash
# release-bg.sh start|wait|stop: `make release` in the background at the
# lowest CPU priority, so CI builds every release target in the time its
# other suites leave idle (the cluster suite mostly waits on Kubernetes),
# without slowing them. `wait` waits for it, prints its log's tail and fails
# when it failed (a broken cross-compile or an oversized binary fails CI);
# `stop` ends it (the suites failed: no one will wait for it).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
stop() {
  if [ -s bin/release.pid ]; then
    # The job leads its own process group (setsid): make, goreleaser, go.
    kill -- "-$(cat bin/release.pid)" 2>/dev/null || true
  fi
  rm -f bin/release.pid
}
case "${1:-}" in
start)
  stop
  rm -f bin/release.rc bin/release.log
  # set +e: the rc file must be written whatever make returns.
  setsid bash -c 'set +e; nice -n 19 make -s release </dev/null >bin/release.log 2>&1; echo $? >bin/release.rc' >/dev/null 2>&1 &
  echo $! >bin/release.pid
  echo "release build started in the background (log: bin/release.log)"
  ;;
wait)
  start=$(date +%s)
  while [ ! -s bin/release.rc ]; do
    if [ ! -s bin/release.pid ] || ! kill -0 "$(cat bin/release.pid)" 2>/dev/null; then
      sleep 1 # it may have written its result as it ended
      [ -s bin/release.rc ] && break
      echo "release build: not running and no result (was it started? bin/release.log:)" >&2
      tail -15 bin/release.log >&2 2>/dev/null || true
      exit 1
    fi
    if (($(date +%s) - start > 3600)); then
      echo "release build: no result after an hour" >&2
      stop
      exit 1
    fi
    sleep 2
  done
  rm -f bin/release.pid
  echo "== release build (waited $(($(date +%s) - start)) s):"
  tail -15 bin/release.log
  rc=$(cat bin/release.rc)
  if [ "$rc" != 0 ]; then
    echo "release build failed (exit $rc); bin/release.log has all of it" >&2
    exit 1
  fi
  ;;
stop) stop ;;
*)
  echo "usage: $0 start|wait|stop" >&2
  exit 2
  ;;
esac
