#!/usr/bin/env bash
# igvmkit measure / sign end to end over files the igvm writer produced (measure/make_test_igvm):
# plain, --json, --trace and vCPU-range output shapes, error lines and exit statuses, and sign's
# output checked with the `openssl` command line tool and re-measured.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tests/lib/cli_test_lib.sh"
bin=cli/igvmkit
keys=measure/testdata
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
measure/make_test_igvm "$tmp" || { echo "FAIL: make_test_igvm"; exit 1; }
f=$tmp/snp.igvm

digest=$($bin measure "$f" --platform snp 2>/dev/null); rc=$?
expect "measure status" 0 $rc
matches "measure plain" '^[0-9a-f]{96}$' "$digest"
d1=$($bin measure "$f" --platform snp --threads 1 2>/dev/null)
d2=$($bin measure "$f" --platform snp --threads 2 2>/dev/null)
expect "threads do not change the digest" "$d1" "$d2"
expect "default host is kvm" "$digest" "$($bin measure "$f" --platform snp --host kvm 2>/dev/null)"
mshv=$($bin measure "$f" --platform snp --host mshv 2>/dev/null)
[[ "$mshv" != "$digest" ]] || { echo "FAIL: mshv digest equals kvm"; fails=$((fails + 1)); }

trace=$($bin measure "$f" --platform snp --trace 2>/dev/null)
expect "trace lines" 8 "$(wc -l <<<"$trace")"
bad=$(grep -Ecv '^[0-9]+ [a-z]+ gpa=0x[0-9a-f]+ contents=([0-9a-f]{96}|zero) digest=[0-9a-f]{96}$' <<<"$trace")
expect "trace line shape" 0 "$bad"
expect "trace first" "0 normal gpa=0x10000" "$(head -n1 <<<"$trace" | cut -d' ' -f1-3)"
expect "trace last is the vmsa" "7 vmsa gpa=0xfffffffff000" "$(tail -n1 <<<"$trace" | cut -d' ' -f1-3)"
expect "trace ends at the digest" "digest=$digest" "$(tail -n1 <<<"$trace" | cut -d' ' -f5)"
expect "unmeasured has zero contents" "contents=zero" "$(sed -n 6p <<<"$trace" | cut -d' ' -f4)"

json=$($bin measure "$f" --platform snp --json 2>/dev/null); rc=$?
expect "json status" 0 $rc
expect "json digest" "$digest" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])' <<<"$json")"
expect "json vcpus" 1 "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["vcpus"])' <<<"$json")"
expect "json pages" 8 "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["pages_measured"])' <<<"$json")"

range=$($bin measure "$f" --platform snp --vcpus 1-3 --json 2>/dev/null); rc=$?
expect "range status" 0 $rc
expect "range vcpus" "1 2 3" "$(python3 -c 'import json,sys; print(*[m["vcpus"] for m in json.load(sys.stdin)["measurements"]])' <<<"$range")"
expect "range first is the single" "$digest" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["measurements"][0]["digest"])' <<<"$range")"
expect "range plain lines" 3 "$($bin measure "$f" --platform snp --vcpus 2-4 2>/dev/null | wc -l)"
three=$($bin measure "$f" --platform snp --vcpus 3 2>/dev/null)
expect "range third is --vcpus 3" "$three" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["measurements"][2]["digest"])' <<<"$range")"
# The whole range (1..igvm::kMaxVcpus) hashes the image once (measure/snp_tail.h); every entry is
# what a single run prints.
full=$($bin measure "$f" --platform snp --vcpus 1-253 --json 2>/dev/null); rc=$?
expect "full range status" 0 $rc
expect "full range count" 253 "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["measurements"]))' <<<"$full")"
for n in 1 2 100 253; do
  one=$($bin measure "$f" --platform snp --vcpus $n --json 2>/dev/null)
  expect "full range entry $n is --vcpus $n" \
    "$(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))' <<<"$one")" \
    "$(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["measurements"]['$((n - 1))'], sort_keys=True))' <<<"$full")"
done
$bin measure "$f" --platform snp --vcpus 1-254 >/dev/null 2>&1; rc=$?
expect "range past kMaxVcpus status" 2 $rc

tdx=$($bin measure "$f" --platform tdx 2>/dev/null); rc=$?
expect "tdx status" 0 $rc
matches "tdx mrtd" '^[0-9a-f]{96}$' "$tdx"

