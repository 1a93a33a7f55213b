#!/usr/bin/env bash
# walk.sh KUBECONFIG LAB OUT: one learner of a class walks LAB to its end
# with the reference solutions (labs solve, then labs check), as a learner
# on a machine without Docker: a home of their own under OUT, DOCKER_HOST
# pointing nowhere, the class reached only through KUBECONFIG.
# Writes OUT/steps.tsv (step, seconds from solve to a passing check, the
# time it passed, and with VIEW_URL and VIEW_TOKEN set, the seconds until
# `labs class serve` at VIEW_URL showed the learner past the step) and
# exits non-zero at the first step that does not pass.
set -euo pipefail
kc=$1 lab=$2 out=$3
mkdir -p "$out"
export HOME=$out/home XDG_CONFIG_HOME=$out/config XDG_STATE_HOME=$out/state
export DOCKER_HOST=unix:///nonexistent/docker.sock NO_COLOR=1
unset KUBECONFIG
labs=${LABS:-labs}
"$labs" join "$kc" 2>>"$out/log"
"$labs" start "$lab" >>"$out/log" 2>&1
steps=$("$labs" status -o json | sed -n 's/.*"steps": \([0-9]*\).*/\1/p')
: >"$out/steps.tsv"
for ((i = 1; i <= steps; i++)); do
  t0=$(date +%s.%N)
  "$labs" solve >>"$out/log" 2>&1 || { echo "step $i: solve failed" >>"$out/log"; exit 1; }
  if ! "$labs" check --timeout 5m >>"$out/log" 2>&1; then
    echo "step $i: check failed" >>"$out/log"
    exit 1
  fi
  t1=$(date +%s.%N)
  seen=-
  if [ -n "${VIEW_URL:-}" ]; then
    me=$(basename "$kc" .kubeconfig)
    for _ in $(seq 600); do
      row=$(curl -s -H "Authorization: Bearer $VIEW_TOKEN" "$VIEW_URL/api/view" | grep -o "\"learner\":\"$me\"[^}]*" || true)
      step=$(sed -n 's/.*"step":\([0-9]*\).*/\1/p' <<<"$row")
      if grep -q '"finished":true' <<<"$row" || [ "${step:-0}" -gt "$i" ]; then
        seen=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
        break
      fi
      sleep 0.05
    done
  fi
  awk -v i="$i" -v a="$t0" -v b="$t1" -v s="$seen" 'BEGIN { printf "%d\t%.2f\t%s\t%s\n", i, b - a, b, s }' >>"$out/steps.tsv"
done
echo "done $lab" >>"$out/log"
