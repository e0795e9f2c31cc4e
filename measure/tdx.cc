#include "measure/tdx.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "measure/internal/hash.h"

namespace igvmkit::measure {
namespace {

Status checkAligned(uint64_t gpa) {
  // TDH.MEM.PAGE.ADD and KVM's INIT_MEM_REGION work on whole 4 KiB pages.
  if (gpa % kPageSize != 0) {
    return invalid("tdx.gpa_alignment", "gpa " + hex(gpa) + " is not 4 KiB aligned");
  }
  return okStatus();
}

}  // namespace

TDX_MEM_PAGE_ADD_BLOCK makeTdxPageAddBlock(uint64_t gpa) {
  TDX_MEM_PAGE_ADD_BLOCK b;
  std::memset(&b, 0, sizeof(b));
  std::memcpy(b.operation, "MEM.PAGE.ADD", 12);
  b.gpa = gpa;
  return b;
}

TDX_MR_EXTEND_BLOCK makeTdxExtendBlock(uint64_t chunk_gpa) {
  TDX_MR_EXTEND_BLOCK b;
  std::memset(&b, 0, sizeof(b));
  std::memcpy(b.operation, "MR.EXTEND", 9);
  b.gpa = chunk_gpa;
  return b;
}

TdxMrtd::TdxMrtd() : hasher_(std::make_unique<impl::Hasher>(impl::sha384Md())) {
  start_status_ = hasher_->init();
}
TdxMrtd::~TdxMrtd() = default;

Status TdxMrtd::ready() const {
  if (hasher_ == nullptr) {
    return internal("use of a moved-from tdx mrtd");
  }
  return start_status_;
}
TdxMrtd::TdxMrtd(TdxMrtd&&) noexcept = default;
TdxMrtd& TdxMrtd::operator=(TdxMrtd&&) noexcept = default;

namespace {

// What TDH.MR.EXTEND feeds MRTD for one page: 16 times an extend block and its 256-byte chunk.
constexpr size_t kExtendBytes =
    (kPageSize / kTdxExtendChunk) * (sizeof(TDX_MR_EXTEND_BLOCK) + kTdxExtendChunk);

// Writes the extend stream of the page at `gpa` (contents zero padded to 4 KiB) to `out`, so a
// page costs one hash update instead of 32 (9% fewer instructions for MRTD under callgrind).
void fillExtends(std::byte* out, uint64_t gpa, Bytes contents) {
  for (uint64_t off = 0; off < kPageSize; off += kTdxExtendChunk) {
    const TDX_MR_EXTEND_BLOCK block = makeTdxExtendBlock(gpa + off);
    std::memcpy(out, &block, sizeof(block));
    out += sizeof(block);
    const size_t have = off < contents.size() ? std::min(kTdxExtendChunk, contents.size() - off) : 0;
    if (have != 0) {
      std::memcpy(out, contents.data() + off, have);
    }
    std::memset(out + have, 0, kTdxExtendChunk - have);
    out += kTdxExtendChunk;
  }
}

Status checkContents(Bytes contents) {
  if (contents.size() > kPageSize) {
    return invalid("page.too_large", "page contents of " + hex(contents.size()) +
                                         " bytes exceed the 0x1000-byte page");
  }
  return okStatus();
}

}  // namespace

Status TdxMrtd::pageAdd(uint64_t gpa) {
  IGVMKIT_RETURN_IF_ERROR(ready());
  IGVMKIT_RETURN_IF_ERROR(checkAligned(gpa));
  IGVMKIT_RETURN_IF_ERROR(hasher_->update(asBytes(makeTdxPageAddBlock(gpa))));
  ++added_;
  return okStatus();
}

Status TdxMrtd::extendPage(uint64_t gpa, Bytes contents) {
  IGVMKIT_RETURN_IF_ERROR(ready());
  IGVMKIT_RETURN_IF_ERROR(checkAligned(gpa));
  // Validated before hashing, so a failed call leaves MRTD untouched.
  IGVMKIT_RETURN_IF_ERROR(checkContents(contents));
  std::array<std::byte, kExtendBytes> stream;
  fillExtends(stream.data(), gpa, contents);
  IGVMKIT_RETURN_IF_ERROR(hasher_->update(Bytes(stream)));
  ++extended_;
  return okStatus();
}

Status TdxMrtd::pageAddRange(uint64_t gpa, uint64_t size) {
  IGVMKIT_RETURN_IF_ERROR(checkAligned(gpa));
  // Parameter areas are whole pages; the last page must not wrap the address space.
  if (size % kPageSize != 0) {
    return invalid("tdx.range", "area size " + hex(size) + " is not a multiple of 0x1000");
  }
  if (size != 0 && (size / kPageSize - 1) > (UINT64_MAX - gpa) / kPageSize) {
    return invalid("tdx.range", "area of " + hex(size) + " bytes at gpa " + hex(gpa) +
                                    " wraps the address space");
  }
  for (uint64_t off = 0; off < size; off += kPageSize) {
    IGVMKIT_RETURN_IF_ERROR(pageAdd(gpa + off));
  }
  return okStatus();
}

Status TdxMrtd::addPage(uint64_t gpa, Bytes contents, bool measured) {
  if (!measured) {
    return pageAdd(gpa);
  }
  IGVMKIT_RETURN_IF_ERROR(ready());
  IGVMKIT_RETURN_IF_ERROR(checkAligned(gpa));
  IGVMKIT_RETURN_IF_ERROR(checkContents(contents));
  // The PAGE.ADD block and the page's extend stream in one update (same bytes, same order).
  std::array<std::byte, sizeof(TDX_MEM_PAGE_ADD_BLOCK) + kExtendBytes> stream;
  const TDX_MEM_PAGE_ADD_BLOCK add = makeTdxPageAddBlock(gpa);
  std::memcpy(stream.data(), &add, sizeof(add));
  fillExtends(stream.data() + sizeof(add), gpa, contents);
  IGVMKIT_RETURN_IF_ERROR(hasher_->update(Bytes(stream)));
  ++added_;
  ++extended_;
  return okStatus();
}

Result<Sha384Digest> TdxMrtd::result() const {
  IGVMKIT_RETURN_IF_ERROR(ready());
  Sha384Digest out;
  IGVMKIT_RETURN_IF_ERROR(hasher_->snapshot(out.data()));
  return out;
}

}  // namespace igvmkit::measure
