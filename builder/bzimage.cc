#include "builder/bzimage.h"

#include <bit>
#include <string>

namespace igvmkit::builder {
namespace {

// Setup header field offsets (file offset = boot_params offset; loader-vmm.md §5.3).
constexpr uint64_t kSetupSects = 0x1F1;
constexpr uint64_t kBootFlag = 0x1FE;
constexpr uint64_t kJumpLength = 0x201;  // second byte of the jump: header length past 0x202
constexpr uint64_t kHeader = 0x202;
constexpr uint64_t kVersion = 0x206;
constexpr uint64_t kLoadflags = 0x211;
constexpr uint64_t kInitrdAddrMax = 0x22C;
constexpr uint64_t kKernelAlignment = 0x230;
constexpr uint64_t kRelocatableKernel = 0x234;
constexpr uint64_t kXloadflags = 0x236;
constexpr uint64_t kCmdlineSize = 0x238;
constexpr uint64_t kPayloadOffset = 0x248;
constexpr uint64_t kPayloadLength = 0x24C;
constexpr uint64_t kPrefAddress = 0x258;
constexpr uint64_t kInitSize = 0x260;
// Protocol 2.12 headers reach at least to the end of init_size.
constexpr uint64_t kMinHeaderEnd = kInitSize + 4;

Error bzError(std::string rule, std::string message, std::optional<uint64_t> offset = {}) {
  Location loc;
  loc.offset = offset;
  return invalid("bzimage." + rule, std::move(message), offset ? std::optional(loc) : std::nullopt);
}

}  // namespace

Result<BzImage> parseBzImage(Bytes file) {
  if (file.size() < kMinHeaderEnd) {
    return bzError("truncated", "file of " + hex(file.size()) +
                                    " bytes is too short for a setup header (needs " +
                                    hex(kMinHeaderEnd) + ")");
  }
  BzImage img;
  IGVMKIT_ASSIGN_OR_RETURN(uint16_t boot_flag, readStruct<uint16_t>(file, kBootFlag));
  IGVMKIT_ASSIGN_OR_RETURN(uint32_t magic, readStruct<uint32_t>(file, kHeader));
  if (boot_flag != kBzImageBootFlag || magic != kBzImageHeaderMagic) {
    return bzError("magic", "no bzImage setup header (boot_flag " + hex(boot_flag) + ", header " +
                                hex(magic) + ")",
                   kBootFlag);
  }
  IGVMKIT_ASSIGN_OR_RETURN(img.version, readStruct<uint16_t>(file, kVersion));
  if (img.version < kBzImageMinVersion) {
    return bzError("version",
                   "boot protocol " + hex(img.version) + " is older than 0x20c (2.12), which "
                   "introduced the 64-bit entry flag",
                   kVersion);
  }
  IGVMKIT_ASSIGN_OR_RETURN(img.setup_sects, readStruct<uint8_t>(file, kSetupSects));
  IGVMKIT_ASSIGN_OR_RETURN(img.loadflags, readStruct<uint8_t>(file, kLoadflags));
  IGVMKIT_ASSIGN_OR_RETURN(img.initrd_addr_max, readStruct<uint32_t>(file, kInitrdAddrMax));
  IGVMKIT_ASSIGN_OR_RETURN(img.kernel_alignment, readStruct<uint32_t>(file, kKernelAlignment));
  IGVMKIT_ASSIGN_OR_RETURN(img.relocatable_kernel, readStruct<uint8_t>(file, kRelocatableKernel));
  IGVMKIT_ASSIGN_OR_RETURN(img.xloadflags, readStruct<uint16_t>(file, kXloadflags));
  IGVMKIT_ASSIGN_OR_RETURN(img.cmdline_size, readStruct<uint32_t>(file, kCmdlineSize));
  IGVMKIT_ASSIGN_OR_RETURN(img.payload_offset, readStruct<uint32_t>(file, kPayloadOffset));
  IGVMKIT_ASSIGN_OR_RETURN(img.payload_length, readStruct<uint32_t>(file, kPayloadLength));
  IGVMKIT_ASSIGN_OR_RETURN(img.pref_address, readStruct<uint64_t>(file, kPrefAddress));
  IGVMKIT_ASSIGN_OR_RETURN(img.init_size, readStruct<uint32_t>(file, kInitSize));

  if ((img.xloadflags & kXlfKernel64) == 0) {
    return bzError("not_64bit", "xloadflags " + hex(img.xloadflags) +
                                    " lack XLF_KERNEL_64: the image has no 64-bit entry point",
                   kXloadflags);
  }
  if ((img.loadflags & kLoadedHigh) == 0) {
    return bzError("not_loaded_high",
                   "loadflags " + hex(img.loadflags) +
                       " lack LOADED_HIGH: a zImage kernel runs at 0x10000, not supported",
                   kLoadflags);
  }
  // The header runs from 0x1F1 to 0x202 + the jump's displacement byte (boot protocol).
  IGVMKIT_ASSIGN_OR_RETURN(uint8_t jump_length, readStruct<uint8_t>(file, kJumpLength));
  const uint64_t header_end = kHeader + jump_length;
  if (header_end < kMinHeaderEnd || header_end > kSetupHeaderMaxEnd) {
    return bzError("layout",
                   "setup header ends at " + hex(header_end) + ", outside [" +
                       hex(kMinHeaderEnd) + ", " + hex(kSetupHeaderMaxEnd) + "]",
                   kJumpLength);
  }
  IGVMKIT_ASSIGN_OR_RETURN(img.setup_header,
                           slice(file, kSetupHeaderOffset, header_end - kSetupHeaderOffset));
  const uint64_t sects = img.setup_sects == 0 ? 4 : img.setup_sects;
  img.kernel_offset = (sects + 1) * 512;
  if (img.kernel_offset >= file.size()) {
    return bzError("truncated", "protected-mode kernel at " + hex(img.kernel_offset) +
                                    " starts past the end of the file (" + hex(file.size()) + ")",
                   kSetupSects);
  }
  img.kernel = file.subspan(img.kernel_offset);
  if (img.kernel_alignment == 0 || !std::has_single_bit(img.kernel_alignment)) {
    return bzError("layout", "kernel_alignment " + hex(img.kernel_alignment) +
                                 " is not a power of two",
                   kKernelAlignment);
  }
  if (img.init_size < img.kernel.size()) {
    return bzError("layout",
                   "init_size " + hex(img.init_size) + " is smaller than the kernel (" +
                       hex(img.kernel.size()) + " bytes)",
                   kInitSize);
  }
  if (img.payload_length != 0 &&
      (img.payload_offset > img.kernel.size() ||
       img.payload_length > img.kernel.size() - img.payload_offset)) {
    return bzError("layout",
                   "compressed payload " + hex(img.payload_offset) + " + " +
                       hex(img.payload_length) + " runs past the kernel (" +
                       hex(img.kernel.size()) + " bytes)",
                   kPayloadOffset);
  }
  return img;
}

Result<uint64_t> chooseLoadAddress(const BzImage& image, std::optional<uint64_t> requested) {
  uint64_t load = requested.value_or(image.pref_address);
  if (load == image.pref_address) {
    if (load % 0x1000 != 0) {
      return bzError("layout", "pref_address " + hex(load) + " is not page aligned");
    }
    return load;
  }
  if (image.relocatable_kernel == 0) {
    return bzError("not_relocatable", "kernel is not relocatable; it loads only at pref_address " +
                                          hex(image.pref_address) + ", not " + hex(load));
  }
  if (load % image.kernel_alignment != 0) {
    return bzError("not_relocatable", "load address " + hex(load) +
                                          " is not aligned to kernel_alignment " +
                                          hex(image.kernel_alignment));
  }
  return load;
}

}  // namespace igvmkit::builder
