#include "builder/build.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

#include "igvm/defs.h"
#include "igvm/file.h"
#include "igvm/writer.h"
#include "builder/internal/id_block.h"
#include "sign/image.h"
#include "measure/measure.h"

namespace igvmkit::builder {
namespace {

uint32_t maskOf(const PlatformList& all, const PlatformList& which) {
  const PlatformList& list = which.empty() ? all : which;
  uint32_t mask = 0;
  for (Platform p : list) {
    mask |= compatibilityBit(all, p);
  }
  return mask;
}

uint32_t parameterType(ParameterKind k) {
  switch (k) {
    case ParameterKind::kVpCount:
      return igvm::kVhtVpCountParameter;
    case ParameterKind::kSrat:
      return igvm::kVhtSrat;
    case ParameterKind::kMadt:
      return igvm::kVhtMadt;
    case ParameterKind::kMmioRanges:
      return igvm::kVhtMmioRanges;
    case ParameterKind::kMemoryMap:
      return igvm::kVhtMemoryMap;
    case ParameterKind::kCommandLine:
      return igvm::kVhtCommandLine;
    case ParameterKind::kSlit:
      return igvm::kVhtSlit;
    case ParameterKind::kPptt:
      return igvm::kVhtPptt;
    case ParameterKind::kDeviceTree:
      return igvm::kVhtDeviceTree;
    case ParameterKind::kEnvironmentInfo:
      return igvm::kVhtEnvironmentInfoParameter;
  }
  return igvm::kVhtInvalid;
}

igvm::PageDataType pageType(PageDataType t) {
  switch (t) {
    case PageDataType::kNormal:
      return igvm::PageDataType::kNormal;
    case PageDataType::kSecrets:
      return igvm::PageDataType::kSecrets;
    case PageDataType::kCpuid:
      return igvm::PageDataType::kCpuidData;
    case PageDataType::kCpuidXf:
      return igvm::PageDataType::kCpuidXf;
  }
  return igvm::PageDataType::kNormal;
}

}  // namespace

uint32_t compatibilityBit(const PlatformList& platforms, Platform p) {
  for (size_t i = 0; i < platforms.size(); ++i) {
    if (platforms[i] == p) {
      return 1u << i;
    }
  }
  return 0;
}

Result<BuildOutput> build(const Manifest& manifest, const FileReader& read,
                          const SigningOptions& signing) {
  IGVMKIT_ASSIGN_OR_RETURN(Image image, layoutImage(manifest, read));
  BuildOutput out;
  out.platforms = manifest.platforms();
  const PlatformList& all = out.platforms;
  igvm::Model model;

  for (Platform p : all) {
    const uint32_t bit = compatibilityBit(all, p);
    out.masks.push_back(bit);
    switch (p) {
      case Platform::kNative:
        model.add(igvm::platformEntry(igvm::PlatformType::kNative, bit));
        break;
      case Platform::kSnp:
        model.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, bit, 0,
                                      manifest.snp->shared_gpa_boundary));
        break;
      case Platform::kTdx:
        model.add(igvm::platformEntry(igvm::PlatformType::kTdx, bit, 0,
                                      manifest.tdx->shared_gpa_boundary));
        break;
      case Platform::kVbs:
        model.add(igvm::platformEntry(igvm::PlatformType::kVsmIsolation, bit, manifest.vbs->vtl));
        break;
    }
  }
  for (Platform p : all) {
    igvm::IGVM_VHS_GUEST_POLICY policy{};
    policy.compatibility_mask = compatibilityBit(all, p);
    if (p == Platform::kSnp) {
      policy.policy = manifest.snp->policy;
    } else if (p == Platform::kTdx) {
      policy.policy = manifest.tdx->policy();
    } else {
      continue;
    }
    model.add(igvm::makeEntry(igvm::kVhtGuestPolicy, policy));
  }

  // Relocation headers for the non-confidential platforms only: SNP and TDX digests cover GPAs,
  // so their images never move (loader/relocation.h); the VBS VP context the parser requires
  // for these headers comes later, with the other VP contexts.
  const uint32_t movable = compatibilityBit(all, Platform::kNative) |
                           compatibilityBit(all, Platform::kVbs);
  for (const RelocatableRange& r : image.relocatable) {
    const Relocation& rel = r.relocation;
    const uint8_t flags = (rel.apply_rip ? igvm::kRelocationFlagApplyPc : 0) |
                          (rel.apply_gdtr ? igvm::kRelocationFlagApplyGdtr : 0);
    model.add(igvm::relocatableRegionEntry(movable, r.gpa, r.size, rel.alignment, rel.minimum,
                                           rel.maximum, flags));
  }
  if (image.page_table_region) {
    const PageTableRange& t = *image.page_table_region;
    model.add(igvm::pageTableRelocationEntry(movable, t.gpa, t.size, t.used_size));
  }

  for (Region& region : image.regions) {
    const uint32_t mask = maskOf(all, region.platforms);
    uint32_t flags = 0;
    if (region.unmeasured) {
      flags |= igvm::kPageDataFlagUnmeasured;
    }
    if (region.shared) {
      flags |= igvm::kPageDataFlagShared;
    }
    for (Page& page : region.pages) {
      model.add(igvm::pageDataEntry(page.gpa, mask, igvm::Blob(std::move(page.bytes)), flags,
                                    pageType(region.type)));
      ++out.page_data_directives;
    }
  }

  for (size_t i = 0; i < image.parameter_areas.size(); ++i) {
    const ParameterArea& area = image.parameter_areas[i];
    const auto index = static_cast<uint32_t>(i);
    model.add(igvm::parameterAreaEntry(index, area.size));
    for (const Parameter& param : area.parameters) {
      model.add(igvm::parameterEntry(parameterType(param.kind), index, param.byte_offset));
    }
    model.add(igvm::parameterInsertEntry(area.gpa, maskOf(all, area.platforms), index));
  }

  for (const RequiredMemory& rm : image.required_memory) {
    igvm::IGVM_VHS_REQUIRED_MEMORY r{};
    r.gpa = rm.gpa;
    r.compatibility_mask = maskOf(all, {});
    r.number_of_bytes = rm.size;
    r.flags = rm.vtl2_protectable ? igvm::kRequiredMemoryFlagVtl2Protectable : 0;
    model.add(igvm::makeEntry(igvm::kVhtRequiredMemory, r));
  }

  for (VpContext& vp : image.vp_contexts) {
    model.add(igvm::vpContextEntry(vp.gpa, compatibilityBit(all, vp.platform), vp.vp_index,
                                   igvm::Blob(std::move(vp.bytes))));
  }

  IGVMKIT_ASSIGN_OR_RETURN(out.igvm, igvm::write(model, {.version = igvm::kFormatVersion1}));
  if (manifest.snp && manifest.snp->id_block) {
    // The ID block is not measured: it signs the digest of the file without it (sign/ pipeline).
    IGVMKIT_ASSIGN_OR_RETURN(out.igvm, internal::addIdBlock(manifest, out.igvm, read, signing,
                                                            out.reused_signature));
  }
  return out;
}

