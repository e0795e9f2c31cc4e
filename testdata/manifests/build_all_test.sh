#!/usr/bin/env bash
# Every example manifest builds as shipped. The test recreates the repository layout the manifests
# assume (bazel-bin/ outputs beside testdata/) in a temp dir, builds each manifest from the root and
# from its own directory, and checks the result with `igvmkit check`. firmware.toml needs Debian's
# ovmf package (tools/setup): without /usr/share/OVMF it is skipped with a message.
set -uo pipefail
bin=$PWD/cli/igvmkit
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/testdata/manifests/keys" "$T/bazel-bin/testdata/manifests" "$T/bazel-bin/testdata/guests"
cp testdata/manifests/*.toml testdata/manifests/*.bin "$T/testdata/manifests/"
cp testdata/manifests/keys/*.pem "$T/testdata/manifests/keys/"
cp testdata/manifests/vmlinuz testdata/manifests/initrd.img "$T/bazel-bin/testdata/manifests/"
cp testdata/guests/probe.elf "$T/bazel-bin/testdata/guests/"
fails=0
count=0
cd "$T"
for m in testdata/manifests/*.toml; do
  name=$(basename "$m" .toml)
  if [[ $name == firmware && ! -r /usr/share/OVMF/OVMF_CODE.fd ]]; then
    echo "SKIPPED PART: $m needs /usr/share/OVMF (Debian's ovmf package, tools/setup)"
    continue
  fi
  if ! "$bin" build "$m" -o "$name.igvm" --measurements "$name.json" 2>"$T/err"; then
    echo "FAIL: $m: $(cat "$T/err")"
    fails=$((fails + 1))
    continue
  fi
  if ! (cd testdata/manifests && "$bin" build "$name.toml" -o "../../$name.2.igvm" \
        --measurements "../../$name.2.json" 2>"$T/err"); then
    echo "FAIL: $m from its directory: $(cat "$T/err")"
    fails=$((fails + 1))
    continue
  fi
  # Same measurements either way (the bytes differ where an ID block is signed: ECDSA is randomized).
  cmp -s "$name.json" "$name.2.json" || { echo "FAIL: $m: measurements differ"; fails=$((fails + 1)); }
  "$bin" check "$name.igvm" >/dev/null || { echo "FAIL: $m: check"; fails=$((fails + 1)); }
  count=$((count + 1))
done
((count >= 4)) || { echo "FAIL: only $count manifests built"; fails=$((fails + 1)); }
if ((fails > 0)); then
  echo "$fails failure(s)"
  exit 1
fi
echo "PASS: $count manifests"
