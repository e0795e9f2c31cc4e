#include "builder/linux_boot.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "builder/internal/bytes_io.h"

namespace igvmkit::builder {
namespace {

using internal::alignUp;
using internal::put;
constexpr uint64_t kPage = layout::kPageSize;

Error placement(std::string message) { return invalid("linux.placement", std::move(message)); }

}  // namespace

Result<std::vector<E820Entry>> e820FromLayout(const MemoryLayout& memory) {
  std::vector<E820Entry> out;
  auto add = [&](uint64_t start, uint64_t end, uint32_t type) {
    if (end > start) {
      out.push_back({start, end - start, type});
    }
  };
  for (const MemoryRange& r : memory.ram) {
    const uint64_t start = r.base;
    const uint64_t end = r.end();
    const uint64_t hole_start = std::clamp(layout::kLegacyHoleStart, start, end);
    const uint64_t hole_end = std::clamp(layout::kLegacyHoleEnd, start, end);
    add(start, hole_start, kE820Ram);
    add(hole_start, hole_end, kE820Reserved);
    add(hole_end, end, kE820Ram);
  }
  if (out.size() > kE820MaxEntries) {
    return invalid("linux.e820", "the memory layout needs " + std::to_string(out.size()) +
                                     " e820 entries; the zero page holds " +
                                     std::to_string(kE820MaxEntries));
  }
  return out;
}

Status checkKernelPlacement(const BzImage& image, uint64_t load, const MemoryLayout& memory) {
  if (load < layout::kHighMemoryStart) {
    return placement("kernel load address " + hex(load) + " is below " +
                     hex(layout::kHighMemoryStart));
  }
  if (!memory.isRam(load, image.init_size)) {
    return placement("the kernel needs RAM at [" + hex(load) + ", " +
                     hex(load + image.init_size) + ") (init_size " + hex(image.init_size) + ")");
  }
  return okStatus();
}

Result<uint64_t> placeInitrd(const BzImage& image, uint64_t load, uint64_t initrd_size,
                             const MemoryLayout& memory) {
  const uint64_t kernel_end = std::max(load, image.pref_address) + image.init_size;
  const uint64_t gpa = alignUp(kernel_end, layout::kInitrdAlignment);
  if (initrd_size == 0) {
    return placement("the initrd is empty");
  }
  if (gpa > std::numeric_limits<uint64_t>::max() - initrd_size) {
    return placement("initrd size " + hex(initrd_size) + " wraps");
  }
  const uint64_t end = gpa + initrd_size;
  // initrd_addr_max is the highest address the initrd may occupy (inclusive).
  uint64_t limit = uint64_t{image.initrd_addr_max} + 1;
  if ((image.xloadflags & kXlfCanBeLoadedAbove4G) != 0) {
    limit = std::numeric_limits<uint64_t>::max();
  }
  if (end > limit) {
    return placement("initrd at [" + hex(gpa) + ", " + hex(end) + ") ends above the kernel's "
                     "initrd_addr_max " + hex(image.initrd_addr_max));
  }
  if (!memory.isRam(gpa, initrd_size)) {
    return placement("initrd at [" + hex(gpa) + ", " + hex(end) + ") is not inside RAM");
  }
  return gpa;
}

Result<ByteVector> makeCommandLine(const BzImage& image, std::string_view cmdline) {
  if (cmdline.find('\0') != std::string_view::npos) {
    return invalid("linux.cmdline", "the command line contains a NUL character");
  }
  // cmdline_size is the longest command line the kernel takes, without the NUL.
  if (cmdline.size() > image.cmdline_size) {
    return invalid("linux.cmdline", "command line of " + std::to_string(cmdline.size()) +
                                        " bytes exceeds the kernel's cmdline_size " +
                                        std::to_string(image.cmdline_size));
  }
  if (cmdline.size() + 1 > layout::kCommandLineMaxBytes) {
    return invalid("linux.cmdline", "command line of " + std::to_string(cmdline.size()) +
                                        " bytes does not fit its page");
  }
  ByteVector out(cmdline.size() + 1, std::byte{0});
  if (!cmdline.empty()) {
    std::memcpy(out.data(), cmdline.data(), cmdline.size());
  }
  return out;
}

Result<ByteVector> makeBootParams(const BzImage& image, const BootParamsInput& in) {
  namespace bp = boot_params;
  if (in.e820.size() > kE820MaxEntries) {
    return invalid("linux.e820", std::to_string(in.e820.size()) + " e820 entries do not fit");
  }
  if (image.setup_header.size() > kSetupHeaderMaxEnd - kSetupHeaderOffset) {
    return invalid("linux.placement", "setup header too long");
  }
  if (in.load_address > 0xFFFF'FFFF) {
    return placement("code32_start cannot hold load address " + hex(in.load_address));
  }
  ByteVector zp(kPage, std::byte{0});
  // The boot protocol has the loader copy the header from 0x1F1 to its end (loader-vmm.md §4.4).
  std::memcpy(zp.data() + kSetupHeaderOffset, image.setup_header.data(), image.setup_header.size());
  put<uint8_t>(zp, bp::kTypeOfLoader, 0xFF);  // "undefined" boot loader
  put<uint32_t>(zp, bp::kCode32Start, static_cast<uint32_t>(in.load_address));
  put<uint32_t>(zp, bp::kCmdLinePtr, static_cast<uint32_t>(in.cmdline_gpa));
  put<uint32_t>(zp, bp::kExtCmdLinePtr, static_cast<uint32_t>(in.cmdline_gpa >> 32));
  put<uint32_t>(zp, bp::kRamdiskImage, static_cast<uint32_t>(in.initrd_gpa));
  put<uint32_t>(zp, bp::kExtRamdiskImage, static_cast<uint32_t>(in.initrd_gpa >> 32));
  put<uint32_t>(zp, bp::kRamdiskSize, static_cast<uint32_t>(in.initrd_size));
  put<uint32_t>(zp, bp::kExtRamdiskSize, static_cast<uint32_t>(in.initrd_size >> 32));
  if (in.cc_blob_gpa > 0xFFFF'FFFF) {
    return placement("cc_blob_address cannot hold " + hex(in.cc_blob_gpa));
  }
  put<uint32_t>(zp, bp::kCcBlobAddress, static_cast<uint32_t>(in.cc_blob_gpa));
  put<uint64_t>(zp, bp::kAcpiRsdpAddr, in.acpi_rsdp_gpa);
  put<uint8_t>(zp, bp::kE820Entries, static_cast<uint8_t>(in.e820.size()));
  for (size_t i = 0; i < in.e820.size(); ++i) {
    const size_t off = bp::kE820Table + i * 20;
    put<uint64_t>(zp, off, in.e820[i].addr);
    put<uint64_t>(zp, off + 8, in.e820[i].size);
    put<uint32_t>(zp, off + 16, in.e820[i].type);
  }
  return zp;
}

ElfKernelHeader makeElfKernelHeader(uint64_t load, uint64_t span) {
  constexpr size_t kEnd = 0x268;  // kernel_info_offset: the last field this header describes
  ElfKernelHeader h;
  ByteVector zp(kEnd, std::byte{0});
  put<uint16_t>(zp, 0x1FE, kBzImageBootFlag);
  put<uint8_t>(zp, 0x200, 0xEB);  // the "jump": its offset byte gives the header's length
  put<uint8_t>(zp, 0x201, static_cast<uint8_t>(kEnd - 0x202));
  put<uint32_t>(zp, 0x202, kBzImageHeaderMagic);
  put<uint16_t>(zp, 0x206, 0x020F);
  put<uint8_t>(zp, 0x211, kLoadedHigh);
  put<uint32_t>(zp, 0x22C, 0x7FFF'FFFF);  // initrd_addr_max
  put<uint32_t>(zp, 0x230, static_cast<uint32_t>(layout::kLargePageSize));  // kernel_alignment
  put<uint16_t>(zp, 0x236, kXlfKernel64);
  put<uint32_t>(zp, 0x238, kElfKernelCmdlineSize);
  put<uint64_t>(zp, 0x258, load);  // pref_address
  put<uint32_t>(zp, 0x260, static_cast<uint32_t>(span));  // init_size
  h.setup_header.assign(zp.begin() + kSetupHeaderOffset, zp.end());
  h.image.version = 0x020F;
  h.image.loadflags = kLoadedHigh;
  h.image.xloadflags = kXlfKernel64;
  h.image.kernel_alignment = static_cast<uint32_t>(layout::kLargePageSize);
  h.image.initrd_addr_max = 0x7FFF'FFFF;
  h.image.cmdline_size = kElfKernelCmdlineSize;
  h.image.pref_address = load;
  h.image.init_size = static_cast<uint32_t>(span);
  h.image.setup_header = h.setup_header;
  return h;
}

namespace {

// The byte that makes [begin, end) of `page` sum to zero (ACPI table checksums).
uint8_t acpiChecksum(const ByteVector& page, size_t begin, size_t end) {
  uint8_t sum = 0;
  for (size_t i = begin; i < end; ++i) {
    sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(page[i]));
  }
  return static_cast<uint8_t>(0x100 - sum);
}

void putText(ByteVector& page, size_t offset, std::string_view text) {
  std::memcpy(page.data() + offset, text.data(), text.size());
}

}  // namespace

ByteVector makeAcpiRootPage(uint64_t page_gpa, uint64_t madt_gpa) {
  ByteVector page(kPage, std::byte{0});
  // RSDP, revision 2 (36 bytes): checksum over the first 20 bytes, extended over all 36.
  putText(page, 0, "RSD PTR ");
  putText(page, 9, "IGVMKT");             // OEM ID
  put<uint8_t>(page, 15, 2);              // revision: ACPI 2.0+, XSDT present
  put<uint32_t>(page, 20, 36);            // length
  put<uint64_t>(page, 24, page_gpa + kAcpiXsdtOffset);
  put<uint8_t>(page, 8, acpiChecksum(page, 0, 20));
  put<uint8_t>(page, 32, acpiChecksum(page, 0, 36));
  // XSDT: the 36-byte table header and one 64-bit entry.
  const size_t x = kAcpiXsdtOffset;
  constexpr uint32_t kXsdtLength = 36 + 8;
  putText(page, x, "XSDT");
  put<uint32_t>(page, x + 4, kXsdtLength);
  put<uint8_t>(page, x + 8, 1);  // revision
  putText(page, x + 10, "IGVMKT");
  putText(page, x + 16, "IGVMKITX");
  put<uint32_t>(page, x + 24, 1);           // OEM revision
  put<uint32_t>(page, x + 28, 0x4B4D5649);  // creator ID "IVMK", as the loader's MADT
  put<uint32_t>(page, x + 32, 1);           // creator revision
  put<uint64_t>(page, x + 36, madt_gpa);
  put<uint8_t>(page, x + 9, acpiChecksum(page, x, x + kXsdtLength));
  return page;
}

ByteVector makeCcBlobPage(uint64_t secrets_gpa, uint64_t cpuid_gpa) {
  ByteVector page(kPage, std::byte{0});
  put<uint32_t>(page, 0, 0x45444D41);  // "AMDE"
  put<uint16_t>(page, 4, 1);           // version
  put<uint64_t>(page, 8, secrets_gpa);
  put<uint32_t>(page, 16, static_cast<uint32_t>(kPage));
  put<uint64_t>(page, 24, cpuid_gpa);
  put<uint32_t>(page, 32, static_cast<uint32_t>(kPage));
  return page;
}

}  // namespace igvmkit::builder
