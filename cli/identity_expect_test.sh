#!/usr/bin/env bash
# What `verify --expect` must do with the ID-block identity that `measure --json` / `build
# --measurements` now put on a signed image's SNP measurement (id_key_digest, author_key_digest,
# family_id, image_id, guest_svn, guest_policy; sign/README.md "Reference values"): a report whose
# values differ must fail (attest's `ref.id_block` check).
set -uo pipefail
bin=$PWD/cli/igvmkit
if [[ -z "${IGVMKIT_SHARED:-}" || ! -d "$IGVMKIT_SHARED/testdata/attest" ]]; then
  echo "SKIPPED: IGVMKIT_SHARED is unset or has no testdata/attest"
  exit 0
fi
S=$IGVMKIT_SHARED/testdata/attest/amd/snp/snp03_milan_v2_coco
R=$IGVMKIT_SHARED/testdata/attest/amd/roots
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(verify --report "$S/test-report.bin" --vcek "$S/test-vcek.der"
  --chain "$R/milan_vcek_cert_chain.pem" --at 2026-01-01T00:00:00Z)
fails=0
# MANIFEST.md: measurement, id_key_digest and policy of this report.
digest=a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c
id_key=0356215882a825279a85b300b0b742931d113bf7e32dde2e50ffde7ec743ca491ecdd7f336dc28a6e0b2bb57af7a44a3
# The other fields as verify --json reports them.
read -r family image svn < <("$bin" "${args[@]}" --json | python3 -c '
import json, sys
def find(x, k):
    if isinstance(x, dict):
        if k in x: return x[k]
        for v in x.values():
            r = find(v, k)
            if r is not None: return r
    if isinstance(x, list):
        for v in x:
            r = find(v, k)
            if r is not None: return r
d = json.load(sys.stdin)
print(find(d, "family_id"), find(d, "image_id"), find(d, "guest_svn"))')
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
((fails == 0)) || exit 1
echo "verify --expect checks the id-block identity"
