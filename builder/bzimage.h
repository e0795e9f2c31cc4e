// builder/bzimage.h: the x86 bzImage setup header (Linux boot protocol, Documentation/arch/x86/
// boot.rst), parsed from untrusted bytes and judged for a 64-bit direct boot.
//
// parseBzImage() accepts only images the builder can start at their 64-bit entry point:
//   * boot_flag 0xAA55 and the "HdrS" magic (else it is not a bzImage),
//   * boot protocol 2.12 or newer: 2.12 added xloadflags, the only way an image says it has a
//     64-bit entry (the same floor Firecracker and openvmm use, loader-vmm.md §4.2, §5),
//   * XLF_KERNEL_64 set: the 64-bit entry at load address + 0x200 exists,
//   * LOADED_HIGH set: the protected-mode kernel is linked for 1 MiB and up (a bzImage),
//   * a setup header and protected-mode kernel that lie inside the file, init_size covering the
//     kernel, a power-of-two kernel_alignment.
// chooseLoadAddress() then refuses to move a kernel that is not relocatable.
//
//   IGVMKIT_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
//   IGVMKIT_ASSIGN_OR_RETURN(BzImage image, parseBzImage(file.bytes()));
//   IGVMKIT_ASSIGN_OR_RETURN(uint64_t load, chooseLoadAddress(image, manifest_load_address));
//   // copy image.kernel to `load`; enter at load + kBzImage64BitEntryOffset
//
// Error rules: bzimage.truncated, bzimage.magic, bzimage.version, bzimage.not_64bit,
// bzimage.not_loaded_high, bzimage.layout, bzimage.not_relocatable.
#pragma once

#include <cstdint>
#include <optional>

#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit::builder {

inline constexpr uint16_t kBzImageBootFlag = 0xAA55;
inline constexpr uint32_t kBzImageHeaderMagic = 0x5372'6448;  // "HdrS"
inline constexpr uint16_t kBzImageMinVersion = 0x020C;         // boot protocol 2.12
inline constexpr uint16_t kXlfKernel64 = 1u << 0;              // xloadflags: 64-bit entry at +0x200
inline constexpr uint16_t kXlfCanBeLoadedAbove4G = 1u << 1;
inline constexpr uint8_t kLoadedHigh = 1u << 0;                // loadflags
inline constexpr uint64_t kBzImage64BitEntryOffset = 0x200;

// Offsets of the setup header inside the image file and inside boot_params (they coincide).
inline constexpr size_t kSetupHeaderOffset = 0x1F1;
// boot_params ends the setup header area at 0x290 (edd_mbr_sig_buffer follows).
inline constexpr size_t kSetupHeaderMaxEnd = 0x290;

struct BzImage {
  uint16_t version = 0;           // boot protocol, e.g. 0x020F
  uint8_t setup_sects = 0;        // 512-byte setup sectors after the boot sector (0 read as 4)
  uint8_t loadflags = 0;
  uint16_t xloadflags = 0;
  uint8_t relocatable_kernel = 0;
  uint32_t kernel_alignment = 0;  // physical alignment the kernel needs when relocated
  uint32_t initrd_addr_max = 0;   // highest address the initrd may end at (inclusive)
  uint32_t cmdline_size = 0;      // maximum command line length, without the NUL
  uint64_t pref_address = 0;      // preferred load address
  uint32_t init_size = 0;         // bytes the kernel needs from its load address
  uint32_t payload_offset = 0;    // compressed payload, relative to the protected-mode kernel
  uint32_t payload_length = 0;
  uint64_t kernel_offset = 0;     // file offset of the protected-mode kernel: (setup_sects+1)*512
  Bytes setup_header;             // file bytes [0x1F1, 0x202 + byte at 0x201): copied to boot_params
  Bytes kernel;                   // the protected-mode kernel, loaded at the load address
};

// Parses and judges `file` (a view; BzImage keeps pointing into it).
Result<BzImage> parseBzImage(Bytes file);

// Where the kernel goes: `requested` if given, else pref_address. A kernel that is not
// relocatable loads only at pref_address; a relocated one must be kernel_alignment aligned.
Result<uint64_t> chooseLoadAddress(const BzImage& image, std::optional<uint64_t> requested);

}  // namespace igvmkit::builder
