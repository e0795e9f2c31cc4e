#include "igvm/file.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace igvmkit::igvm {

// ---------------------------------------------------------------------------------------------
// Names and tables

std::string_view headerTypeName(uint32_t type) {
  switch (type) {
    case kVhtSupportedPlatform: return "SUPPORTED_PLATFORM";
    case kVhtGuestPolicy: return "GUEST_POLICY";
    case kVhtRelocatableRegion: return "RELOCATABLE_REGION";
    case kVhtPageTableRelocationRegion: return "PAGE_TABLE_RELOCATION_REGION";
    case kVhtCorimDocument: return "CORIM_DOCUMENT";
    case kVhtCorimSignature: return "CORIM_SIGNATURE";
    case kVhtCcaPolicy: return "CCA_POLICY";
    case kVhtParameterArea: return "PARAMETER_AREA";
    case kVhtPageData: return "PAGE_DATA";
    case kVhtParameterInsert: return "PARAMETER_INSERT";
    case kVhtVpContext: return "VP_CONTEXT";
    case kVhtRequiredMemory: return "REQUIRED_MEMORY";
    case kVhtReservedDoNotUse: return "RESERVED_DO_NOT_USE";
    case kVhtVpCountParameter: return "VP_COUNT_PARAMETER";
    case kVhtSrat: return "SRAT";
    case kVhtMadt: return "MADT";
    case kVhtMmioRanges: return "MMIO_RANGES";
    case kVhtSnpIdBlock: return "SNP_ID_BLOCK";
    case kVhtMemoryMap: return "MEMORY_MAP";
    case kVhtErrorRange: return "ERROR_RANGE";
    case kVhtCommandLine: return "COMMAND_LINE";
    case kVhtSlit: return "SLIT";
    case kVhtPptt: return "PPTT";
    case kVhtVbsMeasurement: return "VBS_MEASUREMENT";
    case kVhtDeviceTree: return "DEVICE_TREE";
    case kVhtEnvironmentInfoParameter: return "ENVIRONMENT_INFO_PARAMETER";
    default: return "UNKNOWN";
  }
}

std::string_view platformTypeName(uint8_t type) {
  switch (type) {
    case 0: return "NATIVE";
    case 1: return "VSM_ISOLATION";
    case 2: return "SEV_SNP";
    case 3: return "TDX";
    case 4: return "SEV";
    case 5: return "SEV_ES";
    case 6: return "CCA";
    default: return "UNKNOWN";
  }
}

std::string_view pageDataTypeName(uint16_t type) {
  switch (type) {
    case 0: return "NORMAL";
    case 1: return "SECRETS";
    case 2: return "CPUID_DATA";
    case 3: return "CPUID_XF";
    default: return "UNKNOWN";
  }
}

std::string_view vpContextFormatName(VpContextFormat format) {
  switch (format) {
    case VpContextFormat::kNone: return "none";
    case VpContextFormat::kSnpVmsa: return "snp_vmsa";
    case VpContextFormat::kNativeX64: return "native_x64";
    case VpContextFormat::kVbsX64: return "vbs_x64";
    case VpContextFormat::kVbsAArch64: return "vbs_aarch64";
    case VpContextFormat::kCca: return "cca";
  }
  return "none";
}

uint32_t headerContentSize(uint32_t type) {
  if (isParameterType(type)) {
    return sizeof(IGVM_VHS_PARAMETER);
  }
  switch (type) {
    case kVhtSupportedPlatform: return sizeof(IGVM_VHS_SUPPORTED_PLATFORM);
    case kVhtGuestPolicy: return sizeof(IGVM_VHS_GUEST_POLICY);
    case kVhtRelocatableRegion: return sizeof(IGVM_VHS_RELOCATABLE_REGION);
    case kVhtPageTableRelocationRegion: return sizeof(IGVM_VHS_PAGE_TABLE_RELOCATION);
    case kVhtCorimDocument:
    case kVhtCorimSignature: return sizeof(IGVM_VHS_CORIM_DATA);
    case kVhtCcaPolicy: return sizeof(IGVM_VHS_CCA_POLICY);
    case kVhtParameterArea: return sizeof(IGVM_VHS_PARAMETER_AREA);
    case kVhtPageData: return sizeof(IGVM_VHS_PAGE_DATA);
    case kVhtParameterInsert: return sizeof(IGVM_VHS_PARAMETER_INSERT);
    case kVhtVpContext: return sizeof(IGVM_VHS_VP_CONTEXT);
    case kVhtRequiredMemory: return sizeof(IGVM_VHS_REQUIRED_MEMORY);
    case kVhtSnpIdBlock: return sizeof(IGVM_VHS_SNP_ID_BLOCK);
    case kVhtErrorRange: return sizeof(IGVM_VHS_ERROR_RANGE);
    case kVhtVbsMeasurement: return sizeof(IGVM_VHS_VBS_MEASUREMENT);
    default: return 0;
  }
}

std::optional<Section> sectionOfType(uint32_t type) {
  if (type >= kVhtRangePlatformFirst && type <= kVhtRangePlatformLast) {
    return Section::kPlatform;
  }
  if (type >= kVhtRangeInitFirst && type <= kVhtRangeInitLast) {
    return Section::kInitialization;
  }
  if (type >= kVhtRangeDirectiveFirst && type <= kVhtRangeDirectiveLast) {
    return Section::kDirective;
  }
  return std::nullopt;
}

namespace {

// Slicing-by-8 (Kounavis and Berry, "A Systematic Approach to Building High Performance
// Software-based CRC Generators", 2005): table[k][b] is the CRC of byte b followed by k zero bytes,
// so eight bytes fold in with eight independent lookups instead of a chain of eight. A big file's
// header section is megabytes, and its CRC is checked before anything else can start.
constexpr std::array<std::array<uint32_t, 256>, 8> makeCrcTables() {
  std::array<std::array<uint32_t, 256>, 8> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    table[0][i] = c;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (uint32_t i = 0; i < 256; ++i) {
      table[k][i] = table[0][table[k - 1][i] & 0xFF] ^ (table[k - 1][i] >> 8);
    }
  }
  return table;
}
constexpr std::array<std::array<uint32_t, 256>, 8> kCrcTables = makeCrcTables();

}  // namespace

uint32_t crc32(Bytes bytes, uint32_t crc) {
  static_assert(std::endian::native == std::endian::little);
  const auto& t = kCrcTables;
  crc = ~crc;
  const std::byte* p = bytes.data();
  size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint32_t lo = 0;
    uint32_t hi = 0;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= crc;
    crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
          t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
  }
  for (; n > 0; ++p, --n) {
    crc = t[0][(crc ^ std::to_integer<uint32_t>(*p)) & 0xFF] ^ (crc >> 8);
  }
  return ~crc;
}

// ---------------------------------------------------------------------------------------------
// Header

std::string_view Header::name() const { return headerTypeName(type); }

Location Header::location() const {
  Location loc;
  loc.offset = offset;
  loc.header_index = index;
  loc.header_type = type;
  loc.header_name = std::string(name());
  return loc;
}

std::optional<uint32_t> Header::compatibilityMask() const {
  return std::visit(
      [](const auto& b) -> std::optional<uint32_t> {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, IGVM_VHS_PARAMETER_AREA> ||
                      std::is_same_v<T, IGVM_VHS_PARAMETER> || std::is_same_v<T, UnknownHeader>) {
          return std::nullopt;
        } else if constexpr (std::is_same_v<T, Boxed<IGVM_VHS_SNP_ID_BLOCK>> ||
                             std::is_same_v<T, Boxed<IGVM_VHS_VBS_MEASUREMENT>>) {
          return (*b).compatibility_mask;
        } else {
          return b.compatibility_mask;
        }
      },
      body);
}

