// builder/testing/cpio.h: a newc ("070701") cpio writer for test initramfs images, and the
// busybox initramfs the real-kernel tests boot (Linux Documentation/driver-api/early-userspace/
// buffer-format.rst: 110-byte ASCII-hex headers, name and data each padded to 4 bytes, ended by
// "TRAILER!!!"). The kernel unpacks an uncompressed newc archive as the initramfs.
//
//   Cpio c;
//   c.dir("dev");
//   c.node("dev/console", 5, 1);
//   c.file("init", script, 0755);
//   ByteVector initrd = c.finish();
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"

namespace igvmkit::builder::testing {

class Cpio {
 public:
  void dir(std::string_view name, uint32_t perm = 0755);
  void file(std::string_view name, Bytes data, uint32_t perm = 0644);
  void file(std::string_view name, std::string_view text, uint32_t perm = 0644);
  void symlink(std::string_view name, std::string_view target);
  void node(std::string_view name, uint32_t major, uint32_t minor, uint32_t perm = 0600);  // char
  // Appends the trailer and returns the archive; the Cpio is empty afterwards.
  ByteVector finish();

 private:
  void entry(std::string_view name, uint32_t mode, Bytes data, uint32_t rmajor = 0,
             uint32_t rminor = 0);
  ByteVector out_;
  uint32_t ino_ = 1;
};

// The marker /init prints on the console once it runs.
inline constexpr std::string_view kInitMarker = "IGVMKIT-INIT-OK";

// An initramfs around a static busybox: /bin/busybox, /bin/sh -> busybox, /dev/console,
// /dev/ttyS0, /dev/null, /proc, /sys, and an /init shell script that mounts /proc, prints
// kInitMarker and the kernel version, and reboots (`reboot -f`; with reboot=k the kernel then
// resets through the i8042, which ends an igvmkit run with status 0).
ByteVector busyboxInitramfs(Bytes busybox);

}  // namespace igvmkit::builder::testing
