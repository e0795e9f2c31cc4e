// tests/relocation/make_reloc_guest: writes a relocatable guest for run_relocated_test.sh: a
// manifest (native + vbs, relocatable payload, relocatable page tables) and a position-independent
// ELF payload at 1 MiB that exits with status (RIP >> 20) & 0xff, i.e. the MiB it runs at.
//
//   make_reloc_guest where|touch_old DIR      writes DIR/reloc.toml and DIR/payload.elf
//
// `touch_old` first reads the payload's link address 0x100000: once the loader has moved the
// payload and removed its old mapping, that read page-faults (no IDT: triple fault, status 125).
#include <cstdio>
#include <string>

#include "base/bytes.h"
#include "base/file.h"
#include "builder/testing/test_images.h"

using namespace igvmkit;

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "where" && std::string(argv[1]) != "touch_old")) {
    std::fprintf(stderr, "usage: make_reloc_guest where|touch_old DIR\n");
    return 2;
  }
  std::vector<uint8_t> code;
  if (std::string(argv[1]) == "touch_old") {
    code = {0x8b, 0x04, 0x25, 0x00, 0x00, 0x10, 0x00};  // mov eax, [0x100000]
  }
  for (uint8_t b : {0x48, 0x8d, 0x05, 0x00, 0x00, 0x00, 0x00,  // lea rax, [rip]
                    0x48, 0xc1, 0xe8, 0x14,                    // shr rax, 20
                    0xe6, 0xf4,                                // out 0xf4, al
                    0xf4, 0xeb, 0xfd}) {                       // hlt; jmp hlt
    code.push_back(b);
  }
  ByteVector text;
  for (uint8_t b : code) {
    text.push_back(std::byte{b});
  }
  builder::testing::ElfSpec elf;
  elf.entry = 0x100000;
  elf.segments.push_back({1, 5, 0x100000, 0x100000, text, text.size()});
  const std::string dir = argv[2];
  const std::string manifest = R"(# written by tests/relocation/make_reloc_guest
[platform.native]
[platform.vbs]
[memory]
size = "64M"
[payload]
elf = "payload.elf"
[payload.relocatable]
alignment = "1M"
minimum = "1M"
maximum = "1G"
[vp]
page_table_relocation = true
)";
  if (Status s = writeFile(dir + "/payload.elf", builder::testing::makeElf(elf)); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.error().describe().c_str());
    return 1;
  }
  if (Status s = writeFile(dir + "/reloc.toml", toBytes(manifest)); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.error().describe().c_str());
    return 1;
  }
  return 0;
}
