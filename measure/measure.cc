#include "measure/measure.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <thread>

#include "igvm/gpa.h"
#include "measure/internal/snp_feed.h"
#include "measure/sev.h"
#include "measure/tdx.h"
#include "measure/vbs.h"
#include "measure/vmsa.h"

namespace igvmkit::measure {
namespace {

using igvm::Header;

Status located(Status s, const Header& h) {
  if (s.ok()) {
    return s;
  }
  return std::move(s).at(h.location());
}

}  // namespace

Result<uint32_t> platformBit(const igvm::File& file, Platform platform) {
  const igvm::IGVM_VHS_SUPPORTED_PLATFORM* p = file.platform(igvmPlatformType(platform));
  if (p == nullptr) {
    return invalid("measure.no_platform", std::string("the file declares no ") +
                                              std::string(igvm::platformTypeName(
                                                  static_cast<uint8_t>(igvmPlatformType(platform)))) +
                                              " platform");
  }
  // A page, area or VP context the platform cannot address has no launch and so no measurement:
  // refused as `plan` refuses it (igvm/gpa.h).
  IGVMKIT_RETURN_IF_ERROR(igvm::checkPlatformGpas(file, p->compatibility_mask));
  return p->compatibility_mask;
}

namespace {

// One 4 KiB page of a PAGE_DATA directive: 2 MiB pages arrive as 512 of them. `data` is empty for
// a page the file gives no bytes for, and shorter than 4 KiB for a short last page.
struct PageSlice {
  uint64_t gpa;
  Bytes data;
};

// What every measurement reads of the file: the directives one platform sees (its
// compatibility-mask bit), in file order. Page data arrives as 4 KiB slices straight from the
// mapping, a parameter insert with its area's size. A handler left empty skips that directive
// kind; a handler's error gets the header's location.
struct DirectiveHandlers {
  std::function<Status(const igvm::IGVM_VHS_PAGE_DATA&, const PageSlice&)> page = nullptr;
  std::function<Status(uint64_t gpa, uint64_t size)> parameter_insert = nullptr;
  std::function<Status(const Header&, const igvm::IGVM_VHS_VP_CONTEXT&)> vp_context = nullptr;
  std::function<Status(const igvm::IGVM_VHS_ERROR_RANGE&)> error_range = nullptr;
};

Status forEachDirective(const igvm::File& file, uint32_t bit, const DirectiveHandlers& on) {
  std::map<uint32_t, uint64_t> area_sizes;  // parameter area index -> bytes, declared so far
  for (const Header& h : file.headers()) {
    if (const auto* a = h.get<igvm::IGVM_VHS_PARAMETER_AREA>()) {
      area_sizes[a->parameter_area_index] = a->number_of_bytes;
    }
    if (h.section != igvm::Section::kDirective || !h.appliesTo(bit)) {
      continue;
    }
    Status s;
    if (const auto* pd = h.get<igvm::IGVM_VHS_PAGE_DATA>(); pd != nullptr && on.page) {
      const uint64_t count = (pd->flags & igvm::kPageDataFlagIs2MbPage) != 0 ? 512 : 1;
      for (uint64_t i = 0; i < count && s.ok(); ++i) {
        const uint64_t off = i * kPageSize;
        Bytes slice;
        if (off < h.data.size()) {
          slice = h.data.subspan(off, std::min<uint64_t>(kPageSize, h.data.size() - off));
        }
        s = on.page(*pd, {pd->gpa + off, slice});
      }
    } else if (const auto* pi = h.get<igvm::IGVM_VHS_PARAMETER_INSERT>();
               pi != nullptr && on.parameter_insert) {
      // The parser guarantees the area is declared before it is inserted (rule
      // parameter_insert.undeclared); the check keeps a hand-built File from reading garbage.
      auto it = area_sizes.find(pi->parameter_area_index);
      s = it == area_sizes.end()
              ? invalid("measure.parameter_area",
                        "parameter area " + hex(pi->parameter_area_index) + " is not declared")
              : on.parameter_insert(pi->gpa, it->second);
    } else if (const auto* vp = h.get<igvm::IGVM_VHS_VP_CONTEXT>();
               vp != nullptr && on.vp_context) {
      s = on.vp_context(h, *vp);
    } else if (const auto* er = h.get<igvm::IGVM_VHS_ERROR_RANGE>();
               er != nullptr && on.error_range) {
      s = on.error_range(*er);
    }
    IGVMKIT_RETURN_IF_ERROR(located(std::move(s), h));
  }
  return {};
}

}  // namespace

unsigned threadCount(unsigned requested) {
  if (requested != 0) {
    return requested;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {

std::string traceLine(uint64_t index, const char* op, uint64_t gpa) {
  return std::to_string(index) + " " + op + " gpa=" + hex(gpa);
}

// --- SNP --------------------------------------------------------------------------------------

Result<SnpDataKind> snpDataKind(const igvm::IGVM_VHS_PAGE_DATA& pd) {
  switch (static_cast<igvm::PageDataType>(pd.data_type)) {
    case igvm::PageDataType::kNormal:
      return SnpDataKind::kNormal;
    case igvm::PageDataType::kSecrets:
      return SnpDataKind::kSecrets;
    case igvm::PageDataType::kCpuidData:
    case igvm::PageDataType::kCpuidXf:
      return SnpDataKind::kCpuid;
    default:
      return unsupported("measure.unsupported",
                         "page data type " + hex(pd.data_type) + " has no snp page type");
  }
}

}  // namespace

Status feedSnpDirectives(const igvm::File& file, const MeasureOptions& o, uint32_t bit,
                         SnpHostMeasurement& m, SnpFeedState& st) {
  return forEachDirective(
      file, bit,
      {.page = [&](const igvm::IGVM_VHS_PAGE_DATA& pd, const PageSlice& p) -> Status {
         IGVMKIT_ASSIGN_OR_RETURN(SnpDataKind kind, snpDataKind(pd));
         const bool shared = (pd.flags & igvm::kPageDataFlagShared) != 0;
         st.shared_pages += shared ? 1 : 0;
         st.page_after_vmsa = st.page_after_vmsa || !st.vmsas.empty();
         return m.pageData({.gpa = p.gpa,
                            .kind = kind,
                            .unmeasured = (pd.flags & igvm::kPageDataFlagUnmeasured) != 0,
                            .shared = shared,
                            .data = p.data,
                            .native_zero = o.native_zero});
       },
       .parameter_insert = [&](uint64_t gpa, uint64_t size) {
         st.page_after_vmsa = st.page_after_vmsa || !st.vmsas.empty();
         return m.parameterInsert(gpa, size);
       },
       .vp_context = [&](const Header& h, const igvm::IGVM_VHS_VP_CONTEXT& vp) -> Status {
         if (h.vp_format != igvm::VpContextFormat::kSnpVmsa) {
           return invalid("measure.vp_context", "vp context is not an snp vmsa");
         }
         Bytes page = h.data;
         if (page.size() < kPageSize) {
           ByteVector& p = st.padded.emplace_back(kPageSize, std::byte{0});
           std::memcpy(p.data(), h.data.data(), h.data.size());
           page = p;
         }
         IGVMKIT_ASSIGN_OR_RETURN(igvm::SevVmsa vmsa, igvm::vmsaOf(h));
         st.sev_features.push_back(vmsa.sev_features);
         st.vmsa_gpas.push_back(vp.gpa);
         st.vmsas.push_back({vp.vp_index, page});
         return m.vpContext(vp.vp_index, vp.gpa, page);
       }});
}

namespace {

Result<Measurement> measureSnp(const igvm::File& file, const MeasureOptions& o, uint32_t bit) {
  SnpHostMeasurement m(o.host, o.vcpus, {.threads = threadCount(o.threads)});
  if (o.trace) {
    m.setTrace([&o](const SnpTraceRecord& r) { o.trace(formatSnpTrace(r)); });
  }
  SnpFeedState st;
  IGVMKIT_RETURN_IF_ERROR(feedSnpDirectives(file, o, bit, m, st));
  const std::vector<uint64_t>& sev_features = st.sev_features;
  const std::vector<uint64_t>& vmsa_gpas = st.vmsa_gpas;
  const uint64_t shared_pages = st.shared_pages;
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
  uint64_t index = 0;
  IGVMKIT_RETURN_IF_ERROR(forEachDirective(
      file, bit,
      {.page = [&](const igvm::IGVM_VHS_PAGE_DATA& pd, const PageSlice& p) -> Status {
         if ((pd.flags & igvm::kPageDataFlagShared) != 0) {
           return {};
         }
         const bool measured = (pd.flags & igvm::kPageDataFlagUnmeasured) == 0;
         IGVMKIT_RETURN_IF_ERROR(mrtd.addPage(p.gpa, p.data, measured));
         if (o.trace) {
           o.trace(traceLine(index++, measured ? "page.add+extend" : "page.add", p.gpa));
         }
         return {};
       },
       .parameter_insert = [&](uint64_t gpa, uint64_t size) -> Status {
         IGVMKIT_RETURN_IF_ERROR(mrtd.pageAddRange(gpa, size));
         for (uint64_t off = 0; o.trace && off < size; off += kPageSize) {
           o.trace(traceLine(index++, "page.add", gpa + off));
         }
         return {};
       }}));
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
  uint64_t index = 0;
  IGVMKIT_RETURN_IF_ERROR(forEachDirective(
      file, bit,
      {.page = [&](const igvm::IGVM_VHS_PAGE_DATA& pd, const PageSlice& p) -> Status {
         if ((pd.flags & igvm::kPageDataFlagShared) != 0) {
           return {};
         }
         if (pd.data_type != static_cast<uint16_t>(igvm::PageDataType::kNormal)) {
           return unsupported("measure.unsupported",
                              "vbs page data must be NORMAL, not type " + hex(pd.data_type));
         }
         const bool unmeasured = (pd.flags & igvm::kPageDataFlagUnmeasured) != 0;
         IGVMKIT_RETURN_IF_ERROR(vbs.addPage(p.gpa, p.data, VbsAcceptance::kNone, unmeasured));
         if (o.trace) {
           o.trace(traceLine(index++, unmeasured ? "page.unmeasured" : "page", p.gpa));
         }
         return {};
       },
       .parameter_insert = [&](uint64_t gpa, uint64_t size) -> Status {
         IGVMKIT_RETURN_IF_ERROR(
             vbs.addUnmeasuredPages(gpa, size / kPageSize, VbsAcceptance::kNone));
         if (o.trace) {
           o.trace(traceLine(index++, "parameter_area", gpa));
         }
         return {};
       },
       .vp_context = [&](const Header& h, const igvm::IGVM_VHS_VP_CONTEXT&) -> Status {
         if (h.vp_format != igvm::VpContextFormat::kVbsX64 &&
             h.vp_format != igvm::VpContextFormat::kVbsAArch64) {
           return invalid("measure.vp_context", "vp context is not a vbs register list");
         }
         IGVMKIT_ASSIGN_OR_RETURN(std::vector<igvm::VbsVpContextRegister> regs,
                                  igvm::vbsRegistersOf(h));
         for (const igvm::VbsVpContextRegister& r : regs) {
           VbsRegisterValue value{};
           std::memcpy(value.data(), r.register_value, value.size());
           vbs.addRegister(r.vtl, r.register_name, value);
         }
         return {};
       },
       .error_range = [&](const igvm::IGVM_VHS_ERROR_RANGE& er) -> Status {
         const uint64_t pages = (uint64_t{er.size_bytes} + kPageSize - 1) / kPageSize;
         IGVMKIT_RETURN_IF_ERROR(
             vbs.addUnmeasuredPages(er.gpa, pages, VbsAcceptance::kReadWrite));
         if (o.trace) {
           o.trace(traceLine(index++, "error_range", er.gpa));
         }
         return {};
       }}));
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
  DirectiveHandlers on{.page = [&](const igvm::IGVM_VHS_PAGE_DATA& pd,
                                   const PageSlice& p) -> Status {
    // A page without data adds no bytes (measurement.md §1.7), so it is not counted or traced.
    if ((pd.flags & igvm::kPageDataFlagUnmeasured) != 0 || p.data.empty()) {
      return {};
    }
    IGVMKIT_RETURN_IF_ERROR(sev.addData(p.data));
    if (o.trace) {
      o.trace(traceLine(pages, "data", p.gpa));
    }
    ++pages;
    return {};
  }};
  if (es) {
    on.vp_context = [&](const Header& h, const igvm::IGVM_VHS_VP_CONTEXT& vp) -> Status {
      if (h.vp_format != igvm::VpContextFormat::kSnpVmsa) {
        return invalid("measure.vp_context", "vp context is not a vmsa");
      }
      ByteVector page(kPageSize, std::byte{0});
      std::memcpy(page.data(), h.data.data(), std::min<size_t>(h.data.size(), kPageSize));
      IGVMKIT_RETURN_IF_ERROR(sev.addVmsa(page));
      ++vmsas;
      if (o.trace) {
        o.trace("vmsa gpa=" + hex(vp.gpa));
      }
      return {};
    };
  }
  IGVMKIT_RETURN_IF_ERROR(forEachDirective(file, bit, on));
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
