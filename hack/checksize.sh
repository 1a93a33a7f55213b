#!/usr/bin/env bash
# checksize DIR [MiB]: every labs binary GoReleaser wrote under DIR is at
# most MiB (default 90) mebibytes; prints each one's size and fails naming
# the ones that are larger, or when there are none.
set -euo pipefail
dir=${1:?usage: checksize DIR [MiB]}
max=$(( ${2:-90} * 1024 * 1024 ))
n=0
bad=0
while IFS= read -r f; do
  size=$(wc -c <"$f" | tr -d ' ') # stat -c is GNU only
  n=$((n + 1))
  mark=ok
  if ((size > max)); then
    mark="TOO BIG (limit ${2:-90} MiB)"
    bad=1
  fi
  printf '%-40s %6.1f MiB  %s\n' "${f#"$dir"/}" "$(awk "BEGIN {print $size / 1048576}")" "$mark"
done < <(find "$dir" -type f \( -name labs -o -name labs.exe \) | sort)
if ((n == 0)); then
  echo "no labs binaries under $dir" >&2
  exit 1
fi
exit $bad
