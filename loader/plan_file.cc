// plan(const igvm::File&, ...): the loop over an IGVM file's headers that feeds PlanBuilder.
#include <cstring>
#include <string>

#include "igvm/defs.h"
#include "igvm/file.h"
#include "igvm/gpa.h"
#include "loader/plan.h"
#include "loader/plan_builder.h"
#include "loader/relocation.h"

namespace igvmkit::loader {
namespace {

// Attaches the header's location to an error that has none.
Status at(Status s, const igvm::Header& h) {
  return s.ok() ? std::move(s) : std::move(s).at(h.location());
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

// VP_CONTEXT: an SNP VMSA or a native context (patched when its region moved); TDX and VBS
// contexts are not loadable.
Status vpContext(PlanBuilder& b, const Relocator& reloc, BackendKind backend, const igvm::Header& h,
                 const igvm::IGVM_VHS_VP_CONTEXT& vp) {
  if (h.vp_format == igvm::VpContextFormat::kSnpVmsa) {
    return b.vpContextSnp(vp.vp_index, vp.gpa, h.data);
  }
  if (h.vp_format == igvm::VpContextFormat::kNativeX64) {
    ByteVector context = reloc.patchNativeContext(vp.vp_index, h.data);
    return b.vpContextNative(vp.vp_index, context);
  }
  if (backend == BackendKind::kKvmTdx) {
    // TDX: the TDX module sets the initial state; the file's context is not loadable.
    return unsupported("plan.vp_context", "tdx vp contexts are set by the tdx module");
  }
  return unsupported("plan.vp_context",
                     "vp context format " + std::string(igvm::vpContextFormatName(h.vp_format)) +
                         " is not loadable on " + std::string(backendName(backend)));
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
  IGVMKIT_ASSIGN_OR_RETURN(Relocator reloc, Relocator::prepare(file, bit, backend, config));

  for (const igvm::Header& h : file.initializationHeaders()) {
    if (!h.appliesTo(bit)) {
      continue;
    }
    if (const auto* gp = h.get<igvm::IGVM_VHS_GUEST_POLICY>()) {
      IGVMKIT_RETURN_IF_ERROR(at(b.setGuestPolicy(gp->policy), h));
    } else if (h.get<igvm::IGVM_VHS_RELOCATABLE_REGION>() != nullptr ||
               h.get<igvm::IGVM_VHS_PAGE_TABLE_RELOCATION>() != nullptr) {
      // Placed by the Relocator above (relocation.h).
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
      uint64_t size = (pd->flags & igvm::kPageDataFlagIs2MbPage) != 0 ? 0x200000 : kPageSize;
      Result<uint64_t> gpa = reloc.map(pd->gpa, size);
      if (!gpa.ok()) {
        s = gpa.error();
      } else if (std::optional<Bytes> table = reloc.tablePage(pd->gpa, size)) {
        s = b.pageData(*gpa, pd->flags, pd->data_type, *table, reloc.keepAlive());
      } else {
        s = b.pageData(*gpa, pd->flags, pd->data_type, h.data);
      }
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
      Result<uint64_t> gpa = reloc.map(pi->gpa, kPageSize);
      s = gpa.ok() ? b.parameterInsert(*gpa, pi->parameter_area_index) : Status(gpa.error());
    } else if (const auto* vp = h.get<igvm::IGVM_VHS_VP_CONTEXT>()) {
      s = igvm::checkGpaRange(want, "vp context", vp->gpa, kPageSize);
      if (s.ok()) {
        s = vpContext(b, reloc, backend, h, *vp);
      }
    } else if (const auto* rm = h.get<igvm::IGVM_VHS_REQUIRED_MEMORY>()) {
      Result<uint64_t> gpa = reloc.map(rm->gpa, rm->number_of_bytes);
      s = gpa.ok() ? b.requiredMemory(*gpa, rm->number_of_bytes) : Status(gpa.error());
    } else if (const auto* id = h.get<igvm::IGVM_VHS_SNP_ID_BLOCK>()) {
      ByteVector raw(sizeof(*id));
      std::memcpy(raw.data(), id, sizeof(*id));
      s = b.snpIdBlock(raw);
    }
    // ERROR_RANGE, VBS_MEASUREMENT and unknown optional headers do not change a launch.
    IGVMKIT_RETURN_IF_ERROR(at(std::move(s), h));
  }
  // Tables the page-table fix-up allocated where the file has no page (relocation.h).
  for (auto [gpa, page] : reloc.allocatedTablePages()) {
    IGVMKIT_RETURN_IF_ERROR(b.pageData(gpa, 0, 0, page, reloc.keepAlive()));
  }
  IGVMKIT_ASSIGN_OR_RETURN(Plan p, b.finish());
  p.relocations = reloc.placements();
  p.page_tables = reloc.pageTables();
  return p;
}

}  // namespace igvmkit::loader
