#include "builder/testing/test_images.h"

#include <cstring>

namespace igvmkit::builder::testing {
namespace {

template <class T>
void put(ByteVector& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof(T));
}

}  // namespace

ByteVector makeBzImage(const BzImageSpec& s) {
  const size_t sects = s.setup_sects == 0 ? 4 : s.setup_sects;
  const size_t setup = (sects + 1) * 512;
  ByteVector b(setup + s.kernel_bytes, std::byte{0});
  put<uint8_t>(b, 0x1F1, s.setup_sects);
  put<uint16_t>(b, 0x1FE, s.boot_flag);
  put<uint8_t>(b, 0x200, 0xEB);  // jmp short over the header
  put<uint8_t>(b, 0x201, s.jump_length);
  put<uint32_t>(b, 0x202, s.magic);
  put<uint16_t>(b, 0x206, s.version);
  put<uint8_t>(b, 0x211, s.loadflags);
  put<uint32_t>(b, 0x214, 0x100000);  // code32_start as built
  put<uint32_t>(b, 0x22C, s.initrd_addr_max);
  put<uint32_t>(b, 0x230, s.kernel_alignment);
  put<uint8_t>(b, 0x234, s.relocatable_kernel);
  put<uint16_t>(b, 0x236, s.xloadflags);
  put<uint32_t>(b, 0x238, s.cmdline_size);
  put<uint32_t>(b, 0x248, s.payload_offset);
  put<uint32_t>(b, 0x24C, s.payload_length);
  put<uint64_t>(b, 0x258, s.pref_address);
  put<uint32_t>(b, 0x260, s.init_size);
  for (size_t i = 0; i < s.kernel_bytes; ++i) {
    b[setup + i] = static_cast<std::byte>((i * 7 + 1) & 0xFF);
  }
  return b;
}

ByteVector makeElf(const ElfSpec& s) {
  const size_t phoff = 64;
  size_t data_off = phoff + 56 * s.segments.size();
  size_t total = data_off;
  for (const ElfSegmentSpec& seg : s.segments) {
    total += seg.data.size();
  }
  ByteVector b(total, std::byte{0});
  const uint8_t ident[16] = {0x7F, 'E', 'L', 'F', s.elf_class, s.data, 1, 0};
  std::memcpy(b.data(), ident, sizeof(ident));
  put<uint16_t>(b, 16, s.type);
  put<uint16_t>(b, 18, s.machine);
  put<uint32_t>(b, 20, 1);
  put<uint64_t>(b, 24, s.entry);
  put<uint64_t>(b, 32, phoff);
  put<uint16_t>(b, 52, 64);
  put<uint16_t>(b, 54, 56);
  put<uint16_t>(b, 56, static_cast<uint16_t>(s.segments.size()));
  for (size_t i = 0; i < s.segments.size(); ++i) {
    const ElfSegmentSpec& seg = s.segments[i];
    const size_t ph = phoff + 56 * i;
    put<uint32_t>(b, ph, seg.type);
    put<uint32_t>(b, ph + 4, seg.flags);
    put<uint64_t>(b, ph + 8, data_off);
    put<uint64_t>(b, ph + 16, seg.vaddr);
    put<uint64_t>(b, ph + 24, seg.paddr);
    put<uint64_t>(b, ph + 32, seg.data.size());
    put<uint64_t>(b, ph + 40, seg.mem_size);
    put<uint64_t>(b, ph + 48, 0x1000);
    if (!seg.data.empty()) {
      std::memcpy(b.data() + data_off, seg.data.data(), seg.data.size());
    }
    data_off += seg.data.size();
  }
  return b;
}

ByteVector smallPayloadElf() {
  ElfSpec s;
  s.entry = 0x10'0000;
  s.segments.push_back({1, 5, 0x10'0000, 0x10'0000, ByteVector(0x20, std::byte{0x90}), 0x20});
  s.segments.push_back({1, 6, 0x10'1000, 0x10'1000, ByteVector(8, std::byte{0x55}), 0x3000});
  return makeElf(s);
}

FileReader MemoryFiles::reader() const {
  return [this](const std::string& path) -> Result<ByteVector> {
    auto it = files_.find(path);
    if (it == files_.end()) {
      return unreadable(path + ": not found");
    }
    return it->second;
  };
}

}  // namespace igvmkit::builder::testing
