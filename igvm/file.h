// igvm/file.h: a validated, zero-copy view of an IGVM file (format v1 and v2).
//
// File::parse() applies every rule of shared/reference/igvm-format.md §7 (plus the stricter
// checks the reference recommends; igvm/README.md lists every rule id) and returns typed header
// views whose file data (page contents, parameter area contents, VP context payloads, CoRIM
// payloads) are spans into the caller's buffer: keep the buffer alive as long as the File.
// Memory is O(number of headers); page data is never copied.
//
//   IGVMKIT_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
//   IGVMKIT_ASSIGN_OR_RETURN(igvm::File file, igvm::File::parse(mapped.bytes()));
//   for (const igvm::Header& h : file.directives()) {
//     if (const auto* pd = h.get<igvm::IGVM_VHS_PAGE_DATA>()) {
//       // pd->gpa, pd->flags, h.data (4 KiB, or empty for a page of zeros)
//     }
//   }
//
// Errors carry a stable rule id (Error::rule, e.g. "page_data.gpa_alignment") and a Location
// naming the byte offset, the 0-based header index, its raw type and its spec name.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/memory.h"
#include "base/status.h"
#include "igvm/defs.h"

namespace igvmkit::igvm {

enum class Arch : uint32_t { kX64 = kArchX64, kAArch64 = kArchAArch64 };

// The three sections of the variable header area, in the order they must appear (§2.2).
enum class Section : uint8_t { kPlatform, kInitialization, kDirective };

// How a VP_CONTEXT's file data is laid out; follows from the platform its mask names (§5.1).
enum class VpContextFormat : uint8_t {
  kNone,        // not a VP_CONTEXT
  kSnpVmsa,     // SEV_SNP, SEV_ES: SevVmsa, 4096 bytes
  kNativeX64,   // NATIVE, SEV: IgvmNativeVpContextX64 in a zero-padded 4096 byte page
  kVbsX64,      // VSM_ISOLATION on x64: VbsVpContextHeader + registers
  kVbsAArch64,  // VSM_ISOLATION on AArch64: VbsVpContextHeader + registers
  kCca,         // CCA: IgvmVpContextAArch64Cca in a zero-padded 4096 byte page
};

// An entry whose type has IGVM_VHT_OPTIONAL_BIT set and that this library does not know; kept
// (not interpreted) so that parse -> model -> write preserves it.
struct UnknownHeader {
  Bytes content;  // the entry's content bytes (length bytes), a view into the file
};

// An immutable heap copy of a large struct, so that every Header stays small (O(headers) memory
// with large files). Copies share the value; it is never modified.
template <class T>
class Boxed {
 public:
  explicit Boxed(const T& value) : value_(std::make_shared<const T>(value)) {}
  const T& operator*() const { return *value_; }
  const T* get() const { return value_.get(); }

 private:
  std::shared_ptr<const T> value_;
};

// The decoded content of one variable header. IGVM_VHS_PARAMETER serves all parameter types
// (0x307..0x313) and IGVM_VHS_CORIM_DATA both CoRIM types: Header::type tells them apart.
using HeaderBody =
    std::variant<IGVM_VHS_SUPPORTED_PLATFORM, IGVM_VHS_GUEST_POLICY, IGVM_VHS_RELOCATABLE_REGION,
                 IGVM_VHS_PAGE_TABLE_RELOCATION, IGVM_VHS_CORIM_DATA, IGVM_VHS_CCA_POLICY,
                 IGVM_VHS_PARAMETER_AREA, IGVM_VHS_PAGE_DATA, IGVM_VHS_PARAMETER_INSERT,
                 IGVM_VHS_VP_CONTEXT, IGVM_VHS_REQUIRED_MEMORY, IGVM_VHS_PARAMETER,
                 Boxed<IGVM_VHS_SNP_ID_BLOCK>, IGVM_VHS_ERROR_RANGE,
                 Boxed<IGVM_VHS_VBS_MEASUREMENT>, UnknownHeader>;

template <class T>
inline constexpr bool kIsBoxed =
    std::is_same_v<T, IGVM_VHS_SNP_ID_BLOCK> || std::is_same_v<T, IGVM_VHS_VBS_MEASUREMENT>;

// Wraps a decoded struct into a HeaderBody (boxing the large ones).
template <class T>
HeaderBody toBody(const T& value) {
  if constexpr (kIsBoxed<T>) {
    return HeaderBody(Boxed<T>(value));
  } else {
    return HeaderBody(value);
  }
}

// One variable header entry of a parsed file.
struct Header {
  uint32_t index = 0;   // 0-based position among all entries of the file (before filtering)
  uint64_t offset = 0;  // byte offset of the entry's 8-byte type/length header in the file
  uint32_t type = 0;    // raw IgvmVariableHeaderType
  Section section = Section::kPlatform;
  HeaderBody body = UnknownHeader{};
  // The file data the header refers to (a view into the file), empty when it has none:
  //   PAGE_DATA: the page (4 KiB, 2 MiB with IS_2MB_PAGE); empty = a page of zeros.
  //   PARAMETER_AREA: the initial contents (number_of_bytes); empty = zeros.
  //   VP_CONTEXT: the context payload (4 KiB page, or VBS header + registers).
  //   CORIM_DOCUMENT / CORIM_SIGNATURE: the payload (size_bytes).
  Bytes data;
  VpContextFormat vp_format = VpContextFormat::kNone;  // VP_CONTEXT only

