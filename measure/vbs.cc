#include "measure/vbs.h"

#include <cstring>

#include "measure/internal/hash.h"

namespace igvmkit::measure {
namespace {

// D_new = SHA-256(D_old || parts...).
Result<Sha256Digest> chain(const Sha256Digest& d, Bytes a, Bytes b = {}, Bytes c = {}) {
  impl::Hasher h(impl::sha256Md());
  Sha256Digest out;
  IGVMKIT_RETURN_IF_ERROR(h.init());
  IGVMKIT_RETURN_IF_ERROR(h.update(Bytes(d)));
  IGVMKIT_RETURN_IF_ERROR(h.update(a));
  IGVMKIT_RETURN_IF_ERROR(h.update(b));
  IGVMKIT_RETURN_IF_ERROR(h.update(c));
  IGVMKIT_RETURN_IF_ERROR(h.finish(out.data()));
  return out;
}

template <class T>
void put(VbsRegisterValue& v, size_t off, T x) {
  std::memcpy(v.data() + off, &x, sizeof(T));
}

}  // namespace

VbsRegisterValue vbsScalarValue(uint64_t value) {
  VbsRegisterValue v{};
  put(v, 0, value);
  return v;
}

VbsRegisterValue vbsSegmentValue(uint64_t base, uint32_t limit, uint16_t selector,
                                 uint16_t attributes) {
  VbsRegisterValue v{};
  put(v, 0, base);
  put(v, 8, limit);
  put(v, 12, selector);
  put(v, 14, attributes);
  return v;
}

VbsRegisterValue vbsTableValue(uint16_t limit, uint64_t base) {
  VbsRegisterValue v{};
  put(v, 6, limit);
  put(v, 8, base);
  return v;
}

VBS_VP_GPA_PAGE_CHUNK makeVbsPageChunk(uint64_t gpa, VbsAcceptance acceptance, bool unmeasured) {
  VBS_VP_GPA_PAGE_CHUNK c;
  std::memset(&c, 0, sizeof(c));
  c.header.byte_count = sizeof(VBS_VP_GPA_PAGE_CHUNK) + kPageSize;
  c.header.chunk_type = static_cast<uint32_t>(VbsChunkType::kVpGpaPage);
  c.metadata =
      (static_cast<uint64_t>(acceptance) & 0x3) | (unmeasured ? kVbsMetadataUnmeasured : 0);
  c.page_number = gpa / kPageSize;
  return c;
}

VBS_VP_REGISTER_CHUNK makeVbsRegisterChunk(uint8_t vtl, uint32_t name,
                                           const VbsRegisterValue& value) {
  VBS_VP_REGISTER_CHUNK c;
  std::memset(&c, 0, sizeof(c));
  c.header.byte_count = sizeof(VBS_VP_REGISTER_CHUNK);
  c.header.chunk_type = static_cast<uint32_t>(VbsChunkType::kVpRegister);
  c.vtl = vtl;
  c.name = name;
  std::memcpy(c.value, value.data(), value.size());
  return c;
}

Status VbsBootDigest::addPage(uint64_t gpa, Bytes contents, VbsAcceptance acceptance,
                              bool unmeasured) {
  // Records name a page number; a GPA inside a page would be silently truncated.
  if (gpa % kPageSize != 0) {
    return invalid("vbs.gpa_alignment", "gpa " + hex(gpa) + " is not 4 KiB aligned");
  }
  if (contents.size() > kPageSize) {
    return invalid("page.too_large", "page contents of " + hex(contents.size()) +
                                         " bytes exceed the 0x1000-byte page");
  }
  VBS_VP_GPA_PAGE_CHUNK chunk = makeVbsPageChunk(gpa, acceptance, unmeasured);
  Bytes data = unmeasured ? Bytes() : contents;
  IGVMKIT_ASSIGN_OR_RETURN(d_,
                           chain(d_, asBytes(chunk), data, impl::zeroPage().subspan(data.size())));
  ++pages_;
  return okStatus();
}

Status VbsBootDigest::addUnmeasuredPages(uint64_t gpa, uint64_t count, VbsAcceptance acceptance) {
  // The last page must not wrap around the address space.
  if (count != 0 && (count - 1) > (UINT64_MAX - gpa) / kPageSize) {
    return invalid("vbs.range_overflow", "range of " + hex(count) + " pages from gpa " + hex(gpa) +
                                             " wraps the address space");
  }
  for (uint64_t i = 0; i < count; ++i) {
    IGVMKIT_RETURN_IF_ERROR(addPage(gpa + i * kPageSize, {}, acceptance, /*unmeasured=*/true));
  }
  return okStatus();
}

void VbsBootDigest::addRegister(uint8_t vtl, uint32_t name, const VbsRegisterValue& value) {
  registers_.push_back(makeVbsRegisterChunk(vtl, name, value));
}

Result<Sha256Digest> VbsBootDigest::digest() const {
  Sha256Digest d = d_;
  for (const VBS_VP_REGISTER_CHUNK& r : registers_) {
    IGVMKIT_ASSIGN_OR_RETURN(d, chain(d, asBytes(r)));
  }
  return d;
}

}  // namespace igvmkit::measure
