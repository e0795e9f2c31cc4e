#!/usr/bin/env bash
# igvmkit sign / build signing end to end: the offline flow for both keys (export, sign with the
# openssl CLI, import, each verified), --family-id/--image-id/--guest-svn/--policy/--json,
# byte-identical output from imported signatures, exec: and pkcs11: (SoftHSM2) signers,
# build --reuse-signature, and bad inputs (bad signature, wrong curve, unreachable token, a
# signer that fails or hangs): one error line, exit status, and no output written or truncated.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tests/lib/cli_test_lib.sh"
bin=$PWD/cli/igvmkit
keys=$PWD/measure/testdata
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
measure/make_test_igvm "$tmp" || { echo "FAIL: make_test_igvm"; exit 1; }
f=$tmp/snp.igvm
json() {  # json EXPR < doc: a Python expression over d
  python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}
untouched() {  # untouched NAME FILE: the sentinel content is still there
  expect "$1 leaves the output alone" "sentinel" "$(cat "$2" 2>/dev/null)"
}
# refused NAME STATUS REGEX -- ARGS: one error line matching REGEX, the status, -o untouched.
refused() {
  local name=$1 want=$2 regex=$3
  shift 4
  echo sentinel >"$tmp/out.igvm"
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  expect "$name status" "$want" $rc
  expect "$name error lines" 1 "$(grep -c '^error: ' <<<"$err")"
  matches "$name error" "$regex" "$(grep '^error: ' <<<"$err")"
  untouched "$name" "$tmp/out.igvm"
}

digest=$($bin measure "$f" --platform snp --vcpus 2)

# --- offline flow for both keys -------------------------------------------------------------
ids=(--family-id 00112233445566778899aabbccddeeff --image-id 0x0102030405060708090a0b0c0d0e0f10
  --guest-svn 7 --policy 0x70000 --vcpus 2)
exported=$($bin sign "$f" "${ids[@]}" --export-tbs "$tmp/id.tbs" \
  --export-author-tbs "$tmp/author.tbs" --id-pubkey $keys/id_key.pub.pem --json); rc=$?
expect "export status" 0 $rc
expect "export digest" "$digest" "$(json 'd["digest"]' <<<"$exported")"
expect "id tbs size" 96 "$(stat -c %s "$tmp/id.tbs")"
expect "author tbs size" 1028 "$(stat -c %s "$tmp/author.tbs")"
# The 96 bytes: LD, family id, image id, version 1, svn 7, policy 0x70000 (little endian).
expect "tbs layout" "${digest}00112233445566778899aabbccddeeff0102030405060708090a0b0c0d0e0f1001000000070000000000070000000000" \
  "$(xxd -p -c 256 "$tmp/id.tbs")"
# The author tbs is the id key's structure: curve 2, then qx (its SHA-384 is the ID_KEY_DIGEST).
expect "author tbs curve" "02000000" "$(head -c 4 "$tmp/author.tbs" | xxd -p)"
openssl dgst -sha384 -sign $keys/id_key.pem -out "$tmp/id.sig" "$tmp/id.tbs"
openssl dgst -sha384 -sign $keys/author_key.pem -out "$tmp/author.sig" "$tmp/author.tbs"
openssl pkey -in $keys/author_key.pem -pubout -out "$tmp/author.pub.pem"
imported=(sign "$f" "${ids[@]}" --id-pubkey $keys/id_key.pub.pem --id-signature "$tmp/id.sig"
  --author-pubkey "$tmp/author.pub.pem" --author-signature "$tmp/author.sig")
out=$($bin "${imported[@]}" -o "$tmp/a.igvm" --json); rc=$?
expect "import status" 0 $rc
$bin "${imported[@]}" -o "$tmp/b.igvm"
cmp -s "$tmp/a.igvm" "$tmp/b.igvm" || { echo "FAIL: imported signatures are not reproducible"; fails=$((fails + 1)); }
expect "json output" "$tmp/a.igvm" "$(json 'd["output"]' <<<"$out")"
expect "json identity" "7 458752 00112233445566778899aabbccddeeff 0102030405060708090a0b0c0d0e0f10" \
  "$(json 'd["guest_svn"], d["guest_policy"], d["family_id"], d["image_id"]' <<<"$out")"
