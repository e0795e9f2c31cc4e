#include "builder/testing/cpio.h"

#include <cstdio>
#include <cstring>

namespace igvmkit::builder::testing {
namespace {

constexpr uint32_t kModeDir = 0040000, kModeFile = 0100000, kModeLink = 0120000,
                   kModeChar = 0020000;

void pad4(ByteVector& out) {
  while (out.size() % 4 != 0) {
    out.push_back(std::byte{0});
  }
}

Bytes textBytes(std::string_view s) { return Bytes(reinterpret_cast<const std::byte*>(s.data()), s.size()); }

}  // namespace

void Cpio::entry(std::string_view name, uint32_t mode, Bytes data, uint32_t rmajor,
                 uint32_t rminor) {
  const uint32_t fields[13] = {ino_++, mode, 0, 0, (mode & kModeDir) == kModeDir ? 2u : 1u, 0,
                               static_cast<uint32_t>(data.size()), 0, 0, rmajor, rminor,
                               static_cast<uint32_t>(name.size() + 1), 0};
  std::string header = "070701";
  char hex8[9];
  for (uint32_t f : fields) {
    std::snprintf(hex8, sizeof hex8, "%08X", f);
    header += hex8;
  }
  for (char c : header) {
    out_.push_back(static_cast<std::byte>(c));
  }
  for (char c : name) {
    out_.push_back(static_cast<std::byte>(c));
  }
  out_.push_back(std::byte{0});
  pad4(out_);
  out_.insert(out_.end(), data.begin(), data.end());
  pad4(out_);
}

void Cpio::dir(std::string_view name, uint32_t perm) { entry(name, kModeDir | perm, {}); }

void Cpio::file(std::string_view name, Bytes data, uint32_t perm) {
  entry(name, kModeFile | perm, data);
}

void Cpio::file(std::string_view name, std::string_view text, uint32_t perm) {
  file(name, textBytes(text), perm);
}

void Cpio::symlink(std::string_view name, std::string_view target) {
  entry(name, kModeLink | 0777, textBytes(target));
}

void Cpio::node(std::string_view name, uint32_t major, uint32_t minor, uint32_t perm) {
  entry(name, kModeChar | perm, {}, major, minor);
}

ByteVector Cpio::finish() {
  entry("TRAILER!!!", 0, {});
  ByteVector out = std::move(out_);
  out_.clear();
  ino_ = 1;
  return out;
}

ByteVector busyboxInitramfs(Bytes busybox) {
  Cpio c;
  for (const char* d : {"bin", "dev", "proc", "sys", "tmp"}) {
    c.dir(d);
  }
  c.file("bin/busybox", busybox, 0755);
  c.symlink("bin/sh", "busybox");
  c.node("dev/console", 5, 1);
  c.node("dev/ttyS0", 4, 64);
  c.node("dev/null", 1, 3, 0666);
  const std::string init = std::string("#!/bin/busybox sh\n") +
                           "/bin/busybox mount -t proc proc /proc\n"
                           "/bin/busybox echo " + std::string(kInitMarker) + " $(/bin/busybox uname -r)\n"
                           "/bin/busybox reboot -f\n";
  c.file("init", init, 0755);
  return c.finish();
}

}  // namespace igvmkit::builder::testing
