#!/usr/bin/env bash
# igvmkit diagnose end to end. For every parameter the search covers, a digest is produced by
# `igvmkit measure` with that parameter changed; diagnose must explain it, and the command it
# prints must print that digest again. Random digests are not explained. Real evidence: the two
# COCONUT-SVSM digests read from hardware ($IGVMKIT_SHARED/testdata/firmware), and the digests
# inside real SNP reports (raw and Azure HCL) and a TDX quote ($IGVMKIT_SHARED/testdata/attest),
# whose images are unknown, so they must come out "not explained" with the report's value.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tests/lib/cli_test_lib.sh"
bin=cli/igvmkit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
json() {  # json FILE PYTHON-EXPR (d is the document)
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# explains NAME DIGEST DIAGNOSE-ARGS...: diagnose explains DIGEST with a modelled launch, and the
# first match's command reproduces it.
explains() {
  local name=$1 digest=$2
  shift 2
  $bin diagnose "$@" --digest "$digest" --json >"$tmp/out.json" 2>"$tmp/err"
  expect "$name: status" 0 $?
  expect "$name: explained" True "$(json "$tmp/out.json" "d['explained']")"
  expect "$name: modelled" True "$(json "$tmp/out.json" "d['matches'][0]['command_reproduces']")"
  local cmd
  cmd=$(json "$tmp/out.json" "d['matches'][0]['command']")
  # The command starts with "igvmkit": run it with the binary under test.
  expect "$name: command reproduces" "$digest" "$(eval "$bin ${cmd#igvmkit }" 2>/dev/null)"
  echo "$cmd" >"$tmp/last_command"
}

random_digest() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# not_explained NAME DIGEST-BYTES DIAGNOSE-ARGS...
not_explained() {
  local name=$1 bytes=$2
  shift 2
  $bin diagnose "$@" --digest "$(random_digest "$bytes")" >"$tmp/out" 2>"$tmp/err"
  expect "$name: status" 1 $?
  expect "$name: says so" "not explained" "$(head -1 "$tmp/out" | cut -c1-13)"
}

measure/make_test_igvm "$tmp" >/dev/null
F=$tmp/snp.igvm   # snp (with a VMSA and pages without data) + tdx
O=$tmp/openvmm.igvm  # snp (no VMSA), vbs, sev, sev-es

# --- usage ---
$bin diagnose "$F" >/dev/null 2>"$tmp/err"; expect "no digest status" 2 $?
expect "no digest" "error: diagnose takes one of --report FILE, --quote FILE or --digest HEX" "$(cat "$tmp/err")"
$bin diagnose "$F" --digest 00 >/dev/null 2>"$tmp/err"; expect "short digest status" 2 $?
$bin diagnose "$F" --digest zz >/dev/null 2>"$tmp/err"; expect "bad hex status" 2 $?
$bin diagnose --digest 00 >/dev/null 2>"$tmp/err"; expect "no image status" 2 $?
$bin diagnose "$F" --digest "$(random_digest 48)" --max-vcpus 0 >/dev/null 2>&1; expect "max 0" 2 $?
$bin diagnose "$tmp/missing.igvm" --digest "$(random_digest 48)" >/dev/null 2>&1
expect "missing file status" 2 $?
$bin diagnose "$F" --report "$tmp/missing.bin" >/dev/null 2>&1; expect "missing report status" 2 $?
# --host chooses the launch of --against; the search tries every host model. The default, kvm,
# may be given.
for h in mshv bogus; do
  $bin diagnose "$F" --digest "$(random_digest 48)" --host $h >/dev/null 2>"$tmp/err"
  expect "search --host $h status" 2 $?
  expect "search --host $h" "error: --host, --vcpus and --native-zero choose the launch for --against; the search tries them all" "$(cat "$tmp/err")"
done
$bin diagnose "$F" --digest "$(random_digest 48)" --host kvm --max-vcpus 2 >/dev/null 2>&1
expect "search --host kvm status" 1 $?

# --- IGVM files: one parameter changed at a time ---
for n in 1 2 7 64; do
  explains "vcpus $n" "$($bin measure "$F" --platform snp --vcpus $n 2>/dev/null)" "$F"
  expect "vcpus $n: command" "igvmkit measure $F --platform snp --host kvm --vcpus $n" \
    "$(cat "$tmp/last_command")"
done
explains "mshv" "$($bin measure "$F" --platform snp --host mshv 2>/dev/null)" "$F"
expect "mshv: command" "igvmkit measure $F --platform snp --host mshv" "$(cat "$tmp/last_command")"
explains "native zero" "$($bin measure "$F" --platform snp --vcpus 3 --native-zero 2>/dev/null)" "$F"
expect "native zero: command" "igvmkit measure $F --platform snp --host kvm --vcpus 3 --native-zero" \
  "$(cat "$tmp/last_command")"
explains "mshv native zero" "$($bin measure "$F" --platform snp --host mshv --native-zero 2>/dev/null)" "$F"
explains "tdx platform" "$($bin measure "$F" --platform tdx)" "$F"
expect "tdx: command" "igvmkit measure $F --platform tdx" "$(cat "$tmp/last_command")"
explains "vbs platform" "$($bin measure "$O" --platform vbs)" "$O"
explains "sev platform" "$($bin measure "$O" --platform sev 2>/dev/null)" "$O"
explains "sev-es platform" "$($bin measure "$O" --platform sev-es 2>/dev/null)" "$O"
# Beyond --max-vcpus: not explained, and the search says what it covered.
d9=$($bin measure "$F" --platform snp --vcpus 9 2>/dev/null)
$bin diagnose "$F" --digest "$d9" --max-vcpus 8 >"$tmp/out"; expect "vcpus past max" 1 $?
expect "vcpus past max: searched" 1 "$(grep -c 'snp kvm, zero pages normal: vcpus 1..8 x' "$tmp/out")"
not_explained "random snp" 48 "$F"
not_explained "random 32-byte" 32 "$O"
$bin diagnose "$F" --digest "$(random_digest 48)" --json >"$tmp/out.json"
expect "random json explained" False "$(json "$tmp/out.json" "d['explained']")"
expect "random json candidates" True "$(json "$tmp/out.json" "d['candidates'] > 1000")"
expect "random json matches" 0 "$(json "$tmp/out.json" "len(d['matches'])")"

# --- --against: a launch against another file and against a saved trace ---
$bin measure "$F" --platform snp --vcpus 2 --trace >"$tmp/trace2" 2>/dev/null
$bin diagnose "$F" --vcpus 2 --against "$tmp/trace2" >"$tmp/out"; expect "against same" 0 $?
expect "against same text" "identical: both launches measure the same $(wc -l <"$tmp/trace2") operations" \
  "$(cat "$tmp/out")"
$bin diagnose "$F" --vcpus 1 --against "$tmp/trace2" --json >"$tmp/out.json"
expect "against 1 vs 2 status" 1 $?
last=$(($(wc -l <"$tmp/trace2") - 1))
expect "against 1 vs 2 first" "$last" "$(json "$tmp/out.json" "d['first_difference']")"
expect "against 1 vs 2 first op" None "$(json "$tmp/out.json" "d['first']")"
expect "against 1 vs 2 other op" vmsa "$(json "$tmp/out.json" "d['other']['type']")"
expect "against 1 vs 2 only" "0 1" "$(json "$tmp/out.json" "d['only_in_first'], d['only_in_other']" | tr -d '(),')"
# mshv measures the VMSA at its own GPA, in file order, and skips shared pages.
$bin diagnose "$F" --against "$F" --host mshv --json >"$tmp/out.json"; expect "against self" 0 $?
$bin measure "$F" --platform snp --json --trace >"$tmp/json_trace" 2>&1
$bin diagnose "$F" --against "$tmp/json_trace" >/dev/null; expect "against json+trace" 0 $?
echo "not a trace" >"$tmp/bad_trace"
$bin diagnose "$F" --against "$tmp/bad_trace" 2>"$tmp/err"; expect "against bad trace" 1 $?
expect "against bad trace rule" 1 "$(grep -c 'no snp trace line' "$tmp/err")"

# --- ID-block lint in check and plan: a file signed for 1 vCPU planned with 2 ---
$bin sign "$F" --id-key measure/testdata/id_key.pem -o "$tmp/signed.igvm" >/dev/null 2>&1
expect "sign status" 0 $?
$bin check "$tmp/signed.igvm" >/dev/null 2>"$tmp/err"; expect "check signed status" 0 $?
expect "check signed: no id block warning" 0 "$(grep -c 'id block' "$tmp/err")"
$bin plan "$tmp/signed.igvm" --backend kvm-snp --cpus 2 >/dev/null 2>"$tmp/err"
expect "plan 2 cpus warns" 1 "$(grep -c 'snp id block was signed for launch digest .*which is the launch snp kvm, 1 vcpu (the vcpu count differs); the planned launch (snp kvm, 2 vcpus)' "$tmp/err")"
$bin plan "$tmp/signed.igvm" --backend kvm-snp --cpus 1 >/dev/null 2>"$tmp/err"
expect "plan 1 cpu is silent" 0 "$(grep -c 'id block' "$tmp/err")"
$bin plan "$tmp/signed.igvm" --backend kvm --cpus 2 >/dev/null 2>"$tmp/err"
expect "plan without snp is silent" 0 "$(grep -c 'id block' "$tmp/err")"

# --- QEMU launches of OVMF (sev-snp-measure's fixtures) ---
S=${IGVMKIT_SHARED:-}/testdata/firmware
if have_shared testdata/firmware "OVMF and SVSM searches"; then
  A=$S/ovmf_AmdSev_suffix.bin
  : >"$tmp/empty"
  K=(--kernel "$tmp/empty" --initrd "$tmp/empty" --append 'console=ttyS0 loglevel=7')
  # Real hardware (MANIFEST.md): COCONUT-SVSM on 4 and 2 vCPUs, EPYC-v4.
  for hw in "4 27d154c27b7b359c935e250ec6fee72aa0ae8c1225e3b0e1cf46a9567e938066d7d6f94bbdc4a857818bdb79277a44b2" \
            "2 9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7"; do
    set -- $hw
    explains "svsm hardware $1" "$2" --ovmf "$S/svsm_ovmf.fd" --svsm "$S/svsm.bin" --vars-size 540672
    expect "svsm hardware $1: vcpus" "$1" "$(json "$tmp/out.json" "d['matches'][0]['vcpus']")"
    expect "svsm hardware $1: svsm" True "$(json "$tmp/out.json" "d['matches'][0]['svsm']")"
  done
  for t in EPYC-Milan EPYC-Genoa EPYC-Turin EPYC-Rome; do
    explains "vcpu type $t" "$($bin measure --platform snp --ovmf "$A" --vcpus 3 --vcpu-type $t)" --ovmf "$A"
    expect "vcpu type $t: sig" "$($bin measure --platform snp --ovmf "$A" --vcpu-type $t --json | json /dev/stdin "d['assumptions']['vcpu_sig']")" \
      "$(json "$tmp/out.json" "d['matches'][0]['vcpu_sig']")"
  done
  for vmm in ec2 gce; do
    explains "vmm $vmm" "$($bin measure --platform snp --ovmf "$A" --vcpus 2 --vmm $vmm)" --ovmf "$A"
    expect "vmm $vmm: vmm" "$vmm" "$(json "$tmp/out.json" "d['matches'][0]['vmm']")"
  done
  for gf in 0x21 0x201 0x221; do
    explains "guest features $gf" \
      "$($bin measure --platform snp --ovmf "$A" --vcpu-type EPYC-Milan --guest-features $gf)" --ovmf "$A"
    expect "guest features $gf: value" "$gf" "$(json "$tmp/out.json" "d['matches'][0]['guest_features']")"
  done
  explains "kernel hashes on" \
    "$($bin measure --platform snp --ovmf "$A" --vcpu-type EPYC-v4 --guest-features 0x21 "${K[@]}")" \
    --ovmf "$A" "${K[@]}"
  expect "kernel hashes on: flag" True "$(json "$tmp/out.json" "d['matches'][0]['kernel_hashes']")"
  explains "kernel hashes off" "$($bin measure --platform snp --ovmf "$A" --vcpu-type EPYC-v4)" \
    --ovmf "$A" "${K[@]}"
  expect "kernel hashes off: flag" False "$(json "$tmp/out.json" "d['matches'][0]['kernel_hashes']")"
  explains "sev" "$($bin measure --platform sev --ovmf "$A" "${K[@]}")" --ovmf "$A" "${K[@]}"
  explains "plain ovmf with --svsm given" \
    "$($bin measure --platform snp --ovmf "$S/svsm_ovmf.fd" --vcpu-type EPYC --vcpus 2 2>/dev/null)" \
    --ovmf "$S/svsm_ovmf.fd" --svsm "$S/svsm.bin" --vars-size 540672
  not_explained "random ovmf" 48 --ovmf "$A" "${K[@]}"
  not_explained "random ovmf sev" 32 --ovmf "$A"
fi
if [[ -f /usr/share/OVMF/OVMF_CODE.fd && -f /usr/share/OVMF/OVMF_VARS.fd ]]; then
  cat /usr/share/OVMF/OVMF_VARS.fd /usr/share/OVMF/OVMF_CODE.fd >"$tmp/unified.fd"
  explains "tdx ovmf" "$($bin measure --platform tdx --ovmf "$tmp/unified.fd" 2>/dev/null)" --ovmf "$tmp/unified.fd"
else
  echo "SKIP: Debian's OVMF is not installed: the TDX MRTD search is not checked"
fi

# --- evidence: the digest is read out of real reports and quotes ---
E=${IGVMKIT_SHARED:-}/testdata/attest
if have_shared testdata/attest "evidence extraction"; then
  hexat() { od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }
  R=$E/amd/snp/snp01_milan_v2_gosev/attestation.bin
  $bin diagnose "$F" --report "$R" --json >"$tmp/out.json"; expect "report status" 1 $?
  expect "report digest" "$(hexat "$R" $((0x90)) 48)" "$(json "$tmp/out.json" "d['digest']")"
  H=$E/amd/snp/snp05_milan_v2_azure_hcl_coco/hcl-report.bin
  $bin diagnose "$F" --report "$H" --json >"$tmp/out.json"; expect "hcl report status" 1 $?
  expect "hcl report digest" "$(hexat "$H" $((0x20 + 0x90)) 48)" "$(json "$tmp/out.json" "d['digest']")"
  Q=$E/intel/tdx/tdx01_v4_spr_gotdx/tdx_prod_quote_SPR_E4.dat
  $bin diagnose "$F" --quote "$Q" --json >"$tmp/out.json"; expect "quote status" 1 $?
  expect "quote mrtd" "$(hexat "$Q" $((48 + 136)) 48)" "$(json "$tmp/out.json" "d['digest']")"
  $bin diagnose "$F" --report "$Q" >/dev/null 2>&1; expect "quote as report" 1 $?
fi

finish PASS
