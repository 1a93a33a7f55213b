#!/usr/bin/env bash
# make bench-start: labs against kind on this machine, side by side, with the
# same node image: a cold start (`labs start selfhealing` against `kind
# create` of the same 3 nodes, each until all 3 are Ready), a warm start (the
# cluster already runs), stop, resume (until the step is shown) and down.
# RUNS rounds, interleaved (kind, labs, kind, labs, ...); prints each figure's
# runs and median and the cold ratio labs/kind. Needs Docker and
# KIND_NODE_IMAGE (eval "$(../shared/kind-offline/up | tail -1)"). The
# learner's own labs state and kubeconfig are not touched: everything runs
# under a temporary HOME and the clusters labs-bench and kind-bench.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-2}
WARM=${WARM:-5} # warm starts per round
: "${KIND_NODE_IMAGE:?set KIND_NODE_IMAGE (eval \"\$(../shared/kind-offline/up | tail -1)\")}"

work=$(mktemp -d)
cleanup() {
  "$work/kind" delete cluster --name kind-bench >/dev/null 2>&1 || true
  HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state LABS_CLUSTER_NAME=labs-bench \
    "$work/labs" down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
make -s build >/dev/null
cp bin/labs "$work/labs"
ln -s "$work/labs" "$work/kubectl" # called kubectl, labs is the plain built-in kubectl
go build -o "$work/kind" sigs.k8s.io/kind # the kind labs links, as its CLI
cat >"$work/kind.yaml" <<'EOF'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes: [{role: control-plane}, {role: worker}, {role: worker}]
EOF

export HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state LABS_CLUSTER_NAME=labs-bench NO_COLOR=1
mkdir -p "$HOME"
labs() { "$work/labs" "$@" >>"$work/labs.log" 2>&1; }

# secs CMD...: run CMD, print its wall time in seconds; a failure stops the
# benchmark (a figure of a failed run means nothing).
secs() {
  local t0 t1
  t0=$(date +%s.%N)
  if ! "$@"; then
    echo "failed: $*" >&2
    tail -20 "$work/labs.log" >&2 || true
    exit 1
  fi
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1-$t0:.2f}')"
}

kind_cold() {
  "$work/kind" create cluster --name kind-bench --image "$KIND_NODE_IMAGE" --config "$work/kind.yaml" \
    --kubeconfig "$work/kind.kubeconfig" >>"$work/kind.log" 2>&1 &&
    "$work/kubectl" --kubeconfig "$work/kind.kubeconfig" wait --for=condition=Ready nodes --all --timeout=5m >>"$work/kind.log" 2>&1
}

declare -A fig
add() { fig[$1]="${fig[$1]:-} $2"; }
# measure NAME CMD...: one figure; a failed run ends the benchmark (exit
# inside $(...) would end only the subshell).
measure() {
  local t
  t=$(secs "${@:2}") || exit 1
  add "$1" "$t"
}
for round in $(seq "$RUNS"); do
  echo "round $round of $RUNS" >&2
  measure kind_cold kind_cold
  "$work/kind" delete cluster --name kind-bench >/dev/null 2>&1
  measure labs_cold labs start selfhealing
  for _ in $(seq "$WARM"); do measure warm labs start selfhealing; done
  measure list labs list
  measure stop labs stop
  measure resume labs start selfhealing
  measure down labs down
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }
row() { printf '| %-38s | %8s | %s |\n' "$1" "$(echo "${fig[$2]}" | median)" "${fig[$2]# }"; }
echo
echo "| figure (seconds) | median | runs |"
echo "|---|---|---|"
row "kind create, 3 nodes Ready" kind_cold
row "labs start, cold (to the step shown)" labs_cold
row "labs start, warm (cluster running)" warm
row "labs list" list
row "labs stop" stop
row "labs start after stop (resume)" resume
row "labs down" down
python3 - "${fig[labs_cold]}" "${fig[kind_cold]}" <<'EOF'
import statistics, sys
labs = [float(x) for x in sys.argv[1].split()]
kind = [float(x) for x in sys.argv[2].split()]
pairs = [l / k for l, k in zip(labs, kind)]
print(f"\ncold labs/kind, round by round: {' '.join(f'{p:.2f}' for p in pairs)}; median {statistics.median(pairs):.2f}")
EOF
