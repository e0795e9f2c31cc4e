#!/usr/bin/env bash
# igvmkit verify --batch end to end over real evidence in $IGVMKIT_SHARED: a directory mixing
# valid and tampered SNP reports and TDX quotes (VCEKs from a KDS-layout --cert-cache), and JSON
# lines on stdin (files with per-entry certificates, inline base64 evidence, malformed lines).
# One JSON line per entry in input order, each chain verified once, the same output for any
# --jobs, exit 0 only when every entry verified.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tests/lib/cli_test_lib.sh"
IGVMKIT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
need_shared testdata/attest
D=$IGVMKIT_SHARED/testdata/attest
S=$D/amd/snp
T=$D/intel/tdx
TMP=$tmp
AT=2026-01-01T00:00:00Z  # every VCEK and PCK chain below is valid then

# A KDS-layout cache: cert_chain per product, each VCEK under its chip id.
cache=$TMP/cache
mkdir -p "$cache/vcek/v1/Milan" "$cache/vcek/v1/Genoa"
cp "$D/amd/roots/milan_vcek_cert_chain.pem" "$cache/vcek/v1/Milan/cert_chain"
cp "$D/amd/roots/genoa_vcek_cert_chain.pem" "$cache/vcek/v1/Genoa/cert_chain"
for item in "snp01_milan_v2_gosev attestation.bin vcek.der Milan" \
            "snp13_genoa_v5_yaxi report.bin vcek-chain-genoa-v5.pem Genoa" \
            "snp15_milan_v3_yaxi report.bin vcek-chain-milan.pem Milan"; do
  read -r dir report vcek product <<<"$item"
  chip=$("$IGVMKIT" verify --offline --report "$S/$dir/$report" --json 2>/dev/null |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["fields"]["chip_id"])')
  cp "$S/$dir/$vcek" "$cache/vcek/v1/$product/$chip"
done

flip() {  # flip SRC DST OFFSET
  cp "$1" "$2" && chmod u+w "$2"
  python3 -c 'import sys; p,o=sys.argv[1],int(sys.argv[2]); b=bytearray(open(p,"rb").read()); b[o]^=1; open(p,"wb").write(b)' "$2" "$3"
}
ev=$TMP/evidence
mkdir -p "$ev"
cp "$S/snp01_milan_v2_gosev/attestation.bin" "$ev/a1-snp01.bin"
cp "$S/snp01_milan_v2_gosev/attestation.bin" "$ev/a2-snp01-again.bin"
flip "$S/snp01_milan_v2_gosev/attestation.bin" "$ev/a3-snp01-tampered.bin" $((0x90))
cp "$S/snp13_genoa_v5_yaxi/report.bin" "$ev/b1-snp13.bin"
cp "$S/snp15_milan_v3_yaxi/report.bin" "$ev/b2-snp15.bin"
cp "$T/tdx03_v4_gcp_gotdx/cos-113-tdx-quote.dat" "$ev/c1-tdx03.dat"
cp "$T/tdx08_v4_phala/tdx_quote" "$ev/c2-tdx08.dat"
flip "$T/tdx08_v4_phala/tdx_quote" "$ev/c3-tdx08-tampered.dat" 200
echo "not evidence" >"$ev/z-junk.txt"

check_lines() {  # check_lines OUT EXPECTED...   (EXPECTED: id=true|false|error)
  local out=$1
  shift
  python3 - "$out" "$@" <<'PY' || return 1
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
want = [w.split("=") for w in sys.argv[2:]]
assert len(lines) == len(want), (len(lines), len(want))
for line, (ident, state) in zip(lines, want):
    assert line["id"] == ident, (line["id"], ident)
    assert line["schema_version"] == 1
    if state == "error":
        assert line["verified"] is False and "error" in line, line
    else:
        assert line["verified"] == (state == "true"), (ident, [c["name"] for c in line.get("checks", []) if not c["passed"]], line.get("error"))
        assert line["platform"] in ("snp", "tdx") and line["checks"], ident
PY
}

for jobs in 1 2; do
  "$IGVMKIT" verify --offline --batch "$ev" --cert-cache "$cache" --at $AT --jobs $jobs >"$TMP/dir$jobs.out" 2>"$TMP/dir$jobs.err"
  status=$?
  [[ $status -eq 1 ]] || fail "dir --jobs $jobs: exit $status, expected 1 (tampered entries)"
  check_lines "$TMP/dir$jobs.out" a1-snp01.bin=true a2-snp01-again.bin=true a3-snp01-tampered.bin=false \
    b1-snp13.bin=true b2-snp15.bin=true c1-tdx03.dat=true c2-tdx08.dat=true \
    c3-tdx08-tampered.dat=false z-junk.txt=error || fail "dir --jobs $jobs: lines"
  # Three distinct VCEK chains (snp01's three reports share one).
  grep -q "9 entries, 6 verified, 2 failed, 1 unreadable; 3 distinct SNP chain(s) verified, 2 reuse(s)" \
    "$TMP/dir$jobs.err" || { fail "dir --jobs $jobs: summary"; cat "$TMP/dir$jobs.err"; }
  grep -q "error: $ev/z-junk.txt: " "$TMP/dir$jobs.err" || fail "dir --jobs $jobs: junk error line"
