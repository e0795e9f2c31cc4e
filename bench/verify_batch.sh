#!/usr/bin/env bash
# SEV-SNP reports verified per second by `igvmkit verify --batch` (real reports from
# $IGVMKIT_SHARED, repeated: three chips' reports, each chain verified once and reused), against
# the floor every report costs: its own ECDSA P-384 signature verification. OpenSSL's
# `openssl speed -seconds 3 ecdsap384` verify/s is measured in the same run, on as many processes
# as --jobs, and the ratio printed (1.0 = verifying a report costs exactly one P-384 verify).
#   IGVMKIT_SHARED=/work/shared bench/verify_batch.sh [ENTRIES=3000] [JOBS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
ENTRIES=${1:-3000}
JOBS=${2:-2}
D=${IGVMKIT_SHARED:?set IGVMKIT_SHARED to the shared directory}/testdata/attest
bazel build --noshow_progress //cli:igvmkit >/dev/null 2>&1
IGVMKIT=$PWD/bazel-bin/cli/igvmkit
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The KDS-layout cache and the evidence directory.
mkdir -p "$TMP/cache/vcek/v1/Milan" "$TMP/cache/vcek/v1/Genoa" "$TMP/ev"
cp "$D/amd/roots/milan_vcek_cert_chain.pem" "$TMP/cache/vcek/v1/Milan/cert_chain"
cp "$D/amd/roots/genoa_vcek_cert_chain.pem" "$TMP/cache/vcek/v1/Genoa/cert_chain"
items=("snp01_milan_v2_gosev attestation.bin vcek.der Milan"
       "snp13_genoa_v5_yaxi report.bin vcek-chain-genoa-v5.pem Genoa"
       "snp15_milan_v3_yaxi report.bin vcek-chain-milan.pem Milan")
for item in "${items[@]}"; do
  read -r dir report vcek product <<<"$item"
  # (exit 1 without a VCEK: only the decoded chip id is wanted)
  chip=$({ "$IGVMKIT" verify --report "$D/amd/snp/$dir/$report" --json 2>/dev/null || true; } |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["fields"]["chip_id"])')
  cp "$D/amd/snp/$dir/$vcek" "$TMP/cache/vcek/v1/$product/$chip"
done
for ((i = 0; i < ENTRIES; i++)); do
  read -r dir report _ _ <<<"${items[i % 3]}"
  ln -s "$D/amd/snp/$dir/$report" "$TMP/ev/$(printf '%06d' $i).bin"
done

echo "$(date -u '+%Y-%m-%d %H:%M') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
start=$(date +%s.%N)
"$IGVMKIT" verify --batch "$TMP/ev" --cert-cache "$TMP/cache" --at 2026-01-01T00:00:00Z \
  --jobs "$JOBS" >"$TMP/out" 2>"$TMP/err"
end=$(date +%s.%N)
tail -1 "$TMP/err"
verified=$(grep -c '"verified":true' "$TMP/out")
[[ $verified -eq $ENTRIES ]] || { echo "only $verified of $ENTRIES verified"; exit 1; }
multi=()
[[ $JOBS -gt 1 ]] && multi=(-multi "$JOBS")
ossl=$(openssl speed -seconds 3 "${multi[@]}" ecdsap384 2>/dev/null |
       awk '/nistp384/ { v = $NF } END { print v }')
awk -v n="$ENTRIES" -v s="$start" -v e="$end" -v o="$ossl" -v j="$JOBS" 'BEGIN {
  rate = n / (e - s)
  printf "igvmkit verify --batch, %d SNP reports, --jobs %d: %.2f s wall, %.0f reports/s\n", n, j, e - s, rate
  printf "openssl speed -seconds 3 ecdsap384 (%d process(es)): %.0f verify/s\n", j, o
  printf "ratio reports/s : P-384 verify/s = %.2f\n", rate / o
}'
