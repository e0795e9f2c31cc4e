#!/usr/bin/env bash
# Generates a 1 GiB IGVM file (once) and reports parse + validate time, peak RSS and the ratio to
# a sequential read of the same file from the page cache.
#   bench/igvm_parse.sh [MiB, default 1024]
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-1024}
file=/tmp/igvmkit-bench-${mib}m.igvm
bazel build --noshow_progress //bench:make_big_igvm //bench:igvm_parse >/dev/null
[[ -f "$file" ]] || bazel-bin/bench/make_big_igvm "$file" "$mib"
bazel-bin/bench/igvm_parse "$file" 7
