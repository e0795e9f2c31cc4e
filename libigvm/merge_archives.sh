#!/usr/bin/env bash
# merge_archives.sh OUT.a IN... : one static archive with the objects of every position-
# independent archive among IN (.pic.a, and .pic.lo for alwayslink libraries), so that it links
# into the PIE executables Debian's compilers build by default. Everything else among IN (non-PIC
# archives, shared objects) is ignored.
set -euo pipefail
out=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for a in "$@"; do
  case "$a" in
    *.pic.a | *.pic.lo) ;;
    *) continue ;;
  esac
  n=$((n + 1))
  mkdir "$tmp/$n"
  (cd "$tmp/$n" && ar x "$OLDPWD/$a")
  # Objects of different archives may share a name: prefix them with the archive number.
  for o in "$tmp/$n"/*.o; do
    mv "$o" "$tmp/$n/${n}_$(basename "$o")"
  done
done
[[ $n -gt 0 ]] || { echo "merge_archives.sh: no PIC archive among the inputs" >&2; exit 1; }
rm -f "$out"
ar rcs "$out" "$tmp"/*/*.o
