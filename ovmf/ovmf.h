// ovmf/ovmf.h: the metadata an OVMF image carries for confidential launches, parsed and
// validated. OVMF ends with a GUIDed table (0x20 bytes before the end of the image) whose entries
// say where the SEV-ES AP reset address, the SEV secret and kernel-hashes areas, the SEV metadata
// ("ASEV": pages the launch must pre-validate or fill) and the TDX metadata ("TDVF": what QEMU
// copies into a TD and measures) are. Everything a QEMU launch needs to measure is in the file.
//
//   IGVMKIT_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
//   IGVMKIT_ASSIGN_OR_RETURN(ovmf::Firmware fw, ovmf::Firmware::parse(mapped.bytes()));
//   if (fw.sevEsResetEip()) { ... }                 // the APs' reset address
//   for (const ovmf::SevSection& s : fw.sevSections()) { ... }
//   for (const ovmf::TdvfSection& s : fw.tdvfSections()) { ... }
//
// A file without the footer GUID is a firmware without a table (entries() is empty), as QEMU and
// sev-snp-measure treat it; what a launch then lacks is reported by whoever needs it
// (requireEntry()). A table that is there but malformed is an error: one line naming the GUID,
// the entry or section index and the file offset (rules "ovmf.*", README.md).
//
// Firmware holds a view: the caller keeps the image bytes alive.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit::ovmf {

// An EFI GUID as stored in the file (first three fields little endian).
struct Guid {
  std::array<std::byte, 16> bytes{};

  // From the canonical text form "96b582de-1fb2-45f7-baea-a366c55a082d" (usable at compile time).
  static constexpr Guid fromString(std::string_view text);
  // The canonical lowercase text form.
  std::string toString() const;
  friend bool operator==(const Guid&, const Guid&) = default;
};

// The table's own GUID and the entries igvmkit reads (edk2 ResetVectorVtf0.asm, svsm).
inline constexpr std::string_view kFooterGuidText = "96b582de-1fb2-45f7-baea-a366c55a082d";
inline constexpr std::string_view kSevEsResetBlockGuidText = "00f771de-1a7e-4fcb-890e-68c77e2fb44e";
inline constexpr std::string_view kSevSecretGuidText = "4c2eb361-7d9b-4cc3-8081-127c90d3d294";
inline constexpr std::string_view kSevHashTableGuidText = "7255371f-3a3b-4b04-927b-1da6efa8d454";
inline constexpr std::string_view kSevMetadataGuidText = "dc886566-984a-4798-a75e-5585a7bf67cc";
inline constexpr std::string_view kTdxMetadataGuidText = "e47a6535-984a-4798-865e-4685a7bf8ec2";
inline constexpr std::string_view kSvsmInfoGuidText = "a789a612-0597-4c4b-a49f-cbb1fe9d1ddd";

// One entry of the footer table.
struct TableEntry {
  Guid guid;
  uint64_t offset = 0;  // file offset of the entry's data
  Bytes data;           // the entry's data (without its size and GUID)
};

// SEV metadata section types (OvmfSevMetadata.asm; sev-snp-measure ovmf.py SectionType).
enum class SevSectionType : uint32_t {
  kSnpSecMem = 1,          // pre-validated zero memory (SNP_LAUNCH_UPDATE ZERO)
  kSnpSecrets = 2,         // the SNP secrets page
  kCpuid = 3,              // the SNP CPUID page
  kSvsmCaa = 4,            // the SVSM calling-area page (zero)
  kSnpKernelHashes = 0x10  // the page holding the SEV hash table (QEMU kernel-hashes=on)
};
// "SNP_SEC_MEM", "SNP_SECRETS", "CPUID", "SVSM_CAA", "SNP_KERNEL_HASHES".
const char* sevSectionTypeName(SevSectionType type);

struct SevSection {
  uint32_t gpa = 0;   // 4 KiB aligned
  uint32_t size = 0;  // 4 KiB multiple, not zero
  SevSectionType type = SevSectionType::kSnpSecMem;
};

// TDVF section types (TDVF Design Guide; td-shim adds the payload types).
enum class TdvfSectionType : uint32_t {
  kBfv = 0,         // boot firmware volume (the code)
  kCfv = 1,         // configuration firmware volume (the variables)
  kTdHob = 2,       // the TD HOB QEMU writes
  kTempMem = 3,     // temporary memory, zero
  kPermMem = 4,     // permanent memory (accepted by the TD, not added)
  kPayload = 5,     // td-shim payload
  kPayloadParam = 6 // td-shim payload parameters
};
// "BFV", "CFV", "TD_HOB", "TempMem", "PermMem", "Payload", "PayloadParam".
const char* tdvfSectionTypeName(TdvfSectionType type);
inline constexpr uint32_t kTdvfAttributeMrExtend = 1u << 0;  // TDH.MR.EXTEND every page
inline constexpr uint32_t kTdvfAttributePageAug = 1u << 1;   // TDH.MEM.PAGE.AUG, not ADD

struct TdvfSection {
  uint32_t data_offset = 0;
  uint32_t raw_data_size = 0;
  uint64_t memory_address = 0;
  uint64_t memory_data_size = 0;
  TdvfSectionType type = TdvfSectionType::kBfv;
  uint32_t attributes = 0;