err=$($bin measure "$f" --platform vbs 2>&1 >/dev/null); rc=$?
expect "no platform status" 1 $rc
matches "no platform line" '^error: .*snp\.igvm: .*VSM_ISOLATION' "$err"
err=$($bin measure "$tmp/novmsa.igvm" --platform snp 2>&1 >/dev/null); rc=$?
expect "no vmsa status" 1 $rc
matches "no vmsa line" '^error: .*no snp vp context' "$err"
$bin measure "$tmp/novmsa.igvm" --platform snp --host mshv >/dev/null 2>&1; rc=$?
expect "no vmsa under mshv" 0 $rc
$bin measure "$f" --platform arm >/dev/null 2>&1; rc=$?
expect "bad platform status" 2 $rc
$bin measure "$f" --platform snp --vcpus 3-1 >/dev/null 2>&1; rc=$?
expect "bad range status" 2 $rc
$bin measure "$tmp/missing.igvm" --platform snp >/dev/null 2>&1; rc=$?
expect "missing file status" 2 $rc

# openvmm.igvm holds the imports of openvmm's file_loader tests, whose SNP (microsoft/igvm = the mshv
# host model) and VBS digests measurement.md §5 publishes; SEV and SEV-ES are derived here with
# Python's hashlib from the algorithm in measurement.md §1.7 (the two measured pages' data, then
# the VMSA page).
o=$tmp/openvmm.igvm
expect "openvmm snp (mshv) vector" \
  889a19386c82e2219bded3e92a764e8c00c29b966d04a662bca6cfdfec647b9051995653390783846557913263d71c4f \
  "$($bin measure "$o" --platform snp --host mshv 2>/dev/null)"
