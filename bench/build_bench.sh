#!/usr/bin/env bash
# `igvmkit build --measurements` of a manifest holding one [[data]] blob of MIB MiB (random bytes)
# against `openssl dgst -sha384` of the same blob, in the same run: wall and CPU time (medians of
# RUNS), peak RSS (/usr/bin/time's maximum resident set), the ratios, and the load average.
#   bench/build_bench.sh [MIB] [RUNS] [PLATFORMS]     (from the repository root; 256, 3, "snp")
# PLATFORMS: a space-separated list of [platform.*] tables (snp: the SNP digests under kvm and
# mshv; "snp tdx" adds the MRTD, a second full SHA-384 stream). BASELINE=/path/to/igvmkit also
# times another binary (e.g. main's) on the same manifest and compares the output bytes.
set -euo pipefail
mib=${1:-256}
runs=${2:-3}
platforms=${3:-snp}
bazel build //cli:igvmkit >/dev/null 2>&1
bin=$PWD/bazel-bin/cli/igvmkit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c $((mib * 1048576)) /dev/urandom >"$tmp/blob.bin"
{
  for p in $platforms; do echo "[platform.$p]"; done
  cat <<TOML
[memory]
size = "2G"
[vp]
mode = "registers"
[vp.registers]
rip = 0x10000000
[[data]]
file = "blob.bin"
gpa = 0x10000000
TOML
} >"$tmp/m.toml"
# tdx needs long mode; with it the builder's own pages (tables, GDT) join the blob.
if [[ " $platforms " == *" tdx "* ]]; then
  sed -i '/^\[vp\]/,/^rip/d' "$tmp/m.toml"
  printf '[vp]\nmode = "long"\n[vp.registers]\nrip = 0x10000000\n' >>"$tmp/m.toml"
fi
cat "$tmp/blob.bin" >/dev/null  # warm the page cache
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "blob: $mib MiB, platforms: $platforms, runs: $runs"

# time_of LABEL CMD...: appends "wall cpu rss_kib" to $tmp/LABEL
time_of() {
  local label=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/t" "$@" >/dev/null
  awk '{printf "%.3f %.3f %d\n", $1, $2 + $3, $4}' "$tmp/t" >>"$tmp/$label"
}
for ((i = 0; i < runs; i++)); do
  time_of openssl openssl dgst -sha384 "$tmp/blob.bin"
  rm -f "$tmp/out.igvm" "$tmp/out.json"
  time_of build "$bin" build "$tmp/m.toml" -o "$tmp/out.igvm" --measurements "$tmp/out.json"
  if [[ -n ${BASELINE:-} ]]; then
    rm -f "$tmp/base.igvm" "$tmp/base.json"
    time_of baseline "$BASELINE" build "$tmp/m.toml" -o "$tmp/base.igvm" --measurements "$tmp/base.json"
  fi
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c=$2 '{print $c}' "$tmp/$1" | median; }
ow=$(col openssl 1); oc=$(col openssl 2)
bw=$(col build 1); bc=$(col build 2); br=$(col build 3)
headers=$(od -An -tu4 -j12 -N4 "$tmp/out.igvm" | tr -d ' ')
printf 'openssl dgst -sha384: wall %.3f s, cpu %.3f s (median of %d)\n' "$ow" "$oc" "$runs"
printf 'igvmkit build --measurements: wall %.3f s, cpu %.3f s, peak RSS %.1f MiB (median of %d)\n' \
  "$bw" "$bc" "$(echo "$br / 1024" | bc -l)" "$runs"
printf 'ratio wall %.2fx, ratio cpu %.2fx (goal: wall <= 1.5x)\n' \
  "$(echo "$bw / $ow" | bc -l)" "$(echo "$bc / $oc" | bc -l)"
printf 'variable header section: %.1f MiB; RSS goal: < 64 MiB + headers = %.1f MiB\n' \
  "$(echo "$headers / 1048576" | bc -l)" "$(echo "64 + $headers / 1048576" | bc -l)"
if [[ -n ${BASELINE:-} ]]; then
  printf 'baseline build: wall %.3f s, cpu %.3f s, peak RSS %.1f MiB\n' \
    "$(col baseline 1)" "$(col baseline 2)" "$(echo "$(col baseline 3) / 1024" | bc -l)"
  cmp -s "$tmp/out.igvm" "$tmp/base.igvm" && echo "baseline output: byte-identical" ||
    echo "baseline output: DIFFERS"
  cmp -s "$tmp/out.json" "$tmp/base.json" && echo "baseline measurements: identical" ||
    echo "baseline measurements: DIFFER"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
