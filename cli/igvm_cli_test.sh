#!/usr/bin/env bash
# igvmkit check / dump against the igvm seed corpus (cli-contract.md: exit statuses, one-line
# errors naming file, header and offset, --json prints one JSON document).
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tests/lib/cli_test_lib.sh"
bin=cli/igvmkit
corpus=igvm/testdata/fuzz

out=$($bin check $corpus/seed_vector_b.igvm 2>&1); rc=$?
expect "check ok output" "ok" "$out"
expect "check ok status" 0 $rc

err=$($bin check $corpus/corrupt_gpa_alignment.igvm 2>&1 >/dev/null); rc=$?
expect "check bad line" \
  "error: $corpus/corrupt_gpa_alignment.igvm: header #1 (PAGE_DATA 0x302) at offset 0x30: gpa 0x1001 is not page aligned" \
  "$err"
expect "check bad status" 1 $rc

$bin check $corpus/does-not-exist.igvm >/dev/null 2>&1; rc=$?
expect "check unreadable status" 2 $rc

out=$($bin dump $corpus/seed_vector_c.igvm --json 2>/dev/null); rc=$?
expect "dump json status" 0 $rc
expect "dump json first line" "{" "$(head -n1 <<<"$out")"
expect "dump json is one document" "}" "$(tail -n1 <<<"$out")"
grep -q '"name": "R12"' <<<"$out" || { echo "FAIL: dump json lacks the VBS register"; fails=$((fails + 1)); }
grep -q '"hex"' <<<"$out" && { echo "FAIL: dump json has raw bytes without --hex"; fails=$((fails + 1)); }
out=$($bin dump $corpus/seed_vector_c.igvm --json --hex 2>/dev/null)
grep -q '"hex": "0101' <<<"$out" || { echo "FAIL: dump --hex lacks page bytes"; fails=$((fails + 1)); }

out=$($bin dump $corpus/seed_vector_b.igvm 2>/dev/null); rc=$?
expect "dump text status" 0 $rc
expect "dump text lines" 9 "$(wc -l <<<"$out")"

$bin dump $corpus/corrupt_checksum.igvm >/dev/null 2>&1; rc=$?
expect "dump bad status" 1 $rc

finish "all igvmkit check/dump cases passed"
