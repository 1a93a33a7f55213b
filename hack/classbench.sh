#!/usr/bin/env bash
# classbench.sh: a class on one kind cluster, measured. Provisions LEARNERS
# learners (default 20) with `labs class up`, has them all walk selfhealing
# at once with the reference solutions (hack/class/walk.sh: no Docker, each
# learner only their kubeconfig), then two learners at once walk each other
# namespace-scope built-in lab. Prints a table: provisioning time, API
# server memory before and after, time until all learners passed step 1 and
# finished, each step's solve-to-pass time p50/p95, and the most each lab
# held of its quota at once (pods, CPU and memory requests, memory limits).
# `labs class serve` runs throughout: its memory and CPU, how long each
# re-judging of the learners took, and how long after a learner's passing
# check the server's view showed them past the step (p50/p95).
#
#   make build && eval "$(../shared/kind-offline/up | tail -1)" && bash hack/classbench.sh
#
# It uses its own cluster (LABS_CLUSTER_NAME=labs-classbench) and home, and
# deletes the cluster at the end unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
learners=${LEARNERS:-20}
others=${OTHERS:-"rollouts zerodowntime operations"}
work=$(mktemp -d /tmp/classbench.XXXXXX)
export PATH=$repo/bin:$PATH LABS_CLUSTER_NAME=labs-classbench NO_COLOR=1
export HOME=$work/inst XDG_CONFIG_HOME=$work/inst/config XDG_STATE_HOME=$work/inst/state
mkdir -p "$HOME"
cleanup() {
  [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null || true
  [ -n "${server:-}" ] && kill -INT "$server" 2>/dev/null || true
  [ "${KEEP:-}" = 1 ] || labs down >/dev/null 2>&1 || true
}
trap cleanup EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
percentile() { sort -n | awk -v p="$1" '{ a[NR] = $1 } END { if (NR == 0) { print "-"; exit } i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; printf "%.2f", a[i] }'; }
apiserver_mib() { docker exec labs-classbench-control-plane sh -c 'ps -o rss= -C kube-apiserver' | awk '{ printf "%.0f", $1 / 1024 }'; }

echo "cluster: labs start (instructor)" >&2
labs start selfhealing >/dev/null 2>"$work/start.log" || { tail -3 "$work/start.log" >&2; exit 1; }
mem_before=$(apiserver_mib)
t0=$(now)
labs class up --class bench --learners "$learners" --dir "$work/keys" >/dev/null 2>"$work/up.log"
provision=$(secs "$t0" "$(now)")

# The most each namespace held of its quota, sampled every 2 s.
# Each sample is labelled with the lab being walked ($work/phase).
echo "selfhealing * *" >"$work/phase"
( while true; do
    phase=$(cat "$work/phase")
    labs kubectl get resourcequota -A -l labs.dev/class=bench -o jsonpath='{range .items[*]}{.metadata.namespace} {.status.used.pods} {.status.used.requests\.cpu} {.status.used.requests\.memory} {.status.used.limits\.memory}{"\n"}{end}' 2>/dev/null |
      sed "s/^/$phase /" >>"$work/quota.samples" || true
    sleep 2
  done ) &
sampler=$!

# The instructor's live view, judging every learner's step throughout.
labs class serve --class bench --listen 127.0.0.1:18099 --judge-log "$work/judge.log" >"$work/serve.url" 2>"$work/serve.log" &
server=$!
for _ in $(seq 300); do [ -s "$work/serve.url" ] && break; sleep 0.2; done
export VIEW_URL=http://127.0.0.1:18099 VIEW_TOKEN
VIEW_TOKEN=$(sed -n 's/.*token=//p' "$work/serve.url")
proc_cpu() { awk '{ printf "%.1f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
proc_mib() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
serve_mib0=$(proc_mib "$server") serve_cpu0=$(proc_cpu "$server")

echo "walking selfhealing: $learners learners at once" >&2
t1=$(now)
pids=()
for i in $(seq -w 1 "$learners"); do
  [ ${#i} -lt 2 ] && i=0$i
  bash hack/class/walk.sh "$work/keys/learner-$i.kubeconfig" selfhealing "$work/w/$i" &
  pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
t2=$(now)
mem_after=$(apiserver_mib)
serve_mib1=$(proc_mib "$server") serve_cpu1=$(proc_cpu "$server")
seen50=$(cat "$work"/w/*/steps.tsv | cut -f4 | grep -v -- - | percentile 50 || true)
seen95=$(cat "$work"/w/*/steps.tsv | cut -f4 | grep -v -- - | percentile 95 || true)
judge50=$(cut -d' ' -f2 "$work/judge.log" | percentile 50 || true)
judge95=$(cut -d' ' -f2 "$work/judge.log" | percentile 95 || true)
step1_all=$(cat "$work"/w/*/steps.tsv | awk -v s="$t1" '$1 == 1 { if ($3 > m) m = $3 } END { printf "%.1f", m - s }')
p50=$(cat "$work"/w/*/steps.tsv | cut -f2 | percentile 50)
p95=$(cat "$work"/w/*/steps.tsv | cut -f2 | percentile 95)

other_rows=""
n=$learners
for lab in $others; do
  echo "walking $lab: 2 learners at once" >&2
  a=$(printf %02d $((n - 1))) b=$(printf %02d "$n")
  n=$((n - 2))
  labs class reset --class bench "learner-$a" 2>/dev/null
  labs class reset --class bench "learner-$b" 2>/dev/null
  echo "$lab bench-learner-$a bench-learner-$b" >"$work/phase"
  ts=$(now)
  ok=0
  bash hack/class/walk.sh "$work/keys/learner-$a.kubeconfig" "$lab" "$work/o/$lab-a" & pa=$!
  bash hack/class/walk.sh "$work/keys/learner-$b.kubeconfig" "$lab" "$work/o/$lab-b" & pb=$!
  wait "$pa" && ok=$((ok + 1)) || true
  wait "$pb" && ok=$((ok + 1)) || true
  other_rows+="| $lab, 2 learners at once | $ok/2 finished in $(secs "$ts" "$(now)") s |"$'\n'
done
kill "$sampler" 2>/dev/null || true
sampler=

# The most one learner's namespace held at once, per lab (during a lab's
# walk, only its learners' namespaces count).
peaks=$(awk '
  function mib(v) { if (v ~ /Mi$/) return substr(v, 1, length(v) - 2) + 0; if (v ~ /Gi$/) return substr(v, 1, length(v) - 2) * 1024; if (v ~ /Ki$/) return substr(v, 1, length(v) - 2) / 1024; return v / 1048576 }
  function cores(v) { if (v ~ /m$/) return substr(v, 1, length(v) - 1) / 1000; return v + 0 }
  # lab, its two namespaces ("*": all), then namespace pods cpu memory limits
  $2 != "*" && $4 != $2 && $4 != $3 { next }
  { lab = $1
    if ($5 + 0 > p[lab]) p[lab] = $5 + 0
    if (cores($6) > c[lab]) c[lab] = cores($6)
    if (mib($7) > m[lab]) m[lab] = mib($7)
    if (mib($8) > l[lab]) l[lab] = mib($8) }
  END { for (k in p) printf "| most one namespace held at once, %s | %d pods, %.2f CPU requested, %.0f Mi requested, %.0f Mi limits |\n", k, p[k], c[k], m[k], l[k] }' "$work/quota.samples" | sort)

cat <<EOF
| measure ($learners learners, $(nproc) cores) | value |
|---|---|
| labs class up --learners $learners | $provision s |
| API server memory before / after the walk | $mem_before MiB / $mem_after MiB |
| all $learners passed step 1 of selfhealing | $step1_all s after they started |
| all $learners finished selfhealing (7 steps) | $(secs "$t1" "$t2") s, $failed failed |
| a step, labs solve to a passing labs check: p50 / p95 | $p50 s / $p95 s |
| labs class serve: memory at start / after the walk | $serve_mib0 MiB / $serve_mib1 MiB |
| labs class serve: CPU used during the walk | $(awk -v a="$serve_cpu0" -v b="$serve_cpu1" 'BEGIN { printf "%.1f", b - a }') s of CPU in $(secs "$t1" "$t2") s |
| a passing check to the server's view showing it: p50 / p95 | $seen50 s / $seen95 s |
| one re-judging of the learners that changed: p50 / p95 | $judge50 ms / $judge95 ms |
${other_rows}${peaks}
EOF
echo "logs: $work" >&2
[ "$failed" = 0 ]
