#!/bin/bash
# igvmkit plan on the builder-made relocatable probe (testdata/manifests/relocatable.toml): the
# chosen placement in text and JSON, a user base, and the one-line refusals with their exit codes.
set -euo pipefail
BIN="$PWD/cli/igvmkit"
T="${TEST_TMPDIR:-$(mktemp -d)}/w"
mkdir -p "$T/testdata/manifests" "$T/bazel-bin/testdata/guests"
cp testdata/manifests/*.toml testdata/manifests/*.bin "$T/testdata/manifests/"
cp testdata/guests/probe.elf "$T/bazel-bin/testdata/guests/probe.elf"
cd "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
has() { grep -Eq -- "$1" <<<"$2" || fail "no line matches [$1] in:
$2"; }

"$BIN" build testdata/manifests/relocatable.toml -o r.igvm || fail "build"
[ "$("$BIN" check r.igvm)" = "ok" ] || fail "check"

# Default policy: the highest 1 MiB boundary in 128 MiB of RAM; RIP moves with the payload.
out=$("$BIN" plan r.igvm --backend kvm --memory 128M)
has '^relocate header=[0-9]+ gpa=0x100000 size=0x[0-9a-f]+ -> base=0x7f00000 \(highest\) range=\[0x100000, 0x40000000\) align=0x100000 apply_rip$' "$out"
has '^page-tables header=[0-9]+ gpa=0x10000 size=0xe000 -> base=0x10000 cr3=0x10000 -> 0x10000 entries_patched=[1-9][0-9]* tables_allocated=1$' "$out"
has ' vp index=0 registers rip=0x7f00000 ' "$out"
has ' import gpa=0x7f00000 pages=[0-9]+ type=normal' "$out"

# A user base, in JSON.
"$BIN" plan r.igvm --backend kvm --memory 128M --relocate 0x4000000 --json > p.json
python3 - <<'PY' || fail "json placement"
import json
p = json.load(open("p.json"))
r = p["relocations"]
assert len(r) == 1 and r[0]["gpa"] == 0x100000 and r[0]["base"] == 0x4000000, r
assert r[0]["chosen_by"] == "user" and r[0]["apply_rip"] and not r[0]["apply_gdtr"], r
t = p["page_tables"]
assert t["gpa"] == 0x10000 and t["base"] == 0x10000 and t["new_cr3"] == 0x10000, t
assert t["entries_patched"] > 0 and t["tables_allocated"] == 1, t
vp = [o for o in p["ops"] if o["op"] == "vp"]
assert vp and vp[0]["rip"] == 0x4000000, vp
assert any(o["op"] == "import" and o["gpa"] == 0x4000000 for o in p["ops"]), p["ops"]
assert not any(o["op"] == "import" and o["gpa"] == 0x100000 for o in p["ops"]), "old gpa loaded"
PY

# keep: the file's own GPAs, nothing patched.
out=$("$BIN" plan r.igvm --backend kvm --memory 128M --relocate keep)
has '-> base=0x100000 \(keep\)' "$out"
has 'entries_patched=0 tables_allocated=0$' "$out"

# Confidential backends never relocate: no placement lines (the headers name native and vbs).
out=$("$BIN" plan r.igvm --backend kvm-snp --memory 128M)
grep -q '^relocate' <<<"$out" && fail "kvm-snp shows a relocation"

# Refusals: one line, exit 2 for a bad user base or option, 1 for the backend's refusal.
set +e
err=$("$BIN" plan r.igvm --backend kvm --memory 128M --relocate 0x4001000 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "misaligned base exit $rc"
has '^error: r.igvm: relocatable region 0x100000 \(size 0x[0-9a-f]+\): base 0x4001000 is not a multiple of the alignment 0x100000$' "$err"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "more than one line: $err"
err=$("$BIN" plan r.igvm --backend kvm --memory 128M --relocate 0x8000000 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "base outside ram exit $rc"
has 'puts the region outside guest ram$' "$err"
err=$("$BIN" plan r.igvm --backend kvm --relocate sideways 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "bad option exit $rc"
has '^error: --relocate sideways: expected highest, lowest, keep, BASE, REGION_GPA=BASE or page-tables=BASE$' "$err"
err=$("$BIN" plan r.igvm --backend kvm-snp --memory 128M --relocate 0x4000000 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "kvm-snp relocate exit $rc"
has 'relocation changes the launch measurement; kvm-snp loads relocatable regions at their file gpa$' "$err"
set -e
echo PASS
