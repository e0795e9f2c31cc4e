# Sourced by the verify --expect tests: the real SNP report snp03 (../shared/testdata/attest,
# MANIFEST.md), the verify arguments that check it, and its identity: $digest, $id_key (from
# MANIFEST.md), $family, $image, $svn (as verify --json reports them); policy 0x3001f. Sets $tmp
# (removed on exit). Exits 0 with "SKIPPED:" when IGVMKIT_SHARED has no attest evidence. Source
# tests/lib/cli_test_lib.sh first.
need_shared testdata/attest
S=$IGVMKIT_SHARED/testdata/attest/amd/snp/snp03_milan_v2_coco
R=$IGVMKIT_SHARED/testdata/attest/amd/roots
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(verify --report "$S/test-report.bin" --vcek "$S/test-vcek.der"
  --chain "$R/milan_vcek_cert_chain.pem" --at 2026-01-01T00:00:00Z)
digest=a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c
id_key=0356215882a825279a85b300b0b742931d113bf7e32dde2e50ffde7ec743ca491ecdd7f336dc28a6e0b2bb57af7a44a3
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
