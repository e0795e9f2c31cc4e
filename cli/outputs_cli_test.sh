#!/bin/bash
# Inputs and outputs of every command (cli-contract.md "Outputs"; issue 12 items 3 and 4): special
# files as inputs are usage errors, not hangs; outputs are complete or absent, never clobber an
# input, are written in place when they are not regular files; stdout write errors fail.
# Every case runs (and is reported) even after one fails.
set -uo pipefail
BIN="${IGVMKIT_BIN:-$PWD/cli/igvmkit}"
MAKE_TEST_IGVM="$PWD/measure/make_test_igvm"
T="${TEST_TMPDIR:-$(mktemp -d)}/outputs"
rm -rf "$T" && mkdir -p "$T" && cd "$T" || exit 1
FAILED=0
fail() { echo "FAIL: $*" >&2; FAILED=1; }
# expect_exit N DESCRIPTION -- COMMAND...: COMMAND exits N within 20 s (124 = it hung).
expect_exit() {
  local want=$1 what=$2; shift 3
  timeout 20 "$@" > out.txt 2> err.txt < /dev/null; local rc=$?
  [ $rc -eq "$want" ] || fail "$what: exit $rc, want $want ($(head -c 300 err.txt))"
}

# A small native image: 64 KiB of firmware and a [[data]] blob.
mkdir -p sub
head -c 65536 /dev/zero | tr '\0' '\220' > fw.bin
printf 'blob' > blob.bin
cat > m.toml <<'TOML'
[platform.native]
[memory]
size = "64M"
[firmware]
image = "fw.bin"
[[data]]
file = "blob.bin"
gpa = 0x100000
TOML
expect_exit 0 "build" -- "$BIN" build m.toml -o good.igvm
cp good.igvm keep.igvm

# --- inputs: a FIFO (no writer), a directory, a device -------------------------------------------
mkfifo fifo
for cmd in "check fifo" "dump fifo" "dump --json fifo" "measure fifo --platform snp" \
           "plan fifo --backend kvm" "build fifo -o x.igvm" "check ." "check /dev/null"; do
  expect_exit 2 "$cmd" -- "$BIN" $cmd
  grep -q "not a regular file" err.txt || fail "$cmd: no 'not a regular file' in $(cat err.txt)"
done
sed 's/"blob.bin"/"fifo"/' m.toml > fifo-data.toml
expect_exit 2 "[[data]] file is a FIFO" -- "$BIN" build fifo-data.toml -o x.igvm
[ -e x.igvm ] && fail "x.igvm written after a failed build"

# --- outputs --------------------------------------------------------------------------------
# -o and --measurements naming one file: usage error, nothing written.
expect_exit 2 "-o X --measurements X" -- "$BIN" build m.toml -o same --measurements same
[ -e same ] && fail "-o X --measurements X wrote X"
grep -q "same file" err.txt || fail "no 'same file' in $(cat err.txt)"
# -o naming an input of the manifest (directly, and through another spelling): usage error.
cp fw.bin fw.orig
expect_exit 2 "-o names the firmware input" -- "$BIN" build m.toml -o fw.bin
expect_exit 2 "-o names the firmware input (./x)" -- "$BIN" build m.toml -o ./sub/../fw.bin
grep -q "is also an input" err.txt || fail "-o ./sub/../fw.bin: $(cat err.txt)"
expect_exit 2 "-o names the manifest" -- "$BIN" build m.toml -o m.toml
expect_exit 2 "--measurements names the blob" -- "$BIN" build m.toml -o y.igvm --measurements blob.bin
cmp -s fw.bin fw.orig || fail "the firmware input was overwritten"
[ "$(cat blob.bin)" = blob ] || fail "the blob input was overwritten"
[ -e y.igvm ] && fail "y.igvm written although --measurements was refused"
# An unwritable --measurements: exit 2 and the existing -o file is not replaced.
echo previous > out.igvm
expect_exit 2 "--measurements in a missing directory" -- \
  "$BIN" build m.toml -o out.igvm --measurements /nonexistent/m.json
