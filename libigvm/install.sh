#!/usr/bin/env bash
# libigvm/install.sh --prefix DIR --from ARTIFACTS: the copying half of tools/install (which
# builds ARTIFACTS = igvmkit, libigvm.so, libigvm.a with Bazel first); install_test.sh runs it on
# the artifacts in its runfiles. DESTDIR is honoured. See tools/install for the layout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=0.4.0
soname=libigvm.so.0.4
prefix="" from=""
usage() { echo "usage: libigvm/install.sh --prefix DIR --from ARTIFACTS" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --prefix) [[ $# -ge 2 ]] || usage; prefix=$2; shift 2 ;;
    --from) [[ $# -ge 2 ]] || usage; from=$2; shift 2 ;;
    *) usage ;;
  esac
done
[[ -n $prefix && -n $from ]] || usage
[[ $prefix == /* ]] || prefix="$(pwd)/$prefix"
exe=$from/igvmkit so=$from/libigvm.so ar=$from/libigvm.a
for f in "$exe" "$so" "$ar"; do
  [[ -f $f ]] || { echo "error: $f: missing build artifact" >&2; exit 2; }
done

dest="${DESTDIR:-}$prefix"
install -d "$dest/bin" "$dest/lib/pkgconfig" "$dest/include/igvm" \
  "$dest/share/man/man1" "$dest/share/bash-completion/completions"
install -m 755 "$exe" "$dest/bin/igvmkit"
install -m 755 "$so" "$dest/lib/libigvm.so.$version"
ln -sf "libigvm.so.$version" "$dest/lib/$soname"
ln -sf "$soname" "$dest/lib/libigvm.so"
install -m 644 "$ar" "$dest/lib/libigvm.a"
install -m 644 "$here/include/igvm/igvm.h" "$here/include/igvm/igvm_defs.h" \
  "$dest/include/igvm/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" "$here/dist/igvm.pc.in" \
  > "$dest/lib/pkgconfig/igvm.pc"
chmod 644 "$dest/lib/pkgconfig/igvm.pc"
install -m 644 "$here/dist/igvmkit.1" "$dest/share/man/man1/igvmkit.1"
install -m 644 "$here/dist/igvmkit.bash" \
  "$dest/share/bash-completion/completions/igvmkit"
echo "installed igvmkit and libigvm $version under $dest"
