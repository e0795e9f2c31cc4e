#!/usr/bin/env bash
# merge_archives.sh OUT.a IN... : one static archive with the objects of every IN that is an
# archive (.a / .pic.a; shared objects among IN are ignored).
set -euo pipefail
out=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for a in "$@"; do
  case "$a" in
    *.a) ;;
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
rm -f "$out"
ar rcs "$out" "$tmp"/*/*.o
