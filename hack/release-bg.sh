#!/usr/bin/env bash
# release-bg.sh start|wait-host|wait|stop: the release build in the
# background, in two parts, so CI tests the release binary itself:
#   1. this machine's target alone (GoReleaser --single-target), at normal
#      priority while the unit suites run: bin/labs-release, which the
#      cluster suite then runs as `labs`;
#   2. every target (`make release`) at the lowest CPU priority (its
#      session's autogroup too), in the time the cluster suite leaves idle
#      (it mostly waits on Kubernetes).
# wait-host waits for part 1; wait waits for part 2, prints its log's tail,
# fails when it failed (a broken cross-compile or an oversized binary fails
# CI) and checks that part 2 built this machine's binary byte for byte as
# part 1 did (reproducible: the binary the suite passed with is the one
# released). stop ends it (the suites failed: no one will wait for it).
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
# waitrc FILE WHAT: wait for a part's exit status file.
waitrc() {
  local rc=$1 what=$2 start
  start=$(date +%s)
  while [ ! -s "$rc" ]; do
    if [ ! -s bin/release.pid ] || ! kill -0 "$(cat bin/release.pid)" 2>/dev/null; then
      sleep 1 # it may have written its result as it ended
      [ -s "$rc" ] && break
      echo "$what: not running and no result (was it started? bin/release.log:)" >&2
      tail -15 bin/release.log >&2 2>/dev/null || true
      exit 1
    fi
    if (($(date +%s) - start > 3600)); then
      echo "$what: no result after an hour" >&2
      stop
      exit 1
    fi
    sleep 2
  done
  echo "== $what (waited $(($(date +%s) - start)) s):"
  if [ "$(cat "$rc")" != 0 ]; then
    tail -15 bin/release.log
    echo "$what failed (exit $(cat "$rc")); bin/release.log has all of it" >&2
    exit 1
  fi
}
case "${1:-}" in
start)
  stop
  rm -f bin/release.rc bin/release-host.rc bin/release.log bin/labs-release
  # set +e: each rc file must be written whatever the build returns.
  setsid bash -c '
    set +e
    go tool -modfile=hack/tools/go.mod goreleaser build --snapshot --clean --single-target --output bin/labs-release </dev/null >bin/release.log 2>&1
    rc=$?
    echo $rc >bin/release-host.rc
    [ $rc = 0 ] || { echo $rc >bin/release.rc; exit; }
    # nice alone does not yield to the node containers: with autogroup
    # scheduling this session (setsid) competes with the docker cgroup at
    # equal weight, however nice its tasks; the nice of the autogroup does.
    # Autogroups exist only when enabled and only in the root cpu cgroup.
    if [ "$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null)" = 1 ] &&
      grep -Eq "^[0-9]+:(cpu|cpu,cpuacct|cpuacct,cpu):/\$|^0::/\$" /proc/self/cgroup &&
      echo 19 >/proc/self/autogroup 2>/dev/null; then
      echo "(the cross-compiles run in an autogroup of nice 19)" >>bin/release.log
    else
      echo "(no autogroup to lower: the cross-compiles compete with the cluster suite)" >>bin/release.log
    fi
    nice -n 19 make -s release </dev/null >>bin/release.log 2>&1
    echo $? >bin/release.rc' >/dev/null 2>&1 &
  echo $! >bin/release.pid
  echo "release build started in the background (log: bin/release.log)"
  ;;
wait-host)
  waitrc bin/release-host.rc "release build of this machine's target"
  ls -l bin/labs-release
  ;;
wait)
  waitrc bin/release.rc "release build of every target"
  rm -f bin/release.pid
  tail -8 bin/release.log
  host=$(ls -d dist/labs_"$(go env GOOS)"_"$(go env GOARCH)"*/labs 2>/dev/null | head -1)
  if [ -z "$host" ]; then
    echo "the release build left no dist/labs_$(go env GOOS)_$(go env GOARCH)*/labs to compare with bin/labs-release" >&2
    exit 1
  fi
  if ! cmp -s "$host" bin/labs-release; then
    echo "the release build's $host differs from bin/labs-release, the binary the cluster suite ran: the build is not reproducible" >&2
    exit 1
  fi
  echo "$host is byte for byte bin/labs-release, the binary the cluster suite ran ($(sha256sum <"$host" | cut -c1-16))"
  ;;
stop) stop ;;
*)
  echo "usage: $0 start|wait-host|wait|stop" >&2
  exit 2
  ;;
esac
