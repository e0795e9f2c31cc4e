#!/usr/bin/env bash
# A timed libFuzzer run of one target (tools/fuzz) with its statistics: executions, executions per
# second, coverage and features at the end, and whether it found a crash. The whole log is kept.
#   bench/fuzz_stats.sh [//pkg:name_fuzz, default //igvm:parse_fuzz] [seconds, default 300]
set -uo pipefail
cd "$(dirname "$0")/.."
target=${1:-//igvm:parse_fuzz}
seconds=${2:-300}
log=/tmp/igvmkit-fuzz-stats-${target##*:}-$(date -u +%Y%m%dT%H%M).log
echo "$target for ${seconds} s from $(date -u +%H:%M) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
tools/fuzz "$target" "$seconds" >"$log" 2>&1
status=$?
echo "log: $log (exit status $status: 0 = no crash)"
grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log"
grep -E '^==[0-9]+==ERROR|^SUMMARY|deadly signal' "$log" | head -3
exit "$status"
