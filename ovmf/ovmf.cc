#include "ovmf/ovmf.h"

#include <cstddef>
#include <cstring>
#include <string_view>

#include "ovmf/defs.h"

namespace igvmkit::ovmf {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kFourGiB = uint64_t{1} << 32;

Guid guidOf(const uint8_t (&raw)[16]) {
  Guid g;
  std::memcpy(g.bytes.data(), raw, 16);
  return g;
}

Error tableError(std::string rule, uint64_t offset, std::string message) {
  Location where;
  where.offset = offset;
  return invalid(std::move(rule), std::move(message), where);
}

std::string entryName(size_t index, const Guid& guid) {
  return "footer table entry #" + std::to_string(index) + " (GUID " + guid.toString() + ")";
}

uint32_t readU32(Bytes data, size_t off) {
  uint32_t v = 0;
  std::memcpy(&v, data.data() + off, sizeof(v));
  return v;
}

// "ASEV" and "TDVF" blocks are found alike: the entry holds the block's distance from the image
// end, and the block opens with a 4-byte signature and has version 1 at offset 8 (both headers
// are 16 bytes: signature, size, version, count). Returns the block's offset in the image.
template <typename Header>
Result<uint64_t> metadataStart(Bytes image, const TableEntry& entry, const std::string& rule,
                               const std::string& name, std::string_view signature) {
  static_assert(sizeof(Header) == 16);
  const uint32_t from_end = readU32(entry.data, 0);
  if (from_end > image.size() || from_end < sizeof(Header)) {
    return tableError(rule, entry.offset,
                      name + ": offset " + hex(from_end) + " from the end of the image (size " +
                          hex(image.size()) + ") does not leave room for its header");
  }
  const uint64_t start = image.size() - from_end;
  if (std::memcmp(image.data() + start, signature.data(), 4) != 0) {
    return tableError(rule, start, name + ": signature is not \"" + std::string(signature) + "\"");
  }
  const uint32_t version = readU32(image, start + 8);
  if (version != 1) {
    return tableError(rule, start, name + ": version " + std::to_string(version) + " is not 1");
  }
  return start;
}

}  // namespace

std::string Guid::toString() const {
  static const char* kDigits = "0123456789abcdef";
  constexpr int kStoredIndex[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out += '-';
    }
    const auto b = static_cast<uint8_t>(bytes[kStoredIndex[i]]);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out;
}

const char* sevSectionTypeName(SevSectionType type) {
  switch (type) {
    case SevSectionType::kSnpSecMem:
      return "SNP_SEC_MEM";
    case SevSectionType::kSnpSecrets:
      return "SNP_SECRETS";
    case SevSectionType::kCpuid:
      return "CPUID";
    case SevSectionType::kSvsmCaa:
      return "SVSM_CAA";
    case SevSectionType::kSnpKernelHashes:
      return "SNP_KERNEL_HASHES";
  }
  return "unknown";
}

const char* tdvfSectionTypeName(TdvfSectionType type) {
  switch (type) {
    case TdvfSectionType::kBfv:
      return "BFV";
    case TdvfSectionType::kCfv:
      return "CFV";
    case TdvfSectionType::kTdHob:
      return "TD_HOB";
    case TdvfSectionType::kTempMem:
      return "TempMem";
    case TdvfSectionType::kPermMem:
      return "PermMem";
    case TdvfSectionType::kPayload:
      return "Payload";
    case TdvfSectionType::kPayloadParam:
      return "PayloadParam";
  }
  return "unknown";
}

Result<Firmware> Firmware::parse(Bytes image) {
  Firmware fw(image);
  IGVMKIT_RETURN_IF_ERROR(fw.parseTable());
  IGVMKIT_RETURN_IF_ERROR(fw.parseKnownEntries());
  return fw;
}

const TableEntry* Firmware::find(const Guid& guid) const {
  for (const TableEntry& e : entries_) {
    if (e.guid == guid) {
      return &e;
    }
  }
  return nullptr;
}