vbs=$($bin measure "$o" --platform vbs 2>/dev/null); rc=$?
expect "vbs status" 0 $rc
expect "openvmm vbs vector" 30134c9bb89cd72d8a418d1e7afb75927f45e8571dda7ac7be87d4b6c72ca64c "$vbs"
vjson=$($bin measure "$o" --platform vbs --json 2>/dev/null)
expect "vbs json" "vbs $vbs 11 False False 2" "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["platform"], d["digest"], d["pages_measured"], "host" in d, "vcpus" in d, d["assumptions"]["compatibility_mask"])' <<<"$vjson")"
vtrace=$($bin measure "$o" --platform vbs --trace 2>/dev/null)
expect "vbs trace lines" 11 "$(wc -l <<<"$vtrace")"
expect "vbs trace shape" 0 "$(grep -Ecv '^[0-9]+ (page|page\.unmeasured) gpa=0x[0-9a-f]+$' <<<"$vtrace")"
expect "vbs trace unmeasured pages" 5 "$(grep -c ' page.unmeasured ' <<<"$vtrace")"
expect "vbs trace skips the shared page" 0 "$(grep -c 'gpa=0x14000$' <<<"$vtrace")"
err=$($bin measure "$tmp/vbs-secrets.igvm" --platform vbs 2>&1 >/dev/null); rc=$?
expect "vbs secrets status" 1 $rc
matches "vbs secrets line" '^error: .*vbs-secrets\.igvm: header #1 \(PAGE_DATA 0x302\) at offset 0x[0-9a-f]+: vbs page data must be NORMAL' "$err"
read -r sev_want sev_es_want < <(python3 -c '
import hashlib
page = bytearray(4096); page[1] = 5
vmsa = bytearray(4096); vmsa[0x3b0] = 1
print(hashlib.sha256(bytes(page) * 2).hexdigest(), hashlib.sha256(bytes(page) * 2 + bytes(vmsa)).hexdigest())')
sev_out=$($bin measure "$o" --platform sev 2>"$tmp/sev.err"); rc=$?
expect "sev status" 0 $rc
expect "sev digest" "$sev_want" "$sev_out"
matches "sev warns it is unconfirmed" '^warning: .*the sev digest algorithm is unconfirmed' "$(cat "$tmp/sev.err")"
expect "sev-es digest" "$sev_es_want" "$($bin measure "$o" --platform sev-es 2>/dev/null)"
expect "sev-es json pages" "3 sev-es" "$($bin measure "$o" --platform sev-es --json 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["pages_measured"], d["platform"])')"
expect "sev-es trace" "0 data gpa=0x0|1 data gpa=0xa000|vmsa gpa=0xfffffffff000" "$($bin measure "$o" --platform sev-es --trace 2>/dev/null | paste -sd'|')"
err=$($bin measure "$f" --platform sev-es 2>&1 >/dev/null); rc=$?
expect "sev-es without the platform" 1 $rc
matches "sev-es no platform line" '^error: .*declares no SEV_ES platform' "$err"

# sign with local keys; the ID block's LD is the file's digest, the signature verifies with
# openssl over the bytes --export-tbs gives, and the signed file measures the same.
$bin sign "$f" --id-key $keys/id_key.pem --author-key $keys/author_key.pem -o "$tmp/signed.igvm"; rc=$?
expect "sign status" 0 $rc
expect "signed file measures the same" "$digest" "$($bin measure "$tmp/signed.igvm" --platform snp 2>/dev/null)"
$bin check "$tmp/signed.igvm" >/dev/null; expect "signed file checks" 0 $?
$bin sign "$f" --export-tbs "$tmp/tbs.bin"; rc=$?
expect "export status" 0 $rc
expect "tbs size" 96 "$(stat -c %s "$tmp/tbs.bin")"
expect "tbs starts with the digest" "${digest}" "$(od -An -tx1 -v -N48 "$tmp/tbs.bin" | tr -d ' \n')"
$bin dump "$tmp/signed.igvm" --json >"$tmp/dump.json" 2>/dev/null
python3 - "$tmp/dump.json" "$tmp/sig.der" <<'PY' || { echo "FAIL: no id block in dump"; fails=$((fails + 1)); }
import json, sys
doc = json.load(open(sys.argv[1]))
def walk(x):
    if isinstance(x, dict):
        if x.get("type") == "SNP_ID_BLOCK":
            yield x
        for v in x.values():
            yield from walk(v)
    elif isinstance(x, list):
        for v in x:
            yield from walk(v)
ids = list(walk(doc))
assert len(ids) == 1, ids
sig = ids[0]["id_key_signature"]
def integer(hexle):
    b = bytes.fromhex(hexle)[:48][::-1].lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b
body = integer(sig["r"]) + integer(sig["s"])
open(sys.argv[2], "wb").write(b"\x30" + bytes([len(body)]) + body)
print(ids[0]["ld"], file=open(sys.argv[2] + ".ld", "w"))
PY
expect "id block ld" "$digest" "$(cat "$tmp/sig.der.ld")"
out=$(openssl dgst -sha384 -verify $keys/id_key.pub.pem -signature "$tmp/sig.der" "$tmp/tbs.bin" 2>&1)
expect "openssl verifies the id block signature" "Verified OK" "$out"

# two-step: sign the exported bytes with openssl, import the DER signature.
openssl dgst -sha384 -sign $keys/id_key.pem -out "$tmp/ext.der" "$tmp/tbs.bin"
$bin sign "$f" --id-pubkey $keys/id_key.pub.pem --id-signature "$tmp/ext.der" -o "$tmp/two.igvm"; rc=$?
expect "two-step status" 0 $rc
expect "two-step measures the same" "$digest" "$($bin measure "$tmp/two.igvm" --platform snp 2>/dev/null)"
# a signature over other bytes is refused, and nothing is written.
head -c 96 /dev/zero >"$tmp/other.bin"
openssl dgst -sha384 -sign $keys/id_key.pem -out "$tmp/bad.der" "$tmp/other.bin"
err=$($bin sign "$f" --id-pubkey $keys/id_key.pub.pem --id-signature "$tmp/bad.der" -o "$tmp/bad.igvm" 2>&1); rc=$?
expect "bad signature status" 1 $rc
matches "bad signature line" "^error: .*does not verify" "$(grep "^error: " <<<"$err")"
[[ ! -e "$tmp/bad.igvm" ]] || { echo "FAIL: bad signature wrote a file"; fails=$((fails + 1)); }
# re-signing replaces the block (still exactly one).
$bin sign "$tmp/signed.igvm" --id-key $keys/id_key.pem -o "$tmp/resigned.igvm"; rc=$?
expect "re-sign status" 0 $rc
expect "one id block after re-sign" 1 "$($bin dump "$tmp/resigned.igvm" --json | grep -c '"SNP_ID_BLOCK"')"

finish "all igvmkit measure/sign cases passed"
