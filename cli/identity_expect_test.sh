#!/usr/bin/env bash
# What `verify --expect` must do with the ID-block identity that `measure --json` / `build
# --measurements` now put on a signed image's SNP measurement (id_key_digest, author_key_digest,
# family_id, image_id, guest_svn, guest_policy; sign/README.md "Reference values"): a report whose
# values differ must fail (attest's `ref.id_block` check).
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tests/lib/cli_test_lib.sh"
bin=$PWD/cli/igvmkit
source "$PWD/cli/testing/snp03_identity.sh"
ref() {  # ref ID_KEY SVN
  printf '{"platform":"snp","digest":"%s","id_key_digest":"%s","family_id":"%s","image_id":"%s","guest_svn":%s,"guest_policy":196639,"policy":{"debug_allowed":true}}' \
    "$digest" "$1" "$family" "$image" "$2" >"$tmp/ref.json"
}
check() {  # check NAME WANT
  "$bin" "${args[@]}" --expect "$tmp/ref.json" >"$tmp/out" 2>&1
  local rc=$?
  if [[ $rc -ne $2 ]]; then
    echo "FAIL: $1: exit $rc, expected $2"
    fails=$((fails + 1))
  fi
}
ref "$id_key" "$svn"
check "the report's own identity" 0
ref "${id_key/03/04}" "$svn"
check "another id key digest" 1
ref "$id_key" $((svn + 1))
check "another guest svn" 1
finish "verify --expect checks the id-block identity"
