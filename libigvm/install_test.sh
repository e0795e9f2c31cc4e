#!/usr/bin/env bash
# From outside: libigvm/install.sh (the copying half of tools/install) puts the Bazel-built
# igvmkit and libigvm into a prefix; a C program (testing/walk.c) is compiled against it with
# `pkg-config --cflags --libs igvm`, linked shared
# and static, and walks every header of the example images; its output must match
# `igvmkit dump --json` of the installed binary (testing/compare_dump.py). Also checks the
# install layout, the SONAME, that only API symbols are exported and what the library links.
set -euo pipefail
r=${TEST_SRCDIR}/${TEST_WORKSPACE}
tmp=${TEST_TMPDIR}
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in cc pkg-config nm readelf python3; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (tools/setup installs it)"
done

mkdir -p "$tmp/artifacts"
cp "$r/cli/igvmkit" "$r/libigvm/libigvm.so" "$r/libigvm/libigvm.a" "$tmp/artifacts/"
DESTDIR="$tmp/stage" "$r/libigvm/install.sh" --prefix /opt/igvm --from "$tmp/artifacts" >/dev/null
[[ -f $tmp/stage/opt/igvm/lib/pkgconfig/igvm.pc ]] || fail "DESTDIR not honoured"
"$r/libigvm/install.sh" --prefix "$tmp/prefix" --from "$tmp/artifacts" >/dev/null
p=$tmp/prefix
for f in bin/igvmkit lib/libigvm.so lib/libigvm.so.0.4 lib/libigvm.so.0.4.0 lib/libigvm.a \
  include/igvm/igvm.h include/igvm/igvm_defs.h lib/pkgconfig/igvm.pc \
  share/man/man1/igvmkit.1 share/bash-completion/completions/igvmkit; do
  [[ -e $p/$f ]] || fail "$f not installed"
done
grep -q "^prefix=/opt/igvm$" "$tmp/stage/opt/igvm/lib/pkgconfig/igvm.pc" || fail "pc prefix"

export PKG_CONFIG_PATH=$p/lib/pkgconfig
pkg-config --atleast-version=0.3.4 igvm || fail "pkg-config --atleast-version=0.3.4 igvm"
[[ $(pkg-config --modversion igvm) == 0.4.0 ]] || fail "version $(pkg-config --modversion igvm)"

so=$p/lib/libigvm.so.0.4.0
readelf -d "$so" | grep -q 'SONAME.*\[libigvm.so.0.4\]' || fail "SONAME"
exports=$(nm -D --defined-only "$so" | awk '{print $2, $3}' | sed 's/@.*//')
bad=$(echo "$exports" | awk '{print $2}' | grep -vE '^(igvm_|igvmkit_|IGVM_0\.4$)' || true)
[[ -z $bad ]] || fail "exports beyond the API: $(echo "$bad" | head -5)"
for sym in igvm_new_from_binary igvm_free igvm_header_count igvm_get_header_type \
  igvm_get_header igvm_get_header_data igvm_get_buffer igvm_get_buffer_size igvm_free_buffer \
  igvmkit_last_error igvmkit_warning_count igvmkit_get_warning; do
  grep -qx "T $sym" <<<"$exports" || fail "$sym not exported"
done
needed=$(readelf -d "$so" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
for lib in $needed; do
  case $lib in
    libc.so.*|libstdc++.so.*|libm.so.*|libgcc_s.so.*|ld-linux*) ;;
    *) fail "libigvm.so needs $lib" ;;
  esac
done

# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/walk" "$r/libigvm/testing/walk.c" \
  $(pkg-config --cflags --libs igvm)
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -static-libgcc -o "$tmp/walk_static" \
  "$r/libigvm/testing/walk.c" $(pkg-config --cflags igvm) "$p/lib/libigvm.a" \
  $(pkg-config --libs-only-l --static igvm | sed 's/-ligvm//')
n=0
for image in "$r"/libigvm/testdata/*.igvm; do
  if [[ $image == */every_header_x64.igvm ]]; then
    # CoRIM headers: the reference's C library (no corim feature) refuses the file, and so do we.
    out=$(LD_LIBRARY_PATH=$p/lib "$tmp/walk" "$image" 2>&1) && fail "CoRIM file accepted"
    [[ $out == *"-10 "*"[reference.corim]"* ]] || fail "every_header_x64: $out"
    continue
  fi
  LD_LIBRARY_PATH=$p/lib "$tmp/walk" "$image" > "$tmp/walk.json" || fail "walk $image"
  "$tmp/walk_static" "$image" | cmp -s - "$tmp/walk.json" || fail "static walk differs: $image"
  "$p/bin/igvmkit" dump --json "$image" > "$tmp/dump.json" 2>/dev/null || fail "dump $image"
  python3 "$r/libigvm/testing/compare_dump.py" "$tmp/walk.json" "$tmp/dump.json" ||
    fail "libigvm and igvmkit dump differ on $(basename "$image")"
  n=$((n + 1))
done
[[ $n -eq 5 ]] || fail "walked $n example images, want 5"
# A file the parser refuses gives the reference's code and igvmkit's rule.
out=$(LD_LIBRARY_PATH=$p/lib "$tmp/walk" "$r/igvm/testdata/fuzz/corrupt_checksum.igvm" 2>&1) &&
  fail "corrupt file accepted"
[[ $out == *"-18 "*"[fixed.checksum]"* ]] || fail "corrupt_checksum: $out"
echo "PASS: $n images walked through the installed libigvm match igvmkit dump --json"
