// plan(const igvm::File&, ...): the loop over an IGVM file's headers that feeds PlanBuilder.
#include <cstring>
#include <string>

#include "igvm/defs.h"
#include "igvm/file.h"
#include "loader/plan.h"
#include "loader/plan_builder.h"

namespace igvmkit::loader {
namespace {

Location where(const igvm::Header& h) {
  Location l;
  l.offset = h.offset;
  l.header_index = h.index;
  l.header_type = h.type;
  l.header_name = std::string(h.name());
  return l;
}

// Attaches the header's location to an error that has none.
Status at(Status s, const igvm::Header& h) {
  if (s.ok()) {
    return s;
  }
  Error e = s.error();
  if (!e.location) {
    e.location = where(h);
  }
  return e;
}

std::optional<ParameterKind> parameterKindOf(uint32_t type) {
  switch (type) {
    case igvm::kVhtVpCountParameter:
      return ParameterKind::kVpCount;
    case igvm::kVhtSrat:
      return ParameterKind::kSrat;
    case igvm::kVhtMadt:
      return ParameterKind::kMadt;
    case igvm::kVhtMmioRanges:
      return ParameterKind::kMmioRanges;
    case igvm::kVhtMemoryMap:
      return ParameterKind::kMemoryMap;
    case igvm::kVhtCommandLine:
      return ParameterKind::kCommandLine;
    case igvm::kVhtSlit:
      return ParameterKind::kSlit;
    case igvm::kVhtPptt:
      return ParameterKind::kPptt;
    case igvm::kVhtDeviceTree:
      return ParameterKind::kDeviceTree;
    case igvm::kVhtEnvironmentInfoParameter:
      return ParameterKind::kEnvironmentInfo;
    default:
      return std::nullopt;
  }
}

std::string declaredPlatforms(const igvm::File& file) {
  std::string out;
  for (const igvm::Header& h : file.platforms()) {
    if (const auto* p = h.get<igvm::IGVM_VHS_SUPPORTED_PLATFORM>()) {
      out += out.empty() ? "" : ", ";
      out += std::string(igvm::platformTypeName(p->platform_type));
    }
  }
  return out.empty() ? "none" : out;
}

}  // namespace

igvm::PlatformType platformFor(BackendKind backend) {
  switch (backend) {
    case BackendKind::kKvmSnp:
    case BackendKind::kMshvSnp:
      return igvm::PlatformType::kSevSnp;
    case BackendKind::kKvmTdx:
      return igvm::PlatformType::kTdx;
    case BackendKind::kKvm:
    case BackendKind::kMshv:
      break;
  }
  return igvm::PlatformType::kNative;
}

Result<Plan> plan(const igvm::File& file, BackendKind backend, const VmConfig& config) {
  if (file.arch() != igvm::Arch::kX64) {
    return unsupported("plan.arch", "the file is not for x64; every backend runs x64 guests");
  }
  igvm::PlatformType want = platformFor(backend);
  const igvm::IGVM_VHS_SUPPORTED_PLATFORM* platform = file.platform(want);
  if (platform == nullptr) {
    return unsupported("plan.platform",
                       "backend " + std::string(backendName(backend)) + " runs " +
                           std::string(igvm::platformTypeName(static_cast<uint8_t>(want))) +
                           " guests; the file declares " + declaredPlatforms(file));
  }
  if (platform->highest_vtl != 0) {
    return unsupported("plan.vtl", "the " +
                                       std::string(igvm::platformTypeName(platform->platform_type)) +
                                       " platform uses vtl " +
                                       std::to_string(platform->highest_vtl) +
                                       "; this loader runs vtl 0 guests only");
  }
  if (platform->shared_gpa_boundary != 0) {
    return unsupported("plan.vtom", "shared_gpa_boundary " + hex(platform->shared_gpa_boundary) +
                                        " (vtom) is not supported by this loader");
  }
  const uint32_t bit = platform->compatibility_mask;
  PlanBuilder b(backend, config);

  for (const igvm::Header& h : file.initializationHeaders()) {
    if (!h.appliesTo(bit)) {
      continue;
    }
    if (const auto* gp = h.get<igvm::IGVM_VHS_GUEST_POLICY>()) {
      IGVMKIT_RETURN_IF_ERROR(at(b.setGuestPolicy(gp->policy), h));
    } else if (const auto* rr = h.get<igvm::IGVM_VHS_RELOCATABLE_REGION>()) {
      // The region stays at its own GPA, which must be a valid base (igvm-format.md §2.6): this
      // loader never moves pages, so RIP/GDTR/CR3 need no patching.
      uint64_t base = rr->relocation_region_gpa;
      if (base < rr->minimum_relocation_gpa ||
          base + rr->relocation_region_size > rr->maximum_relocation_gpa) {
        return at(unsupported("plan.relocation",
                              "relocatable region at " + hex(base) +
                                  " must be moved into [" + hex(rr->minimum_relocation_gpa) +
                                  ", " + hex(rr->maximum_relocation_gpa) +
                                  "); this loader does not relocate"),
                  h);
      }
    } else if (h.get<igvm::IGVM_VHS_PAGE_TABLE_RELOCATION>() != nullptr) {
      // Tables stay where they are, identity mapped as built: nothing to fix up.
    } else if (h.get<igvm::IGVM_VHS_CCA_POLICY>() != nullptr ||
               h.get<igvm::IGVM_VHS_CORIM_DATA>() != nullptr ||
               h.get<igvm::UnknownHeader>() != nullptr) {
      // Not a loader concern (CoRIM is for verifiers; CCA never applies to an x64 platform).
    }
  }

  for (const igvm::Header& h : file.directives()) {
    if (!h.appliesTo(bit)) {
      continue;
    }
    Status s = okStatus();
    if (const auto* pd = h.get<igvm::IGVM_VHS_PAGE_DATA>()) {
      s = b.pageData(pd->gpa, pd->flags, pd->data_type, h.data);
    } else if (const auto* pa = h.get<igvm::IGVM_VHS_PARAMETER_AREA>()) {
      s = b.parameterArea(pa->parameter_area_index, pa->number_of_bytes, h.data);
    } else if (const auto* p = h.get<igvm::IGVM_VHS_PARAMETER>()) {
      std::optional<ParameterKind> kind = parameterKindOf(h.type);
      if (!kind) {
        s = internal("parameter type " + hex(h.type) + " has no kind");
      } else {
        s = b.parameter(*kind, p->parameter_area_index, p->byte_offset);
      }
    } else if (const auto* pi = h.get<igvm::IGVM_VHS_PARAMETER_INSERT>()) {
      s = b.parameterInsert(pi->gpa, pi->parameter_area_index);
    } else if (const auto* vp = h.get<igvm::IGVM_VHS_VP_CONTEXT>()) {
      if (h.vp_format == igvm::VpContextFormat::kSnpVmsa) {
        s = b.vpContextSnp(vp->vp_index, vp->gpa, h.data);
      } else if (h.vp_format == igvm::VpContextFormat::kNativeX64) {
        s = b.vpContextNative(vp->vp_index, h.data);
      } else if (backend == BackendKind::kKvmTdx) {
        // TDX: the TDX module sets the initial state; the file's context is not loadable.
        s = unsupported("plan.vp_context", "tdx vp contexts are set by the tdx module");
      } else {
        s = unsupported("plan.vp_context",
                        "vp context format " +
                            std::string(igvm::vpContextFormatName(h.vp_format)) +
                            " is not loadable on " + std::string(backendName(backend)));
      }
    } else if (const auto* rm = h.get<igvm::IGVM_VHS_REQUIRED_MEMORY>()) {
      s = b.requiredMemory(rm->gpa, rm->number_of_bytes);
    } else if (const auto* id = h.get<igvm::IGVM_VHS_SNP_ID_BLOCK>()) {
      ByteVector raw(sizeof(*id));
      std::memcpy(raw.data(), id, sizeof(*id));
      s = b.snpIdBlock(raw);
    }
    // ERROR_RANGE, VBS_MEASUREMENT and unknown optional headers do not change a launch.
    IGVMKIT_RETURN_IF_ERROR(at(std::move(s), h));
  }
  return b.finish();
}

}  // namespace igvmkit::loader