# Key digests as the report shows them: SHA-384 of the 0x404-byte key structure.
expect "json id key digest" "$(sha384sum <"$tmp/author.tbs" | cut -d' ' -f1)" "$(json 'd["id_key_digest"]' <<<"$out")"
$bin check "$tmp/a.igvm" >/dev/null; expect "signed file checks" 0 $?
expect "signed file measures the same" "$digest" "$($bin measure "$tmp/a.igvm" --platform snp --vcpus 2)"
# measure --json of the signed file carries the identity on the measurement it was signed for.
m=$($bin measure "$tmp/a.igvm" --platform snp --vcpus 1-2 --json)
expect "identity only where signed" "False True" \
  "$(json '*["id_key_digest" in x for x in d["measurements"]]' <<<"$m")"
expect "author key digest" "$(json 'd["author_key_digest"]' <<<"$out")" \
  "$(json 'd["measurements"][1]["author_key_digest"]' <<<"$m")"
# --policy also set the file's GUEST_POLICY (firmware requires the two equal).
expect "guest policy header" "0x70000" \
  "$($bin dump "$tmp/a.igvm" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(*[hex(h["policy"]) for h in d["initialization"] if h.get("type") == "GUEST_POLICY"])')"

# --- bad input: one error, nothing written ----------------------------------------------------
refused "author signature over other bytes" 1 "error: .*/id.sig: the signature does not verify over the 0x404 signed bytes" -- \
  $bin sign "$f" "${ids[@]}" --id-pubkey $keys/id_key.pub.pem --id-signature "$tmp/id.sig" \
  --author-pubkey "$tmp/author.pub.pem" --author-signature "$tmp/id.sig" -o "$tmp/out.igvm"
refused "id signature for another svn" 1 "error: .*id.sig: .*does not verify" -- \
  $bin sign "$f" --vcpus 2 --id-pubkey $keys/id_key.pub.pem --id-signature "$tmp/id.sig" -o "$tmp/out.igvm"
refused "p-256 key" 1 "error: .*p256_key.pem: .*not an ecdsa p-384 key" -- \
  $bin sign "$f" --id-key $keys/p256_key.pem -o "$tmp/out.igvm"
openssl pkey -in $keys/id_key.pem -aes256 -passout pass:x -out "$tmp/enc.pem"
refused "encrypted key, no prompt" 1 "error: .*enc.pem: .*encrypted.*never asks" -- \
  setsid $bin sign "$f" --id-key "$tmp/enc.pem" -o "$tmp/out.igvm"
cat >"$tmp/failing" <<'SH'
#!/bin/sh
cat >/dev/null; echo "hsm offline" >&2; exit 4
SH
cat >"$tmp/hanging" <<'SH'
#!/bin/sh
sleep 30
SH
cat >"$tmp/signer" <<SH
#!/bin/sh
# role \$IGVMKIT_SIGN_ROLE, \$IGVMKIT_SIGN_LENGTH bytes on stdin
case "\$IGVMKIT_SIGN_ROLE" in
  id) exec openssl dgst -sha384 -sign $keys/id_key.pem ;;
  author) exec openssl dgst -sha384 -sign $keys/author_key.pem ;;
esac
exit 2
SH
chmod +x "$tmp/failing" "$tmp/hanging" "$tmp/signer"
refused "signer exits non-zero" 1 "error: exec:.*failing.*exited with status 4 \(it said: hsm offline\)" -- \
  $bin sign "$f" --id-key "exec:$tmp/failing" --id-pubkey $keys/id_key.pub.pem -o "$tmp/out.igvm"
start=$(date +%s)
refused "signer hangs" 1 "error: exec:.*hanging did not finish within 500 ms and was killed" -- \
  $bin sign "$f" --id-key "exec:$tmp/hanging" --id-pubkey $keys/id_key.pub.pem --signer-timeout 0.5 -o "$tmp/out.igvm"
(( $(date +%s) - start < 10 )) || { echo "FAIL: the hanging signer was not killed promptly"; fails=$((fails + 1)); }
refused "exec without public key" 2 "error: exec:.*needs its public key" -- \
  $bin sign "$f" --id-key "exec:$tmp/signer" -o "$tmp/out.igvm"
