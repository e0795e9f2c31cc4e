#!/usr/bin/env bash
# bench/vmm.sh [RUNS]: the probe guest on igvmkit's VMM and on QEMU/KVM, side by side in one run.
#
#   igvmkit: `igvmkit run out/demo.igvm --memory 512M --cpus 1` (the demo manifest's IGVM file, built
#            as tools/demo does; the probe entered in 64-bit mode with its IGVM info block)
#   QEMU:    `qemu-system-x86_64 -M microvm -accel kvm -m 512M -smp 1 -nodefaults -no-user-config
#            -nographic -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04
#            -kernel probe_pvh.elf` (the same probe behind a PVH entry, //testdata/guests:probe_pvh;
#            microvm boots it through its qboot firmware, no PCI, no ACPI tables used)
#
# Each VMM runs RUNS times (default 10) for time and RUNS times for memory, interleaved so that
# changes in the machine's load hit both; every figure is a median. Per run, bench/vmm_run_stats
# measures the wall time from fork to exit and the user/sys CPU time (rusage); in the memory runs
# it also reads the process's peak RSS (VmHWM) and the guest RAM actually resident (Rss of the
# guest-RAM mapping in /proc/PID/smaps) as the process exits (see bench/vmm_run_stats.cc);
# "VMM overhead" = peak RSS - guest RAM resident. Every run's output must contain the probe's
# lines and "probe: ok", and its exit status must be the probe's success status (igvmkit: 0;
# QEMU's isa-debug-exit: (0 << 1) | 1 = 1), so a failed boot cannot be timed.
#
# Where /dev/kvm is missing, both run inside tools/kvmhost, the nested KVM host (one boot for all
# runs), and the figures describe that host: KVM on an emulated (TCG) AMD CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
MEM=512M
MEM_BYTES=$((512 << 20))
CPUS=1
# Inside tools/kvmhost (IGVMKIT_KVMHOST=1) Bazel does not run: the outer call built everything.
if [[ -z ${IGVMKIT_KVMHOST:-} ]]; then
  tools/setup  # qemu-system-x86 (also tools/kvmhost's QEMU)
  bazel build //cli:igvmkit //testdata/guests:probe //testdata/guests:probe_pvh \
    //bench:vmm_run_stats 2>/dev/null
  mkdir -p out
  bazel-bin/cli/igvmkit build testdata/manifests/demo.toml -o out/demo.igvm >/dev/null
  if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
    # Both VMMs then run inside the same nested KVM host: the figures are that host's.
    echo "bench/vmm.sh: no /dev/kvm here: igvmkit and QEMU both run inside tools/kvmhost"
    exec tools/kvmhost -- bench/vmm.sh "$@"
  fi
fi

STATS=bazel-bin/bench/vmm_run_stats
IGVMKIT=(bazel-bin/cli/igvmkit run out/demo.igvm --memory "$MEM" --cpus "$CPUS")
QEMU=(qemu-system-x86_64 -M microvm -accel kvm -m "$MEM" -smp "$CPUS" -nodefaults -no-user-config
  -nographic -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04
  -kernel bazel-bin/testdata/guests/probe_pvh.elf)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# run NAME EXPECTED_STATUS [--trace] -- COMMAND...: one measured run; appends its stats line to
# $TMP/NAME.stats after checking that the probe ran to "probe: ok".
run() {
  local name=$1 expected=$2
  shift 2
  local status=0
  "$STATS" --guest-ram "$MEM_BYTES" "$@" </dev/null >"$TMP/out" 2>"$TMP/err" || status=$?
  if [[ $status != "$expected" ]] || ! grep -q '^probe: igvmkit probe 1$' "$TMP/out" ||
    ! grep -q '^memmap: [1-9][0-9]* entries$' "$TMP/out" ||
    ! grep -q "^vp_count: $CPUS\$" "$TMP/out" || ! grep -q '^probe: ok$' "$TMP/out"; then
    echo "$name: the probe did not run to 'probe: ok' (exit status $status, expected $expected):"
    cat "$TMP/out" "$TMP/err"
    exit 1
  fi
  grep '^vmm_run_stats:' "$TMP/err" >>"$TMP/$name.stats"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# field NAME KEY: the median of KEY over NAME's stats lines.
field() {
  awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i+1)}' "$TMP/$1.stats" | median
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 0; i < RUNS; i++)); do
  run igvmkit_time 0 -- "${IGVMKIT[@]}"
  run qemu_time 1 -- "${QEMU[@]}"
  run igvmkit_mem 0 --trace -- "${IGVMKIT[@]}"
  run qemu_mem 1 --trace -- "${QEMU[@]}"
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

ms() { awk -v v="$1" 'BEGIN {printf "%.1f", v / 1000}'; }
mib() { awk -v v="$1" 'BEGIN {printf "%.1f", v / 1024}'; }
echo
where="$(nproc) host CPUs"
[[ -z ${IGVMKIT_KVMHOST:-} ]] || where="inside tools/kvmhost: $(nproc) emulated CPU(s)"
echo "probe guest, $MEM, $CPUS vCPU, median of $RUNS runs each ($where)"
printf '%-44s %12s %12s\n' "" "igvmkit run" "QEMU microvm"
row() { printf '%-44s %12s %12s\n' "$1" "$2" "$3"; }
row "wall, process start to exit (ms)" "$(ms "$(field igvmkit_time wall_us)")" \
  "$(ms "$(field qemu_time wall_us)")"
for name in igvmkit_time qemu_time; do
  awk '{for (i = 1; i < NF; i++) v[$i] = $(i+1); print v["user_us"] + v["sys_us"]}' \
    "$TMP/$name.stats" >"$TMP/$name.cpu"
done
row "CPU user+sys (ms)" "$(ms "$(median <"$TMP/igvmkit_time.cpu")")" \
  "$(ms "$(median <"$TMP/qemu_time.cpu")")"
row "CPU user (ms)" "$(ms "$(field igvmkit_time user_us)")" "$(ms "$(field qemu_time user_us)")"
row "CPU sys (ms)" "$(ms "$(field igvmkit_time sys_us)")" "$(ms "$(field qemu_time sys_us)")"
for name in igvmkit_mem qemu_mem; do
  awk '{for (i = 1; i < NF; i++) v[$i] = $(i+1); print v["hwm_kib"] - v["guest_ram_kib"]}' \
    "$TMP/$name.stats" >"$TMP/$name.overhead"
done
row "peak RSS, VmHWM (MiB)" "$(mib "$(field igvmkit_mem hwm_kib)")" \
  "$(mib "$(field qemu_mem hwm_kib)")"
row "guest RAM resident (MiB)" "$(mib "$(field igvmkit_mem guest_ram_kib)")" \
  "$(mib "$(field qemu_mem guest_ram_kib)")"
row "VMM overhead = peak RSS - guest RAM (MiB)" "$(mib "$(median <"$TMP/igvmkit_mem.overhead")")" \
  "$(mib "$(median <"$TMP/qemu_mem.overhead")")"
row "  at exit: RssAnon (MiB)" "$(mib "$(field igvmkit_mem anon_kib)")" \
  "$(mib "$(field qemu_mem anon_kib)")"
row "  at exit: RssFile, binary + libraries (MiB)" "$(mib "$(field igvmkit_mem file_kib)")" \
  "$(mib "$(field qemu_mem file_kib)")"
echo "(igvmkit unmaps guest RAM before it exits, so its at-exit RssAnon/RssFile exclude it; QEMU's"
echo " guest RAM is still mapped at exit and is part of its RssAnon)"