Result<TableEntry> Firmware::requireEntry(const Guid& guid, std::string_view purpose) const {
  if (const TableEntry* e = find(guid)) {
    return *e;
  }
  std::string where = entries_.empty() ? "the image has no OVMF footer table (GUID " +
                                             kFooterGuid.toString() + ")"
                                       : "the OVMF footer table has no entry";
  return invalid("ovmf.missing", where + " for GUID " + guid.toString() + ", which " +
                                     std::string(purpose) + " needs");
}

bool Firmware::hasSevSection(SevSectionType type) const {
  for (const SevSection& s : sev_sections_) {
    if (s.type == type) {
      return true;
    }
  }
  return false;
}

// The table ends 0x20 bytes before the image end with the footer entry, whose size covers every
// entry; entries are walked backwards from it (pc_sysfw_ovmf.c, ovmf.py _parse_footer_table).
Status Firmware::parseTable() {
  constexpr uint64_t kTail = sizeof(OVMF_FOOTER_TABLE_ENTRY);
  if (image_.size() < kFooterTableEndFromImageEnd + kTail) {
    return okStatus();  // too small to hold a table: a firmware without one
  }
  const uint64_t footer_off = image_.size() - kFooterTableEndFromImageEnd - kTail;
  IGVMKIT_ASSIGN_OR_RETURN(auto footer, readStruct<OVMF_FOOTER_TABLE_ENTRY>(image_, footer_off));
  if (!(guidOf(footer.guid) == kFooterGuid)) {
    return okStatus();  // no table: QEMU and sev-snp-measure then see no entries either
  }
  const std::string footer_name = "OVMF footer table (GUID " + kFooterGuid.toString() + ")";
  if (footer.size < kTail) {
    return tableError("ovmf.table", footer_off,
                      footer_name + ": size " + hex(footer.size) +
                          " is smaller than its 18-byte footer entry");
  }
  const uint64_t table_len = footer.size - kTail;
  if (table_len > footer_off) {
    return tableError("ovmf.table", footer_off,
                      footer_name + ": size " + hex(footer.size) +
                          " runs before the start of the image");
  }
  const uint64_t table_start = footer_off - table_len;
  uint64_t end = footer_off;  // one past the current entry's GUID
  for (size_t index = 0; end > table_start; ++index) {
    const uint64_t rest = end - table_start;
    if (rest < kTail) {
      return tableError("ovmf.entry", table_start,
                        footer_name + ": " + std::to_string(rest) +
                            " bytes before entry #" + std::to_string(index - 1) +
                            " are too few for another entry's 18-byte tail");
    }
    IGVMKIT_ASSIGN_OR_RETURN(auto tail, readStruct<OVMF_FOOTER_TABLE_ENTRY>(image_, end - kTail));
    const Guid guid = guidOf(tail.guid);
    if (tail.size < kTail || tail.size > rest) {
      return tableError("ovmf.entry", end - kTail,
                        entryName(index, guid) + ": size " + hex(tail.size) +
                            (tail.size < kTail ? " is smaller than its 18-byte tail"
                                               : " runs past the start of the table"));
    }
    if (find(guid) != nullptr) {
      return tableError("ovmf.duplicate", end - kTail,
                        entryName(index, guid) + ": the GUID appears twice in the table");
    }
    const uint64_t data_off = end - tail.size;
    entries_.push_back(TableEntry{guid, data_off, image_.subspan(data_off, tail.size - kTail)});
    end = data_off;
  }
  return okStatus();
}

