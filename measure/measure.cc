#include "measure/measure.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <thread>

#include "measure/sev.h"
#include "measure/tdx.h"
#include "measure/vbs.h"
#include "measure/vmsa.h"

namespace igvmkit::measure {
namespace {

using igvm::Header;

Location where(const Header& h) {
  Location loc;
  loc.offset = h.offset;
  loc.header_index = h.index;
  loc.header_type = h.type;
  loc.header_name = std::string(h.name());
  return loc;
}

Status located(Status s, const Header& h) {
  if (s.ok()) {
    return s;
  }
  return std::move(s).at(where(h));
}

// One 4 KiB page of a PAGE_DATA directive (2 MiB pages are split into 512).
struct PageSlice {
  uint64_t gpa;
  Bytes data;
};

std::vector<PageSlice> splitPages(const igvm::IGVM_VHS_PAGE_DATA& pd, Bytes data) {
  const bool big = (pd.flags & igvm::kPageDataFlagIs2MbPage) != 0;
  const uint64_t count = big ? 512 : 1;
  std::vector<PageSlice> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t off = i * kPageSize;
    Bytes slice;
    if (off < data.size()) {
      slice = data.subspan(off, std::min<uint64_t>(kPageSize, data.size() - off));
    }
    out.push_back({pd.gpa + off, slice});
  }
  return out;
}

Result<uint32_t> platformBit(const igvm::File& file, Platform platform) {
  const igvm::IGVM_VHS_SUPPORTED_PLATFORM* p = file.platform(igvmPlatformType(platform));
  if (p == nullptr) {
    return invalid("measure.no_platform", std::string("the file declares no ") +
                                              std::string(igvm::platformTypeName(
                                                  static_cast<uint8_t>(igvmPlatformType(platform)))) +
                                              " platform");
  }
  return p->compatibility_mask;
}

// Parameter area sizes by index, collected in file order.
class Areas {
 public:
  void see(const Header& h) {
    if (const auto* a = h.get<igvm::IGVM_VHS_PARAMETER_AREA>()) {
      sizes_[a->parameter_area_index] = a->number_of_bytes;
    }
  }
  Result<uint64_t> sizeOf(const Header& h, uint32_t index) const {
    auto it = sizes_.find(index);
    if (it == sizes_.end()) {
      return invalid("measure.parameter_area",
                     "parameter area " + std::to_string(index) + " is not declared", where(h));
    }
    return it->second;
  }

