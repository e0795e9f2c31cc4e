#!/usr/bin/env bash
# Reference compatibility of the CLI (cli/compat.h): vector A, microsoft/igvm's own C-API test file
# (a GUEST_POLICY for mask 0x2 that no platform declares), is refused by `check` (strict) and
# accepted by `check --compat`, `dump`, `measure` and `plan`, each warning with rule, header and
# offset. A file the reference refuses is still refused.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/tests/lib/cli_test_lib.sh"
r=${TEST_SRCDIR}/${TEST_WORKSPACE}
igvmkit=$r/cli/igvmkit
a=$r/igvm/testdata/fuzz/seed_vector_a.igvm
tmp=${TEST_TMPDIR}
warning='warning: '"$a"': header #2 (GUEST_POLICY 0x101) at offset 0x48: compatibility mask 0x2'

expect_exit 1 "check strict" -- "$igvmkit" check "$a"
contains "$tmp/err" "names bits 0x2 that no platform header declares" "check strict"
contains "$tmp/err" "header #2" "check strict"

expect_exit 0 "check --compat" -- "$igvmkit" check --compat "$a"
contains "$tmp/out" "ok: accepted by the reference parser" "check --compat"
contains "$tmp/err" "$warning" "check --compat"
contains "$tmp/err" "[mask.undeclared]" "check --compat"

expect_exit 0 "dump --json" -- "$igvmkit" dump --json "$a"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["initialization"]) == 2' \
  "$tmp/out" || { echo "FAIL: dump --json output"; fails=$((fails + 1)); }
contains "$tmp/err" "$warning" "dump --json"

expect_exit 0 "measure vbs" -- "$igvmkit" measure "$a" --platform vbs
contains "$tmp/err" "[mask.undeclared]" "measure vbs"
[[ $(wc -l <"$tmp/out") == 1 ]] || { echo "FAIL: measure output"; fails=$((fails + 1)); }

# No backend runs VSM_ISOLATION guests: plan vector A with its platform made NATIVE.
python3 - "$a" "$tmp/native_a.igvm" <<'PY'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
assert b[0x25] == 1  # SUPPORTED_PLATFORM.platform_type of the first entry: VSM_ISOLATION
b[0x25] = 0          # NATIVE
vh_off, vh_size = struct.unpack_from("<II", b, 8)
struct.pack_into("<I", b, 20, 0)
struct.pack_into("<I", b, 20, zlib.crc32(bytes(b[:24]) + bytes(b[vh_off : vh_off + vh_size])))
open(sys.argv[2], "wb").write(b)
PY
expect_exit 0 "plan" -- "$igvmkit" plan "$tmp/native_a.igvm" --backend kvm
contains "$tmp/err" "[mask.undeclared]" "plan"
contains "$tmp/out" "import gpa=0x0 pages=3" "plan"

# The reference refuses a bad checksum: so do check --compat and dump.
bad=$r/igvm/testdata/fuzz/corrupt_checksum.igvm
expect_exit 1 "check --compat on a bad file" -- "$igvmkit" check --compat "$bad"
contains "$tmp/err" "checksum" "check --compat on a bad file"
expect_exit 1 "dump on a bad file" -- "$igvmkit" dump "$bad"

# The reference refuses a file without file data; igvmkit accepts it unless --compat.
python3 - "$r/igvm/testdata/fuzz/seed_vector_b.igvm" "$tmp/headers_only.igvm" <<'PY'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
vh_off, vh_size = struct.unpack_from("<II", b, 8)
# Keep only the platform header and the zero pages: drop the file data by pointing every
# PAGE_DATA at offset 0 (a page of zeros) and cutting the file at the end of the headers.
pos = vh_off
while pos < vh_off + vh_size:
    typ, length = struct.unpack_from("<II", b, pos)
    if typ == 0x302:
        struct.pack_into("<I", b, pos + 8 + 12, 0)
    if typ == 0x301:
        struct.pack_into("<I", b, pos + 8 + 12, 0)
    pos += 8 + ((length + 7) & ~7)
b = b[: vh_off + vh_size]
struct.pack_into("<I", b, 16, len(b))
struct.pack_into("<I", b, 20, 0)
crc = zlib.crc32(bytes(b[:24]) + bytes(b[vh_off : vh_off + vh_size]))
struct.pack_into("<I", b, 20, crc)
open(sys.argv[2], "wb").write(b)
PY
expect_exit 0 "check headers-only" -- "$igvmkit" check "$tmp/headers_only.igvm"
expect_exit 1 "check --compat headers-only" -- "$igvmkit" check --compat "$tmp/headers_only.igvm"
contains "$tmp/err" "no file data section" "check --compat headers-only"

finish PASS
