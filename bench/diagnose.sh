#!/usr/bin/env bash
# `igvmkit diagnose` over a 64 MiB IGVM file (bench/make_big_igvm: SNP + TDX + VBS, one VMSA):
# the full search a digest nothing explains costs (vCPU counts 1..64 x every VMSA variant under
# kvm, mshv, tdx), its candidates per second, and what it costs against the physical limit in
# the same run: one `igvmkit measure` of the file (one image hash) and `openssl speed` SHA-384.
# Then the naive way, one `igvmkit measure --vcpus N` per count and host model (64 + 1 runs).
#   bench/diagnose.sh [MIB]     (run from the repository root; default 64)
set -euo pipefail
mib=${1:-64}
bazel build //bench:make_big_igvm //cli:igvmkit >/dev/null 2>&1
bin=bazel-bin/cli/igvmkit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
f=$tmp/big.igvm
bazel-bin/bench/make_big_igvm "$f" "$mib" >/dev/null
cat "$f" >/dev/null  # warm the page cache
echo "file: $(stat -c %s "$f") bytes, $((mib * 256)) pages; $(nproc) cpus"
now() { date +%s.%N; }
random=$(head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n')
best=""
for run in 1 2 3; do
  t0=$(now)
  $bin diagnose "$f" --digest "$random" --json >"$tmp/out.json" || true
  t1=$(now)
  s=$(echo "$t1 - $t0" | bc -l)
  if [[ -z "$best" ]] || (($(echo "$s < $best" | bc -l))); then best=$s; fi
done
cands=$(python3 -c "import json; print(json.load(open('$tmp/out.json'))['candidates'])")
python3 -c "import json; [print('  searched', s) for s in json.load(open('$tmp/out.json'))['searched']]"
printf "diagnose (not explained, full search): %.3f s wall (best of 3), %d candidates, %.0f candidates/s\n" \
  "$best" "$cands" "$(echo "$cands / $best" | bc -l)"
# An explained digest (4 vCPUs, kvm): the same search, reported as found.
d4=$($bin measure "$f" --platform snp --vcpus 4 2>/dev/null)
t0=$(now); $bin diagnose "$f" --digest "$d4" >/dev/null; t1=$(now)
printf "diagnose (explained, 4 vcpus): %.3f s wall\n" "$(echo "$t1 - $t0" | bc -l)"
t0=$(now); $bin measure "$f" --platform snp >/dev/null 2>&1; t1=$(now)
one=$(echo "$t1 - $t0" | bc -l)
printf "one igvmkit measure (one image hash): %.3f s wall; diagnose = %.1fx one measure\n" \
  "$one" "$(echo "$best / $one" | bc -l)"
t0=$(now)
$bin measure "$f" --platform snp --vcpus 1-64 >/dev/null 2>&1
$bin measure "$f" --platform snp --host mshv >/dev/null 2>&1
t1=$(now)
naive=$(echo "$t1 - $t0" | bc -l)
printf "naive (measure --vcpus 1-64, then --host mshv: 65 image hashes): %.3f s wall for 65 candidates, %.0f candidates/s\n" \
  "$naive" "$(echo "65 / $naive" | bc -l)"
openssl speed -evp sha384 -bytes 4096 -seconds 2 2>/dev/null | tail -n1 |
  awk -v mib="$mib" '{v=$NF; sub(/k$/,"",v); r=v*1000/1048576; printf "openssl sha384 4096-byte blocks: %.0f MiB/s one core: %.3f s per %d MiB image hash\n", r, mib/r, mib}'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
