#include "igvm/gpa.h"

#include <map>
#include <string>

namespace igvmkit::igvm {

GpaWidth gpaWidth(PlatformType platform) {
  switch (platform) {
    case PlatformType::kSevSnp:
    case PlatformType::kSev:
    case PlatformType::kSevEs:
      return {51, "the c-bit is bit 51"};
    case PlatformType::kTdx:
      return {51, "gpa.shared is bit 51 (gpaw 52)"};
    case PlatformType::kNative:
    case PlatformType::kVsmIsolation:
    case PlatformType::kCca:
      break;
  }
  return {52, "52 bits is the architectural maximum physical address width"};
}

Status checkGpaRange(PlatformType platform, std::string_view what, uint64_t gpa, uint64_t size) {
  const std::string object = std::string(what) + " at " + hex(gpa) + " (" + hex(size) + " bytes)";
  if (size != 0 && size - 1 > UINT64_MAX - gpa) {
    return invalid("gpa.wrap", object + " wraps past the end of the 64-bit address space");
  }
  const GpaWidth w = gpaWidth(platform);
  const uint64_t limit = uint64_t{1} << w.bits;
  if (gpa >= limit || size > limit - gpa) {
    return invalid("gpa.width", object + " lies beyond the " + std::to_string(w.bits) +
                                    "-bit guest physical " + "address space of " +
                                    std::string(platformTypeName(static_cast<uint8_t>(platform))) +
                                    " guests (gpa below " + hex(limit) + ": " +
                                    std::string(w.reason) + ")");
  }
  return okStatus();
}

Status checkDirectiveGpa(PlatformType platform, const Header& h,
                         const std::map<uint32_t, uint64_t>& area_sizes) {
  if (const auto* pd = h.get<IGVM_VHS_PAGE_DATA>()) {
    const bool big = (pd->flags & kPageDataFlagIs2MbPage) != 0;
    return checkGpaRange(platform, "page data", pd->gpa, big ? kPageSize2M : kPageSize4K);
  }
  if (const auto* pi = h.get<IGVM_VHS_PARAMETER_INSERT>()) {
    auto it = area_sizes.find(pi->parameter_area_index);
    // The parser refuses an insert of an undeclared area; such a hand-built File places nothing.
    return it == area_sizes.end() ? okStatus()
                                  : checkGpaRange(platform, "parameter area", pi->gpa, it->second);
  }
  if (const auto* vp = h.get<IGVM_VHS_VP_CONTEXT>()) {
    return checkGpaRange(platform, "vp context", vp->gpa, kPageSize4K);
  }
  return okStatus();
}

Status checkPlatformGpas(const File& file, uint32_t platform_bit) {
  const IGVM_VHS_SUPPORTED_PLATFORM* p = file.platformForBit(platform_bit);
  if (p == nullptr) {
    return okStatus();
  }
  const auto platform = static_cast<PlatformType>(p->platform_type);
  std::map<uint32_t, uint64_t> area_sizes;  // parameter area index -> bytes
  for (const Header& h : file.headers()) {
    if (const auto* a = h.get<IGVM_VHS_PARAMETER_AREA>()) {
      area_sizes[a->parameter_area_index] = a->number_of_bytes;
    }
    if (h.section == Section::kDirective && h.appliesTo(platform_bit)) {
      IGVMKIT_RETURN_IF_ERROR(checkDirectiveGpa(platform, h, area_sizes).at(h.location()));
    }
  }
  return okStatus();
}

std::vector<Error> gpaWarnings(const File& file) {
  std::vector<Error> out;
  std::map<uint32_t, uint64_t> area_sizes;  // parameter area index -> bytes
  for (const Header& h : file.headers()) {
    if (const auto* a = h.get<IGVM_VHS_PARAMETER_AREA>()) {
      area_sizes[a->parameter_area_index] = a->number_of_bytes;
    }
    if (h.section != Section::kDirective) {
      continue;
    }
    const std::optional<uint32_t> mask = h.compatibilityMask();
    for (uint32_t bits = mask.value_or(0); bits != 0; bits &= bits - 1) {
      const IGVM_VHS_SUPPORTED_PLATFORM* p = file.platformForBit(bits & (~bits + 1));
      if (p == nullptr) {
        continue;
      }
      Status s = checkDirectiveGpa(static_cast<PlatformType>(p->platform_type), h, area_sizes);
      if (!s.ok()) {
        Error e = std::move(s).error();
        e.location = h.location();
        out.push_back(std::move(e));
        break;
      }
    }
  }
  return out;
}

}  // namespace igvmkit::igvm
