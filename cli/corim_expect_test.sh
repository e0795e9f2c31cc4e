#!/usr/bin/env bash
# verify --expect FILE.cbor: the reference values read out of a CoRIM (corim/README.md
# "Reading"), checked against a real SNP report exactly as the JSON reference is. A signed CoRIM
# must verify under --corim-pubkey; an unsigned one needs --corim-unsigned-ok.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tests/lib/cli_test_lib.sh"
bin=$PWD/cli/igvmkit
make=$PWD/corim/corim_from_json
keys=$PWD/measure/testdata
source "$PWD/cli/testing/snp03_identity.sh"
corim() {  # corim OUT DIGEST [KEY]
  printf '{"platform":"snp","digest":"%s","id_key_digest":"%s","family_id":"%s","image_id":"%s","guest_svn":%s,"guest_policy":196639}' \
    "$2" "$id_key" "$family" "$image" "$svn" >"$tmp/ref.json"
  "$make" "$tmp/ref.json" "$1" ${3:+"$3"} || { echo "FAIL: corim_from_json"; exit 1; }
}
check() {  # check NAME WANT_EXIT WANT_TEXT ARGS...
  local name=$1 want=$2 text=$3
  shift 3
  "$bin" "${args[@]}" "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [[ $rc -ne $want ]] || ! grep -q -- "$text" "$tmp/out"; then
    echo "FAIL: $name: exit $rc (expected $want), output lacks '$text':"
    head -5 "$tmp/out"
    fails=$((fails + 1))
  fi
}
openssl pkey -in "$keys/author_key.pem" -pubout -out "$tmp/other.pub.pem" 2>/dev/null
corim "$tmp/signed.cbor" "$digest" "$keys/id_key.pem"
corim "$tmp/unsigned.cbor" "$digest"
corim "$tmp/other.cbor" "${digest/a1f3/a1f4}" "$keys/id_key.pem"
check "signed corim with the report's values" 0 "" --expect "$tmp/signed.cbor" --corim-pubkey "$keys/id_key.pub.pem"
check "the identity came from the corim" 0 "ref.id_block" --expect "$tmp/signed.cbor" --corim-pubkey "$keys/id_key.pub.pem" --json
check "signed corim without a key" 2 "corim-pubkey" --expect "$tmp/signed.cbor"
check "signed corim under another key" 1 "signature" --expect "$tmp/signed.cbor" --corim-pubkey "$tmp/other.pub.pem"
check "unsigned corim refused by default" 1 "corim-unsigned-ok" --expect "$tmp/unsigned.cbor"
check "unsigned corim when asked" 0 "" --expect "$tmp/unsigned.cbor" --corim-unsigned-ok
check "another digest" 1 "" --expect "$tmp/other.cbor" --corim-pubkey "$keys/id_key.pub.pem"
# Tampered: one bit of the measurement inside the signed payload.
python3 - "$tmp/signed.cbor" "$tmp/tampered.cbor" "$digest" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.find(bytes.fromhex(sys.argv[3]))
assert at > 0
data[at] ^= 1
open(sys.argv[2], "wb").write(data)
PY
check "tampered signed corim" 1 "corim.signature_invalid\|does not verify\|signature" --expect "$tmp/tampered.cbor" --corim-pubkey "$keys/id_key.pub.pem"
check "tampered unsigned-ok does not bypass the signature" 1 "signature" --expect "$tmp/tampered.cbor" --corim-pubkey "$keys/id_key.pub.pem" --corim-unsigned-ok
finish "verify --expect reads a corim"