 private:
  std::map<uint32_t, uint64_t> sizes_;
};

unsigned threadCount(unsigned requested) {
  if (requested != 0) {
    return requested;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

std::string traceLine(uint64_t index, const char* op, uint64_t gpa) {
  return std::to_string(index) + " " + op + " gpa=" + hex(gpa);
}

// --- SNP --------------------------------------------------------------------------------------

Result<Measurement> measureSnp(const igvm::File& file, const MeasureOptions& o, uint32_t bit) {
  SnpHostMeasurement m(o.host, o.vcpus, {.threads = threadCount(o.threads)});
  if (o.trace) {
    m.setTrace([&o](const SnpTraceRecord& r) { o.trace(formatSnpTrace(r)); });
  }
  Areas areas;
  std::deque<ByteVector> padded;  // VMSA payloads shorter than a page, zero padded
  std::vector<uint64_t> sev_features;
  std::vector<uint64_t> vmsa_gpas;
  uint64_t shared_pages = 0;
  for (const Header& h : file.headers()) {
    areas.see(h);
    if (h.section != igvm::Section::kDirective || !h.appliesTo(bit)) {
      continue;
    }
    if (const auto* pd = h.get<igvm::IGVM_VHS_PAGE_DATA>()) {
      SnpDataKind kind = SnpDataKind::kNormal;
      switch (static_cast<igvm::PageDataType>(pd->data_type)) {
        case igvm::PageDataType::kNormal:
          break;
        case igvm::PageDataType::kSecrets:
          kind = SnpDataKind::kSecrets;
          break;
        case igvm::PageDataType::kCpuidData:
        case igvm::PageDataType::kCpuidXf:
          kind = SnpDataKind::kCpuid;
          break;
        default:
          return unsupported("measure.unsupported",
                             "page data type " + hex(pd->data_type) + " has no snp page type",
                             where(h));
      }
      const bool shared = (pd->flags & igvm::kPageDataFlagShared) != 0;
      for (const PageSlice& p : splitPages(*pd, h.data)) {
        shared_pages += shared ? 1 : 0;
        IGVMKIT_RETURN_IF_ERROR(located(
            m.pageData({.gpa = p.gpa,
                        .kind = kind,
                        .unmeasured = (pd->flags & igvm::kPageDataFlagUnmeasured) != 0,
                        .shared = shared,
                        .data = p.data,
                        .native_zero = o.native_zero}),
            h));
      }
    } else if (const auto* pi = h.get<igvm::IGVM_VHS_PARAMETER_INSERT>()) {
      IGVMKIT_ASSIGN_OR_RETURN(uint64_t size, areas.sizeOf(h, pi->parameter_area_index));
      IGVMKIT_RETURN_IF_ERROR(located(m.parameterInsert(pi->gpa, size), h));
    } else if (const auto* vp = h.get<igvm::IGVM_VHS_VP_CONTEXT>()) {
      if (h.vp_format != igvm::VpContextFormat::kSnpVmsa) {
        return invalid("measure.vp_context", "vp context is not an snp vmsa", where(h));
      }
      Bytes page = h.data;
      if (page.size() < kPageSize) {
        ByteVector& p = padded.emplace_back(kPageSize, std::byte{0});
        std::memcpy(p.data(), h.data.data(), h.data.size());
        page = p;
      }
      IGVMKIT_ASSIGN_OR_RETURN(igvm::SevVmsa vmsa, igvm::vmsaOf(h));
      sev_features.push_back(vmsa.sev_features);
      vmsa_gpas.push_back(vp->gpa);
      IGVMKIT_RETURN_IF_ERROR(located(m.vpContext(vp->vp_index, vp->gpa, page), h));
    }
  }
  if (o.host == HostModel::kKvm && vmsa_gpas.empty()) {
    return invalid("measure.no_vmsa",
                   "the file has no snp vp context; the kvm host model measures one vmsa per "
                   "vcpu from it");
  }
  IGVMKIT_ASSIGN_OR_RETURN(SnpHostResult r, m.finish());
  Measurement out;
  out.platform = "snp";
  out.host = hostModelName(o.host);
  if (o.host == HostModel::kKvm) {
    out.vcpus = o.vcpus;
  }
  out.digest.assign(r.digest.begin(), r.digest.end());
  out.pages_measured = r.pages_measured;
  out.warnings = std::move(r.warnings);
  auto& a = out.assumptions;
  a["compatibility_mask"] = bit;
  a["zero_pages"] = o.native_zero ? "zero" : "normal";
  a["shared_pages"] = o.host == HostModel::kKvm ? "measured" : "skipped";
  a["shared_pages_in_file"] = shared_pages;
  a["parameter_areas"] = "unmeasured, every 4 KiB page";
  a["pages_2mb"] = "512 launch updates of 4 KiB";
  if (o.host == HostModel::kKvm) {
    a["vmsa_order"] = "last, one per vcpu (vp_index i, else 0)";
    a["vmsa_gpa"] = kKvmVmsaGpa;
  } else {
    a["vmsa_order"] = "file order";
    a["vmsa_gpa"] = vmsa_gpas;
  }
  a["vmsa_contents"] = "file bytes";
  a["sev_features"] = sev_features;
  return out;
}

// --- TDX --------------------------------------------------------------------------------------

Result<Measurement> measureTdx(const igvm::File& file, const MeasureOptions& o, uint32_t bit) {
  TdxMrtd mrtd;
  Areas areas;
  uint64_t index = 0;
  for (const Header& h : file.headers()) {
    areas.see(h);
    if (h.section != igvm::Section::kDirective || !h.appliesTo(bit)) {
      continue;
    }
    if (const auto* pd = h.get<igvm::IGVM_VHS_PAGE_DATA>()) {
      if ((pd->flags & igvm::kPageDataFlagShared) != 0) {
        continue;
      }
      const bool measured = (pd->flags & igvm::kPageDataFlagUnmeasured) == 0;
      for (const PageSlice& p : splitPages(*pd, h.data)) {
        IGVMKIT_RETURN_IF_ERROR(located(mrtd.addPage(p.gpa, p.data, measured), h));
        if (o.trace) {
          o.trace(traceLine(index++, measured ? "page.add+extend" : "page.add", p.gpa));
        }
      }
    } else if (const auto* pi = h.get<igvm::IGVM_VHS_PARAMETER_INSERT>()) {
      IGVMKIT_ASSIGN_OR_RETURN(uint64_t size, areas.sizeOf(h, pi->parameter_area_index));
      IGVMKIT_RETURN_IF_ERROR(located(mrtd.pageAddRange(pi->gpa, size), h));
      if (o.trace) {
        for (uint64_t off = 0; off < size; off += kPageSize) {
          o.trace(traceLine(index++, "page.add", pi->gpa + off));
        }
      }
    }
  }
  IGVMKIT_ASSIGN_OR_RETURN(Sha384Digest d, mrtd.result());
  Measurement out;
  out.platform = "tdx";
  out.digest.assign(d.begin(), d.end());
  out.pages_measured = mrtd.pagesAdded();
  auto& a = out.assumptions;
  a["compatibility_mask"] = bit;
  a["zero_pages"] = "page.add and extended as zeros";
  a["shared_pages"] = "skipped";
  a["parameter_areas"] = "page.add every page";
  a["vp_context"] = "not measured";
  return out;
}

// --- VBS --------------------------------------------------------------------------------------

Result<Measurement> measureVbs(const igvm::File& file, const MeasureOptions& o, uint32_t bit) {
  VbsBootDigest vbs;
  Areas areas;
  uint64_t index = 0;
  for (const Header& h : file.headers()) {
    areas.see(h);
    if (h.section != igvm::Section::kDirective || !h.appliesTo(bit)) {
      continue;
    }
    if (const auto* pd = h.get<igvm::IGVM_VHS_PAGE_DATA>()) {
      if ((pd->flags & igvm::kPageDataFlagShared) != 0) {
        continue;
      }
      if (pd->data_type != static_cast<uint16_t>(igvm::PageDataType::kNormal)) {
        return unsupported("measure.unsupported",
                           "vbs page data must be NORMAL, not type " + hex(pd->data_type),
                           where(h));
      }
      const bool unmeasured = (pd->flags & igvm::kPageDataFlagUnmeasured) != 0;
      for (const PageSlice& p : splitPages(*pd, h.data)) {
        IGVMKIT_RETURN_IF_ERROR(
            located(vbs.addPage(p.gpa, p.data, VbsAcceptance::kNone, unmeasured), h));
        if (o.trace) {
          o.trace(traceLine(index++, unmeasured ? "page.unmeasured" : "page", p.gpa));
        }
      }
    } else if (const auto* pi = h.get<igvm::IGVM_VHS_PARAMETER_INSERT>()) {
      IGVMKIT_ASSIGN_OR_RETURN(uint64_t size, areas.sizeOf(h, pi->parameter_area_index));
      IGVMKIT_RETURN_IF_ERROR(
          located(vbs.addUnmeasuredPages(pi->gpa, size / kPageSize, VbsAcceptance::kNone), h));
      if (o.trace) {
        o.trace(traceLine(index++, "parameter_area", pi->gpa));
      }
    } else if (const auto* er = h.get<igvm::IGVM_VHS_ERROR_RANGE>()) {
      const uint64_t pages = (uint64_t{er->size_bytes} + kPageSize - 1) / kPageSize;
      IGVMKIT_RETURN_IF_ERROR(
          located(vbs.addUnmeasuredPages(er->gpa, pages, VbsAcceptance::kReadWrite), h));
      if (o.trace) {
        o.trace(traceLine(index++, "error_range", er->gpa));
      }
    } else if (h.get<igvm::IGVM_VHS_VP_CONTEXT>() != nullptr) {
      if (h.vp_format != igvm::VpContextFormat::kVbsX64 &&
          h.vp_format != igvm::VpContextFormat::kVbsAArch64) {
        return invalid("measure.vp_context", "vp context is not a vbs register list", where(h));
      }
      IGVMKIT_ASSIGN_OR_RETURN(std::vector<igvm::VbsVpContextRegister> regs,
                               igvm::vbsRegistersOf(h));
      for (const igvm::VbsVpContextRegister& r : regs) {
        VbsRegisterValue value{};
        std::memcpy(value.data(), r.register_value, value.size());
        vbs.addRegister(r.vtl, r.register_name, value);
      }
    }
  }
  IGVMKIT_ASSIGN_OR_RETURN(Sha256Digest d, vbs.digest());
  Measurement out;
  out.platform = "vbs";
  out.digest.assign(d.begin(), d.end());
  out.pages_measured = vbs.pageCount();
  auto& a = out.assumptions;
  a["compatibility_mask"] = bit;
  a["registers"] = "after all pages";
  a["shared_pages"] = "skipped";
  a["acceptance"] = "none; error ranges read-write";
  return out;
}

// --- SEV / SEV-ES -----------------------------------------------------------------------------

Result<Measurement> measureSev(const igvm::File& file, const MeasureOptions& o, uint32_t bit) {
  const bool es = o.platform == Platform::kSevEs;
  SevDigest sev(es ? SevMode::kSevEs : SevMode::kSev);
  uint64_t pages = 0;
  uint64_t vmsas = 0;
  for (const Header& h : file.directives()) {
    if (!h.appliesTo(bit)) {
      continue;
    }
    if (const auto* pd = h.get<igvm::IGVM_VHS_PAGE_DATA>()) {
      if ((pd->flags & igvm::kPageDataFlagUnmeasured) != 0) {
        continue;
      }
      for (const PageSlice& p : splitPages(*pd, h.data)) {
        IGVMKIT_RETURN_IF_ERROR(located(sev.addData(p.data), h));
        ++pages;
        if (o.trace) {
          o.trace(traceLine(pages - 1, "data", p.gpa));
        }
      }
    } else if (const auto* vp = h.get<igvm::IGVM_VHS_VP_CONTEXT>()) {
      if (!es) {
        continue;
      }
      if (h.vp_format != igvm::VpContextFormat::kSnpVmsa) {
        return invalid("measure.vp_context", "vp context is not a vmsa", where(h));
      }
      ByteVector page(kPageSize, std::byte{0});
      std::memcpy(page.data(), h.data.data(), std::min<size_t>(h.data.size(), kPageSize));
      IGVMKIT_RETURN_IF_ERROR(located(sev.addVmsa(page), h));
      ++vmsas;
      if (o.trace) {
        o.trace("vmsa gpa=" + hex(vp->gpa));
      }
    }
  }
  if (es && vmsas == 0) {
    return invalid("measure.no_vmsa", "the file has no sev-es vp context");
  }
  IGVMKIT_ASSIGN_OR_RETURN(Sha256Digest d, sev.digest());
  Measurement out;
  out.platform = es ? "sev-es" : "sev";
  out.digest.assign(d.begin(), d.end());
  out.pages_measured = pages + vmsas;
  auto& a = out.assumptions;
  a["compatibility_mask"] = bit;
  a["algorithm"] = "UNCONFIRMED: sha-256 over measured page data, then vmsas (igvmmeasure)";
  a["zero_pages"] = "add nothing";
  out.warnings.push_back("the " + out.platform +
                         " digest algorithm is unconfirmed (igvmmeasure's model only)");
  return out;
}

}  // namespace

const char* platformName(Platform platform) {
  switch (platform) {
    case Platform::kSnp:
      return "snp";
    case Platform::kTdx:
      return "tdx";
    case Platform::kVbs:
      return "vbs";
    case Platform::kSev:
      return "sev";
    case Platform::kSevEs:
      return "sev-es";
  }
  return "unknown";
}

Result<Platform> parsePlatform(std::string_view name) {
  for (Platform p :
       {Platform::kSnp, Platform::kTdx, Platform::kVbs, Platform::kSev, Platform::kSevEs}) {
    if (name == platformName(p)) {
      return p;
    }
  }
  return usage("unknown platform '" + std::string(name) + "' (snp, tdx, vbs, sev, sev-es)");
}

Result<HostModel> parseHostModel(std::string_view name) {
  if (name == "kvm") {
    return HostModel::kKvm;
  }
  if (name == "mshv") {
    return HostModel::kMshv;
  }
  return usage("unknown host '" + std::string(name) + "' (kvm, mshv)");
}

igvm::PlatformType igvmPlatformType(Platform platform) {
  switch (platform) {
    case Platform::kSnp:
      return igvm::PlatformType::kSevSnp;
    case Platform::kTdx:
      return igvm::PlatformType::kTdx;
    case Platform::kVbs:
      return igvm::PlatformType::kVsmIsolation;
    case Platform::kSev:
      return igvm::PlatformType::kSev;
    case Platform::kSevEs:
      return igvm::PlatformType::kSevEs;
  }
  return igvm::PlatformType::kNative;
}

ReferenceDigest Measurement::toReferenceDigest() const {
  ReferenceDigest d;
  d.platform = platform;
  d.host = host;
  d.vcpus = vcpus;
  d.digest = digest;
  d.pages_measured = pages_measured;
  d.extra["assumptions"] = assumptions;
  if (!warnings.empty()) {
    d.extra["warnings"] = warnings;
  }
  return d;
}

ReferenceValues Measurement::toReference() const {
  ReferenceValues v;
  v.measurements.push_back(toReferenceDigest());
  return v;
}

ReferenceValues toReference(std::span<const Measurement> measurements) {
  ReferenceValues v;
  for (const Measurement& m : measurements) {
    v.measurements.push_back(m.toReferenceDigest());
  }
  return v;
}

Result<Measurement> measure(const igvm::File& file, const MeasureOptions& options) {
  IGVMKIT_ASSIGN_OR_RETURN(uint32_t bit, platformBit(file, options.platform));
  switch (options.platform) {
    case Platform::kSnp:
      return measureSnp(file, options, bit);
    case Platform::kTdx:
      return measureTdx(file, options, bit);
    case Platform::kVbs:
      return measureVbs(file, options, bit);
    case Platform::kSev:
    case Platform::kSevEs:
      return measureSev(file, options, bit);
  }
  return usage("unknown platform");
}

}  // namespace igvmkit::measure
