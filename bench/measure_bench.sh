#!/usr/bin/env bash
# `igvmkit measure --platform snp` over an IGVM file of MIB MiB with 1 and 2 hashing threads,
# against `openssl dgst -sha384` over the same file and `openssl speed -evp sha384 -bytes 4096
# -seconds 3` single-core throughput, in the same run (wall medians of RUNS, interleaved); then
# TDX (MRTD: one serial SHA-384 stream) and VBS (SHA-256 chain), with sha256's throughput.
#   bench/measure_bench.sh [MIB] [RUNS]     (run from the repository root; default 1024, 3)
set -euo pipefail
mib=${1:-1024}
runs=${2:-3}
bazel build //bench:make_big_igvm //cli:igvmkit >/dev/null 2>&1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
f=$tmp/big.igvm
bazel-bin/bench/make_big_igvm "$f" "$mib" >/dev/null
echo "file: $(stat -c %s "$f") bytes, $((mib * 256)) pages"
cat "$f" >/dev/null  # warm the page cache
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# time_of LABEL CMD...: appends "wall cpu" to $tmp/LABEL
time_of() {
  local label=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$tmp/t" "$@" >/dev/null 2>&1
  awk '{printf "%.3f %.3f\n", $1, $2 + $3}' "$tmp/t" >>"$tmp/$label"
}
for ((i = 0; i < runs; i++)); do
  time_of openssl openssl dgst -sha384 "$f"
  time_of snp1 bazel-bin/cli/igvmkit measure "$f" --platform snp --threads 1
  time_of snp2 bazel-bin/cli/igvmkit measure "$f" --platform snp --threads 2
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c=$2 '{print $c}' "$tmp/$1" | median; }
ow=$(col openssl 1)
printf 'openssl dgst -sha384 of the file: wall %.3f s, cpu %.3f s (median of %d)\n' "$ow" "$(col openssl 2)" "$runs"
for t in 1 2; do
  w=$(col snp$t 1)
  printf 'measure --platform snp --threads %d: wall %.3f s, cpu %.3f s, ratio to openssl dgst (wall) %.2fx\n' \
    $t "$w" "$(col snp$t 2)" "$(echo "$w / $ow" | bc -l)"
done
for p in tdx vbs; do
  /usr/bin/time -f "$p: wall %e s, cpu user %U s + sys %S s ($mib MiB)" \
    bazel-bin/cli/igvmkit measure "$f" --platform $p 2>&1 >/dev/null | tail -n1
done
for md in sha384 sha256; do
  openssl speed -evp $md -bytes 4096 -seconds 3 2>/dev/null | tail -n1 |
    awk -v md=$md '{v=$NF; sub(/k$/,"",v); printf "openssl %s 4096-byte blocks: %.0f MiB/s (one core)\n", md, v*1000/1048576}'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
