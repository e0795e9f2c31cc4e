#!/bin/bash
# The Linux guest, SMP included (tag requires-kvm: tools/test runs it in tools/kvmhost where this
# machine has no /dev/kvm): Debian's kernel and a busybox initramfs (make_initramfs) built into a
# native IGVM image by `igvmkit build`, run with `igvmkit run --cpus 2`. /init prints
# "IGVMKIT-INIT-OK <release> online=<n>" and ends the run with n as the exit status (port 0xf4),
# so the status comes from the guest: it must be 2, the vCPUs Linux found (through the ACPI MADT
# the loader writes and the builder's RSDP/XSDT lead to). Inputs: IGVMKIT_VMLINUX (the
# uncompressed kernel, preferred) or IGVMKIT_KERNEL (the bzImage), and IGVMKIT_BUSYBOX, from
# tools/fetch_linux --print. IGVMKIT_LINUX_TIMEOUT: seconds for the run (default 600).
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

"$IGVMKIT" run linux.igvm --cpus "$cpus" --memory 512M --timeout "$timeout" >run.out 2>run.err
status=$?
end=$(echo "$(date +%s.%N) - $t1" | bc)
echo "--- console (last 20 lines) ---"
tail -n 20 run.out
echo "--- igvmkit run --cpus $cpus: status $status after $end s; stderr: $(cat run.err)"
fail=0
grep -q "Linux version" run.out || { echo "FAIL: no 'Linux version' on the console"; fail=1; }
marker=$(grep -m1 -o "IGVMKIT-INIT-OK .*" run.out)
[[ -n $marker ]] || { echo "FAIL: /init's marker IGVMKIT-INIT-OK never appeared"; fail=1; }
[[ $marker == *" online=$cpus "* ]] || { echo "FAIL: /init saw '${marker#IGVMKIT-INIT-OK }', want online=$cpus"; fail=1; }
[[ $status == "$cpus" ]] || { echo "FAIL: the run ended with status $status, want $cpus (from /init)"; fail=1; }
((fail == 0)) || exit 1
echo "ok: $marker; the guest's status $status after $end s"
echo "PASS"