Result<measure::ReferenceValues> measureBuilt(const Manifest& manifest, Bytes igvm) {
  IGVMKIT_ASSIGN_OR_RETURN(igvm::File file, igvm::File::parse(igvm));
  std::vector<measure::Measurement> all;
  auto add = [&](const measure::MeasureOptions& o) -> Status {
    IGVMKIT_ASSIGN_OR_RETURN(measure::Measurement m, measure::measure(file, o));
    all.push_back(std::move(m));
    return okStatus();
  };
  if (manifest.snp) {
    // An SNP [firmware] launch holds one VMSA per vCPU, and QEMU refuses it with fewer vCPUs.
    const bool vmsa_per_vcpu = manifest.firmware && manifest.vp.mode == EntryMode::kReset;
    for (uint32_t n = vmsa_per_vcpu ? manifest.snp->vcpus : 1; n <= manifest.snp->vcpus; ++n) {
      IGVMKIT_RETURN_IF_ERROR(add({.platform = measure::Platform::kSnp,
                                   .host = measure::HostModel::kKvm,
                                   .vcpus = n,
                                   .threads = 1}));
    }
    IGVMKIT_RETURN_IF_ERROR(add({.platform = measure::Platform::kSnp,
                                 .host = measure::HostModel::kMshv,
                                 .threads = 1}));
  }
  if (manifest.tdx) {
    IGVMKIT_RETURN_IF_ERROR(add({.platform = measure::Platform::kTdx}));
  }
  if (manifest.vbs) {
    IGVMKIT_RETURN_IF_ERROR(add({.platform = measure::Platform::kVbs}));
  }
  measure::ReferenceValues ref = measure::toReference(all);
  IGVMKIT_RETURN_IF_ERROR(sign::addIdentity(file, ref));  // what a verifier pins, when signed
  return ref;
}

}  // namespace igvmkit::builder
