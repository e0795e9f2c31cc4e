#!/usr/bin/env bash
# igvmkit verify end to end: every SNP report and TDX quote of ../shared/testdata/attest passes
# (exit 0), with the fields MANIFEST.md lists in --json; tampering, wrong certificates and
# reference-value mismatches fail (exit 1) naming the check; usage errors exit 2.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tests/lib/cli_test_lib.sh"
IGVMKIT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
need_shared testdata/attest
D=$IGVMKIT_SHARED/testdata/attest
S=$D/amd/snp
R=$D/amd/roots
T=$D/intel/tdx
TMP=$tmp

# item report signer chain at measurement
snp_items=(
  "snp01_milan_v2_gosev attestation.bin vcek.der milan_vcek 2026-01-01T00:00:00Z b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"
  "snp02_milan_v2_virtee report_milan.hex vcek_milan.der milan_vcek 2026-01-01T00:00:00Z 7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f"
  "snp03_milan_v2_coco test-report.bin test-vcek.der milan_vcek 2026-01-01T00:00:00Z a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c"
  "snp05_milan_v2_azure_hcl_coco hcl-report.bin vcek.pem milan_vcek 2026-01-01T00:00:00Z 9ac48fcac8a2d88aeeff8d427ad4f2be0e3917c748a18bdf52cc317e7fe20308b459d5ef1a12e0c22944eb386d17c315"
  "snp06_milan_v3_azure_coco_v0 report.bin vcek.pem milan_vcek 2026-01-01T00:00:00Z 6a063be9dd79f6371c842e480f8dc3b5c725961344e57130e88c5adf49e8f7f6c79b75a5eb77fc769959f4aeb2f9401e"
  "snp07_milan_v3_azure_coco_v2 report.bin vcek.der milan_vcek 2026-01-01T00:00:00Z 5b0ce64ad1c1f6375dbda5f760b98526ca1bcf91b8195091afc28e7b024251d68fe32e05af34048d6607678cd23283ff"
  "snp08_genoa_v3_azure_coco report.bin vcek.pem genoa_vcek 2026-01-01T00:00:00Z f57dc09a507c6ecd82369bffb600f0003792f4d99bc26e985ec0c266fc34faf3706faf814c9e61065768a6ff917c89ae"
  "snp09_milan_v3_vlek_aws_coco test-vlek-report.bin test-vlek.der milan_vlek 2025-06-01T00:00:00Z 8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0"
  "snp10_milan_v2_vlek_aws_anolis test-vlek-report.bin test-vlek.der milan_vlek 2025-01-01T00:00:00Z f1a99fc07470beb03b1330f4489520af8f0288187ffb661c71f35cab09bea19cd962d4f2d09f5a16c3c38b7da6bed244"
  "snp13_genoa_v5_yaxi report.bin vcek-chain-genoa-v5.pem genoa_vcek 2026-01-01T00:00:00Z bece7399a4da054a63a2e3fa1a47ff98c88e391d4379126fc4e75c677f25b6cd6bfd8ef609a8638049633ac7e00e4ac1"
  "snp14_genoa_v3_yaxi report.bin vcek-chain-genoa.pem genoa_vcek 2026-01-01T00:00:00Z b0f5d097b5c7addd4ee06a6f5fd04a745c5415d77363ca74857b44226a1bd7da50329549def0897c234695e37b8c2793"
  "snp15_milan_v3_yaxi report.bin vcek-chain-milan.pem milan_vcek 2026-01-01T00:00:00Z 195b01b74976a1faba13bd85eaf787958f0a46e6dddd45c5bdbf8673522777842b8057ae5d866b75416efb62012deaa3"
)
for line in "${snp_items[@]}"; do
  read -r item report signer chain at digest <<<"$line"
  flag=--vcek
  [[ $signer == *vlek* ]] && flag=--vlek
  args=(verify --report "$S/$item/$report" "$flag" "$S/$item/$signer" --chain "$R/${chain}_cert_chain.pem" --at "$at")
  if expect_exit 0 "$item" -- "$IGVMKIT" "${args[@]}"; then
    contains "$TMP/out" "verified: all" "$item"
  fi
  if expect_exit 0 "$item --json" -- "$IGVMKIT" "${args[@]}" --json; then
    contains "$TMP/out" "\"measurement\": \"$digest\"" "$item --json"
    contains "$TMP/out" '"verified": true' "$item --json"
  fi
  # A measure --json document for this report: match, then a mismatching digest.
  printf '{"platform":"snp","host":"kvm","vcpus":1,"digest":"%s","pages_measured":3,"policy":{"debug_allowed":true}}' "$digest" >"$TMP/ref.json"
  expect_exit 0 "$item --expect" -- "$IGVMKIT" "${args[@]}" --expect "$TMP/ref.json" &&
    contains "$TMP/out" "pass  ref.measurement" "$item --expect"
  printf '{"platform":"snp","digest":"%096d","policy":{"debug_allowed":true}}' 0 >"$TMP/bad.json"
  expect_exit 1 "$item --expect mismatch" -- "$IGVMKIT" "${args[@]}" --expect "$TMP/bad.json" &&
    contains "$TMP/out" "FAIL  ref.measurement" "$item --expect mismatch"