[ "$(cat out.igvm)" = previous ] || fail "-o replaced although --measurements failed"
# A FIFO as -o is written in place (it stays a FIFO; the reader gets the image).
mkfifo outpipe
timeout 20 cat outpipe > frompipe &
reader=$!
expect_exit 0 "-o FIFO" -- "$BIN" build m.toml -o outpipe
wait $reader
[ -p outpipe ] || fail "-o FIFO replaced the FIFO by a regular file"
cmp -s frompipe good.igvm || fail "the FIFO reader did not get the image"
# -o /dev/null is written in place (as root the old code replaced /dev/null itself; set
# SKIP_DEV_NULL=1 when running this script against such a binary).
if [ -z "${SKIP_DEV_NULL:-}" ]; then
  expect_exit 0 "-o /dev/null" -- "$BIN" build m.toml -o /dev/null
  [ -c /dev/null ] || fail "/dev/null is no longer a character device"
fi
# No temp file is left behind by any of the above.
leftovers=$(ls -A | grep -E '\.tmp' || true)
[ -z "$leftovers" ] || fail "temp files left behind: $leftovers"

# '-' is stdout for every output.
expect_exit 0 "--measurements -" -- "$BIN" build m.toml -o z.igvm --measurements -
[ -e ./- ] && fail "--measurements - wrote a file named '-'"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))["measurements"]' out.txt \
  || fail "--measurements - did not print the JSON document"
expect_exit 0 "-o -" -- "$BIN" build m.toml -o -
cmp -s out.txt good.igvm || fail "-o - did not print the image"
expect_exit 2 "-o - --measurements -" -- "$BIN" build m.toml -o - --measurements -
# What a command prints on stdout (a digest, a --json document) takes it: an output there too is a
# usage error before any work, not a mixed stream.
for cmd in "build m.toml -o - --json" "build m.toml -o z2.igvm --measurements /dev/stdout --json" \
           "measure good.igvm --platform snp --corim -" "measure good.igvm --platform snp --corim - --json"; do
  # shellcheck disable=SC2086
  expect_exit 2 "$cmd" -- "$BIN" $cmd
  grep -q "goes to stdout, where another output goes already" err.txt || fail "$cmd: $(cat err.txt)"
done
[ -e z2.igvm ] && fail "build --json wrote z2.igvm after a usage error"
# /dev/stdout and /dev/fd/1 are stdout too, whether it is a file or a pipe; the links stay links.
expect_exit 0 "-o /dev/stdout" -- "$BIN" build m.toml -o /dev/stdout
cmp -s out.txt good.igvm || fail "-o /dev/stdout (a file) did not print the image"
timeout 20 "$BIN" build m.toml -o /dev/fd/1 < /dev/null 2> err.txt | cat > piped.igvm
cmp -s piped.igvm good.igvm || fail "-o /dev/fd/1 (a pipe) did not print the image: $(cat err.txt)"
[ -L /dev/stdout ] || fail "/dev/stdout is no longer a symbolic link"

# Failed writes to stdout make the command fail.
"$MAKE_TEST_IGVM" "$T" > /dev/null || fail "make_test_igvm"
for cmd in "measure snp.igvm --platform snp --json" "measure snp.igvm --platform snp" \
           "check good.igvm" "dump good.igvm" "dump --json good.igvm"; do
  timeout 20 "$BIN" $cmd > /dev/full 2> err.txt; rc=$?
  [ $rc -ne 0 ] || fail "$cmd > /dev/full exited 0"
  grep -q "^error: stdout: cannot write" err.txt || fail "$cmd > /dev/full: $(cat err.txt)"
done
timeout 20 "$BIN" build m.toml -o good2.igvm --measurements - > /dev/full 2> err.txt
[ $? -eq 2 ] || fail "build --measurements - > /dev/full did not exit 2"
[ -e good2.igvm ] && fail "build replaced -o although writing --measurements - failed"

# check --json (valid and invalid) and usage lines that name igvmkit, not the binary's path.
"$BIN" check --json good.igvm | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["valid"] is True, d' \
  || fail "check --json on a valid file"
"$BIN" check --json m.toml > bad.json 2> /dev/null; rc=$?
[ $rc -eq 1 ] || fail "check --json on a bad file: exit $rc"
python3 -c 'import json,sys; d=json.load(open("bad.json")); assert d["valid"] is False and d["error"]["rule"] == "fixed.magic", d' \
  || fail "check --json on a bad file: $(cat bad.json)"
"$BIN" check --help | grep -q "^Usage: igvmkit check" || fail "usage line does not say igvmkit"

[ $FAILED -eq 0 ] && echo PASS
exit $FAILED
