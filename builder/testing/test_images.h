// builder/testing/test_images.h: small synthetic bzImage and ELF files for tests, built from a
// readable description (each field is set explicitly so a test can break exactly one rule).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "builder/image.h"

namespace igvmkit::builder::testing {

struct BzImageSpec {
  uint16_t boot_flag = 0xAA55;
  uint32_t magic = 0x53726448;  // "HdrS"
  uint16_t version = 0x020F;
  uint8_t setup_sects = 1;
  uint8_t jump_length = 0x6A;  // header ends at 0x202 + 0x6A = 0x26C (protocol 2.15)
  uint8_t loadflags = 0x01;    // LOADED_HIGH
  uint16_t xloadflags = 0x03;  // XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G
  uint8_t relocatable_kernel = 1;
  uint32_t kernel_alignment = 0x20'0000;
  uint32_t initrd_addr_max = 0x7FFF'FFFF;
  uint32_t cmdline_size = 2047;
  uint64_t pref_address = 0x100'0000;
  uint32_t init_size = 0x40'0000;
  uint32_t payload_offset = 0x100;
  uint32_t payload_length = 0x800;
  uint64_t kernel_bytes = 0x3000;  // protected-mode kernel length (filled with a pattern)
};

// The file: boot sector + setup_sects sectors of setup (header at 0x1F1), then the kernel.
ByteVector makeBzImage(const BzImageSpec& spec);

struct ElfSegmentSpec {
  uint32_t type = 1;  // PT_LOAD
  uint32_t flags = 5;  // PF_R | PF_X
  uint64_t paddr = 0;
  uint64_t vaddr = 0;
  ByteVector data;     // p_filesz bytes
  uint64_t mem_size = 0;
};

struct ElfSpec {
  uint8_t elf_class = 2;  // ELFCLASS64
  uint8_t data = 1;       // little endian
  uint16_t type = 2;      // ET_EXEC
  uint16_t machine = 62;  // x86-64
  uint64_t entry = 0;
  std::vector<ElfSegmentSpec> segments;
};

ByteVector makeElf(const ElfSpec& spec);

// A two-segment payload ELF with its entry at 1 MiB: 0x20 bytes of NOPs (R+X) at 0x100000 and
// 8 bytes of 0x55 with a 0x3000-byte memory size (R+W) at 0x101000.
ByteVector smallPayloadElf();

// Input files held in memory, for the builder's FileReader: a path not added is "not found".
class MemoryFiles {
 public:
  void add(const std::string& path, ByteVector bytes) { files_[path] = std::move(bytes); }
  // Reads from this object, which must outlive the reader.
  FileReader reader() const;

 private:
  std::map<std::string, ByteVector> files_;
};

}  // namespace igvmkit::builder::testing
