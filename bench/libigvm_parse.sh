#!/usr/bin/env bash
# Times parsing a 1 GiB IGVM file (generated once) through libigvm's C API against the C++ API,
# with a memcpy of the file as the bound (bench/libigvm_parse.cc).
#   bench/libigvm_parse.sh [MiB, default 1024]
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-1024}
file=/tmp/igvmkit-bench-${mib}m.igvm
bazel build -c opt --noshow_progress //bench:make_big_igvm //bench:libigvm_parse >/dev/null
[[ -f "$file" ]] || bazel-bin/bench/make_big_igvm "$file" "$mib"
bazel-bin/bench/libigvm_parse "$file" 5
