#!/usr/bin/env bash
# measure/'s SNP launch-digest core on 64 MiB of NORMAL pages (//measure:snp_bench: serial
# addPage and SnpPageStream with 1 and 2 threads, CPU and wall time), against OpenSSL's
# single-core SHA-384 throughput on 4 KiB blocks measured in the same run (openssl speed divides by
# user CPU time). Compare CPU with CPU: the CPU column of the threaded rows counts only the
# calling thread.
#   bench/snp_digest_throughput.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build --noshow_progress //measure:snp_bench >/dev/null 2>&1
echo "$(date -u +%H:%M) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
bazel-bin/measure/snp_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true 2>/dev/null |
  grep -E '^BM_.*_median'
speed=$(openssl speed -evp sha384 -bytes 4096 -seconds 3 2>/dev/null | awk '/^sha384/ { print $2 }')
# openssl prints thousands of bytes per second, e.g. 712345.67k
kbps=${speed%k}
awk -v k="$kbps" 'BEGIN {
  mibs = k * 1000 / 1048576
  printf "openssl sha384, 4 KiB blocks, one core: %.0f MiB/s; bound for 64 MiB: %.1f ms\n", mibs, 64 / mibs * 1000
}'
