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

# --json: one document on stdout (nothing else there); each measurement in it is what
# `measure --json` prints for that platform, host and vCPU count of the same file.
"$BIN" build testdata/manifests/demo.toml -o xj.igvm --measurements mj.json --json > b.json \
  || fail "build --json"
cmp -s x.igvm xj.igvm || fail "build --json wrote other bytes"
cmp -s m.json mj.json || fail "build --json changed --measurements"
python3 - "$BIN" <<'PY' || fail "build --json document"
import json, os, subprocess, sys
binary = sys.argv[1]
b = json.load(open("b.json"))
assert list(b)[:6] == ["manifest", "file", "size", "platforms", "page_data_directives",
                       "measurements_file"], list(b)
assert b["manifest"] == "testdata/manifests/demo.toml" and b["file"] == "xj.igvm", b
assert b["size"] == os.path.getsize("xj.igvm"), b["size"]
assert b["platforms"] == [{"platform": p, "compatibility_mask": 1 << i}
                          for i, p in enumerate(["native", "snp", "tdx", "vbs"])], b["platforms"]
assert b["page_data_directives"] > 0 and "id_block" not in b, b
assert b["measurements_file"] == "mj.json" and "corim_file" not in b, b
assert b["measurements"] == json.load(open("mj.json"))["measurements"]
assert [(e["platform"], e.get("host")) for e in b["measurements"]] == \
    [("snp", "kvm"), ("snp", "mshv"), ("tdx", None), ("vbs", None)], b["measurements"]
for e in b["measurements"]:
    cmd = [binary, "measure", "xj.igvm", "--platform", e["platform"], "--json"]
    if "host" in e:
        cmd += ["--host", e["host"]]
    if "vcpus" in e:
        cmd += ["--vcpus", str(e["vcpus"])]
    measured = json.loads(subprocess.run(cmd, capture_output=True, check=True).stdout)
    assert e == measured, (e, measured)
PY
# Without --measurements the document still carries them; an in-memory build (-o a pipe) says
# the same.
"$BIN" build testdata/manifests/demo.toml -o xk.igvm --json > bk.json || fail "build --json alone"
"$BIN" build testdata/manifests/demo.toml -o /dev/null --json > bn.json || fail "build --json -o /dev/null"
python3 - <<'PY' || fail "build --json without --measurements"
import json
b, k, n = (json.load(open(f)) for f in ("b.json", "bk.json", "bn.json"))
assert "measurements_file" not in k and k["measurements"] == b["measurements"], k
assert n["file"] == "/dev/null" and n["size"] == b["size"] and n["measurements"] == b["measurements"]
PY
# Errors: the error line on stderr, the same error as a document on stdout, the usual status.
set +e
"$BIN" build testdata/manifests/demo.toml -o - --json > e1.json 2> e1.txt; rc1=$?
"$BIN" build testdata/manifests/demo.toml -o e.igvm --measurements - --json > e2.json 2> e2.txt; rc2=$?
printf '[platform.native]\n[memory]\nsize = "64M"\nbogus = 1\n' > badj.toml
"$BIN" build badj.toml -o e.igvm --json > e3.json 2> e3.txt; rc3=$?
set -e
[ "$rc1 $rc2 $rc3" = "2 2 1" ] || fail "build --json error statuses: $rc1 $rc2 $rc3"
[ ! -e e.igvm ] || fail "build --json wrote e.igvm after a usage error"
grep -q "^error: --json's document goes to stdout" e1.txt || fail "e1: $(cat e1.txt)"
grep -q '^error: badj.toml: line 4, column 1' e3.txt || fail "e3: $(cat e3.txt)"
python3 - <<'PY' || fail "build --json error documents"
import json
for f, rule in (("e1.json", "output.same_file"), ("e2.json", "output.same_file"),
                ("e3.json", "manifest.unknown_key")):
    d = json.load(open(f))
    assert list(d) == ["manifest", "error"] and d["error"]["rule"] == rule, (f, d)
assert json.load(open("e3.json"))["error"]["location"] == {"line": 4, "column": 1}
PY

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
  # An ID block (built in memory): --json says it was signed, and with --reuse-signature that the
  # signatures were kept.
  "$BIN" build testdata/manifests/multi-platform.toml -o mp2.igvm --reuse-signature mp.igvm \
    --json > mpj.json || fail "multi-platform --json"
  python3 -c 'import json; d=json.load(open("mpj.json")); m=json.load(open("mp.json")); assert d["id_block"]=={"signed":True,"reused_signature":True} and d["measurements"]==m["measurements"], d' \
    || fail "multi-platform --json document"
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