Status Firmware::parseKnownEntries() {
  for (size_t index = 0; index < entries_.size(); ++index) {
    const TableEntry& e = entries_[index];
    size_t need = 0;
    if (e.guid == kSevEsResetBlockGuid || e.guid == kSevMetadataGuid ||
        e.guid == kTdxMetadataGuid || e.guid == kSvsmInfoGuid) {
      need = 4;
    } else if (e.guid == kSevHashTableGuid || e.guid == kSevSecretGuid) {
      need = 8;
    }
    if (e.data.size() < need) {
      return tableError("ovmf.entry_data", e.offset,
                        entryName(index, e.guid) + ": " + std::to_string(e.data.size()) +
                            " data bytes, expected at least " + std::to_string(need));
    }
    if (e.guid == kSevEsResetBlockGuid) {
      sev_es_reset_eip_ = readU32(e.data, 0);
    } else if (e.guid == kSevHashTableGuid) {
      // Base 0 means the build has no hash-table area (OvmfPkgX64): QEMU and sev-snp-measure
      // treat it as absent.
      if (readU32(e.data, 0) != 0) {
        sev_hash_table_ = GuestArea{readU32(e.data, 0), readU32(e.data, 4)};
      }
    } else if (e.guid == kSevSecretGuid) {
      if (readU32(e.data, 0) != 0) {
        sev_secret_ = GuestArea{readU32(e.data, 0), readU32(e.data, 4)};
      }
    } else if (e.guid == kSvsmInfoGuid) {
      svsm_entry_offset_ = readU32(e.data, 0);
    } else if (e.guid == kSevMetadataGuid) {
      IGVMKIT_RETURN_IF_ERROR(parseSevMetadata(e));
    } else if (e.guid == kTdxMetadataGuid) {
      IGVMKIT_RETURN_IF_ERROR(parseTdxMetadata(e));
    }
  }
  return okStatus();
}

// "ASEV" at image end - offset (OvmfSevMetadata.asm; ovmf.py _parse_sev_metadata).
Status Firmware::parseSevMetadata(const TableEntry& entry) {
  const std::string name = "SEV metadata (GUID " + entry.guid.toString() + ")";
  constexpr uint64_t kHeader = sizeof(OVMF_SEV_METADATA_HEADER);
  static_assert(offsetof(OVMF_SEV_METADATA_HEADER, version) == 8);
  IGVMKIT_ASSIGN_OR_RETURN(const uint64_t start, metadataStart<OVMF_SEV_METADATA_HEADER>(
                                                     image_, entry, "ovmf.sev_metadata", name,
                                                     "ASEV"));
  IGVMKIT_ASSIGN_OR_RETURN(auto h, readStruct<OVMF_SEV_METADATA_HEADER>(image_, start));
  const uint64_t needed = kHeader + uint64_t{h.num_items} * sizeof(OVMF_SEV_METADATA_SECTION_DESC);
  if (h.size < needed || h.size > image_.size() - start) {
    return tableError("ovmf.sev_metadata", start,
                      name + ": size " + hex(h.size) + " does not hold its header and " +
                          std::to_string(h.num_items) + " sections within the image");
  }
  for (uint32_t i = 0; i < h.num_items; ++i) {
    const uint64_t off = start + kHeader + uint64_t{i} * sizeof(OVMF_SEV_METADATA_SECTION_DESC);
    IGVMKIT_ASSIGN_OR_RETURN(auto d, readStruct<OVMF_SEV_METADATA_SECTION_DESC>(image_, off));
    const std::string where = name + " section #" + std::to_string(i);
    switch (d.type) {
      case 1: case 2: case 3: case 4: case 0x10:
        break;
      default:
        // sev-snp-measure stops on an unknown type; measuring around it would be a guess.
        return tableError("ovmf.sev_metadata", off,
                          where + ": type " + hex(d.type) + " is not a known section type");
    }
    if (d.gpa % kPage != 0 || d.size % kPage != 0 || d.size == 0) {
      return tableError("ovmf.sev_metadata", off,
                        where + ": gpa " + hex(d.gpa) + " size " + hex(d.size) +
                            " is not a non-empty run of whole 4 KiB pages");
    }
    if (uint64_t{d.gpa} + d.size > kFourGiB) {
      return tableError("ovmf.sev_metadata", off,
                        where + ": gpa " + hex(d.gpa) + " + size " + hex(d.size) +
                            " runs past 4 GiB");
    }
    sev_sections_.push_back(SevSection{d.gpa, d.size, static_cast<SevSectionType>(d.type)});
  }
  has_sev_metadata_ = true;
  return okStatus();
}

