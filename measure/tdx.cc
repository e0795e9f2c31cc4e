#include "measure/tdx.h"

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
  if (contents.size() > kPageSize) {
    return invalid("page.too_large", "page contents of " + hex(contents.size()) +
                                         " bytes exceed the 0x1000-byte page");
  }
  // Validated before hashing, so a failed call leaves MRTD untouched.
  std::array<std::byte, kPageSize> page{};
  if (!contents.empty()) {
    std::memcpy(page.data(), contents.data(), contents.size());
  }
  for (uint64_t i = 0; i < kPageSize / kTdxExtendChunk; ++i) {
    IGVMKIT_RETURN_IF_ERROR(
        hasher_->update(asBytes(makeTdxExtendBlock(gpa + i * kTdxExtendChunk))));
    IGVMKIT_RETURN_IF_ERROR(
        hasher_->update(Bytes(page).subspan(i * kTdxExtendChunk, kTdxExtendChunk)));
  }
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
  // Check the extend's arguments first so a rejected page adds nothing.
  if (measured && contents.size() > kPageSize) {
    return invalid("page.too_large", "page contents of " + hex(contents.size()) +
                                         " bytes exceed the 0x1000-byte page");
  }
  IGVMKIT_RETURN_IF_ERROR(pageAdd(gpa));
  if (!measured) {
    return okStatus();
  }
  return extendPage(gpa, contents);
}

Result<Sha384Digest> TdxMrtd::result() const {
  IGVMKIT_RETURN_IF_ERROR(ready());
  Sha384Digest out;
  IGVMKIT_RETURN_IF_ERROR(hasher_->snapshot(out.data()));
  return out;
}

}  // namespace igvmkit::measure