refused "signature without public key" 2 "error: .*--id-signature needs --id-pubkey" -- \
  $bin sign "$f" --id-signature "$tmp/id.sig" -o "$tmp/out.igvm"
refused "unreachable token" 2 "error: pkcs11:token=nowhere;object=id: no pkcs#11 token matches" -- \
  $bin sign "$f" --id-key "pkcs11:token=nowhere;object=id?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1" -o "$tmp/out.igvm"

# --- exec: signer for both keys -----------------------------------------------------------------
$bin sign "$f" --id-key "exec:$tmp/signer" --id-pubkey $keys/id_key.pub.pem \
  --author-key "exec:$tmp/signer" --author-pubkey "$tmp/author.pub.pem" -o "$tmp/exec.igvm"
expect "exec signer status" 0 $?
$bin sign "$tmp/exec.igvm" --export-tbs "$tmp/exec.tbs"
dump=$($bin dump "$tmp/exec.igvm" --json)
python3 - "$tmp/exec.sig.der" <<PY
import json, sys
d = json.loads('''$dump''')
ids = [h for h in d["directives"] if h.get("type") == "SNP_ID_BLOCK"]
sig = ids[0]["id_key_signature"]
def der_int(le_hex):
    b = bytes.fromhex(le_hex)[:48][::-1].lstrip(b"\0") or b"\0"
    if b[0] & 0x80: b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b
body = der_int(sig["r"]) + der_int(sig["s"])
open(sys.argv[1], "wb").write(b"\x30" + bytes([len(body)]) + body)
PY
expect "openssl verifies the exec signature" "Verified OK" \
  "$(openssl dgst -sha384 -verify $keys/id_key.pub.pem -signature "$tmp/exec.sig.der" "$tmp/exec.tbs" 2>&1)"

# --- pkcs11: a SoftHSM2 token made here, a P-384 key generated inside it ------------------------
if command -v softhsm2-util >/dev/null && command -v pkcs11-tool >/dev/null &&
  [[ -r /usr/lib/softhsm/libsofthsm2.so ]]; then
  mkdir -p "$tmp/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$tmp/tokens" >"$tmp/softhsm2.conf"
  export SOFTHSM2_CONF=$tmp/softhsm2.conf
  softhsm2-util --init-token --free --label igvm --pin 1234 --so-pin 5678 >/dev/null
  pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label igvm --login --pin 1234 \
    --keypairgen --key-type EC:secp384r1 --label id --id 01 >/dev/null 2>&1
  uri="pkcs11:token=igvm;object=id;type=private?pin-value=1234"
  out=$($bin sign "$f" --id-key "$uri" --author-key $keys/author_key.pem -o "$tmp/hsm.igvm" --json); rc=$?
  expect "pkcs11 sign status" 0 $rc
  $bin check "$tmp/hsm.igvm" >/dev/null; expect "pkcs11 signed file checks" 0 $?
  # The token's public key, read independently through libp11's engine, has the same digest.
  if PKCS11_MODULE_PATH=/usr/lib/softhsm/libsofthsm2.so openssl pkey -engine pkcs11 -pubin \
    -inform engine -in "pkcs11:token=igvm;object=id;type=public" -pubout -out "$tmp/hsm.pub.pem" 2>/dev/null; then
    $bin sign "$f" --export-author-tbs "$tmp/hsm.key" --id-pubkey "$tmp/hsm.pub.pem"
    expect "pkcs11 id key digest" "$(sha384sum <"$tmp/hsm.key" | cut -d' ' -f1)" "$(json 'd["id_key_digest"]' <<<"$out")"
  else
    echo "note: libengine-pkcs11-openssl missing; token public key not cross-checked"
  fi
  refused "wrong pin" 1 "error: pkcs11:token=igvm;object=id;type=private: login failed" -- \
    $bin sign "$f" --id-key "pkcs11:token=igvm;object=id;type=private?pin-value=9999" -o "$tmp/out.igvm"
else
  echo "note: softhsm2/opensc not installed (tools/setup); pkcs11 cases skipped"
fi

