#include "measure/measure.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <thread>

#include "igvm/gpa.h"
#include "measure/internal/hash_pipeline.h"
#include "measure/internal/snp_feed.h"
#include "measure/internal/view_reader.h"
#include "measure/sev.h"
#include "measure/tdx.h"
#include "measure/vbs.h"
#include "measure/vmsa.h"
#include "measure/parallel.h"

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
  if (platform == Platform::kNative) {
    return usage("native launches have no measurement (snp, tdx, vbs, sev, sev-es)");
  }
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
// a page the file gives no bytes for, and shorter than 4 KiB for a short last page. `digest` is
// the SHA-384 of the zero-padded page when MeasureStream computed it once for every SNP chain.
struct PageSlice {
  uint64_t gpa;
  Bytes data;
  const Sha384Digest* digest = nullptr;
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

uint64_t slicesOf(const igvm::IGVM_VHS_PAGE_DATA& pd) {
  return (pd.flags & igvm::kPageDataFlagIs2MbPage) != 0 ? 512 : 1;
}

Bytes sliceData(const Header& h, uint64_t i) {
  const uint64_t off = i * kPageSize;
  if (off >= h.data.size()) {
    return {};
  }
  return h.data.subspan(off, std::min<uint64_t>(kPageSize, h.data.size() - off));
}

// The walk, one header at a time (a parsed file's headers, or headers as a writer lays them out).
class DirectiveWalker {
 public:
  DirectiveWalker(uint32_t bit, DirectiveHandlers on) : bit_(bit), on_(std::move(on)) {}

  // `digests`: one per 4 KiB slice of a PAGE_DATA header, or null.
  Status add(const Header& h, const Sha384Digest* digests = nullptr) {
    if (const auto* a = h.get<igvm::IGVM_VHS_PARAMETER_AREA>()) {
      area_sizes_[a->parameter_area_index] = a->number_of_bytes;
    }
    if (h.section != igvm::Section::kDirective || !h.appliesTo(bit_)) {
      return {};
    }
    Status s;
    if (const auto* pd = h.get<igvm::IGVM_VHS_PAGE_DATA>(); pd != nullptr && on_.page) {
      const uint64_t count = slicesOf(*pd);
      for (uint64_t i = 0; i < count && s.ok(); ++i) {
        s = on_.page(*pd, {pd->gpa + i * kPageSize, sliceData(h, i),
                           digests != nullptr ? &digests[i] : nullptr});
      }
    } else if (const auto* pi = h.get<igvm::IGVM_VHS_PARAMETER_INSERT>();
               pi != nullptr && on_.parameter_insert) {
      // The parser guarantees the area is declared before it is inserted (rule
      // parameter_insert.undeclared); the check keeps a hand-built File from reading garbage.
      auto it = area_sizes_.find(pi->parameter_area_index);
      s = it == area_sizes_.end()
              ? invalid("measure.parameter_area",
                        "parameter area " + hex(pi->parameter_area_index) + " is not declared")
              : on_.parameter_insert(pi->gpa, it->second);
    } else if (const auto* vp = h.get<igvm::IGVM_VHS_VP_CONTEXT>();
               vp != nullptr && on_.vp_context) {
      s = on_.vp_context(h, *vp);
    } else if (const auto* er = h.get<igvm::IGVM_VHS_ERROR_RANGE>();
               er != nullptr && on_.error_range) {
      s = on_.error_range(*er);
    }
    return located(std::move(s), h);
  }

