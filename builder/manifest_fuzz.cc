// Fuzzes the manifest parser and, for manifests it accepts, the image layout (with every file the
// manifest names read as one small ELF payload). Neither may crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "builder/image.h"
#include "builder/manifest.h"

namespace {

// ELF64 x86-64 ET_EXEC: one RX segment of 16 hlt bytes at 1 MiB, 8 KiB in memory.
const uint8_t kElf[] = {
    0x7F, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // e_ident
    2, 0, 62, 0, 1, 0, 0, 0,                                  // ET_EXEC, x86-64, version
    0, 0, 0x10, 0, 0, 0, 0, 0,                                // e_entry 0x100000
    64, 0, 0, 0, 0, 0, 0, 0,                                  // e_phoff
    0, 0, 0, 0, 0, 0, 0, 0,                                   // e_shoff
    0, 0, 0, 0, 64, 0, 56, 0, 1, 0, 0, 0, 0, 0, 0, 0,         // flags, sizes, phnum 1
    1, 0, 0, 0, 5, 0, 0, 0,                                   // PT_LOAD, R|X
    120, 0, 0, 0, 0, 0, 0, 0,                                 // p_offset
    0, 0, 0x10, 0, 0, 0, 0, 0,                                // p_vaddr
    0, 0, 0x10, 0, 0, 0, 0, 0,                                // p_paddr
    16, 0, 0, 0, 0, 0, 0, 0,                                  // p_filesz
    0, 0x20, 0, 0, 0, 0, 0, 0,                                // p_memsz
    0, 0x10, 0, 0, 0, 0, 0, 0,                                // p_align
    0xF4, 0xF4, 0xF4, 0xF4, 0xF4, 0xF4, 0xF4, 0xF4,
    0xF4, 0xF4, 0xF4, 0xF4, 0xF4, 0xF4, 0xF4, 0xF4,
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = igvmkit::builder::parseManifest(text, "fuzz.toml", "");
  if (!m.ok()) {
    return 0;
  }
  // Keep the layout cheap: huge zero blobs are legal but slow to expand.
  for (const auto& d : m->data) {
    if (d.size.value_or(0) > 0x100'0000) {
      return 0;
    }
  }
  auto reader = [](const std::string&) -> igvmkit::Result<igvmkit::ByteVector> {
    const auto* b = reinterpret_cast<const std::byte*>(kElf);
    return igvmkit::ByteVector(b, b + sizeof(kElf));
  };
  (void)igvmkit::builder::layoutImage(*m, reader);
  return 0;
}
