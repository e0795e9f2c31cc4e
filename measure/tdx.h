// measure/tdx.h: the Intel TDX MRTD (build-time measurement register), measurement.md §3.
//
// MRTD is ONE running SHA-384 (not a chain of digests) over 128-byte blocks, from TDH.MNG.INIT to
// TDH.MR.FINALIZE:
//   * TDH.MEM.PAGE.ADD: one block, "MEM.PAGE.ADD" NUL-padded to 16 bytes, the page GPA (u64 LE),
//     104 zero bytes;
//   * TDH.MR.EXTEND, per 256-byte chunk: a block "MR.EXTEND" NUL-padded to 16, the chunk GPA,
//     104 zeros, then the 256 chunk bytes (two more blocks).
// A measured 4 KiB page is PAGE.ADD then 16 MR.EXTENDs (interleaved per page, as KVM's
// KVM_TDX_INIT_MEM_REGION with MEASURE does); an unmeasured page is PAGE.ADD only. Nothing from
// TD_PARAMS enters MRTD.
//
//   measure::TdxMrtd mrtd;
//   IGVMKIT_RETURN_IF_ERROR(mrtd.addPage(0x0, page_bytes, /*measured=*/true));  // ADD + 16 EXTEND
//   IGVMKIT_RETURN_IF_ERROR(mrtd.pageAdd(0x14000));                            // ADD only
//   IGVMKIT_ASSIGN_OR_RETURN(measure::Sha384Digest value, mrtd.result());
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/bytes.h"
#include "base/status.h"
#include "measure/digest.h"

namespace igvmkit::measure {

namespace impl {
class Hasher;
}  // namespace impl

// The 128-byte buffer TDH.MEM.PAGE.ADD hashes (§3.1).
struct [[gnu::packed]] TDX_MEM_PAGE_ADD_BLOCK {
  char operation[16];       // "MEM.PAGE.ADD", NUL-padded
  uint64_t gpa;             // page GPA, 4 KiB aligned
  std::byte reserved[104];  // zero
};
static_assert(sizeof(TDX_MEM_PAGE_ADD_BLOCK) == 128);
static_assert(offsetof(TDX_MEM_PAGE_ADD_BLOCK, gpa) == 16);
static_assert(offsetof(TDX_MEM_PAGE_ADD_BLOCK, reserved) == 24);

// The 128-byte header block TDH.MR.EXTEND hashes before its 256 chunk bytes (§3.1).
struct [[gnu::packed]] TDX_MR_EXTEND_BLOCK {
  char operation[16];       // "MR.EXTEND", NUL-padded
  uint64_t gpa;             // chunk GPA = page GPA + 256 * i
  std::byte reserved[104];  // zero
};
static_assert(sizeof(TDX_MR_EXTEND_BLOCK) == 128);
static_assert(offsetof(TDX_MR_EXTEND_BLOCK, gpa) == 16);
static_assert(offsetof(TDX_MR_EXTEND_BLOCK, reserved) == 24);

inline constexpr size_t kTdxExtendChunk = 256;

TDX_MEM_PAGE_ADD_BLOCK makeTdxPageAddBlock(uint64_t gpa);
TDX_MR_EXTEND_BLOCK makeTdxExtendBlock(uint64_t chunk_gpa);

class TdxMrtd {
 public:
  TdxMrtd();
  ~TdxMrtd();
  TdxMrtd(TdxMrtd&&) noexcept;
  TdxMrtd& operator=(TdxMrtd&&) noexcept;

  // TDH.MEM.PAGE.ADD of the page at `gpa` ("tdx.gpa_alignment" unless 4 KiB aligned).
  Status pageAdd(uint64_t gpa);

  // The 16 TDH.MR.EXTENDs of the page at `gpa`, whose first bytes are `contents` (at most 4096,
  // "page.too_large"; the rest of the page is zero, so empty contents extend a zero page).
  Status extendPage(uint64_t gpa, Bytes contents);

  // PAGE.ADD for each 4 KiB page of `size` bytes at `gpa` (a PARAMETER_INSERT area). `size` must
  // be a multiple of 4096 and the range must not wrap ("tdx.range"); nothing is added on error.
  Status pageAddRange(uint64_t gpa, uint64_t size);

  // pageAdd(gpa), then extendPage(gpa, contents) when `measured`.
  Status addPage(uint64_t gpa, Bytes contents, bool measured);

  // MRTD over everything so far (the stream stays open; more pages may follow).
  Result<Sha384Digest> result() const;

  // Pages added and pages extended so far.
  uint64_t pagesAdded() const { return added_; }
  uint64_t pagesExtended() const { return extended_; }

 private:
  Status ready() const;                   // OpenSSL initialised and not moved from
  std::unique_ptr<impl::Hasher> hasher_;  // the running SHA-384 (OpenSSL EVP)
  Status start_status_;
  uint64_t added_ = 0;
  uint64_t extended_ = 0;
};

}  // namespace igvmkit::measure
