// make_initramfs BUSYBOX OUT: writes the busybox initramfs of the real-kernel tests
// (builder/testing/cpio.h busyboxInitramfs(): /init prints the marker and reboots).
#include <cstdio>

#include "base/file.h"
#include "builder/testing/cpio.h"

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
  igvmkit::Status s =
      igvmkit::writeFile(argv[2], igvmkit::builder::testing::busyboxInitramfs(*busybox));
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.error().describe().c_str());
    return 2;
  }
  return 0;
}