# --- build: a signer in the manifest, reproducible, --reuse-signature ---------------------------
cp $keys/id_key.pub.pem "$tmp/id.pub.pem"
head -c 8192 /dev/zero | tr '\0' '\1' >"$tmp/blob.bin"
cat >"$tmp/signed.toml" <<TOML
[platform.snp]
policy = 0x30000
vcpus = 2

[platform.snp.id_block]
id_key = "exec:$tmp/signer"
id_pubkey = "id.pub.pem"
author_key = "$keys/author_key.pem"
family_id = "00112233445566778899aabbccddeeff"
guest_svn = 3

[memory]
size = "64M"

[[data]]
file = "blob.bin"
gpa = 0x100000

[vp]
mode = "registers"

[vp.registers]
rip = 0x100000
TOML
$bin build "$tmp/signed.toml" -o "$tmp/b1.igvm" --measurements "$tmp/b1.json"; rc=$?
expect "build with an exec signer" 0 $rc
$bin build "$tmp/signed.toml" -o "$tmp/b2.igvm"
cmp -s "$tmp/b1.igvm" "$tmp/b2.igvm" && { echo "FAIL: two ECDSA signatures were equal"; fails=$((fails + 1)); }
expect "only signature bytes differ" "$(stat -c %s "$tmp/b1.igvm")" "$(stat -c %s "$tmp/b2.igvm")"
differ=$(cmp -l "$tmp/b1.igvm" "$tmp/b2.igvm" | wc -l)
(( differ > 0 && differ <= 2 * 144 + 8 )) || { echo "FAIL: $differ bytes differ, more than the signatures"; fails=$((fails + 1)); }
$bin build "$tmp/signed.toml" -o "$tmp/b3.igvm" --reuse-signature "$tmp/b1.igvm"
cmp -s "$tmp/b1.igvm" "$tmp/b3.igvm" || { echo "FAIL: --reuse-signature did not reproduce the image"; fails=$((fails + 1)); }
# A change to what is signed (the SVN) signs anew; the old signature is not carried over.
sed -i 's/guest_svn = 3/guest_svn = 4/' "$tmp/signed.toml"
$bin build "$tmp/signed.toml" -o "$tmp/b4.igvm" --reuse-signature "$tmp/b1.igvm"; rc=$?
expect "reuse with a changed svn" 0 $rc
expect "new svn" 4 "$($bin measure "$tmp/b4.igvm" --platform snp --vcpus 2 --json | json 'd["guest_svn"]')"
# The measurements JSON carries what a verifier pins, on the kvm/2-vCPU entry only.
expect "measurements identity" "None 3 None" \
  "$(json '*[m.get("guest_svn") for m in d["measurements"]]' <"$tmp/b1.json")"
expect "measurements key digest" "$(json 'd["measurements"][1]["id_key_digest"]' <"$tmp/b1.json")" \
  "$($bin sign "$tmp/b1.igvm" --export-author-tbs "$tmp/b1.key" --id-pubkey $keys/id_key.pub.pem && sha384sum <"$tmp/b1.key" | cut -d' ' -f1)"
# CoRIM: signed with a PEM key, embedded (document + detached COSE_Sign1), decoded by dump.
$bin build "$tmp/signed.toml" -o "$tmp/c.igvm" --corim "$tmp/c.cbor" --corim-key $keys/id_key.pem \
  --embed-corim --reuse-signature "$tmp/b4.igvm"; rc=$?