// "TDVF" at image end - offset, checked as QEMU's tdvf_get_metadata and
// tdvf_parse_and_check_section_entry do (hw/i386/tdvf.c).
Status Firmware::parseTdxMetadata(const TableEntry& entry) {
  const std::string name = "TDX metadata (GUID " + entry.guid.toString() + ")";
  constexpr uint64_t kHeader = sizeof(TDVF_METADATA_HEADER);
  static_assert(offsetof(TDVF_METADATA_HEADER, Version) == 8);
  static_assert(kTdvfSignature == ('T' | 'D' << 8 | 'V' << 16 | 'F' << 24));
  IGVMKIT_ASSIGN_OR_RETURN(const uint64_t start, metadataStart<TDVF_METADATA_HEADER>(
                                                     image_, entry, "ovmf.tdx_metadata", name,
                                                     "TDVF"));
  IGVMKIT_ASSIGN_OR_RETURN(auto h, readStruct<TDVF_METADATA_HEADER>(image_, start));
  const uint64_t expected = kHeader + uint64_t{h.NumberOfSectionEntries} *
                                          sizeof(TDVF_SECTION_ENTRY);
  if (h.Length != expected || h.Length > image_.size() - start) {
    return tableError("ovmf.tdx_metadata", start,
                      name + ": length " + hex(h.Length) + " is not " + hex(expected) +
                          " (header and " + std::to_string(h.NumberOfSectionEntries) +
                          " sections) within the image");
  }
  for (uint32_t i = 0; i < h.NumberOfSectionEntries; ++i) {
    const uint64_t off = start + kHeader + uint64_t{i} * sizeof(TDVF_SECTION_ENTRY);
    IGVMKIT_ASSIGN_OR_RETURN(auto s, readStruct<TDVF_SECTION_ENTRY>(image_, off));
    const std::string where = name + " section #" + std::to_string(i);
    if (s.Type > static_cast<uint32_t>(TdvfSectionType::kPayloadParam)) {
      return tableError("ovmf.tdx_metadata", off,
                        where + ": type " + hex(s.Type) + " is not a known section type");
    }
    if ((s.Attributes & ~(kTdvfAttributeMrExtend | kTdvfAttributePageAug)) != 0) {
      return tableError("ovmf.tdx_metadata", off,
                        where + ": attributes " + hex(s.Attributes) + " has unknown bits");
    }
    if (s.MemoryAddress % kPage != 0 || s.MemoryDataSize % kPage != 0) {
      return tableError("ovmf.tdx_metadata", off,
                        where + ": memory " + hex(s.MemoryAddress) + " size " +
                            hex(s.MemoryDataSize) + " is not whole 4 KiB pages");
    }
    if (s.MemoryDataSize < s.RawDataSize) {
      return tableError("ovmf.tdx_metadata", off,
                        where + ": MemoryDataSize " + hex(s.MemoryDataSize) +
                            " is smaller than RawDataSize " + hex(s.RawDataSize));
    }
    if (s.MemoryAddress > UINT64_MAX - s.MemoryDataSize) {
      return tableError("ovmf.tdx_metadata", off,
                        where + ": memory " + hex(s.MemoryAddress) + " + " +
                            hex(s.MemoryDataSize) + " wraps around");
    }
    // DataOffset is not checked against this image: OvmfPkgX64's metadata counts from the start
    // of the unified image (vars + code), so OVMF_CODE.fd alone is a valid SEV firmware whose TDX
    // sections point past it. The TDX launch checks it (measure/ovmf_launch.h).
    tdvf_sections_.push_back(TdvfSection{s.DataOffset, s.RawDataSize, s.MemoryAddress,
                                         s.MemoryDataSize, static_cast<TdvfSectionType>(s.Type),
                                         s.Attributes});
  }
  has_tdx_metadata_ = true;
  return okStatus();
}

}  // namespace igvmkit::ovmf