  bool mrExtend() const { return (attributes & kTdvfAttributeMrExtend) != 0; }
  bool pageAug() const { return (attributes & kTdvfAttributePageAug) != 0; }
};

// Where the SEV hash table or the SEV secret lives in guest memory ({base u32, size u32}).
struct GuestArea {
  uint32_t gpa = 0;
  uint32_t size = 0;
};

class Firmware {
 public:
  // Parses and validates the footer table and the tables it points to. Rules:
  //   ovmf.table        the footer's size runs before the start of the image or is too small
  //   ovmf.entry        an entry's size is smaller than its 18-byte tail or runs past the table
  //   ovmf.duplicate    a GUID appears twice (tools disagree which one wins)
  //   ovmf.entry_data   a known entry's data is too short for its fields
  //   ovmf.sev_metadata "ASEV": offset, signature, version, size, or a section (index, type,
  //                     alignment, size) is wrong
  //   ovmf.tdx_metadata "TDVF": offset, signature, version, length, or a section (index, type,
  //                     attributes, alignment, sizes) is wrong. Section data is not checked
  //                     against this image: it counts from the start of the unified image.
  // Every error names the GUID of the entry it concerns and carries the file offset.
  static Result<Firmware> parse(Bytes image);

  Bytes image() const { return image_; }
  // In table order: the entry nearest the footer first.
  const std::vector<TableEntry>& entries() const { return entries_; }
  const TableEntry* find(const Guid& guid) const;
  // The entry, or an "ovmf.missing" error naming `guid` and saying what needs it (`purpose`).
  Result<TableEntry> requireEntry(const Guid& guid, std::string_view purpose) const;

  // The SEV-ES reset block: where QEMU starts the APs (CS base = eip & 0xffff0000, IP the rest).
  std::optional<uint32_t> sevEsResetEip() const { return sev_es_reset_eip_; }
  // The SEV hash table area; absent also when the firmware gives it base 0 (not built for it).
  std::optional<GuestArea> sevHashTable() const { return sev_hash_table_; }
  std::optional<GuestArea> sevSecret() const { return sev_secret_; }
  // COCONUT-SVSM: the SVSM entry point's offset from the start of the SVSM image.
  std::optional<uint32_t> svsmEntryOffset() const { return svsm_entry_offset_; }
  // The "ASEV" sections in table order (empty without SEV metadata).
  bool hasSevMetadata() const { return has_sev_metadata_; }
  const std::vector<SevSection>& sevSections() const { return sev_sections_; }
  bool hasSevSection(SevSectionType type) const;
  // The "TDVF" sections in table order (empty without TDX metadata).
  bool hasTdxMetadata() const { return has_tdx_metadata_; }
  const std::vector<TdvfSection>& tdvfSections() const { return tdvf_sections_; }

 private:
  explicit Firmware(Bytes image) : image_(image) {}
  Status parseTable();
  Status parseKnownEntries();
  Status parseSevMetadata(const TableEntry& entry);
  Status parseTdxMetadata(const TableEntry& entry);

  Bytes image_;
  std::vector<TableEntry> entries_;
  std::optional<uint32_t> sev_es_reset_eip_;
  std::optional<GuestArea> sev_hash_table_;
  std::optional<GuestArea> sev_secret_;
  std::optional<uint32_t> svsm_entry_offset_;
  bool has_sev_metadata_ = false;
  std::vector<SevSection> sev_sections_;
  bool has_tdx_metadata_ = false;
  std::vector<TdvfSection> tdvf_sections_;
};

// --- implementation of Guid::fromString (constexpr) -------------------------------------------
namespace internal {
constexpr int hexValue(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}
}  // namespace internal

constexpr Guid Guid::fromString(std::string_view text) {
  // Text order of the 16 bytes; the first three groups (4, 2, 2 bytes) are stored reversed.
  constexpr int kStoredIndex[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  Guid g;
  int byte = 0;
  for (size_t i = 0; i < text.size() && byte < 16;) {
    if (text[i] == '-') {
      ++i;
      continue;
    }
    const int hi = internal::hexValue(text[i]);
    const int lo = i + 1 < text.size() ? internal::hexValue(text[i + 1]) : -1;
    if (hi < 0 || lo < 0) {
      return Guid{};
    }
    g.bytes[kStoredIndex[byte++]] = static_cast<std::byte>(hi * 16 + lo);
    i += 2;
  }
  return g;
}

inline constexpr Guid kFooterGuid = Guid::fromString(kFooterGuidText);
inline constexpr Guid kSevEsResetBlockGuid = Guid::fromString(kSevEsResetBlockGuidText);
inline constexpr Guid kSevSecretGuid = Guid::fromString(kSevSecretGuidText);
inline constexpr Guid kSevHashTableGuid = Guid::fromString(kSevHashTableGuidText);
inline constexpr Guid kSevMetadataGuid = Guid::fromString(kSevMetadataGuidText);
inline constexpr Guid kTdxMetadataGuid = Guid::fromString(kTdxMetadataGuidText);
inline constexpr Guid kSvsmInfoGuid = Guid::fromString(kSvsmInfoGuidText);

}  // namespace igvmkit::ovmf
