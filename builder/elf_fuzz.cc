// Fuzzes the ELF payload parser and the page assembly of what it accepts.
#include <cstddef>
#include <cstdint>

#include "builder/elf.h"
#include "builder/pages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  igvmkit::Bytes bytes(reinterpret_cast<const std::byte*>(data), size);
  auto elf = igvmkit::builder::parseElf(bytes);
  if (!elf.ok()) {
    return 0;
  }
  igvmkit::builder::PageSet pages;
  for (const auto& s : elf->segments) {
    if (!pages.write(s.gpa, s.data, "segment").ok()) {
      return 0;
    }
    (void)pages.reserve(s.gpa + s.data.size(), s.mem_size - s.data.size(), "bss");
  }
  (void)pages.pages();
  return 0;
}
