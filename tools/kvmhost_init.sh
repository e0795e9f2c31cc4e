#!/bin/busybox sh
# /init of tools/kvmhost's nested KVM host (runs from its initramfs, under busybox-static).
# Loads the modules for virtio, 9p and KVM, mounts the host's / read-only (9p tag "root") with the
# writable shares listed in /ctl/shares over it at the same paths, runs /ctl/run.sh there with its
# stdout and stderr on the virtio ports "out" and "err", writes its exit status to /ctl/status and
# powers off. Anything that goes wrong is reported on the console (ttyS0), which tools/kvmhost
# shows when no status came back.
/bin/busybox mkdir -p /proc /sys /dev /ctl /root /usr/bin /sbin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

stop() {
  echo "kvmhost-init: $*" >/dev/console
  poweroff -f
}

# Dependency order (there is no modules.dep in the initramfs).
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_console \
  9pnet 9pnet_virtio netfs fscache 9p irqbypass ccp kvm; do
  insmod "/lib/modules/$m.ko" || stop "insmod $m failed"
done
# The vendor module for the CPU QEMU gives us (-cpu max under TCG is AMD-like with SVM; -cpu host
# under KVM is whatever the machine is).
if grep -qw svm /proc/cpuinfo; then
  insmod /lib/modules/kvm-amd.ko || stop "insmod kvm-amd failed"
elif grep -qw vmx /proc/cpuinfo; then
  insmod /lib/modules/kvm-intel.ko || stop "insmod kvm-intel failed"
else
  stop "the CPU offers neither SVM nor VMX: no nested KVM"
fi
[ -c /dev/kvm ] || stop "no /dev/kvm after loading kvm"

p9="trans=virtio,version=9p2000.L,msize=512000"
mount -t 9p -o "$p9,cache=none" ctl /ctl || stop "cannot mount the control share"
mount -t 9p -o "$p9,ro,cache=loose" root /root || stop "cannot mount the host's /"
for d in proc sys dev tmp run var/tmp; do
  [ -d "/root/$d" ] || stop "the host has no /$d"
done
mount -t proc proc /root/proc
mount -t sysfs sysfs /root/sys
mount -t devtmpfs devtmpfs /root/dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /root/dev/pts
mount -t tmpfs tmpfs /root/dev/shm
for d in tmp run var/tmp; do
  mount -t tmpfs -o mode=1777 tmpfs "/root/$d"
done
# "TAG PATH" lines: each writable share at its host path; the control share (a 9p tag mounts once)
# is bound there from /ctl.
while read -r tag path; do
  mkdir -p "/root$path" 2>/dev/null
  if [ "$tag" = ctl ]; then
    mount --bind /ctl "/root$path" || stop "cannot bind $path"
  else
    mount -t 9p -o "$p9,cache=mmap" "$tag" "/root$path" || stop "cannot mount $path"
  fi
done </ctl/shares

port() {
  for p in /sys/class/virtio-ports/*; do
    if [ "$(cat "$p/name")" = "$1" ]; then
      echo "/dev/${p##*/}"
      return
    fi
  done
  stop "no virtio port $1"
}
# A heartbeat on the console: when a run hangs, tools/kvmhost's watchdog shows the console, and
# the last beat tells a nested host that stopped (no beats) from a command that hangs in it.
(
  while sleep 60; do
    echo "kvmhost-init: alive, uptime $(cut -d' ' -f1 /proc/uptime) s, load $(cut -d' ' -f1-3 /proc/loadavg)" >/dev/console
  done
) &
out=$(port out)
err=$(port err)
run=$(cat /ctl/run_path)
chroot /root /bin/bash "$run" </dev/null >"$out" 2>"$err"
echo $? >/ctl/status
sync
poweroff -f
