// measure/vbs.h: the Hyper-V VBS boot digest, as OpenVMM's igvmfilegen and microsoft/igvm's
// generate_vbs_measurement compute it (measurement.md §4).
//
// A SHA-256 chain: D0 = 32 zero bytes, D = SHA-256(D || record). One record per 4 KiB page (a
// 32-byte header, then the 4096 page bytes, all zero when unmeasured) and one per VP register.
// Register records come after ALL page records, in the order they were added, whatever the
// order the caller interleaves them in: VbsBootDigest queues registers and folds them in when
// the digest is read, so the front end can walk directives in file order.
//
//   measure::VbsBootDigest d;
//   IGVMKIT_RETURN_IF_ERROR(d.addPage(0x0, page_bytes, VbsAcceptance::kNone, false));
//   d.addRegister(/*vtl=*/0, igvm::kHvX64RegisterRip, vbsScalarValue(0xfff0));
//   IGVMKIT_ASSIGN_OR_RETURN(measure::Sha256Digest boot, d.digest());
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "measure/digest.h"

namespace igvmkit::measure {

// VBS_VP_CHUNK_TYPE values (§4.2). VP_VTL_ENABLED exists but no tool emits it.
enum class VbsChunkType : uint32_t { kVpRegister = 0, kVpVtlEnabled = 1, kVpGpaPage = 2 };

// Page acceptance bits of the GPA page record's metadata (bits 1:0).
enum class VbsAcceptance : uint8_t { kNone = 0, kReadable = 1, kWritable = 2, kReadWrite = 3 };

// The 16-byte chunk header every record starts with.
struct [[gnu::packed]] VBS_VP_CHUNK_HEADER {
  uint32_t byte_count;  // size of the whole record as hashed (without the 4 KiB page: 0x1020)
  uint32_t chunk_type;  // VbsChunkType
  uint64_t reserved;    // 0
};
static_assert(sizeof(VBS_VP_CHUNK_HEADER) == 16);
static_assert(offsetof(VBS_VP_CHUNK_HEADER, chunk_type) == 4);
static_assert(offsetof(VBS_VP_CHUNK_HEADER, reserved) == 8);

// A GPA page record's 32 bytes; the 4096 page bytes follow it in the hashed record.
struct [[gnu::packed]] VBS_VP_GPA_PAGE_CHUNK {
  VBS_VP_CHUNK_HEADER header;  // byte_count 0x1020 (32 + 4096), chunk_type 2
  uint64_t metadata;           // bits 1:0 acceptance, bit 2 data unmeasured
  uint64_t page_number;        // gpa / 4096
};
static_assert(sizeof(VBS_VP_GPA_PAGE_CHUNK) == 32);
static_assert(offsetof(VBS_VP_GPA_PAGE_CHUNK, metadata) == 16);
static_assert(offsetof(VBS_VP_GPA_PAGE_CHUNK, page_number) == 24);

inline constexpr uint64_t kVbsMetadataUnmeasured = 1u << 2;

// A VP register record, 48 bytes, hashed whole.
struct [[gnu::packed]] VBS_VP_REGISTER_CHUNK {
  VBS_VP_CHUNK_HEADER header;  // byte_count 48, chunk_type 0
  uint32_t reserved;           // 0
  uint8_t vtl;                 // the register's VTL
  uint8_t reserved2;           // 0
  uint16_t reserved3;          // 0
  uint32_t reserved4;          // 0
  uint32_t name;               // Hyper-V register name: igvm::kHvX64Register* (igvm/defs.h)
  std::byte value[16];         // HV_REGISTER_VALUE; see vbs*Value() below
};
static_assert(sizeof(VBS_VP_REGISTER_CHUNK) == 48);
static_assert(offsetof(VBS_VP_REGISTER_CHUNK, vtl) == 20);
static_assert(offsetof(VBS_VP_REGISTER_CHUNK, reserved4) == 24);
static_assert(offsetof(VBS_VP_REGISTER_CHUNK, name) == 28);
static_assert(offsetof(VBS_VP_REGISTER_CHUNK, value) == 32);

using VbsRegisterValue = std::array<std::byte, 16>;

// HV_REGISTER_VALUE encodings: a scalar is a LE u64 then zeros; a segment is base u64, limit
// u32, selector u16, attributes u16; a table register is 3 x u16 padding, limit u16, base u64.
VbsRegisterValue vbsScalarValue(uint64_t value);
VbsRegisterValue vbsSegmentValue(uint64_t base, uint32_t limit, uint16_t selector,
                                 uint16_t attributes);
VbsRegisterValue vbsTableValue(uint16_t limit, uint64_t base);

VBS_VP_GPA_PAGE_CHUNK makeVbsPageChunk(uint64_t gpa, VbsAcceptance acceptance, bool unmeasured);
VBS_VP_REGISTER_CHUNK makeVbsRegisterChunk(uint8_t vtl, uint32_t name,
                                           const VbsRegisterValue& value);

class VbsBootDigest {
 public:
  // One GPA page record. `contents` are the page's first bytes (at most 4096, "page.too_large";
  // zero-padded); an unmeasured page hashes 4096 zero bytes whatever its contents.
  // "vbs.gpa_alignment" unless `gpa` is 4 KiB aligned.
  Status addPage(uint64_t gpa, Bytes contents, VbsAcceptance acceptance, bool unmeasured);

  // `count` consecutive unmeasured pages from `gpa` (PARAMETER_INSERT: acceptance none, one per
  // page of the area; ERROR_RANGE: acceptance read-write, ceil(size / 4096) pages).
  Status addUnmeasuredPages(uint64_t gpa, uint64_t count, VbsAcceptance acceptance);

  // Queues a VP register record; all of them are folded in after the pages, in this order.
  void addRegister(uint8_t vtl, uint32_t name, const VbsRegisterValue& value);

  // The boot digest: the page chain so far, then every queued register.
  Result<Sha256Digest> digest() const;

  uint64_t pageCount() const { return pages_; }
  uint64_t registerCount() const { return registers_.size(); }

 private:
  Sha256Digest d_{};
  uint64_t pages_ = 0;
  std::vector<VBS_VP_REGISTER_CHUNK> registers_;
};

}  // namespace igvmkit::measure