done

# A flipped measurement byte (offset 0x90) fails the report signature.
python3 - "$S/snp01_milan_v2_gosev/attestation.bin" "$TMP/flipped.bin" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[0x90] ^= 1; open(sys.argv[2], "wb").write(b)
PY
expect_exit 1 "flipped report" -- "$IGVMKIT" verify --report "$TMP/flipped.bin" --vcek "$S/snp01_milan_v2_gosev/vcek.der" \
  --chain "$R/milan_vcek_cert_chain.pem" --at 2026-01-01T00:00:00Z &&
  contains "$TMP/out" "FAIL  report.signature" "flipped report"
# Another product's chain.
expect_exit 1 "genoa chain for a milan report" -- "$IGVMKIT" verify --report "$S/snp06_milan_v3_azure_coco_v0/report.bin" \
  --vcek "$S/snp06_milan_v3_azure_coco_v0/vcek.pem" --chain "$R/genoa_vcek_cert_chain.pem" --at 2026-01-01T00:00:00Z &&
  contains "$TMP/out" "FAIL  ark.pinned" "genoa chain"
# Expired VLEK without --at.
expect_exit 1 "expired vlek" -- "$IGVMKIT" verify --report "$S/snp10_milan_v2_vlek_aws_anolis/test-vlek-report.bin" \
  --vlek "$S/snp10_milan_v2_vlek_aws_anolis/test-vlek.der" --chain "$R/milan_vlek_cert_chain.pem" &&
  contains "$TMP/out" "FAIL  vek.validity" "expired vlek"
# KDS-style cache.
mkdir -p "$TMP/kds/vcek/v1/Milan"
cp "$R/milan_vcek_cert_chain.pem" "$TMP/kds/vcek/v1/Milan/cert_chain"
cp "$S/snp01_milan_v2_gosev/vcek.der" "$TMP/kds/vcek/v1/Milan/$(python3 -c "
import sys; print(open(sys.argv[1],'rb').read()[0x1A0:0x1E0].hex())" "$S/snp01_milan_v2_gosev/attestation.bin")?blSPL=02&teeSPL=00&snpSPL=05&ucodeSPL=68"
expect_exit 0 "cert cache" -- "$IGVMKIT" verify --report "$S/snp01_milan_v2_gosev/attestation.bin" --cert-cache "$TMP/kds" --at 2026-01-01T00:00:00Z

# TDX: every quote, in its stored encoding.
for q in tdx01_v4_spr_gotdx/tdx_prod_quote_SPR_E4.dat tdx03_v4_gcp_gotdx/cos-113-tdx-quote.dat \
         tdx04_v4_coco_q4/tdx_quote_4.dat tdx05_v5_coco_q5/tdx_quote_5.dat tdx06_v4_coco_q6/tdx_quote_6.dat \
         tdx07_v4_azure_coco/td-quote.bin tdx08_v4_phala/tdx_quote tdx10_v4_phala_hex/tdx-quote.hex \
         tdx11_v4_phala_tappd/quote-from-tappd.hex; do
  expect_exit 0 "$q" -- "$IGVMKIT" verify --quote "$T/$q" --offline --at 2025-07-01T00:00:00Z &&
    contains "$TMP/out" "pass  quote.signature" "$q"
done
expect_exit 0 "tdx08 collateral" -- "$IGVMKIT" verify --quote "$T/tdx08_v4_phala/tdx_quote" \
  --collateral "$T/tdx08_v4_phala/tdx_quote_collateral.json" --at 2025-07-01T00:00:00Z &&
  contains "$TMP/out" "pass  collateral.tcb_info.signature" "tdx08 collateral"
