#!/usr/bin/env bash
# The resources lab's "who dies first" step, run RUNS times with `labs test`
# while a CPU-heavy job runs beside it (LOAD busy loops, bounded in time),
# recording for each run when each hog was OOM-killed (its finishedAt), when
# the API server first showed the Burstable kill, and how the step's checks
# ended. Needs a running lab cluster (labs start LAB; LABS_CLUSTER_NAME
# names another). Prints one line per run and a summary.
#
#   hack/oom-order.sh [LABS_BINARY] [RUNS] [LAB]
#
# LAB is `step` (a lab of the resources lab's OOM step alone, the default)
# or `resources` (the whole lab, as CI runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
LABS=${1:-bin/labs}
RUNS=${2:-10}
LAB=${3:-step}
LOAD=${LOAD:-2}
work=$(mktemp -d)
loadpids=()
cleanup() {
  for p in "${loadpids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${watcher:-}" ] && kill "$watcher" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$LAB" = step ]; then
  # The lab's front matter and cleanup, and its OOM step alone.
  awk '/^## A BestEffort pod/{exit} {print}' labs/resources.md | sed 's/^id: resources$/id: oomorder/; s/^namespace: resources$/namespace: oomorder/' >"$work/oomorder.md"
  awk '/^## Memory pressure on one node/{p=1} /^## CPU under contention/{p=0} p' labs/resources.md >>"$work/oomorder.md"
  target="$work/oomorder.md"
else
  target=$LAB
fi

# poll records, once a second, the hogs' termination as the API shows it:
# "NAME finishedAt" lines, the local time first.
poll() {
  while :; do
    "$LABS" kubectl get pods -A -l hog -o jsonpath='{range .items[*]}{.metadata.name} {.metadata.creationTimestamp} {.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.finishedAt}{"\n"}{end}' 2>/dev/null |
      while read -r name created reason finished; do echo "$(date -u +%s) $name $created ${reason:--} ${finished:--}"; done
    sleep 1
  done
}

# The kernel's own record of each kill, on the node the step limits: the
# OOM killer's lines with each victim's oom_score_adj (1000: BestEffort).
node="${LABS_CLUSTER_NAME:-labs}-worker2"
kills() { "$LABS" node exec "$node" -- dmesg 2>/dev/null | grep 'Killed process' || true; }

printf '%-4s %-6s %-10s %-10s %-8s %-14s %-22s %s\n' run result be_killed bu_killed gap bu_seen_at kernel_kills order_check
for i in $(seq "$RUNS"); do
  kills >"$work/kills.before"
  for _ in $(seq "$LOAD"); do timeout 600 sh -c 'while :; do :; done' & loadpids+=($!); done
  poll >"$work/poll.$i" 2>/dev/null &
  watcher=$!
  set +e
  "$LABS" test "$target" -o json >"$work/run.$i.json" 2>"$work/run.$i.err"
  rc=$?
  set -e
  kill "$watcher" 2>/dev/null || true
  wait "$watcher" 2>/dev/null || true
  watcher=
  for p in "${loadpids[@]}"; do kill "$p" 2>/dev/null || true; done
  loadpids=()
  kills | grep -vxFf "$work/kills.before" >"$work/kills.$i" || true
  python3 - "$work/poll.$i" "$work/run.$i.json" "$i" "$rc" "$work/kills.$i" <<'EOF'
import json, sys, datetime
poll, report, run, rc, kills = sys.argv[1:]
import re
# "[ 1234.567] ... Killed process 42 (labapp) ... oom_score_adj:1000": the
# kernel's order, as adj@seconds since the first kill.
kk = [(float(m.group(1)), m.group(2)) for m in (re.search(r"\[\s*([0-9.]+)\].*Killed process.*oom_score_adj:(-?[0-9]+)", l) for l in open(kills)) if m]
kernel = " ".join("%s@%.0fs" % (adj, t - kk[0][0]) for t, adj in kk) if kk else "-"
def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
created, finished, seen = {}, {}, {}
for line in open(poll):
    parts = line.split()
    if len(parts) != 5:
        continue
    now, name, c, reason, fin = parts
    created.setdefault(name, ts(c))
    if fin != "-" and name not in seen:
        seen[name] = int(now)
        finished[name] = (ts(fin), reason)
t0 = min(created.values()) if created else 0
def rel(name):
    return "%.0fs" % (finished[name][0] - t0) if name in finished else "-"
gap = "%.0fs" % (finished["hog-burstable"][0] - finished["hog-besteffort"][0]) if "hog-burstable" in finished and "hog-besteffort" in finished else "-"
bu_seen = "%.0fs" % (seen["hog-burstable"] - t0) if "hog-burstable" in seen else "never"
order = "-"
try:
    rep = json.load(open(report))
    labs = rep if isinstance(rep, list) else rep.get("labs", [rep])
    for lab in labs:
        for st in lab.get("steps", []):
            for c in st.get("after", []) or []:
                if "died no later" in c:
                    order = c.replace("expected the BestEffort hog died no later than the Burstable one; ", "")[:40]
            if st.get("failure"):
                order += " | " + st["failure"][:160]
except Exception as e:
    order = "report unreadable: %s" % e
print("%-4s %-6s %-10s %-10s %-8s %-14s %-22s %s" % (run, "ok" if rc == "0" else "FAILED", rel("hog-besteffort"), rel("hog-burstable"), gap, bu_seen, kernel, order))
EOF
done
