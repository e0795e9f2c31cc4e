#!/usr/bin/env bash
# How long igvm::write takes for bench/make_big_igvm's file (default 1 GiB of distinct pages:
# laying out 262,151 headers and the page data, then the validating parse of the output), against
# one copy of the output into fresh memory in the same run. Prints the load average with it.
#   bench/igvm_write.sh [MiB, default 1024] [runs, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-1024}
runs=${2:-3}
bazel build --noshow_progress //bench:make_big_igvm >/dev/null 2>&1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((i = 1; i <= runs; i++)); do
  echo "run $i ($(date -u +%H:%M) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)):"
  bazel-bin/bench/make_big_igvm "$tmp/big.igvm" "$mib" | grep '^write:'
  rm -f "$tmp/big.igvm"
done