printf '{"platform":"tdx","digest":"91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"}' >"$TMP/tdx.json"
expect_exit 0 "tdx08 --expect" -- "$IGVMKIT" verify --quote "$T/tdx08_v4_phala/tdx_quote" --offline --expect "$TMP/tdx.json" --at 2025-07-01T00:00:00Z
printf '{"platform":"tdx","digest":"705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031"}' >"$TMP/tdx4.json"
expect_exit 1 "tdx04 debug TD" -- "$IGVMKIT" verify --quote "$T/tdx04_v4_coco_q4/tdx_quote_4.dat" --offline --expect "$TMP/tdx4.json" --at 2025-07-01T00:00:00Z &&
  contains "$TMP/out" "FAIL  ref.debug" "tdx04 debug"

# Usage and unreadable inputs.
expect_exit 2 "no evidence" -- "$IGVMKIT" verify
expect_exit 2 "both" -- "$IGVMKIT" verify --report a --quote b
expect_exit 2 "missing file" -- "$IGVMKIT" verify --report "$TMP/does-not-exist"
expect_exit 2 "bad time" -- "$IGVMKIT" verify --report "$S/snp01_milan_v2_gosev/attestation.bin" --at yesterday
expect_exit 2 "snp flag on quote" -- "$IGVMKIT" verify --quote "$T/tdx08_v4_phala/tdx_quote" --vcek x
head -c 100 "$S/snp01_milan_v2_gosev/attestation.bin" >"$TMP/short.bin"
expect_exit 1 "short report" -- "$IGVMKIT" verify --report "$TMP/short.bin" && contains "$TMP/err" "error: " "short report"

# --- issue 12 item 1: Azure HCL wrappers ------------------------------------------------------
H=$S/snp05_milan_v2_azure_hcl_coco
hcl_args=(--vcek "$H/vcek.pem" --chain "$R/milan_vcek_cert_chain.pem" --at 2026-01-01T00:00:00Z)
expect_exit 0 "hcl report" -- "$IGVMKIT" verify --report "$H/hcl-report.bin" "${hcl_args[@]}" --json &&
  contains "$TMP/out" '"kid": "HCLAkPub"' "hcl report reports HCLAkPub"
python3 - "$H/hcl-report.bin" "$TMP/hcl-tampered.bin" "$TMP/hcl-truncated.bin" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
n = b.index(b'"n":"') + 5 + 40
b[n:n + 8] = b"AAAAAAAA"  # 8 bytes of HCLAkPub's modulus
open(sys.argv[2], "wb").write(b)
open(sys.argv[3], "wb").write(open(sys.argv[1], "rb").read()[:2000])
PY
expect_exit 1 "hcl tampered modulus" -- "$IGVMKIT" verify --report "$TMP/hcl-tampered.bin" "${hcl_args[@]}" &&
  contains "$TMP/out" "FAIL  hcl.report_data" "hcl tampered modulus"
expect_exit 1 "hcl truncated" -- "$IGVMKIT" verify --report "$TMP/hcl-truncated.bin" "${hcl_args[@]}" &&
  contains "$TMP/err" "hcl-truncated.bin" "hcl truncated names the report"

# --- issue 12 item 6: reference files that would check nothing -------------------------------
SNP02=(verify --report "$S/snp02_milan_v2_virtee/report_milan.hex" --vcek "$S/snp02_milan_v2_virtee/vcek_milan.der"
       --chain "$R/milan_vcek_cert_chain.pem" --at 2026-01-01T00:00:00Z)
D02=7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f
i=0
for ref in '{"platform":"snp","digest":"'$D02'","polcy":{"vmpl":3}}' \
           '{"measurements":[{"platform":"snp","digest":"'$D02'"}],"digest":"00"}' \
           '{"platform":"snp","digest":"00","digest":"'$D02'"}' \
           '{"measurements":[],"policy":{"vmpl":0}}' \
           '{"policy":{"vmpl":0}}'; do
  i=$((i + 1))
  printf '%s' "$ref" >"$TMP/strict$i.json"
  expect_exit 1 "strict reference $ref" -- "$IGVMKIT" "${SNP02[@]}" --expect "$TMP/strict$i.json" &&
    contains "$TMP/err" "strict$i.json" "strict reference names the file"