bool Header::appliesTo(uint32_t platform_bit) const {
  std::optional<uint32_t> mask = compatibilityMask();
  return !mask || (*mask & platform_bit) != 0;
}

// ---------------------------------------------------------------------------------------------
// File accessors

std::span<const Header> File::platforms() const {
  return std::span<const Header>(headers_).subspan(0, init_begin_);
}
std::span<const Header> File::initializationHeaders() const {
  return std::span<const Header>(headers_).subspan(init_begin_, directive_begin_ - init_begin_);
}
std::span<const Header> File::directives() const {
  return std::span<const Header>(headers_).subspan(directive_begin_);
}

const IGVM_VHS_SUPPORTED_PLATFORM* File::platform(PlatformType type) const {
  for (const Header& h : platforms()) {
    const auto* p = h.get<IGVM_VHS_SUPPORTED_PLATFORM>();
    if (p != nullptr && p->platform_type == static_cast<uint8_t>(type)) {
      return p;
    }
  }
  return nullptr;
}

const IGVM_VHS_SUPPORTED_PLATFORM* File::platformForBit(uint32_t mask_bit) const {
  for (const Header& h : platforms()) {
    const auto* p = h.get<IGVM_VHS_SUPPORTED_PLATFORM>();
    if (p != nullptr && p->compatibility_mask == mask_bit) {
      return p;
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// VP context decoders

namespace {

Status wantFormat(const Header& h, VpContextFormat want) {
  if (h.type != kVhtVpContext || h.vp_format != want) {
    return invalid("vp_context.format", "header is not a " +
                                            std::string(vpContextFormatName(want)) +
                                            " VP context");
  }
  return okStatus();
}

}  // namespace

Result<SevVmsa> vmsaOf(const Header& h) {
  IGVMKIT_RETURN_IF_ERROR(wantFormat(h, VpContextFormat::kSnpVmsa));
  return readStruct<SevVmsa>(h.data, 0);
}

Result<IgvmNativeVpContextX64> nativeContextOf(const Header& h) {
  IGVMKIT_RETURN_IF_ERROR(wantFormat(h, VpContextFormat::kNativeX64));
  return readStruct<IgvmNativeVpContextX64>(h.data, 0);
}

Result<IgvmVpContextAArch64Cca> ccaContextOf(const Header& h) {
  IGVMKIT_RETURN_IF_ERROR(wantFormat(h, VpContextFormat::kCca));
  return readStruct<IgvmVpContextAArch64Cca>(h.data, 0);
}

Result<std::vector<VbsVpContextRegister>> vbsRegistersOf(const Header& h) {
  if (h.type != kVhtVpContext || (h.vp_format != VpContextFormat::kVbsX64 &&
                                  h.vp_format != VpContextFormat::kVbsAArch64)) {
    return invalid("vp_context.format", "header is not a VBS VP context");
  }
  IGVMKIT_ASSIGN_OR_RETURN(VbsVpContextHeader vh, readStruct<VbsVpContextHeader>(h.data, 0));
  std::vector<VbsVpContextRegister> out;
  out.reserve(vh.register_count);
  for (uint64_t i = 0; i < vh.register_count; ++i) {
    IGVMKIT_ASSIGN_OR_RETURN(auto reg, readStruct<VbsVpContextRegister>(
                                           h.data, sizeof(VbsVpContextHeader) + i * 32));
    out.push_back(reg);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parser: every rule of igvm-format.md §7 plus the stricter checks of §7.3's last bullet.

namespace {

bool isKnownType(uint32_t type) { return headerContentSize(type) != 0; }

// A GPA range a directive imports for the platforms of `mask` (inclusive bounds, so a range at
// the top of the address space cannot overflow).
struct Import {
  uint64_t first;
  uint64_t last;
  uint32_t mask;
  uint32_t index;
};

struct Region {  // relocatable or page-table region
  uint64_t first;
  uint64_t last;
  uint32_t mask;
  uint32_t index;
  bool page_table;
};

struct VpRequirement {  // from RELOCATABLE_REGION / PAGE_TABLE_RELOCATION_REGION
  uint32_t mask;
  uint16_t vp_index;
  uint8_t vtl;
  uint32_t index;
  bool satisfied;
};

struct Area {
  uint64_t size;
  bool inserted;
};

std::string platformArchName(Arch a) { return a == Arch::kX64 ? "x64" : "aarch64"; }

}  // namespace

class Parser {
 public:
  Parser(Bytes bytes, const ParseOptions& opts) : bytes_(bytes), opts_(opts) {
    file_.bytes_ = bytes;
  }

  Result<File> run() {
    IGVMKIT_RETURN_IF_ERROR(parseFixed());
    IGVMKIT_RETURN_IF_ERROR(walk());
    IGVMKIT_RETURN_IF_ERROR(finish());
    IGVMKIT_RETURN_IF_ERROR(applyFilter());
    return std::move(file_);
  }

 private:
  // Location of header `i` (index into all_).
  Location where(size_t i) const { return all_[i].location(); }
  static Location at(uint64_t offset, std::optional<uint32_t> index = std::nullopt) {
    Location loc;
    loc.offset = offset;
    loc.header_index = index;
    return loc;
  }

  // §1: fixed header, total size, variable header bounds, checksum.
  Status parseFixed() {
    if (bytes_.size() < sizeof(IGVM_FIXED_HEADER)) {
      return invalid("fixed.size",
                     "file of " + hex(bytes_.size()) + " bytes is shorter than the fixed header",
                     at(0));
    }
    IGVMKIT_ASSIGN_OR_RETURN(auto v1, readStruct<IGVM_FIXED_HEADER>(bytes_, 0));
    if (v1.magic != kIgvmMagic) {
      return invalid("fixed.magic", "magic " + hex(v1.magic) + " is not " + hex(kIgvmMagic),
                     at(kFixedOffMagic));
    }
    IGVM_FIXED_HEADER_V2& f = file_.fixed_;
    if (v1.format_version == kFormatVersion1) {
      std::memcpy(&f, &v1, sizeof(v1));
      f.architecture = kArchX64;
      f.page_size = kPageSize4K;
      fixed_size_ = sizeof(IGVM_FIXED_HEADER);
    } else if (v1.format_version == kFormatVersion2) {
      if (bytes_.size() < sizeof(IGVM_FIXED_HEADER_V2)) {
        return invalid("fixed.size",
                       "file of " + hex(bytes_.size()) +
                           " bytes is shorter than the version 2 fixed header",
                       at(0));
      }
      IGVMKIT_ASSIGN_OR_RETURN(f, readStruct<IGVM_FIXED_HEADER_V2>(bytes_, 0));
      fixed_size_ = sizeof(IGVM_FIXED_HEADER_V2);
      if (f.architecture != kArchX64 && f.architecture != kArchAArch64) {
        return invalid("fixed.architecture",
                       "architecture " + hex(f.architecture) + " is neither x64 nor aarch64",
                       at(kFixedOffArchitecture));
      }
      // The format redefines every page size by this field; only 4 KiB is defined (§1.2).
      if (f.page_size != kPageSize4K) {
        if (!std::has_single_bit(f.page_size)) {
          return invalid("fixed.page_size",
                         "page size " + hex(f.page_size) + " is not a power of two",
                         at(kFixedOffPageSize));
        }
        return unsupported("fixed.page_size",
                           "page size " + hex(f.page_size) + " is not supported (only 0x1000)",
                           at(kFixedOffPageSize));
      }
    } else {
      return invalid("fixed.version",
                     "format version " + hex(v1.format_version) + " is not supported",
                     at(kFixedOffVersion));
    }
    if (f.total_file_size != bytes_.size()) {
      return invalid("fixed.total_size",
                     "total_file_size " + hex(f.total_file_size) + " does not match file size " +
                         hex(bytes_.size()),
                     at(kFixedOffTotalSize));
    }
    // §1.2: the variable headers follow the fixed header, 8 byte aligned.
    if (f.variable_header_offset < fixed_size_ || f.variable_header_offset % 8 != 0) {
      IGVMKIT_RETURN_IF_ERROR(deviation(invalid("fixed.vh_offset",
                                                "variable_header_offset " +
                                                    hex(f.variable_header_offset) +
                                                    " must be 8 byte aligned and at least " +
                                                    hex(fixed_size_),
                                                at(kFixedOffVhOffset))));
    }
    // 64-bit arithmetic: offset + size cannot wrap.
    if (uint64_t{f.variable_header_offset} + f.variable_header_size > bytes_.size()) {
      return invalid("fixed.vh_bounds",
                     "variable header section " + hex(f.variable_header_offset) + " + " +
                         hex(f.variable_header_size) + " exceeds file size " +
                         hex(bytes_.size()),
                     at(kFixedOffVhSize));
    }
    vh_begin_ = f.variable_header_offset;
    vh_end_ = vh_begin_ + f.variable_header_size;
    data_start_ = vh_end_;
    // The reference parser wants at least one byte of file data (igvm-format.md §7.1 step 6).
    if (opts_.conformance == Conformance::kReference && data_start_ >= bytes_.size()) {
      return invalid("reference.no_file_data",
                     "the file has no file data section (the reference parser requires one)",
                     at(kFixedOffVhSize));
    }
    // §1.3: CRC over the fixed header with checksum 0, then the variable header section.
    ByteVector fixed_copy(bytes_.begin(), bytes_.begin() + static_cast<ptrdiff_t>(fixed_size_));
    std::memset(fixed_copy.data() + kFixedOffChecksum, 0, 4);
    uint32_t crc = crc32(fixed_copy);
    crc = crc32(bytes_.subspan(vh_begin_, vh_end_ - vh_begin_), crc);
#ifndef IGVMKIT_FUZZING
    bool check_crc = true;
#else
    bool check_crc = false;  // let the fuzzer reach the header rules past the CRC
#endif
    if (check_crc && crc != f.checksum) {
      return invalid("fixed.checksum",
                     "checksum " + hex(f.checksum) + " does not match computed " + hex(crc),
                     at(kFixedOffChecksum));
    }
    return okStatus();
  }

  // The number of TLV entries, counted without validating anything, so that the header and import
  // vectors are allocated once: with 262k entries, vector growth would otherwise triple the peak
  // memory of a 1 GiB file (bench/README.md).
  size_t countEntries() const {
    size_t n = 0;
    for (uint64_t pos = vh_begin_; vh_end_ - pos >= sizeof(IGVM_VHS_VARIABLE_HEADER); ++n) {
      uint32_t length = 0;
      std::memcpy(&length, bytes_.data() + pos + 4, sizeof(length));
      uint64_t step = sizeof(IGVM_VHS_VARIABLE_HEADER) + ((uint64_t{length} + 7) & ~uint64_t{7});
      if (step > vh_end_ - pos) {
        return n + 1;
      }
      pos += step;
    }
    return n;
  }

  // §2: the TLV walk.
  Status walk() {
    size_t entries = countEntries();
    all_.reserve(entries);
    imports_.reserve(entries);
    uint64_t pos = vh_begin_;
    uint32_t index = 0;
    Section state = Section::kPlatform;
    while (pos < vh_end_) {
      if (vh_end_ - pos < sizeof(IGVM_VHS_VARIABLE_HEADER)) {
        return invalid("vh.truncated",
                       "only " + hex(vh_end_ - pos) +
                           " bytes left in the variable header section, less than an entry "
                           "header",
                       at(pos, index));
      }
      IGVMKIT_ASSIGN_OR_RETURN(auto tl, readStruct<IGVM_VHS_VARIABLE_HEADER>(bytes_, pos));
      Header h;
      h.index = index;
      h.offset = pos;
      h.type = tl.typ;
      all_.push_back(h);
      size_t i = all_.size() - 1;
      uint64_t content_off = pos + sizeof(IGVM_VHS_VARIABLE_HEADER);
      uint64_t room = vh_end_ - content_off;
      uint64_t padded = (uint64_t{tl.length} + 7) & ~uint64_t{7};
      if (tl.length > room) {
        return invalid("vh.entry_bounds",
                       "length " + hex(tl.length) + " runs past the variable header section",
                       where(i));
      }
      if (padded > room) {
        return invalid("vh.entry_bounds",
                       "padding of length " + hex(tl.length) +
                           " runs past the variable header section",
                       where(i));
      }
      Bytes content = bytes_.subspan(content_off, tl.length);
      if (!allZero(bytes_.subspan(content_off + tl.length, padded - tl.length))) {
        IGVMKIT_RETURN_IF_ERROR(
            deviation(invalid("vh.padding", "padding after the content is not zero", where(i))));
      }

      std::optional<Section> section = sectionOfType(tl.typ);
      bool optional_unknown = (tl.typ & kVhtOptionalBit) != 0 && !opts_.strict &&
                              opts_.conformance != Conformance::kReference;
      if (optional_unknown) {
        // §2.2: a loader that does not know an optional type may skip it; we keep it as is.
        all_[i].section = state;
        all_[i].body = UnknownHeader{content};
      } else {
        if (!section || !isKnownType(tl.typ)) {
          return invalid("vh.unknown_type",
                         "type " + hex(tl.typ) + " is not a known header type" +
                             ((tl.typ & kVhtOptionalBit) != 0 ? " (optional, strict mode)" : ""),
                         where(i));
        }
        // §2.2: platform, then initialization, then directive headers.
        if (*section < state) {
          return invalid("vh.section_order",
                         std::string(headerTypeName(tl.typ)) + " header after the " +
                             (state == Section::kDirective ? "directive" : "initialization") +
                             " section started",
                         where(i));
        }
        // The reference's C library is built without its `corim` feature, so it does not know
        // the CoRIM types (igvm/Cargo.toml features; lib.rs cfg(feature = "corim")).
        if (opts_.conformance == Conformance::kReference &&
            (tl.typ == kVhtCorimDocument || tl.typ == kVhtCorimSignature)) {
          return invalid("reference.corim",
                         std::string(headerTypeName(tl.typ)) +
                             " is not known to the reference's C library (no corim feature)",
                         where(i));
        }
        state = *section;
        all_[i].section = *section;
        uint32_t want = headerContentSize(tl.typ);
        if (tl.length != want) {
          return invalid("vh.length",
                         "length " + hex(tl.length) + " does not match the " + hex(want) +
                             " byte " + std::string(headerTypeName(tl.typ)) + " structure",
                         where(i));
        }
        current_ = i;
        if (Status s = checkHeader(i, content); !s.ok()) {
          return std::move(s).at(where(i));
        }
      }
      pos = content_off + padded;
      ++index;
    }
    return okStatus();
  }

  // --- helpers ---------------------------------------------------------------------------------

  // A rule the reference parser does not enforce: an error in strict mode; otherwise a warning
  // (at the header being checked unless the error names a place) and parsing goes on.
  Status deviation(Error e) {
    if (opts_.conformance == Conformance::kStrict) {
      return e;
    }
    if (!e.location && current_ < all_.size()) {
      e.location = where(current_);
    }
    file_.warnings_.push_back(std::move(e));
    return okStatus();
  }

  Status deviation(Status s) { return s.ok() ? s : deviation(std::move(s).error()); }

  Status checkMask(uint32_t mask) {
    if (mask == 0) {
      return deviation(
          invalid("mask.empty", "compatibility mask is 0 (applies to no platform)"));
    }
    uint32_t undeclared = mask & ~declared_;
    if (undeclared != 0 && !opts_.allow_undeclared_mask_bits) {
      return deviation(invalid("mask.undeclared", "compatibility mask " + hex(mask) +
                                                      " names bits " + hex(undeclared) +
                                                      " that no platform header declares"));
    }
    return okStatus();
  }

  // The `size` bytes at absolute `file_offset`, which must lie in the file data section.
  Result<Bytes> fileData(std::string_view prefix, uint32_t file_offset, uint64_t size) const {
    if (file_offset < data_start_) {
      return invalid(std::string(prefix) + ".data_bounds",
                     "file_offset " + hex(file_offset) +
                         " lies before the file data section at " + hex(data_start_));
    }
    if (file_offset > bytes_.size() || size > bytes_.size() - file_offset) {
      return invalid(std::string(prefix) + ".data_bounds", "file data " + hex(file_offset) + " + " +
                                                  hex(size) + " exceeds file size " +
                                                  hex(bytes_.size()));
    }
    return bytes_.subspan(file_offset, size);
  }

  static Status checkVtl(const std::string& prefix, uint8_t vtl) {
    if (vtl > 2) {
      return invalid(prefix + ".vtl", "vtl " + hex(vtl) + " is above 2");
    }
    return okStatus();
  }

  // `rule` is a std::string_view: this runs for every header, and a std::string of a rule name
  // (most are past the small-string size) would cost an allocation each time.
  static Status checkAligned(std::string_view rule, const char* what, uint64_t value,
                             uint64_t align) {
    if (value % align != 0) {
      return invalid(std::string(rule), std::string(what) + " " + hex(value) + " is not " +
                               (align == kPageSize4K ? std::string("page")
                                                     : hex(align) + " byte") +
                               " aligned");
    }
    return okStatus();
  }

  void addImport(uint64_t gpa, uint64_t size, uint32_t mask, size_t i) {
    imports_.push_back(Import{gpa, gpa + (size - 1), mask, static_cast<uint32_t>(i)});
  }

  PlatformType platformOfBit(uint32_t bit) const {
    return static_cast<PlatformType>(bit_platform_[std::countr_zero(bit)]);
  }

  // --- per header ------------------------------------------------------------------------------

  Status checkHeader(size_t i, Bytes content) {
    Header& h = all_[i];
    switch (h.type) {
      case kVhtSupportedPlatform: {
        IGVMKIT_ASSIGN_OR_RETURN(auto p, readStruct<IGVM_VHS_SUPPORTED_PLATFORM>(content, 0));
        h.body = p;
        return checkPlatform(p);
      }
      case kVhtGuestPolicy: {
        IGVMKIT_ASSIGN_OR_RETURN(auto p, readStruct<IGVM_VHS_GUEST_POLICY>(content, 0));
        h.body = p;
        return checkGuestPolicy(p);
      }
      case kVhtRelocatableRegion: {
        IGVMKIT_ASSIGN_OR_RETURN(auto r, readStruct<IGVM_VHS_RELOCATABLE_REGION>(content, 0));
        h.body = r;
        return checkRelocatable(r, i);
      }
      case kVhtPageTableRelocationRegion: {
        IGVMKIT_ASSIGN_OR_RETURN(auto r, readStruct<IGVM_VHS_PAGE_TABLE_RELOCATION>(content, 0));
        h.body = r;
        return checkPageTable(r, i);
      }
      case kVhtCorimDocument:
      case kVhtCorimSignature: {
        IGVMKIT_ASSIGN_OR_RETURN(auto c, readStruct<IGVM_VHS_CORIM_DATA>(content, 0));
        h.body = c;
        return checkCorim(h, c);
      }
      case kVhtCcaPolicy: {
        IGVMKIT_ASSIGN_OR_RETURN(auto c, readStruct<IGVM_VHS_CCA_POLICY>(content, 0));
        h.body = c;
        return checkCcaPolicy(c);
      }
      case kVhtParameterArea: {
        IGVMKIT_ASSIGN_OR_RETURN(auto a, readStruct<IGVM_VHS_PARAMETER_AREA>(content, 0));
        h.body = a;
        return checkParameterArea(h, a);
      }
      case kVhtPageData: {
        IGVMKIT_ASSIGN_OR_RETURN(auto pd, readStruct<IGVM_VHS_PAGE_DATA>(content, 0));
        h.body = pd;
        return checkPageData(h, pd, i);
      }
      case kVhtParameterInsert: {
        IGVMKIT_ASSIGN_OR_RETURN(auto pi, readStruct<IGVM_VHS_PARAMETER_INSERT>(content, 0));
        h.body = pi;
        return checkParameterInsert(pi, i);
      }
      case kVhtVpContext: {
        IGVMKIT_ASSIGN_OR_RETURN(auto vp, readStruct<IGVM_VHS_VP_CONTEXT>(content, 0));
        h.body = vp;
        return checkVpContext(h, vp, i);
      }
      case kVhtRequiredMemory: {
        IGVMKIT_ASSIGN_OR_RETURN(auto rm, readStruct<IGVM_VHS_REQUIRED_MEMORY>(content, 0));
        h.body = rm;
        return checkRequiredMemory(rm);
      }
      case kVhtSnpIdBlock: {
        IGVMKIT_ASSIGN_OR_RETURN(auto id, readStruct<IGVM_VHS_SNP_ID_BLOCK>(content, 0));
        h.body = Boxed<IGVM_VHS_SNP_ID_BLOCK>(id);
        return checkIdBlock(id);
      }
      case kVhtErrorRange: {
        IGVMKIT_ASSIGN_OR_RETURN(auto er, readStruct<IGVM_VHS_ERROR_RANGE>(content, 0));
        h.body = er;
        return checkErrorRange(er);
      }
      case kVhtVbsMeasurement: {
        IGVMKIT_ASSIGN_OR_RETURN(auto m, readStruct<IGVM_VHS_VBS_MEASUREMENT>(content, 0));
        h.body = Boxed<IGVM_VHS_VBS_MEASUREMENT>(m);
        return checkMask(m.compatibility_mask);
      }
      default:
        break;
    }
    if (isParameterType(h.type)) {
      IGVMKIT_ASSIGN_OR_RETURN(auto p, readStruct<IGVM_VHS_PARAMETER>(content, 0));
      h.body = p;
      return checkParameter(h, p);
    }
    return internal("no decoder for known type " + hex(h.type));
  }

  // §2.5
  Status checkPlatform(const IGVM_VHS_SUPPORTED_PLATFORM& p) {
    if (std::popcount(p.compatibility_mask) != 1) {
      return invalid("platform.mask", "compatibility mask " + hex(p.compatibility_mask) +
                                          " must have exactly one bit set");
    }
    if ((declared_ & p.compatibility_mask) != 0) {
      IGVMKIT_RETURN_IF_ERROR(deviation(invalid("platform.mask_duplicate",
                                                "compatibility mask " + hex(p.compatibility_mask) +
                                                    " is already used by another platform")));
    }
    if (p.platform_type > kPlatformTypeLast) {
      return invalid("platform.type", "platform type " + hex(p.platform_type) + " is unknown");
    }
    auto type = static_cast<PlatformType>(p.platform_type);
    std::string name(platformTypeName(p.platform_type));
    if (p.highest_vtl != 0 && p.highest_vtl != 2) {
      return invalid("platform.vtl", "highest_vtl " + hex(p.highest_vtl) + " is neither 0 nor 2");
    }
    if (p.platform_version != kPlatformVersion) {
      return invalid("platform.version", name + " platform_version " +
                                             hex(p.platform_version) + " is not 0x1");
    }
    if ((type == PlatformType::kNative || type == PlatformType::kVsmIsolation) &&
        p.shared_gpa_boundary != 0) {
      return invalid("platform.shared_gpa_boundary",
                     name + " shared_gpa_boundary " + hex(p.shared_gpa_boundary) + " must be 0");
    }
    if ((types_seen_ & (1u << p.platform_type)) != 0) {
      return invalid("platform.duplicate_type", "a second " + name + " platform header");
    }
    bool arch_ok = type == PlatformType::kVsmIsolation ||
                   (type == PlatformType::kCca ? arch() == Arch::kAArch64 : arch() == Arch::kX64);
    if (!arch_ok) {
      return invalid("platform.arch", name + " is not supported on " + platformArchName(arch()));
    }
    types_seen_ |= 1u << p.platform_type;
    declared_ |= p.compatibility_mask;
    bit_platform_[std::countr_zero(p.compatibility_mask)] = p.platform_type;
    return okStatus();
  }

  Arch arch() const { return static_cast<Arch>(file_.fixed_.architecture); }

  // §2.6
  Status checkGuestPolicy(const IGVM_VHS_GUEST_POLICY& p) {
    IGVMKIT_RETURN_IF_ERROR(checkMask(p.compatibility_mask));
    if (p.reserved != 0) {
      return invalid("guest_policy.reserved", "reserved " + hex(p.reserved) + " is not zero");
    }
    if ((policy_bits_ & p.compatibility_mask) != 0) {
      IGVMKIT_RETURN_IF_ERROR(deviation(invalid("guest_policy.duplicate",
                                                "a second guest policy for mask bits " +
                                                    hex(policy_bits_ & p.compatibility_mask))));
    }
    policy_bits_ |= p.compatibility_mask;
    return okStatus();
  }

  Status addRegion(uint64_t gpa, uint64_t size, uint32_t mask, size_t i, bool page_table) {
    if (size == 0) {
      return okStatus();
    }
    if (size - 1 > ~uint64_t{0} - gpa) {
      return invalid(page_table ? "page_table.size" : "relocation.size",
                     "region " + hex(gpa) + " + " + hex(size) + " wraps the address space");
    }
    Region r{gpa, gpa + (size - 1), mask, static_cast<uint32_t>(i), page_table};
    // Page-table regions (at most one per mask bit) are checked against everything now;
    // relocatable regions, which can be many, against each other by a sweep in finish().
    auto overlap = [&](const Region& o) -> Status {
      if ((o.mask & mask) != 0 && o.first <= r.last && r.first <= o.last) {
        return invalid("relocation.overlap",
                       "region " + hex(gpa) + " + " + hex(size) + " overlaps the region of header #" +
                           std::to_string(all_[o.index].index) + " for mask bits " +
                           hex(o.mask & mask));
      }
      return okStatus();
    };
    for (const Region& o : regions_) {
      IGVMKIT_RETURN_IF_ERROR(overlap(o));
    }
    if (page_table) {
      for (const Import& o : reloc_regions_) {
        IGVMKIT_RETURN_IF_ERROR(overlap(Region{o.first, o.last, o.mask, o.index, false}));
      }
      regions_.push_back(r);
    } else {
      reloc_regions_.push_back(Import{r.first, r.last, mask, r.index});
    }
    return okStatus();
  }

  Status checkRelocatable(const IGVM_VHS_RELOCATABLE_REGION& r, size_t i) {
    IGVMKIT_RETURN_IF_ERROR(checkMask(r.compatibility_mask));
    IGVMKIT_RETURN_IF_ERROR(checkVtl("relocation", r.vtl));
    if (r.relocation_alignment == 0 || r.relocation_alignment % kPageSize4K != 0) {
      return invalid("relocation.alignment", "relocation_alignment " +
                                                 hex(r.relocation_alignment) +
                                                 " is not a non-zero multiple of 0x1000");
    }
    IGVMKIT_RETURN_IF_ERROR(checkAligned("relocation.size", "relocation_region_size",
                                         r.relocation_region_size, kPageSize4K));
    IGVMKIT_RETURN_IF_ERROR(checkAligned("relocation.address", "relocation_region_gpa",
                                         r.relocation_region_gpa, r.relocation_alignment));
    IGVMKIT_RETURN_IF_ERROR(checkAligned("relocation.address", "minimum_relocation_gpa",
                                         r.minimum_relocation_gpa, r.relocation_alignment));
    IGVMKIT_RETURN_IF_ERROR(checkAligned("relocation.address", "maximum_relocation_gpa",
                                         r.maximum_relocation_gpa, r.relocation_alignment));
    // A base is valid iff aligned, >= minimum and base + size <= maximum (§2.6); a range that
    // cannot hold the region leaves the loader no valid base at all.
    if (r.minimum_relocation_gpa > r.maximum_relocation_gpa ||
        r.relocation_region_size > r.maximum_relocation_gpa - r.minimum_relocation_gpa) {
      IGVMKIT_RETURN_IF_ERROR(deviation(
          invalid("relocation.range", "no base in [" + hex(r.minimum_relocation_gpa) + ", " +
                                          hex(r.maximum_relocation_gpa) +
                                          ") holds the region of size " +
                                          hex(r.relocation_region_size))));
    }
    IGVMKIT_RETURN_IF_ERROR(addRegion(r.relocation_region_gpa, r.relocation_region_size,
                                      r.compatibility_mask, i, false));
    requirements_.push_back(
        VpRequirement{r.compatibility_mask, r.vp_index, r.vtl, static_cast<uint32_t>(i), false});
    return okStatus();
  }

  Status checkPageTable(const IGVM_VHS_PAGE_TABLE_RELOCATION& r, size_t i) {
    IGVMKIT_RETURN_IF_ERROR(checkMask(r.compatibility_mask));
    IGVMKIT_RETURN_IF_ERROR(checkVtl("page_table", r.vtl));
    if (r.reserved != 0) {
      return invalid("page_table.reserved", "reserved " + hex(r.reserved) + " is not zero");
    }
    IGVMKIT_RETURN_IF_ERROR(checkAligned("page_table.gpa_alignment", "gpa", r.gpa, kPageSize4K));
    IGVMKIT_RETURN_IF_ERROR(checkAligned("page_table.size", "size", r.size, kPageSize4K));
    IGVMKIT_RETURN_IF_ERROR(checkAligned("page_table.used_size", "used_size", r.used_size,
                                         kPageSize4K));
    if (r.used_size > r.size) {
      return invalid("page_table.used_size",
                     "used_size " + hex(r.used_size) + " exceeds size " + hex(r.size));
    }
    if ((page_table_bits_ & r.compatibility_mask) != 0) {
      return invalid("page_table.duplicate",
                     "a second page table relocation region for mask bits " +
                         hex(page_table_bits_ & r.compatibility_mask));
    }
    IGVMKIT_RETURN_IF_ERROR(addRegion(r.gpa, r.size, r.compatibility_mask, i, true));
    page_table_bits_ |= r.compatibility_mask;
    requirements_.push_back(
        VpRequirement{r.compatibility_mask, r.vp_index, r.vtl, static_cast<uint32_t>(i), false});
    return okStatus();
  }

  Status checkCorim(Header& h, const IGVM_VHS_CORIM_DATA& c) {
    IGVMKIT_RETURN_IF_ERROR(checkMask(c.compatibility_mask));
    if (c.reserved != 0) {
      return invalid("corim.reserved", "reserved " + hex(c.reserved) + " is not zero");
    }
    if (c.file_offset != 0 || c.size_bytes != 0) {
      IGVMKIT_ASSIGN_OR_RETURN(h.data, fileData("corim", c.file_offset, c.size_bytes));
    }
    if (h.type == kVhtCorimDocument) {
      if ((corim_doc_bits_ & c.compatibility_mask) != 0) {
        return invalid("corim.duplicate_document",
                       "a second CoRIM document for mask bits " +
                           hex(corim_doc_bits_ & c.compatibility_mask));
      }
      corim_doc_bits_ |= c.compatibility_mask;
      return okStatus();
    }
    if ((corim_sig_bits_ & c.compatibility_mask) != 0) {
      return invalid("corim.duplicate_signature", "a second CoRIM signature for mask bits " +
                                                      hex(corim_sig_bits_ & c.compatibility_mask));
    }
    if ((c.compatibility_mask & ~corim_doc_bits_) != 0) {
      return invalid("corim.missing_document", "signature for mask bits " +
                                                   hex(c.compatibility_mask & ~corim_doc_bits_) +
                                                   " without an earlier CoRIM document");
    }
    corim_sig_bits_ |= c.compatibility_mask;
    return okStatus();
  }

  Status checkCcaPolicy(const IGVM_VHS_CCA_POLICY& c) {
    if (arch() != Arch::kAArch64) {
      return invalid("cca_policy.arch", "CCA policy in a " + platformArchName(arch()) + " file");
    }
    IGVMKIT_RETURN_IF_ERROR(checkMask(c.compatibility_mask));
    // Every bit, declared or not, as the reference checks (undeclared bits already failed
    // mask.undeclared in strict mode).
    for (uint32_t m = c.compatibility_mask; m != 0; m &= m - 1) {
      uint32_t bit = m & (~m + 1);
      if ((declared_ & bit) == 0 || platformOfBit(bit) != PlatformType::kCca) {
        return invalid("cca_policy.mask", "compatibility mask bit " + hex(bit) +
                                              " is not a CCA platform");
      }
    }
    if (c.reserved != 0 || !allZero(asBytes(c.reserved2))) {
      return invalid("cca_policy.reserved", "reserved fields are not zero");
    }
    if ((c.attributes_required_zeroes & c.attributes_required_ones) != 0) {
      return invalid("cca_policy.attributes",
                     "attributes " + hex(c.attributes_required_zeroes & c.attributes_required_ones) +
                         " are required to be both zero and one");
    }
    return okStatus();
  }

  // §3
  Status checkPageData(Header& h, const IGVM_VHS_PAGE_DATA& pd, size_t i) {
    IGVMKIT_RETURN_IF_ERROR(checkMask(pd.compatibility_mask));
    if (pd.reserved != 0) {
      return invalid("page_data.reserved", "reserved " + hex(pd.reserved) + " is not zero");
    }
    // Reserved bits are how the format grows; accepting them hides a newer file (§3).
    if ((pd.flags & ~kPageDataFlagsKnown) != 0) {
      IGVMKIT_RETURN_IF_ERROR(deviation(invalid(
          "page_data.flags",
          "reserved flag bits " + hex(pd.flags & ~kPageDataFlagsKnown) + " are set")));
    }
    if (pd.data_type > kPageDataTypeLast) {
      return invalid("page_data.data_type", "data type " + hex(pd.data_type) + " is unknown");
    }
    uint64_t size = (pd.flags & kPageDataFlagIs2MbPage) != 0 ? kPageSize2M : kPageSize4K;
    // Pages are imported whole; a misaligned GPA would straddle two pages (§3). The reference
    // checks 4 KiB alignment only.
    IGVMKIT_RETURN_IF_ERROR(
        checkAligned("page_data.gpa_alignment", "gpa", pd.gpa, kPageSize4K));
    IGVMKIT_RETURN_IF_ERROR(
        deviation(checkAligned("page_data.gpa_alignment", "gpa", pd.gpa, size)));
    if (pd.file_offset != 0) {
      IGVMKIT_ASSIGN_OR_RETURN(h.data, fileData("page_data", pd.file_offset, size));
    }
    addImport(pd.gpa, size, pd.compatibility_mask, i);
    return okStatus();
  }

  // §4
  Status checkParameterArea(Header& h, const IGVM_VHS_PARAMETER_AREA& a) {
    IGVMKIT_RETURN_IF_ERROR(checkAligned("parameter_area.size", "number_of_bytes",
                                         a.number_of_bytes, kPageSize4K));
    // A hard limit, not a deviation: lenient parsing must not let a header's claim drive work.
    if (a.number_of_bytes > kMaxParameterAreaBytes) {
      return invalid("parameter_area.limit",
                     "parameter area index " + hex(a.parameter_area_index) + " declares " +
                         hex(a.number_of_bytes) + " bytes, over the limit of " +
                         hex(kMaxParameterAreaBytes) + " (1 GiB) per area");
    }
    if (a.number_of_bytes > kMaxParameterAreasTotalBytes - area_bytes_) {
      return invalid("parameter_area.limit",
                     "parameter area index " + hex(a.parameter_area_index) + " brings the areas to " +
                         hex(area_bytes_ + a.number_of_bytes) + " bytes, over the limit of " +
                         hex(kMaxParameterAreasTotalBytes) + " (1 GiB) for all areas together");
    }
    if (areas_.count(a.parameter_area_index) != 0) {
      return invalid("parameter_area.duplicate", "parameter area index " +
                                                     hex(a.parameter_area_index) +
                                                     " is declared twice");
    }
    if (a.file_offset != 0) {
      IGVMKIT_ASSIGN_OR_RETURN(h.data,
                               fileData("parameter_area", a.file_offset, a.number_of_bytes));
    }
    areas_[a.parameter_area_index] = Area{a.number_of_bytes, false};
    area_bytes_ += a.number_of_bytes;
    return okStatus();
  }

  // Smallest value the loader writes for a parameter type (§4.2).
  static uint64_t parameterValueSize(uint32_t type) {
    switch (type) {
      case kVhtVpCountParameter:
      case kVhtEnvironmentInfoParameter: return 4;
      case kVhtMmioRanges: return sizeof(IGVM_VHS_MMIO_RANGES);
      case kVhtMemoryMap: return sizeof(IGVM_VHS_MEMORY_MAP_ENTRY);
      default: return 1;
    }
  }

  Status checkParameter(const Header& h, const IGVM_VHS_PARAMETER& p) {
    auto it = areas_.find(p.parameter_area_index);
    if (it == areas_.end()) {
      return invalid("parameter.undeclared_area", "parameter area index " +
                                                      hex(p.parameter_area_index) +
                                                      " is not declared before its use");
    }
    if (it->second.inserted) {
      return invalid("parameter.area_inserted", "parameter area index " +
                                                    hex(p.parameter_area_index) +
                                                    " was already inserted");
    }
    uint64_t need = parameterValueSize(h.type);
    if (p.byte_offset > it->second.size || need > it->second.size - p.byte_offset) {
      return deviation(invalid("parameter.byte_offset",
                               "byte_offset " + hex(p.byte_offset) + " + " + hex(need) +
                                   " exceeds parameter area size " + hex(it->second.size)));
    }
    return okStatus();
  }

  Status checkParameterInsert(const IGVM_VHS_PARAMETER_INSERT& pi, size_t i) {
    IGVMKIT_RETURN_IF_ERROR(checkMask(pi.compatibility_mask));
    IGVMKIT_RETURN_IF_ERROR(
        checkAligned("parameter_insert.gpa_alignment", "gpa", pi.gpa, kPageSize4K));
    auto it = areas_.find(pi.parameter_area_index);
    if (it == areas_.end()) {
      return invalid("parameter_insert.undeclared_area",
                     "parameter area index " + hex(pi.parameter_area_index) +
                         " is not declared before its insert");
    }
    if (it->second.inserted) {
      return invalid("parameter_insert.duplicate",
                     "parameter area index " + hex(pi.parameter_area_index) +
                         " is inserted twice");
    }
    uint64_t size = it->second.size;
    if (size != 0 && size - 1 > ~uint64_t{0} - pi.gpa) {
      IGVMKIT_RETURN_IF_ERROR(deviation(
          invalid("parameter_insert.gpa_range", "area of " + hex(size) + " bytes at gpa " +
                                                    hex(pi.gpa) + " wraps the address space")));
      size = 0;  // lenient: the area is not tracked as an import
    }
    if (size != 0) {
      uint64_t last = pi.gpa + (size - 1);
      for (const Region& r : regions_) {
        if (r.page_table && (r.mask & pi.compatibility_mask) != 0 && r.first <= last &&
            pi.gpa <= r.last) {
          Error e = invalid("parameter_insert.page_table_region",
                            "insert at gpa " + hex(pi.gpa) +
                                " targets the page table relocation region of header #" +
                                std::to_string(all_[r.index].index));
          // The reference refuses an insert that starts inside the region, not one that only
          // reaches into it.
          if (r.first <= pi.gpa) {
            return e;
          }
          IGVMKIT_RETURN_IF_ERROR(deviation(std::move(e)));
        }
      }
      addImport(pi.gpa, size, pi.compatibility_mask, i);
    }
    it->second.inserted = true;
    return okStatus();
  }

  // §5
  Status checkVpContext(Header& h, const IGVM_VHS_VP_CONTEXT& vp, size_t i) {
    uint32_t mask = vp.compatibility_mask;
    if (std::popcount(mask) != 1 || (mask & declared_) == 0) {
      return invalid("vp_context.mask", "compatibility mask " + hex(mask) +
                                            " must name exactly one declared platform");
    }
    if (vp.reserved != 0) {
      IGVMKIT_RETURN_IF_ERROR(deviation(
          invalid("vp_context.reserved", "reserved " + hex(vp.reserved) + " is not zero")));
    }
    PlatformType type = platformOfBit(mask);
    switch (type) {
      case PlatformType::kTdx:
        return invalid("vp_context.platform",
                       "TDX starts from the architectural reset state and has no VP context");
      case PlatformType::kSevSnp:
      case PlatformType::kSevEs: {
        IGVMKIT_RETURN_IF_ERROR(
            checkAligned("vp_context.gpa_alignment", "VMSA gpa", vp.gpa, kPageSize4K));
        IGVMKIT_ASSIGN_OR_RETURN(h.data, fileData("vp_context", vp.file_offset, kPageSize4K));
        h.vp_format = VpContextFormat::kSnpVmsa;
        // One VMSA per vCPU at one GPA is a single import: QEMU takes a VMSA only at KVM's fixed
        // 0xFFFFFFFFF000, whatever its vp_index (target/i386/sev.c check_vmsa_supported), so a
        // file for a QEMU launch with several vCPUs holds them all there (vp_context.duplicate
        // still refuses a vp_index twice; page data on that page is still page.overlap).
        if (vmsa_pages_.insert({mask, vp.gpa}).second) {
          addImport(vp.gpa, kPageSize4K, mask, i);
        }
        break;
      }
      case PlatformType::kNative:
      case PlatformType::kSev: {
        IGVMKIT_ASSIGN_OR_RETURN(h.data, fileData("vp_context", vp.file_offset, kPageSize4K));
        if (!allZero(h.data.subspan(sizeof(IgvmNativeVpContextX64)))) {
          return invalid("vp_context.context_tail",
                         "bytes after the native context in its page are not zero");
        }
        IGVMKIT_ASSIGN_OR_RETURN(auto ctx, readStruct<IgvmNativeVpContextX64>(h.data, 0));
        if ((ctx.code_attributes & 0x0F00) != 0 || (ctx.data_attributes & 0x0F00) != 0) {
          IGVMKIT_RETURN_IF_ERROR(deviation(invalid(
              "vp_context.native_attributes",
              "segment attribute bits 11:8 are not zero (code " + hex(ctx.code_attributes) +
                  ", data " + hex(ctx.data_attributes) + ")")));
        }
        h.vp_format = VpContextFormat::kNativeX64;
        break;
      }
      case PlatformType::kCca: {
        IGVMKIT_ASSIGN_OR_RETURN(h.data, fileData("vp_context", vp.file_offset, kPageSize4K));
        if (!allZero(h.data.subspan(sizeof(IgvmVpContextAArch64Cca)))) {
          return invalid("vp_context.context_tail",
                         "bytes after the CCA context in its page are not zero");
        }
        h.vp_format = VpContextFormat::kCca;
        break;
      }
      case PlatformType::kVsmIsolation:
        IGVMKIT_RETURN_IF_ERROR(checkVbsContext(h, vp));
        break;
    }
    uint64_t key = uint64_t{mask} << 16 | vp.vp_index;
    if (!vp_keys_.insert(key).second) {
      return deviation(invalid("vp_context.duplicate", "a second VP context for vp_index " +
                                                           hex(vp.vp_index) + " of mask " +
                                                           hex(mask)));
    }
    return okStatus();
  }

  Status checkVbsContext(Header& h, const IGVM_VHS_VP_CONTEXT& vp) {
    bool x64 = arch() == Arch::kX64;
    // §5.3: the VBS context describes the BSP only.
    if (vp.vp_index != 0) {
      return invalid("vp_context.vbs_vp_index",
                     "VBS context for vp_index " + hex(vp.vp_index) + ", only 0 is allowed");
    }
    IGVMKIT_ASSIGN_OR_RETURN(Bytes head, fileData("vp_context", vp.file_offset,
                                                  sizeof(VbsVpContextHeader)));
    IGVMKIT_ASSIGN_OR_RETURN(auto vh, readStruct<VbsVpContextHeader>(head, 0));
    if (vh.register_count == 0) {
      return invalid("vp_context.vbs_empty", "VBS context has no registers");
    }
    uint64_t size = sizeof(VbsVpContextHeader) +
                    uint64_t{vh.register_count} * sizeof(VbsVpContextRegister);
    IGVMKIT_ASSIGN_OR_RETURN(h.data, fileData("vp_context", vp.file_offset, size));
    uint8_t vtl = 0;
    for (uint64_t r = 0; r < vh.register_count; ++r) {
      IGVMKIT_ASSIGN_OR_RETURN(
          auto reg, readStruct<VbsVpContextRegister>(h.data, sizeof(VbsVpContextHeader) + r * 32));
      if (reg.vtl > 2) {
        return invalid("vp_context.vbs_vtl", "register " + std::to_string(r) + " has vtl " +
                                                 hex(reg.vtl) + ", above 2");
      }
      if (r == 0) {
        vtl = reg.vtl;
      } else if (reg.vtl != vtl) {
        return invalid("vp_context.vbs_vtl", "register " + std::to_string(r) + " has vtl " +
                                                 hex(reg.vtl) + ", the first has " + hex(vtl));
      }
      bool known = x64 ? isVbsX64Register(reg.register_name)
                       : isVbsArm64Register(reg.register_name);
      if (!known) {
        return invalid("vp_context.vbs_register",
                       "register " + std::to_string(r) + " name " + hex(reg.register_name) +
                           " is not a supported " + (x64 ? "x64" : "aarch64") + " register");
      }
      if (!allZero(asBytes(reg.mbz))) {
        IGVMKIT_RETURN_IF_ERROR(deviation(invalid(
            "vp_context.vbs_mbz",
            "register " + std::to_string(r) + " has non-zero reserved bytes")));
      }
    }
    h.vp_format = x64 ? VpContextFormat::kVbsX64 : VpContextFormat::kVbsAArch64;
    for (VpRequirement& req : requirements_) {
      if ((req.mask & vp.compatibility_mask) != 0 && req.vp_index == 0 && req.vtl == vtl) {
        req.satisfied = true;
      }
    }
    return okStatus();
  }

  Status checkRequiredMemory(const IGVM_VHS_REQUIRED_MEMORY& rm) {
    IGVMKIT_RETURN_IF_ERROR(checkMask(rm.compatibility_mask));
    if (rm.reserved != 0) {
      return invalid("required_memory.reserved", "reserved " + hex(rm.reserved) + " is not zero");
    }
    if ((rm.flags & ~kRequiredMemoryFlagVtl2Protectable) != 0) {
      IGVMKIT_RETURN_IF_ERROR(deviation(
          invalid("required_memory.flags",
                  "reserved flag bits " + hex(rm.flags & ~kRequiredMemoryFlagVtl2Protectable) +
                      " are set")));
    }
    IGVMKIT_RETURN_IF_ERROR(
        checkAligned("required_memory.gpa_alignment", "gpa", rm.gpa, kPageSize4K));
    return checkAligned("required_memory.size", "number_of_bytes", rm.number_of_bytes,
                        kPageSize4K);
  }

  Status checkErrorRange(const IGVM_VHS_ERROR_RANGE& er) {
    IGVMKIT_RETURN_IF_ERROR(checkMask(er.compatibility_mask));
    IGVMKIT_RETURN_IF_ERROR(checkAligned("error_range.gpa_alignment", "gpa", er.gpa, kPageSize4K));
    return deviation(checkAligned("error_range.size", "size_bytes", er.size_bytes, kPageSize4K));
  }

  // §6
  Status checkIdBlock(const IGVM_VHS_SNP_ID_BLOCK& id) {
    IGVMKIT_RETURN_IF_ERROR(checkMask(id.compatibility_mask));
    for (uint32_t m = id.compatibility_mask & declared_; m != 0; m &= m - 1) {
      uint32_t bit = m & (~m + 1);
      if (platformOfBit(bit) != PlatformType::kSevSnp) {
        IGVMKIT_RETURN_IF_ERROR(deviation(
            invalid("snp_id_block.platform",
                    "compatibility mask bit " + hex(bit) + " is not a SEV_SNP platform")));
      }
    }
    if (!allZero(asBytes(id.reserved))) {
      IGVMKIT_RETURN_IF_ERROR(
          deviation(invalid("snp_id_block.reserved", "reserved bytes are not zero")));
    }
    if ((id_block_bits_ & id.compatibility_mask) != 0) {
      IGVMKIT_RETURN_IF_ERROR(deviation(
          invalid("snp_id_block.duplicate", "a second SNP ID block for mask bits " +
                                                hex(id_block_bits_ & id.compatibility_mask))));
    }
    id_block_bits_ |= id.compatibility_mask;
    return okStatus();
  }

  // --- whole file --------------------------------------------------------------------------------

  Status finish() {
    if (declared_ == 0) {
      return invalid("vh.no_platform", "the file has no SUPPORTED_PLATFORM header",
                     at(vh_begin_));
    }
    // Relocatable regions of a shared bit must not overlap (§2.6).
    if (std::optional<Overlap> o = firstOverlap(reloc_regions_)) {
      const Import& r = o->later;
      return invalid("relocation.overlap",
                     "region " + hex(r.first) + "-" + hex(r.last) +
                         " overlaps the region of header #" +
                         std::to_string(all_[o->earlier_index].index) + " for mask bit " +
                         hex(o->bit),
                     where(r.index));
    }
    for (const VpRequirement& req : requirements_) {
      if (!req.satisfied) {
        return invalid("relocation.no_vp_context",
                       "no later VBS VP context with vp_index " + hex(req.vp_index) + " and vtl " +
                           hex(req.vtl) + " matches the region",
                       where(req.index));
      }
    }
    // Per platform bit, no two imported ranges may overlap.
    if (std::optional<Overlap> o = firstOverlap(imports_)) {
      const Import& imp = o->later;
      return deviation(invalid("page.overlap",
                               "gpa range " + hex(imp.first) + "-" + hex(imp.last) +
                                   " overlaps the pages of header #" +
                                   std::to_string(all_[o->earlier_index].index) +
                                   " for mask bit " + hex(o->bit),
                               where(imp.index)));
    }
    return okStatus();
  }

  struct Overlap {
    Import later;            // the range that starts inside an earlier one
    uint32_t earlier_index;  // index into all_ of that earlier range
    uint32_t bit;
  };

  // Sorted by start (then file order), the first range that starts inside an earlier range of a
  // shared mask bit. O(n log n).
  static std::optional<Overlap> firstOverlap(HugeVector<Import>& ranges) {
    auto before = [](const Import& a, const Import& b) {
      return a.first != b.first ? a.first < b.first : a.index < b.index;
    };
    // Files usually import in address order: one pass instead of a sort of every page.
    if (!std::is_sorted(ranges.begin(), ranges.end(), before)) {
      std::sort(ranges.begin(), ranges.end(), before);
    }
    std::array<uint64_t, 32> max_last{};
    std::array<uint32_t, 32> owner{};
    uint32_t seen = 0;
    for (const Import& imp : ranges) {
      for (uint32_t m = imp.mask; m != 0; m &= m - 1) {
        int bit = std::countr_zero(m);
        if ((seen & (1u << bit)) != 0 && imp.first <= max_last[bit]) {
          return Overlap{imp, owner[bit], 1u << bit};
        }
        if ((seen & (1u << bit)) == 0 || imp.last > max_last[bit]) {
          max_last[bit] = imp.last;
          owner[bit] = imp.index;
        }
        seen |= 1u << bit;
      }
    }
    return std::nullopt;
  }

  Status applyFilter() {
    uint32_t filter = ~uint32_t{0};
    if (opts_.platform) {
      filter = 0;
      for (int bit = 0; bit < 32; ++bit) {
        if ((declared_ & (1u << bit)) != 0 && bit_platform_[bit] == static_cast<uint8_t>(*opts_.platform)) {
          filter = 1u << bit;
        }
      }
      if (filter == 0) {
        return unsupported("filter.no_platform",
                           "the file has no " +
                               std::string(platformTypeName(static_cast<uint8_t>(*opts_.platform))) +
                               " platform");
      }
    }
    if (opts_.compatibility_mask) {
      filter &= *opts_.compatibility_mask;
    }
    file_.declared_mask_ = declared_;
    if (filter == ~uint32_t{0}) {
      file_.headers_ = std::move(all_);
    } else {
      for (Header& h : all_) {
        if (h.section == Section::kPlatform || h.appliesTo(filter)) {
          file_.headers_.push_back(std::move(h));
        }
      }
      all_.clear();
    }
    const auto& hs = file_.headers_;
    size_t n = hs.size();
    size_t i = 0;
    while (i < n && hs[i].section == Section::kPlatform) {
      ++i;
    }
    file_.init_begin_ = i;
    while (i < n && hs[i].section == Section::kInitialization) {
      ++i;
    }
    file_.directive_begin_ = i;
    return okStatus();
  }

  Bytes bytes_;
  ParseOptions opts_;
  File file_;
  HugeVector<Header> all_;  // a big file has hundreds of thousands (base/memory.h)
  uint64_t fixed_size_ = 0;
  uint64_t vh_begin_ = 0;
  uint64_t vh_end_ = 0;
  uint64_t data_start_ = 0;

  uint32_t declared_ = 0;
  uint32_t types_seen_ = 0;
  std::array<uint8_t, 32> bit_platform_{};
  uint32_t policy_bits_ = 0;
  uint32_t page_table_bits_ = 0;
  uint32_t corim_doc_bits_ = 0;
  uint32_t corim_sig_bits_ = 0;
  uint32_t id_block_bits_ = 0;
  std::vector<Region> regions_;         // page-table regions (at most one per bit)
  HugeVector<Import> reloc_regions_;  // relocatable regions
  std::vector<VpRequirement> requirements_;
  std::unordered_set<uint64_t> vp_keys_;
  std::set<std::pair<uint32_t, uint64_t>> vmsa_pages_;  // (mask, gpa) of SNP/SEV-ES VMSAs
  std::unordered_map<uint32_t, Area> areas_;
  uint64_t area_bytes_ = 0;  // all declared areas together (parameter_area.limit)
  HugeVector<Import> imports_;
  size_t current_ = ~size_t{0};  // index into all_ of the header being checked
};

Result<File> File::parse(Bytes bytes, ParseOptions opts) {
  Parser parser(bytes, opts);
  return parser.run();
}

}  // namespace igvmkit::igvm
