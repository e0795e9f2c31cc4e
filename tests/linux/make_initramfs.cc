// make_initramfs BUSYBOX OUT: writes the busybox initramfs of the Linux guest test. Its /init
// (busybox sh) mounts /proc and /sys, prints "IGVMKIT-INIT-OK <kernel release> online=<count>
// (<online list>) timer=<LAPIC timer interrupts> irq0=<PIT interrupts>" and ends the run with
// the count of online CPUs as igvmkit run's exit status: it writes that byte to I/O port 0xf4
// through /dev/port (cli-contract.md "run details"). A `reboot -f` follows in case the write did
// not end the run (status 0 then, which the test rejects).
#include <cstdio>
#include <string>

#include "base/file.h"
#include "builder/testing/cpio.h"

namespace {

// timer= counts the local APIC timer interrupts (the tick), irq0= the PIT's IRQ 0, both from
// /proc/interrupts. The guest once had no tick at all: the MADT routed IRQ 0 to a pin KVM does not
// drive (loader/params.cc madt()) and Linux, calibrating its LAPIC timer against the PIT, disabled
// it. With the TSC-deadline timer (vmm's CPUID) Linux leaves the PIT alone, so irq0 is 0 then.
constexpr std::string_view kInit = R"INIT(#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
n=$(/bin/busybox nproc)
count() { /bin/busybox awk -v irq="$1" '$1 == irq { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }' /proc/interrupts; }
echo "IGVMKIT-INIT-OK $(/bin/busybox uname -r) online=$n ($(/bin/busybox cat /sys/devices/system/cpu/online)) timer=$(count LOC:) irq0=$(count 0:)"
/bin/busybox printf "\\$(/bin/busybox printf %o "$n")" | /bin/busybox dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
/bin/busybox reboot -f
)INIT";

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_initramfs BUSYBOX OUT\n");
    return 2;
  }
  igvmkit::Result<igvmkit::ByteVector> busybox = igvmkit::readFile(argv[1]);
  if (!busybox.ok()) {
    std::fprintf(stderr, "error: %s\n", busybox.error().describe().c_str());
    return 2;
  }
  igvmkit::builder::testing::Cpio c;
  for (const char* d : {"bin", "dev", "proc", "sys", "tmp"}) {
    c.dir(d);
  }
  c.file("bin/busybox", *busybox, 0755);
  c.symlink("bin/sh", "busybox");
  c.node("dev/console", 5, 1);
  c.node("dev/ttyS0", 4, 64);
  c.node("dev/null", 1, 3, 0666);
  c.node("dev/port", 1, 4);
  c.file("init", kInit, 0755);
  igvmkit::Status s = igvmkit::writeFile(argv[2], c.finish());
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.error().describe().c_str());
    return 2;
  }
  return 0;
}
