#!/usr/bin/env bash
# `igvmkit measure --platform snp` over a 1 GiB IGVM file with 1 and 2 hashing threads, against
# `openssl speed -evp sha384 -bytes 4096 -seconds 3` single-core throughput on the same machine;
# then TDX (MRTD: one serial SHA-384 stream) and VBS (SHA-256 chain), with sha256's throughput.
#   bench/measure_bench.sh [MIB]     (run from the repository root; default 1024)
set -euo pipefail
mib=${1:-1024}
bazel build //bench:make_big_igvm //cli:igvmkit >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
f=$tmp/big.igvm
bazel-bin/bench/make_big_igvm "$f" "$mib"
echo "file: $(stat -c %s "$f") bytes, $((mib * 256)) pages"
cat "$f" >/dev/null  # warm the page cache
for t in 1 2; do
  /usr/bin/time -f "threads=$t: wall %e s, cpu user %U s + sys %S s ($mib MiB)" \
    bazel-bin/cli/igvmkit measure "$f" --platform snp --threads $t 2>&1 >/dev/null | tail -n1
done
for p in tdx vbs; do
  /usr/bin/time -f "$p: wall %e s, cpu user %U s + sys %S s ($mib MiB)" \
    bazel-bin/cli/igvmkit measure "$f" --platform $p 2>&1 >/dev/null | tail -n1
done
for md in sha384 sha256; do
  openssl speed -evp $md -bytes 4096 -seconds 3 2>/dev/null | tail -n1 |
    awk -v md=$md '{v=$NF; sub(/k$/,"",v); printf "openssl %s 4096-byte blocks: %.0f MiB/s (one core)\n", md, v*1000/1048576}'
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
