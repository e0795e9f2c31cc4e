#!/bin/bash
# The Linux guest, SMP included (tag requires-kvm: tools/test runs it in tools/kvmhost where this
# machine has no /dev/kvm): Debian's kernel and a busybox initramfs (make_initramfs) built into a
# native IGVM image by `igvmkit build`, run with `igvmkit run --cpus 2`. /init prints
# "IGVMKIT-INIT-OK <release> online=<n>" and ends the run with n as the exit status (port 0xf4),
# so the status comes from the guest: it must be 2, the vCPUs Linux found (through the ACPI MADT
# the loader writes and the builder's RSDP/XSDT lead to). Inputs: IGVMKIT_VMLINUX (the
# uncompressed kernel, preferred) or IGVMKIT_KERNEL (the bzImage), and IGVMKIT_BUSYBOX, from
# tools/fetch_linux --print. IGVMKIT_LINUX_TIMEOUT: seconds for the run (default 600);
# IGVMKIT_LINUX_STALL: seconds without console output after which the run is stopped (default 240).
# /init also reports the timer interrupts it saw (timer=N): the test requires some, i.e. a tick.
# See tests/linux/README.md.
set -u
IGVMKIT=$PWD/cli/igvmkit
MAKE_INITRAMFS=$PWD/tests/linux/make_initramfs
kernel=${IGVMKIT_VMLINUX:-${IGVMKIT_KERNEL:-}}
busybox=${IGVMKIT_BUSYBOX:-}
if [[ -z $kernel || -z $busybox ]]; then
  echo "SKIPPED: set IGVMKIT_VMLINUX (or IGVMKIT_KERNEL) and IGVMKIT_BUSYBOX: run tools/fetch_linux --print"
  exit 0
fi
if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
  echo "SKIPPED: /dev/kvm is not accessible; igvmkit run needs it"
  exit 0
fi
cpus=2
timeout=${IGVMKIT_LINUX_TIMEOUT:-600}
stall=${IGVMKIT_LINUX_STALL:-240}
T=${TEST_TMPDIR:-$(mktemp -d)}
cd "$T" || exit 1

"$MAKE_INITRAMFS" "$busybox" initramfs.cpio || { echo "FAIL: make_initramfs"; exit 1; }
cat >linux.toml <<TOML
[platform.native]
[memory]
size = "512M"
[linux]
kernel = "$kernel"
initrd = "initramfs.cpio"
cmdline = "console=ttyS0 reboot=k panic=-1 i8042.noaux i8042.nomux i8042.dumbkbd"
TOML
t0=$(date +%s.%N)
"$IGVMKIT" build linux.toml -o linux.igvm || { echo "FAIL: igvmkit build"; exit 1; }
t1=$(date +%s.%N)
echo "built linux.igvm ($(stat -c %s linux.igvm) bytes) in $(echo "$t1 - $t0" | bc) s from $kernel"

# The console goes where a post-mortem finds it: Bazel's undeclared outputs (outputs.zip), or
# tools/run_built_tests' outputs/ directory, which the host can read while the run is going on.
console=${TEST_UNDECLARED_OUTPUTS_DIR:-$T}
mkdir -p "$console"

# A guest that stops printing for $stall seconds has hung (it once did, waiting for a timer tick
# that never came): end the run then instead of waiting for the whole timeout.
"$IGVMKIT" run linux.igvm --cpus "$cpus" --memory 512M --timeout "$timeout" \
  >"$console/run.out" 2>"$console/run.err" &
run_pid=$!
last_size=-1
quiet=0
stalled=0
while kill -0 "$run_pid" 2>/dev/null; do
  sleep 5
  size=$(stat -c %s "$console/run.out")
  if [[ $size == "$last_size" ]]; then quiet=$((quiet + 5)); else quiet=0; last_size=$size; fi
  if ((quiet >= stall)); then
    stalled=1
    kill "$run_pid" 2>/dev/null
    break
  fi
done
wait "$run_pid"
status=$?
end=$(echo "$(date +%s.%N) - $t1" | bc)
lines=20
[[ $status == "$cpus" ]] || lines=80
echo "--- console (last $lines lines) ---"
tail -n "$lines" "$console/run.out"
echo "--- igvmkit run --cpus $cpus: status $status after $end s; stderr: $(cat "$console/run.err")"
fail=0
grep -q "Linux version" "$console/run.out" || { echo "FAIL: no 'Linux version' on the console"; fail=1; }
marker=$(grep -m1 -o "IGVMKIT-INIT-OK .*" "$console/run.out")
[[ -n $marker ]] || { echo "FAIL: /init's marker IGVMKIT-INIT-OK never appeared"; fail=1; }
((stalled == 0)) || { echo "FAIL: the guest printed nothing for $stall s: stopped the run"; fail=1; }
[[ $marker == *" online=$cpus "* ]] || { echo "FAIL: /init saw '${marker#IGVMKIT-INIT-OK }', want online=$cpus"; fail=1; }
ticks=$(sed -n 's/.* timer=\([0-9]*\).*/\1/p' <<<"$marker")
[[ -n $marker && ${ticks:-0} -gt 0 ]] || { echo "FAIL: no timer interrupt reached the guest (timer=${ticks:-?}): its tick never ran"; fail=1; }
[[ $status == "$cpus" ]] || { echo "FAIL: the run ended with status $status, want $cpus (from /init)"; fail=1; }
((fail == 0)) || exit 1
echo "ok: $marker; the guest's status $status after $end s"
echo "PASS"