 private:
  uint32_t bit_;
  DirectiveHandlers on_;
  std::map<uint32_t, uint64_t> area_sizes_;  // parameter area index -> bytes, declared so far
};

Status forEachDirective(const igvm::File& file, uint32_t bit, const DirectiveHandlers& on,
                        const MeasureOptions& options) {
  DirectiveWalker walker(bit, on);
  const std::span<const Header> headers = file.headers();
  for (size_t i = 0; i < headers.size(); ++i) {
    IGVMKIT_RETURN_IF_ERROR(walker.add(headers[i]));
    if (options.progress && ((i + 1) % 1024 == 0 || i + 1 == headers.size())) {
      options.progress(i + 1, headers.size());
    }
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

// A measurement being fed directives: `on` takes them, `flush` folds page data queued so far (so
// the caller may release it), `finish` gives the result.
struct Running {
  DirectiveHandlers on;
  std::function<Status()> flush = [] { return Status{}; };
  std::function<Result<Measurement>()> finish;
};

Result<Measurement> runOver(const igvm::File& file, uint32_t bit, Running r,
                            const MeasureOptions& options) {
  IGVMKIT_RETURN_IF_ERROR(forEachDirective(file, bit, r.on, options));
  return r.finish();
}

DirectiveHandlers snpHandlers(const MeasureOptions& o, SnpHostMeasurement& m, SnpFeedState& st) {
  return {.page = [&o, &m, &st](const igvm::IGVM_VHS_PAGE_DATA& pd, const PageSlice& p) -> Status {
            IGVMKIT_ASSIGN_OR_RETURN(SnpDataKind kind, snpDataKind(pd));
            const bool shared = (pd.flags & igvm::kPageDataFlagShared) != 0;
            st.shared_pages += shared ? 1 : 0;
            st.page_after_vmsa = st.page_after_vmsa || !st.vmsas.empty();
            return m.pageData({.gpa = p.gpa,
                               .kind = kind,
                               .unmeasured = (pd.flags & igvm::kPageDataFlagUnmeasured) != 0,
                               .shared = shared,
                               .data = p.data,
                               .native_zero = o.native_zero,
                               .contents_digest = p.digest});
          },
          .parameter_insert = [&m, &st](uint64_t gpa, uint64_t size) {
            st.page_after_vmsa = st.page_after_vmsa || !st.vmsas.empty();
            return m.parameterInsert(gpa, size);
          },
          .vp_context = [&m, &st](const Header& h,
                                  const igvm::IGVM_VHS_VP_CONTEXT& vp) -> Status {
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
          }};
}

}  // namespace

Status feedSnpDirectives(const igvm::File& file, const MeasureOptions& o, uint32_t bit,
                         SnpHostMeasurement& m, SnpFeedState& st) {
  return forEachDirective(file, bit, snpHandlers(o, m, st), o);
}

namespace {

Running startSnp(const MeasureOptions& options, uint32_t bit, unsigned threads) {
  struct State {
    State(const MeasureOptions& opts, unsigned threads)
        : o(opts), m(opts.host, opts.vcpus, {.threads = threads, .source = opts.source}) {}
    MeasureOptions o;
    SnpHostMeasurement m;
    SnpFeedState st;
  };
  auto state = std::make_shared<State>(options, threads);
  if (options.trace) {
    state->m.setTrace([trace = options.trace](const SnpTraceRecord& r) {
      trace(formatSnpTrace(r));
    });
  }
  Running run;
  run.on = snpHandlers(state->o, state->m, state->st);
  run.flush = [state] { return state->m.flush(); };
  run.finish = [state, bit]() -> Result<Measurement> {
    const MeasureOptions& o = state->o;
    SnpFeedState& st = state->st;
    const std::vector<uint64_t>& sev_features = st.sev_features;
    const std::vector<uint64_t>& vmsa_gpas = st.vmsa_gpas;
    const uint64_t shared_pages = st.shared_pages;
    if (o.host == HostModel::kKvm && vmsa_gpas.empty()) {
      return invalid("measure.no_vmsa",
                     "the file has no snp vp context; the kvm host model measures one vmsa per "
                     "vcpu from it");
    }
    IGVMKIT_ASSIGN_OR_RETURN(SnpHostResult r, state->m.finish());
    Measurement out;
    out.platform = platformName(Platform::kSnp);
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
  };
  return run;
}

// --- TDX --------------------------------------------------------------------------------------

Running startTdx(const MeasureOptions& options, uint32_t bit) {
  struct State {
    explicit State(const MeasureOptions& opts) : o(opts), pages(opts.source) {}
    MeasureOptions o;
    TdxMrtd mrtd;
    impl::ViewReader pages;
    uint64_t index = 0;
  };
  auto st = std::make_shared<State>(options);
  Running run;
  run.on = {.page = [st](const igvm::IGVM_VHS_PAGE_DATA& pd, const PageSlice& p) -> Status {
         if ((pd.flags & igvm::kPageDataFlagShared) != 0) {
           return {};
         }
         const bool measured = (pd.flags & igvm::kPageDataFlagUnmeasured) == 0;
         IGVMKIT_ASSIGN_OR_RETURN(Bytes data, measured ? st->pages.read(p.data) : p.data);
         IGVMKIT_RETURN_IF_ERROR(st->mrtd.addPage(p.gpa, data, measured));
         if (st->o.trace) {
           st->o.trace(traceLine(st->index++, measured ? "page.add+extend" : "page.add", p.gpa));
         }
         return {};
       },
       .parameter_insert = [st](uint64_t gpa, uint64_t size) -> Status {
         IGVMKIT_RETURN_IF_ERROR(st->mrtd.pageAddRange(gpa, size));
         for (uint64_t off = 0; st->o.trace && off < size; off += kPageSize) {
           st->o.trace(traceLine(st->index++, "page.add", gpa + off));
         }
         return {};
       }};
  run.finish = [st, bit]() -> Result<Measurement> {
  IGVMKIT_ASSIGN_OR_RETURN(Sha384Digest d, st->mrtd.result());
  Measurement out;
  out.platform = platformName(Platform::kTdx);
  out.digest.assign(d.begin(), d.end());
  out.pages_measured = st->mrtd.pagesAdded();
  auto& a = out.assumptions;
  a["compatibility_mask"] = bit;
  a["zero_pages"] = "page.add and extended as zeros";
  a["shared_pages"] = "skipped";
  a["parameter_areas"] = "page.add every page";
  a["vp_context"] = "not measured";
  return out;
  };
  return run;
}

Running startVbs(const MeasureOptions& options, uint32_t bit) {
  struct State {
    explicit State(const MeasureOptions& opts) : o(opts), pages(opts.source) {}
    MeasureOptions o;
    VbsBootDigest vbs;
    impl::ViewReader pages;
    uint64_t index = 0;
  };
  auto st = std::make_shared<State>(options);
  Running run;
  run.on = {.page = [st](const igvm::IGVM_VHS_PAGE_DATA& pd, const PageSlice& p) -> Status {
         if ((pd.flags & igvm::kPageDataFlagShared) != 0) {
           return {};
         }
         if (pd.data_type != static_cast<uint16_t>(igvm::PageDataType::kNormal)) {
           return unsupported("measure.unsupported",
                              "vbs page data must be NORMAL, not type " + hex(pd.data_type));
         }
         const bool unmeasured = (pd.flags & igvm::kPageDataFlagUnmeasured) != 0;
         IGVMKIT_ASSIGN_OR_RETURN(Bytes data, st->pages.read(p.data));
         IGVMKIT_RETURN_IF_ERROR(st->vbs.addPage(p.gpa, data, VbsAcceptance::kNone, unmeasured));
         if (st->o.trace) {
           st->o.trace(traceLine(st->index++, unmeasured ? "page.unmeasured" : "page", p.gpa));
         }
         return {};
       },
       .parameter_insert = [st](uint64_t gpa, uint64_t size) -> Status {
         IGVMKIT_RETURN_IF_ERROR(
             st->vbs.addUnmeasuredPages(gpa, size / kPageSize, VbsAcceptance::kNone));
         if (st->o.trace) {
           st->o.trace(traceLine(st->index++, "parameter_area", gpa));
         }
         return {};
       },
       .vp_context = [st](const Header& h, const igvm::IGVM_VHS_VP_CONTEXT&) -> Status {
         if (h.vp_format != igvm::VpContextFormat::kVbsX64 &&
             h.vp_format != igvm::VpContextFormat::kVbsAArch64) {
           return invalid("measure.vp_context", "vp context is not a vbs register list");
         }
         IGVMKIT_ASSIGN_OR_RETURN(std::vector<igvm::VbsVpContextRegister> regs,
                                  igvm::vbsRegistersOf(h));
         for (const igvm::VbsVpContextRegister& r : regs) {
           VbsRegisterValue value{};
           std::memcpy(value.data(), r.register_value, value.size());
           st->vbs.addRegister(r.vtl, r.register_name, value);
         }
         return {};
       },
       .error_range = [st](const igvm::IGVM_VHS_ERROR_RANGE& er) -> Status {
         const uint64_t pages = (uint64_t{er.size_bytes} + kPageSize - 1) / kPageSize;
         IGVMKIT_RETURN_IF_ERROR(
             st->vbs.addUnmeasuredPages(er.gpa, pages, VbsAcceptance::kReadWrite));
         if (st->o.trace) {
           st->o.trace(traceLine(st->index++, "error_range", er.gpa));
         }
         return {};
       }};
  run.finish = [st, bit]() -> Result<Measurement> {
  IGVMKIT_ASSIGN_OR_RETURN(Sha256Digest d, st->vbs.digest());
  Measurement out;
  out.platform = platformName(Platform::kVbs);
  out.digest.assign(d.begin(), d.end());
  out.pages_measured = st->vbs.pageCount();
  auto& a = out.assumptions;
  a["compatibility_mask"] = bit;
  a["registers"] = "after all pages";
  a["shared_pages"] = "skipped";
  a["acceptance"] = "none; error ranges read-write";
  return out;
  };
  return run;
}

Running startSev(const MeasureOptions& options, uint32_t bit) {
  const bool es = options.platform == Platform::kSevEs;
  struct State {
    explicit State(bool es) : sev(es ? SevMode::kSevEs : SevMode::kSev) {}
    MeasureOptions o;
    SevDigest sev;
    uint64_t pages = 0;
    uint64_t vmsas = 0;
  };
  auto st = std::make_shared<State>(es);
  st->o = options;
  Running run;
  DirectiveHandlers& on = run.on;
  on = {.page = [st](const igvm::IGVM_VHS_PAGE_DATA& pd,
                                   const PageSlice& p) -> Status {
    // A page without data adds no bytes (measurement.md §1.7), so it is not counted or traced.
    if ((pd.flags & igvm::kPageDataFlagUnmeasured) != 0 || p.data.empty()) {
      return {};
    }
    IGVMKIT_RETURN_IF_ERROR(st->sev.addData(p.data));
    if (st->o.trace) {
      st->o.trace(traceLine(st->pages, "data", p.gpa));
    }
    ++st->pages;
    return {};
  }};
  if (es) {
    on.vp_context = [st](const Header& h, const igvm::IGVM_VHS_VP_CONTEXT& vp) -> Status {
      if (h.vp_format != igvm::VpContextFormat::kSnpVmsa) {
        return invalid("measure.vp_context", "vp context is not a vmsa");
      }
      ByteVector page(kPageSize, std::byte{0});
      std::memcpy(page.data(), h.data.data(), std::min<size_t>(h.data.size(), kPageSize));
      IGVMKIT_RETURN_IF_ERROR(st->sev.addVmsa(page));
      ++st->vmsas;
      if (st->o.trace) {
        st->o.trace("vmsa gpa=" + hex(vp.gpa));
      }
      return {};
    };
  }
  run.finish = [st, bit, es]() -> Result<Measurement> {
  if (es && st->vmsas == 0) {
    return invalid("measure.no_vmsa", "the file has no sev-es vp context");
  }
  IGVMKIT_ASSIGN_OR_RETURN(Sha256Digest d, st->sev.digest());
  Measurement out;
  out.platform = platformName(es ? Platform::kSevEs : Platform::kSev);
  out.digest.assign(d.begin(), d.end());
  out.pages_measured = st->pages + st->vmsas;
  auto& a = out.assumptions;
  a["compatibility_mask"] = bit;
  a["algorithm"] = "UNCONFIRMED: sha-256 over measured page data, then vmsas (igvmmeasure)";
  a["zero_pages"] = "add nothing";
  out.warnings.push_back("the " + out.platform +
                         " digest algorithm is unconfirmed (igvmmeasure's model only)");
  return out;
  };
  return run;
}

}  // namespace

Result<Platform> parsePlatform(std::string_view name) {
  std::optional<Platform> p = platformNamed(name);
  if (!p || *p == Platform::kNative) {
    return usage("unknown platform '" + std::string(name) + "' (snp, tdx, vbs, sev, sev-es)");
  }
  return *p;
}

Result<HostModel> parseHostModel(std::string_view name) {
  std::optional<HostModel> host = hostModelNamed(name);
  if (!host) {
    return usage("unknown host '" + std::string(name) + "' (kvm, mshv)");
  }
  return *host;
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

namespace {

// `snp_threads`: the SNP chain's own content-hash threads (1 when MeasureStream hashes for it).
Running start(const MeasureOptions& options, uint32_t bit, unsigned snp_threads) {
  switch (options.platform) {
    case Platform::kSnp:
      return startSnp(options, bit, snp_threads);
    case Platform::kTdx:
      return startTdx(options, bit);
    case Platform::kVbs:
      return startVbs(options, bit);
    case Platform::kNative:  // refused by platformBit()
    case Platform::kSev:
    case Platform::kSevEs:
      break;
  }
  return startSev(options, bit);
}

}  // namespace

Result<Measurement> measure(const igvm::File& file, const MeasureOptions& options) {
  IGVMKIT_ASSIGN_OR_RETURN(uint32_t bit, platformBit(file, options.platform));
  return runOver(file, bit, start(options, bit, threadCount(options.threads)), options);
}

struct MeasureStream::Impl {
  // PAGE_DATA headers in file order and the 4 KiB slices of them an SNP target sees, hashed as one
  // pipeline job; folded (dispatched to every target) once the hashes are in.
  struct Batch {
    std::vector<Header> queued;
    std::vector<Bytes> slices;
    std::vector<size_t> first_slice;  // queued[i]'s first slice in `slices`, or SIZE_MAX
    std::vector<Sha384Digest> digests;
    impl::HashPipeline::Ticket ticket = 0;
    uint64_t generation = 0;  // advance() calls before it was opened
    bool submitted = false;
  };

  std::vector<Running> runs;
  std::vector<DirectiveWalker> walkers;
  uint32_t snp_bits = 0;  // the SNP targets' bits: their pages get a content hash
  std::deque<Batch> batches;        // oldest first; back() may be open (not submitted)
  uint64_t generation = 0;
  std::deque<ByteVector> owned;     // copies of the non-page data the measurements keep
  Status error;                     // the first error: the measurements stopped there
  bool finished = false;
  std::unique_ptr<impl::HashPipeline> pipeline;  // last: joined before the batches go

  static constexpr size_t kBatchSlices = 1024;

  Status dispatch(const Header& h, const Sha384Digest* digests) {
    for (DirectiveWalker& w : walkers) {
      IGVMKIT_RETURN_IF_ERROR(w.add(h, digests));
    }
    return {};
  }

  Batch& open() {
    if (batches.empty() || batches.back().submitted) {
      batches.emplace_back().generation = generation;
    }
    return batches.back();
  }

  void submit() {
    if (batches.empty() || batches.back().submitted) {
      return;
    }
    Batch& b = batches.back();
    b.submitted = true;
    b.digests.resize(b.slices.size());
    std::span<const Bytes> slices(b.slices);
    std::span<Sha384Digest> out(b.digests);
    b.ticket = pipeline->submit(slices.size(), [slices, out](size_t begin, size_t end) {
      return hashPages(slices.subspan(begin, end - begin), out.subspan(begin, end - begin), 1);
    });
  }

  Status foldOldest() {
    Batch& b = batches.front();
    Status s = pipeline->wait(b.ticket);
    for (size_t i = 0; s.ok() && i < b.queued.size(); ++i) {
      s = dispatch(b.queued[i],
                   b.first_slice[i] == SIZE_MAX ? nullptr : &b.digests[b.first_slice[i]]);
    }
    batches.pop_front();
    return s;
  }

  // Folds every batch opened before `generation` (all of them for UINT64_MAX).
  Status foldBefore(uint64_t gen) {
    submit();
    while (!batches.empty() && batches.front().generation < gen) {
      IGVMKIT_RETURN_IF_ERROR(foldOldest());
    }
    for (Running& r : runs) {
      IGVMKIT_RETURN_IF_ERROR(r.flush());
    }
    return {};
  }

  // A failed step stops every later one with the same error.
  Status sticky(Status s) {
    if (!s.ok() && error.ok()) {
      error = s;
    }
    return s;
  }
};

MeasureStream::MeasureStream(std::vector<Target> targets, unsigned threads)
    : impl_(std::make_unique<Impl>()) {
  impl_->pipeline = std::make_unique<impl::HashPipeline>(threadCount(threads));
  for (const Target& t : targets) {
    impl_->runs.push_back(start(t.options, t.bit, 1));
    impl_->walkers.emplace_back(t.bit, impl_->runs.back().on);
    if (t.options.platform == Platform::kSnp) {
      impl_->snp_bits |= t.bit;
    }
  }
}

MeasureStream::MeasureStream(MeasureStream&&) noexcept = default;
MeasureStream& MeasureStream::operator=(MeasureStream&&) noexcept = default;
MeasureStream::~MeasureStream() = default;

Status MeasureStream::add(const Header& h) {
  Impl& s = *impl_;
  IGVMKIT_RETURN_IF_ERROR(s.error);
  if (const auto* pd = h.get<igvm::IGVM_VHS_PAGE_DATA>();
      pd != nullptr && h.section == igvm::Section::kDirective) {
    Impl::Batch& b = s.open();
    b.queued.push_back(h);
    b.first_slice.push_back(SIZE_MAX);
    if ((pd->compatibility_mask & s.snp_bits) != 0) {
      b.first_slice.back() = b.slices.size();
      for (uint64_t i = 0; i < slicesOf(*pd); ++i) {
        b.slices.push_back(sliceData(h, i));
      }
    }
    if (b.slices.size() >= Impl::kBatchSlices) {
      s.submit();
    }
    return {};
  }
  // Any other directive is measured after every page before it.
  IGVMKIT_RETURN_IF_ERROR(s.sticky(s.foldBefore(UINT64_MAX)));
  if (h.data.empty()) {
    return s.sticky(s.dispatch(h, nullptr));
  }
  Header kept = h;  // e.g. the SNP VMSAs the kvm model measures at the end
  kept.data = s.owned.emplace_back(h.data.begin(), h.data.end());
  return s.sticky(s.dispatch(kept, nullptr));
}

Status MeasureStream::advance() {
  Impl& s = *impl_;
  IGVMKIT_RETURN_IF_ERROR(s.error);
  const uint64_t previous = s.generation++;
  return s.sticky(s.foldBefore(previous));
}

Status MeasureStream::flush() {
  IGVMKIT_RETURN_IF_ERROR(impl_->error);
  return impl_->sticky(impl_->foldBefore(UINT64_MAX));
}

Result<std::vector<Measurement>> MeasureStream::finish() {
  Impl& s = *impl_;
  if (s.finished) {
    return internal("MeasureStream::finish called twice");
  }
  s.finished = true;
  IGVMKIT_RETURN_IF_ERROR(flush());
  std::vector<Measurement> out;
  for (Running& r : s.runs) {
    IGVMKIT_ASSIGN_OR_RETURN(Measurement m, r.finish());
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace igvmkit::measure