done
cmp -s "$TMP/dir1.out" "$TMP/dir2.out" || fail "--jobs 1 and --jobs 2 differ"
# The tampered report fails its signature, with the chain checks (reused) still passing.
python3 - "$TMP/dir2.out" <<'PY' || fail "tampered snp01 checks"
import json, sys
line = [json.loads(l) for l in open(sys.argv[1])][2]
checks = {c["name"]: c["passed"] for c in line["checks"]}
assert checks["report.signature"] is False and checks["chain.path"] and checks["vek.signed_by_ask"], checks
PY

# Only valid entries: exit 0.
mkdir -p "$TMP/good" && cp "$ev"/a1-snp01.bin "$ev"/b1-snp13.bin "$ev"/c1-tdx03.dat "$TMP/good/"
"$IGVMKIT" verify --offline --batch "$TMP/good" --cert-cache "$cache" --at $AT >"$TMP/good.out" 2>"$TMP/good.err" ||
  { fail "all-valid batch did not exit 0"; cat "$TMP/good.err"; }
check_lines "$TMP/good.out" a1-snp01.bin=true b1-snp13.bin=true c1-tdx03.dat=true || fail "all-valid lines"

# JSON lines on stdin: per-entry certificates, inline base64, and malformed lines in between.
B64=$(base64 -w0 "$S/snp15_milan_v3_yaxi/report.bin")
{
  printf '{"id":"vm-1","file":"%s","certs":"%s"}\n' "$S/snp01_milan_v2_gosev/attestation.bin" "$S/snp01_milan_v2_gosev/vcek.der"
  printf '{"id":"vm-2","evidence":"%s","certs":["%s"]}\n' "$B64" "$S/snp15_milan_v3_yaxi/vcek-chain-milan.pem"
  printf '\n'
  printf '{"id":"vm-3","file":"%s","colour":"blue"}\n' "$S/snp01_milan_v2_gosev/attestation.bin"
  printf 'not json\n'
  printf '{"id":"vm-5","file":"%s"}\n' "$T/tdx08_v4_phala/tdx_quote"
  printf '{"id":"vm-6","file":"%s","certs":"%s"}\n' "$ev/a3-snp01-tampered.bin" "$S/snp01_milan_v2_gosev/vcek.der"
  printf '{"id":"vm-7","file":"%s/missing.bin"}\n' "$TMP"
} >"$TMP/lines.jsonl"
"$IGVMKIT" verify --offline --batch - --chain "$D/amd/roots/milan_vcek_cert_chain.pem" --at $AT \
  <"$TMP/lines.jsonl" >"$TMP/stdin.out" 2>"$TMP/stdin.err"
status=$?
[[ $status -eq 1 ]] || fail "stdin: exit $status, expected 1"
check_lines "$TMP/stdin.out" vm-1=true vm-2=true vm-3=error "stdin line 5=error" vm-5=true \
  vm-6=false vm-7=error || { fail "stdin lines"; cat "$TMP/stdin.out" "$TMP/stdin.err"; }
grep -q '"rule":"batch.key"' "$TMP/stdin.out" || fail "stdin: unknown key rule"

# Reference values apply to every entry: snp01's measurement passes, the rest fail ref.measurement.
printf '{"measurements":[{"platform":"snp","digest":"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"}],"policy":{"debug_allowed":true}}' >"$TMP/ref.json"
"$IGVMKIT" verify --offline --batch "$TMP/good" --cert-cache "$cache" --at $AT --expect "$TMP/ref.json" >"$TMP/ref.out" 2>/dev/null
check_lines "$TMP/ref.out" a1-snp01.bin=true b1-snp13.bin=false c1-tdx03.dat=false || fail "reference lines"

# Usage errors.
"$IGVMKIT" verify --offline --batch "$TMP/nonexistent" >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "missing dir: not exit 2"
"$IGVMKIT" verify --offline --batch "$ev" --report x >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "--batch with --report: not exit 2"
mkdir -p "$TMP/empty"
"$IGVMKIT" verify --offline --batch "$TMP/empty" >/dev/null 2>&1; [[ $? -eq 1 ]] || fail "empty batch: not exit 1"

finish "all batch CLI checks passed"
