// Fuzzes the bzImage setup-header parser and the zero page built from what it accepts.
#include <cstddef>
#include <cstdint>

#include "builder/bzimage.h"
#include "builder/linux_boot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  igvmkit::Bytes bytes(reinterpret_cast<const std::byte*>(data), size);
  auto img = igvmkit::builder::parseBzImage(bytes);
  if (!img.ok()) {
    return 0;
  }
  auto load = igvmkit::builder::chooseLoadAddress(*img, std::nullopt);
  igvmkit::builder::MemoryLayout mem;
  mem.ram = {{0, 0x4000'0000}};
  if (load.ok()) {
    (void)igvmkit::builder::checkKernelPlacement(*img, *load, mem);
    (void)igvmkit::builder::placeInitrd(*img, *load, 0x1000, mem);
    igvmkit::builder::BootParamsInput in;
    in.load_address = *load;
    (void)igvmkit::builder::makeBootParams(*img, in);
  }
  (void)igvmkit::builder::makeCommandLine(*img, "console=ttyS0");
  return 0;
}
