#!/bin/bash
# igvmkit build end to end. The manifests name the probe as ../../bazel-bin/testdata/guests/
# probe.elf (relative to testdata/manifests/), so the test recreates that layout in a temp dir.
set -euo pipefail
BIN="$PWD/cli/igvmkit"
T="${TEST_TMPDIR:-$(mktemp -d)}/w"
mkdir -p "$T/testdata/manifests" "$T/bazel-bin/testdata/guests"
cp testdata/manifests/*.toml testdata/manifests/*.bin "$T/testdata/manifests/"
cp testdata/guests/probe.elf "$T/bazel-bin/testdata/guests/probe.elf"
cd "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$BIN" build testdata/manifests/demo.toml -o x.igvm --measurements m.json || fail "build demo"
[ "$("$BIN" check x.igvm)" = "ok" ] || fail "check"
"$BIN" dump --json x.igvm > d.json || fail "dump"
python3 - <<'PY' || fail "dump/measurements content"
import json
d = json.load(open("d.json"))
text = json.dumps(d)
for t in ("SUPPORTED_PLATFORM", "PAGE_DATA", "PARAMETER_INSERT", "VP_CONTEXT", "GUEST_POLICY"):
    assert t in text, t
m = json.load(open("m.json"))
plats = sorted({e["platform"] for e in m["measurements"]})
assert plats == ["snp", "tdx", "vbs"], plats
hosts = sorted(e.get("host", "") for e in m["measurements"] if e["platform"] == "snp")
assert hosts == ["kvm", "mshv"], hosts
for e in m["measurements"]:
    assert len(e["digest"]) == (64 if e["platform"] == "vbs" else 96), e  # VBS: SHA-256
PY
# `-` is stdout for --measurements (no file named "-"), and -o - (the in-memory path) gives the
# bytes the streaming build wrote into x.igvm.
"$BIN" build testdata/manifests/demo.toml -o x2.igvm --measurements - > m_stdout.json \
  || fail "--measurements -"
[ ! -e - ] || fail "--measurements - wrote a file named -"
cmp -s m.json m_stdout.json || fail "--measurements - differs from the file"
"$BIN" build testdata/manifests/demo.toml -o - > x_stdout.igvm || fail "-o -"
cmp -s x.igvm x_stdout.igvm || fail "-o - differs from the streamed file"
# The measurements agree with igvmkit measure.
snp=$("$BIN" measure x.igvm --platform snp --host kvm --vcpus 1)
grep -q "$snp" m.json || fail "snp digest differs from igvmkit measure"

# Reproducible, also from another working directory.
(cd testdata/manifests && "$BIN" build demo.toml -o ../../y.igvm) || fail "build from manifest dir"
cmp x.igvm y.igvm || fail "builds differ"
# multi-platform.toml signs an SNP ID block with keys/id-p384.pem and keys/author-p384.pem
# (not in the repository: made here).
if command -v openssl > /dev/null; then
  mkdir -p testdata/manifests/keys
  for k in id author; do
    openssl ecparam -name secp384r1 -genkey -noout -out "testdata/manifests/keys/$k-p384.pem" 2>/dev/null
  done
  "$BIN" build testdata/manifests/multi-platform.toml -o mp.igvm --measurements mp.json || fail "multi-platform"
  "$BIN" check mp.igvm > /dev/null || fail "check multi-platform"
  "$BIN" dump mp.igvm > mp.txt
  grep -q "SNP_ID_BLOCK" mp.txt || fail "no SNP_ID_BLOCK in multi-platform"
  ld=$("$BIN" measure mp.igvm --platform snp --host kvm --vcpus 2 2>/dev/null)
  grep -qi "$ld" mp.txt || fail "ID block LD is not the kvm/2-vCPU digest $ld"
  python3 -c 'import json,sys; m=json.load(open("mp.json"))["measurements"]; assert sorted({e["platform"] for e in m})==["snp","tdx","vbs"], m' \
    || fail "multi-platform measurements"
else
  echo "openssl not installed: multi-platform ID block case skipped"
fi

# Manifest errors: line and column, exit 1.
printf '[platform.native]\n[memory]\nsize = "64M"\nbogus = 1\n' > bad.toml
set +e
err=$("$BIN" build bad.toml -o bad.igvm 2>&1 >/dev/null); rc=$?
set -e
[ $rc -eq 1 ] || fail "bad manifest exit $rc"
echo "$err" | grep -Eq '^error: bad.toml: line 4, column 1' || fail "no line:column in: $err"
# Missing input file: exit 2.
set +e
"$BIN" build nope.toml -o z.igvm 2>/dev/null; rc=$?
set -e
[ $rc -eq 2 ] || fail "missing manifest exit $rc"
echo PASS