  // The decoded struct if the body holds a T, else nullptr.
  template <class T>
  const T* get() const {
    if constexpr (kIsBoxed<T>) {
      const auto* boxed = std::get_if<Boxed<T>>(&body);
      return boxed != nullptr ? boxed->get() : nullptr;
    } else {
      return std::get_if<T>(&body);
    }
  }

  // The spec name without prefix, e.g. "PAGE_DATA"; "UNKNOWN" for unknown optional types.
  std::string_view name() const;
  // Where the header is, for an Error: file offset, header index, type and name.
  Location location() const;
  // The compatibility mask, or nullopt for maskless headers (PARAMETER_AREA, parameters).
  std::optional<uint32_t> compatibilityMask() const;
  // True when the header applies to the platform with mask bit `platform_bit` (maskless headers
  // apply to every platform).
  bool appliesTo(uint32_t platform_bit) const;
};

// How closely File::parse() holds a file to the rules (igvm/README.md "Conformance").
enum class Conformance : uint8_t {
  // Every rule is an error (the default, and what `igvmkit check` reports).
  kStrict,
  // Accept every file microsoft/igvm's parser accepts: a rule that parser does not enforce
  // becomes a warning (File::warnings(), with rule id, header and offset) and parsing goes on.
  // Files the reference rejects are still rejected. Used by dump, measure, plan, run.
  kCompat,
  // kCompat plus the reference's own refusals that igvmkit does not share (a type with the
  // optional bit, CoRIM headers, which the reference's C library is built without, a file with
  // no file data): accepts what the reference's C API accepts. Used by libigvm and
  // `igvmkit check --compat`.
  kReference,
};

struct ParseOptions {
  // Reject unknown types even when IGVM_VHT_OPTIONAL_BIT is set (the reference parser's
  // behaviour). By default such entries are kept as UnknownHeader and otherwise ignored.
  bool strict = false;
  // Keep only headers for one platform (plus maskless headers and all platform headers), chosen
  // by platform type or by compatibility mask bit(s). The whole file is validated first.
  std::optional<PlatformType> platform = std::nullopt;
  std::optional<uint32_t> compatibility_mask = std::nullopt;
  // Accept compatibility masks with bits that no platform header declares (the reference parser
  // does; igvm_c's test file has a GUEST_POLICY for an undeclared platform).
  bool allow_undeclared_mask_bits = false;
  Conformance conformance = Conformance::kStrict;
};

class File {
 public:
  // Validates `bytes` completely and returns the view. `bytes` must outlive the File.
  static Result<File> parse(Bytes bytes, ParseOptions opts = {});

  uint32_t version() const { return fixed_.format_version; }
  Arch arch() const { return static_cast<Arch>(fixed_.architecture); }
  // The fixed header; for v1 files architecture is X64 and page_size 4096.
  const IGVM_FIXED_HEADER_V2& fixedHeader() const { return fixed_; }
  Bytes bytes() const { return bytes_; }
  // Absolute offset where the file data section starts.
  uint64_t fileDataOffset() const {
    return uint64_t{fixed_.variable_header_offset} + fixed_.variable_header_size;
  }

  // Every kept header in file order, and the three sections of it.
  std::span<const Header> headers() const { return headers_; }
  std::span<const Header> platforms() const;
  std::span<const Header> initializationHeaders() const;
  std::span<const Header> directives() const;

  // The platform header of a type, or of a single mask bit; nullptr when absent.
  const IGVM_VHS_SUPPORTED_PLATFORM* platform(PlatformType type) const;
  const IGVM_VHS_SUPPORTED_PLATFORM* platformForBit(uint32_t mask_bit) const;
  // OR of every declared platform bit.
  uint32_t declaredMask() const { return declared_mask_; }
  // The rules a lenient parse (Conformance::kCompat / kReference) let pass, in the order found;
  // each carries its rule id and location. Always empty for a strict parse.
  std::span<const Error> warnings() const { return warnings_; }

 private:
  File() = default;

  Bytes bytes_;
  IGVM_FIXED_HEADER_V2 fixed_{};
  HugeVector<Header> headers_;  // base/memory.h: one per entry, several MiB in a big file
  size_t init_begin_ = 0;       // first initialization header in headers_
  size_t directive_begin_ = 0;  // first directive in headers_
  uint32_t declared_mask_ = 0;
  std::vector<Error> warnings_;

  friend class Parser;
};

// Decoders for VP context payloads (h.data of a VP_CONTEXT). Each returns an error when the
// header has another format.
Result<SevVmsa> vmsaOf(const Header& h);
Result<IgvmNativeVpContextX64> nativeContextOf(const Header& h);
Result<IgvmVpContextAArch64Cca> ccaContextOf(const Header& h);
Result<std::vector<VbsVpContextRegister>> vbsRegistersOf(const Header& h);

// Spec names, e.g. headerTypeName(0x302) == "PAGE_DATA" ("UNKNOWN" when not defined).
std::string_view headerTypeName(uint32_t type);
std::string_view platformTypeName(uint8_t type);    // "SEV_SNP"; "UNKNOWN"
std::string_view pageDataTypeName(uint16_t type);   // "NORMAL"; "UNKNOWN"
std::string_view vpContextFormatName(VpContextFormat format);  // "snp_vmsa", ...
// The content size a known type requires (e.g. 24 for PAGE_DATA), 0 when the type is unknown.
uint32_t headerContentSize(uint32_t type);
// The section a type belongs to by its range, nullopt outside every range (§2.2).
std::optional<Section> sectionOfType(uint32_t type);

// CRC-32/IEEE 802.3 (zlib's crc32(); §1.3), continuing from `crc` (0 to start).
uint32_t crc32(Bytes bytes, uint32_t crc = 0);

}  // namespace igvmkit::igvm
