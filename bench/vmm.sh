#!/usr/bin/env bash
# bench/vmm.sh [RUNS]: `igvmkit run out/demo.igvm` (the probe, 512 MiB, 1 vCPU) RUNS times
# (default 20): median wall time from process start to process exit, and the median peak RSS of
# the process. Guest RAM is an anonymous mapping of which only the pages the probe touches become
# resident, so the RSS figure is an upper bound on the VMM's own memory beyond guest RAM (it
# includes the few guest pages touched). QEMU for comparison only when qemu-system-x86_64 is
# installed (tools/setup does not install it).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
IGVMKIT=bazel-bin/cli/igvmkit
[[ -x $IGVMKIT && -f out/demo.igvm ]] || { echo "run tools/demo first (needs $IGVMKIT and out/demo.igvm)"; exit 2; }
[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "/dev/kvm is not accessible: nothing to measure"; exit 0; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
times=() rss=()
for ((i = 0; i < RUNS; i++)); do
  start=$(date +%s%N)
  /usr/bin/time -f '%M' -o /tmp/igvmkit-bench.rss "$IGVMKIT" run out/demo.igvm >/dev/null
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000 )))
  rss+=("$(tail -n 1 /tmp/igvmkit-bench.rss)")
done
t=$(printf '%s\n' "${times[@]}" | median)
r=$(printf '%s\n' "${rss[@]}" | median)
echo "igvmkit run (probe, 512 MiB, 1 vCPU), $RUNS runs: median wall ${t} us, median max RSS ${r} KiB"
if command -v qemu-system-x86_64 >/dev/null; then
  echo "qemu-system-x86_64 is installed, but a like-for-like QEMU boot of the probe is not scripted yet"
else
  echo "qemu-system-x86_64 is not installed: no QEMU comparison (tools/setup does not install it)"
fi
