#!/usr/bin/env bash
# make bench: our load generator (labapp load, the code `labs load` runs in
# the cluster) against hey, the same target, duration and concurrency, in the
# same run. The target is labapp serve on 127.0.0.1; nothing leaves the host.
# Prints a table and the ratio ours/hey of requests per second.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5s}
REPEAT=${REPEAT:-3}   # runs per tool and concurrency, interleaved; the median counts
CONCURRENCY=${CONCURRENCY:-"1 8 32"}
PORT=${PORT:-18080}

if ! command -v hey >/dev/null; then
  echo "installing hey (Debian package)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hey) >/dev/null
fi
work=$(mktemp -d)
go build -o "$work/labapp" ./assets/labapp

# Request logs off: both generators measure the same server, not its logging.
LABAPP_SHUTDOWN_DELAY=0 "$work/labapp" serve --addr "127.0.0.1:$PORT" --pid-file "" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
url="http://127.0.0.1:$PORT/"

run_ours() {
  local line
  line=$("$work/labapp" load --json --duration "$DURATION" --concurrency "$1" "$url" 2>/dev/null | grep '^RESULT ')
  echo "${line#RESULT }" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["requests_per_second"], r["latency_ms"]["p50"], r["latency_ms"]["p99"], r["failed"])'
}
run_hey() {
  # errors are transport errors plus non-2xx answers, as we count them
  hey -z "$DURATION" -c "$1" -disable-compression "$url" | python3 -c '
import re,sys
t=sys.stdin.read()
rps=float(re.search(r"Requests/sec:\s+([\d.]+)",t).group(1))
def pct(p):
    m=re.search(r"\s%d%% in ([\d.]+) secs" % p,t)
    return float(m.group(1))*1000 if m else 0
errs=0
sec=t.split("Status code distribution:")[-1] if "Status code distribution:" in t else ""
for code,n in re.findall(r"\[(\d+)\]\s+(\d+) responses",sec):
    if not code.startswith("2"): errs+=int(n)
if "Error distribution:" in t:
    for n in re.findall(r"\[(\d+)\]\s", t.split("Error distribution:")[1]): errs+=int(n)
print(rps,pct(50),pct(99),errs)'
}
# median of the runs, by requests per second
median() { sort -g -k1,1 | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }

echo "target $url, $DURATION per run, median of $REPEAT interleaved runs" >&2
printf '%-6s %-11s %12s %10s %10s %8s\n' tool concurrency "req/s" "p50 ms" "p99 ms" errors
declare -A ours theirs
for c in $CONCURRENCY; do
  o=""; h=""
  for _ in $(seq "$REPEAT"); do
    o+="$(run_ours "$c")"$'\n'
    h+="$(run_hey "$c")"$'\n'
  done
  read -r rps p50 p99 errs < <(printf '%s' "$o" | median)
  printf '%-6s %-11s %12.1f %10.3f %10.3f %8s\n' ours "$c" "$rps" "$p50" "$p99" "$errs"
  ours[$c]=$rps
  read -r hrps hp50 hp99 herrs < <(printf '%s' "$h" | median)
  printf '%-6s %-11s %12.1f %10.3f %10.3f %8s\n' hey "$c" "$hrps" "$hp50" "$hp99" "$herrs"
  theirs[$c]=$hrps
done
echo
printf '%-11s %14s\n' concurrency "ratio ours/hey"
for c in $CONCURRENCY; do
  printf '%-11s %14.2f\n' "$c" "$(python3 -c "print(${ours[$c]}/${theirs[$c]})")"
done
