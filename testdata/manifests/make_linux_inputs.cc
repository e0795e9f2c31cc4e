// Writes the inputs linux.toml names so it builds as shipped: a synthetic bzImage (boot protocol
// 2.15 header, 64-bit entry; builder/testing/test_images.h) and a small initrd. They show the
// layout, not a bootable Linux: point linux.toml at a real kernel and initrd to boot one.
//   make_linux_inputs VMLINUZ INITRD
#include <cstdio>

#include "base/file.h"
#include "builder/testing/test_images.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_linux_inputs VMLINUZ INITRD\n");
    return 2;
  }
  const igvmkit::ByteVector kernel = igvmkit::builder::testing::makeBzImage({});
  const igvmkit::ByteVector initrd(0x1800, std::byte{0x5A});
  for (const auto& [path, bytes] : {std::pair{argv[1], &kernel}, std::pair{argv[2], &initrd}}) {
    igvmkit::Status s = igvmkit::writeFile(path, *bytes);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.error().describe().c_str());
      return 1;
    }
  }
  return 0;
}
