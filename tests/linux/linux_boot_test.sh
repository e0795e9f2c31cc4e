#!/bin/bash
# Opt-in (tags manual, requires-kvm): Debian's kernel and a busybox initramfs, built into a native
# IGVM image by `igvmkit build`, booted with `igvmkit run`. Stage 1 waits for the kernel's banner
# ("Linux version") on COM1; with IGVMKIT_LINUX_INIT=1 it waits on for /init's marker and the
# reboot it asks for (exit status 0). Inputs: IGVMKIT_VMLINUX (the uncompressed kernel, preferred)
# or IGVMKIT_KERNEL (the bzImage), and IGVMKIT_BUSYBOX, all from tools/fetch_linux --print.
# IGVMKIT_LINUX_TIMEOUT: seconds for the run (default 600, or 2400 with IGVMKIT_LINUX_INIT=1).
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
init=${IGVMKIT_LINUX_INIT:-0}
timeout=${IGVMKIT_LINUX_TIMEOUT:-$([[ $init == 1 ]] && echo 2400 || echo 600)}
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
cmdline = "console=ttyS0 earlyprintk=serial,ttyS0,115200 reboot=k panic=-1 noxsave i8042.noaux i8042.nomux i8042.dumbkbd"
TOML
t0=$(date +%s.%N)
"$IGVMKIT" build linux.toml -o linux.igvm || { echo "FAIL: igvmkit build"; exit 1; }
t1=$(date +%s.%N)
echo "built linux.igvm ($(stat -c %s linux.igvm) bytes) in $(echo "$t1 - $t0" | bc) s from $kernel"

# The console, each line stamped with the seconds since the run started; stage 1 stops the run
# once the banner is there.
: >console.txt
"$IGVMKIT" run linux.igvm --memory 512M --timeout "$timeout" >run.out 2>run.err &
pid=$!
banner=""
status=""
while kill -0 "$pid" 2>/dev/null; do
  if [[ -z $banner ]] && grep -q "Linux version" run.out; then
    banner=$(echo "$(date +%s.%N) - $t1" | bc)
    echo "kernel banner after $banner s"
    if [[ $init != 1 ]]; then
      kill "$pid"
      break
    fi
  fi
  sleep 1
done
wait "$pid"
status=$?
end=$(echo "$(date +%s.%N) - $t1" | bc)
echo "--- console (last 15 lines) ---"
tail -n 15 run.out
echo "--- igvmkit run: status $status after $end s; stderr: $(cat run.err)"
if ! grep -q "Linux version" run.out; then
  echo "FAIL: no 'Linux version' on the console within $timeout s"
  exit 1
fi
if [[ $init == 1 ]]; then
  if ! grep -q "IGVMKIT-INIT-OK" run.out; then
    echo "FAIL: /init's marker IGVMKIT-INIT-OK never appeared"
    exit 1
  fi
  if [[ $status != 0 ]]; then
    echo "FAIL: the run ended with status $status, want 0 (/init reboots, reboot=k)"
    exit 1
  fi
  echo "ok: /init ran after $end s"
fi
echo "PASS"