done

# --- issue 12 item 7: errors name the right file; dates that do not exist; --vcek vs --vlek ----
expect_exit 2 "february 30" -- "$IGVMKIT" "${SNP02[@]::7}" --at 2026-02-30T00:00:00Z
expect_exit 0 "february 28" -- "$IGVMKIT" "${SNP02[@]::7}" --at 2026-02-28T00:00:00Z
V09=$S/snp09_milan_v3_vlek_aws_coco
expect_exit 2 "vlek given as --vcek" -- "$IGVMKIT" verify --report "$V09/test-vlek-report.bin" --vcek "$V09/test-vlek.der" \
  --chain "$R/milan_vlek_cert_chain.pem" --at 2025-06-01T00:00:00Z && contains "$TMP/err" "--vlek" "vlek as vcek"
expect_exit 2 "vcek given as --vlek" -- "$IGVMKIT" verify --report "$S/snp02_milan_v2_virtee/report_milan.hex" \
  --vlek "$S/snp02_milan_v2_virtee/vcek_milan.der" --chain "$R/milan_vcek_cert_chain.pem" &&
  contains "$TMP/err" "vcek_milan.der" "vcek as vlek names the file"
printf '{"tcbInfo":' >"$TMP/bad-collateral.json"
expect_exit 1 "bad collateral" -- "$IGVMKIT" verify --quote "$T/tdx08_v4_phala/tdx_quote" --collateral "$TMP/bad-collateral.json" \
  --at 2025-07-01T00:00:00Z && contains "$TMP/err" "bad-collateral.json" "bad collateral names the collateral"

# --- issue 16 item 3: TCB levels and SNP policy keys as flags ----------------------------------
TDX08=(verify --quote "$T/tdx08_v4_phala/tdx_quote" --collateral "$T/tdx08_v4_phala/tdx_quote_collateral.json" --at 2025-07-01T00:00:00Z)
expect_exit 0 "tdx08 tcb level" -- "$IGVMKIT" "${TDX08[@]}" && contains "$TMP/out" "pass  collateral.tcb_info.level" "tdx08 level"
expect_exit 1 "tdx08 only OutOfDate allowed" -- "$IGVMKIT" "${TDX08[@]}" --allow-tcb-status OutOfDate &&
  contains "$TMP/out" "FAIL  collateral.tcb_info.level" "tdx08 OutOfDate only"
expect_exit 2 "unknown tcb status" -- "$IGVMKIT" "${TDX08[@]}" --allow-tcb-status UptoDate
expect_exit 0 "snp policy flags" -- "$IGVMKIT" "${SNP02[@]}" --policy vmpl=0 --policy min_build=4 --policy debug_allowed=true &&
  contains "$TMP/out" "pass  ref.vmpl" "policy vmpl flag"
expect_exit 1 "snp policy flag mismatch" -- "$IGVMKIT" "${SNP02[@]}" --policy vmpl=1 &&
  contains "$TMP/out" "FAIL  ref.vmpl" "policy vmpl mismatch"
expect_exit 2 "unknown policy flag" -- "$IGVMKIT" "${SNP02[@]}" --policy vmlp=1

# --- issue 16 item 4: --expect IMAGE.igvm measures it as `measure` does ------------------------
if [[ -n "${2:-}" ]]; then
  MAKE_IGVM=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
  mkdir -p "$TMP/igvm" && "$MAKE_IGVM" "$TMP/igvm" >/dev/null
  for host in kvm mshv; do
    want=$("$IGVMKIT" measure "$TMP/igvm/snp.igvm" --platform snp --host $host)
    expect_exit 1 "expect image ($host)" -- "$IGVMKIT" "${SNP02[@]}" --expect "$TMP/igvm/snp.igvm" --host $host &&
      contains "$TMP/out" "FAIL  ref.measurement: $D02 (expected $want" "expect image ($host) digest"
  done
  want=$("$IGVMKIT" measure "$TMP/igvm/snp.igvm" --platform tdx)
  expect_exit 1 "expect image (tdx)" -- "$IGVMKIT" verify --quote "$T/tdx08_v4_phala/tdx_quote" --offline --expect "$TMP/igvm/snp.igvm" \
    --at 2025-07-01T00:00:00Z && contains "$TMP/out" "(expected $want" "expect image (tdx) digest"
fi

finish "all verify CLI checks passed"