expect "build --corim status" 0 $rc
$bin check "$tmp/c.igvm" >/dev/null; expect "file with corim checks" 0 $?
expect "corim file is a cose_sign1" "d284" "$(head -c 2 "$tmp/c.cbor" | xxd -p)"
corims=$($bin dump "$tmp/c.igvm" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for h in d["initialization"]:
    if "corim" in h:
        c = h["corim"]
        print(h["type"], c["tag"], "payload-nil" if c["tag"] == 18 and c["value"][2] is None else "")')
expect "embedded corim headers" "CORIM_DOCUMENT 501 
CORIM_SIGNATURE 18 payload-nil" "$corims"
# The digests in the CoRIM are the measurements: one triple per SNP measurement.
expect "corim digests" "$(json '" ".join(m["digest"] for m in d["measurements"] if m["platform"] == "snp")' <"$tmp/b1.json" | tr -d '\n')" \
  "$($bin dump "$tmp/c.igvm" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
doc = [h["corim"] for h in d["initialization"] if h.get("type") == "CORIM_DOCUMENT"][0]
comid = doc["value"]["1"][0]["value"]["cbor"]
print(" ".join(t[1][0]["1"]["2"][0][1] for t in comid["4"]["0"]))')"
$bin measure "$tmp/c.igvm" --platform snp --vcpus 2 --corim "$tmp/m.cbor" >/dev/null; rc=$?
expect "measure --corim status" 0 $rc
expect "measure --corim is unsigned" "d901f5" "$(head -c 3 "$tmp/m.cbor" | xxd -p)"
refused "corim key of the wrong curve" 1 "error: .*p256_key.pem: the key is not an ecdsa p-384 key" -- \
  $bin measure "$tmp/c.igvm" --platform snp --corim "$tmp/out.igvm" --corim-key $keys/p256_key.pem
# sign --corim: the signed measurement with its ID-block identity, as a signed CoRIM.
$bin sign "$f" "${ids[@]}" --id-key $keys/id_key.pem -o "$tmp/sc.igvm" --corim "$tmp/sc.cbor" \
  --corim-key $keys/id_key.pem; rc=$?
expect "sign --corim status" 0 $rc
expect "sign --corim is a cose_sign1" "d284" "$(head -c 2 "$tmp/sc.cbor" | xxd -p)"
sc_hex=$(xxd -p -c 1000000 "$tmp/sc.cbor")
expect "sign --corim holds the digest and family id" "yes yes" \
  "$([[ $sc_hex == *"$digest"* ]] && echo yes) $([[ $sc_hex == *00112233445566778899aabbccddeeff* ]] && echo yes)"
refused "sign --corim with a p-256 corim key" 1 "error: .*p256_key.pem: the key is not an ecdsa p-384 key" -- \
  $bin sign "$f" "${ids[@]}" --id-key $keys/id_key.pem -o "$tmp/out.igvm" --corim "$tmp/sc2.cbor" \
  --corim-key $keys/p256_key.pem
expect "no corim after a refused sign" "absent" "$([[ -e "$tmp/sc2.cbor" ]] && echo present || echo absent)"
# A failing signer: no output file, an existing one untouched.
sed -i "s|exec:$tmp/signer|exec:$tmp/failing|" "$tmp/signed.toml"
refused "build with a failing signer" 1 "error: .*signed.toml: .*failing exited with status 4" -- \
  $bin build "$tmp/signed.toml" -o "$tmp/out.igvm"
sed -i "s|exec:$tmp/failing|$keys/p256_key.pem|" "$tmp/signed.toml"
refused "build with a p-256 key" 1 "error: .*signed.toml: platform.snp.id_block.id_key .*p256_key.pem: the key is not an ecdsa p-384 key" -- \
  $bin build "$tmp/signed.toml" -o "$tmp/out.igvm"

# Outputs are declared before any work (cli-contract.md "Outputs"): -o naming the input, or stdout
# where --json's document goes, is a usage error, and the input stays as it was.
cp "$f" "$tmp/self.igvm"
before=$(sha256sum <"$tmp/self.igvm")
$bin sign "$tmp/self.igvm" --id-key $keys/id_key.pem -o "$tmp/self.igvm" >/dev/null 2>"$tmp/err"; rc=$?
expect "sign -o INPUT status" 2 $rc
matches "sign -o INPUT error" "error: output .*self.igvm is also an input" "$(cat "$tmp/err")"
expect "sign -o INPUT leaves the input alone" "$before" "$(sha256sum <"$tmp/self.igvm")"
for out in "-o -" "-o /dev/stdout" "--export-tbs -"; do
  # shellcheck disable=SC2086
  $bin sign "$f" --id-key $keys/id_key.pem $out --json >"$tmp/out" 2>"$tmp/err"; rc=$?
  expect "sign $out --json status" 2 $rc
  matches "sign $out --json error" "goes to stdout, where another output goes already" "$(cat "$tmp/err")"
  expect "sign $out --json prints nothing" 0 "$(stat -c %s "$tmp/out")"
done

finish "all igvmkit sign cases passed"
