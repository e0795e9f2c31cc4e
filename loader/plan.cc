#include "loader/plan.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <sstream>

#include "igvm/defs.h"
#include "igvm/gpa.h"
#include "loader/internal/vmsa.h"

namespace igvmkit::loader {
namespace {

std::string opName(const LaunchOp& op) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, MapMemory>) {
          return "map";
        } else if constexpr (std::is_same_v<T, ImportPages>) {
          return "import";
        } else if constexpr (std::is_same_v<T, FillParameter>) {
          return "parameter";
        } else if constexpr (std::is_same_v<T, SetVpState>) {
          return "vp";
        } else {
          return "finalize";
        }
      },
      op);
}

std::string at(size_t index) { return "op #" + std::to_string(index) + ": "; }

Error bad(size_t index, std::string rule, std::string message) {
  return invalid(std::move(rule), at(index) + message);
}
Error cannot(size_t index, std::string rule, std::string message) {
  return unsupported(std::move(rule), at(index) + message);
}

// Disjoint [start, end) intervals keyed by start, for overlap checks.
class RangeSet {
 public:
  // The start of an existing range overlapping [gpa, end), if any.
  std::optional<uint64_t> overlap(uint64_t gpa, uint64_t end) const {
    auto it = ranges_.upper_bound(gpa);
    if (it != ranges_.begin()) {
      auto prev = std::prev(it);
      if (prev->second > gpa) {
        return prev->first;
      }
    }
    if (it != ranges_.end() && it->first < end) {
      return it->first;
    }
    return std::nullopt;
  }
  bool covers(uint64_t gpa, uint64_t end) const {
    while (gpa < end) {
      auto it = ranges_.upper_bound(gpa);
      if (it == ranges_.begin()) {
        return false;
      }
      --it;
      if (it->second <= gpa) {
        return false;
      }
      gpa = it->second;
    }
    return true;
  }
  void add(uint64_t gpa, uint64_t end) { ranges_[gpa] = end; }

 private:
  std::map<uint64_t, uint64_t> ranges_;
};

bool pageTypeAllowed(BackendKind b, PageType t) {
  switch (b) {
    case BackendKind::kKvm:
    case BackendKind::kMshv:
      return t == PageType::kNormal || t == PageType::kZero || t == PageType::kUnmeasured;
    case BackendKind::kKvmTdx:
      return t == PageType::kNormal || t == PageType::kUnmeasured;
    case BackendKind::kKvmSnp:
    case BackendKind::kMshvSnp:
      return t != PageType::kVmsa;
  }
  return false;
}

bool overlapsRam(const std::vector<GpaRange>& ram, uint64_t gpa, uint64_t end) {
  for (const GpaRange& r : ram) {
    if (gpa < r.end() && r.gpa < end) {
      return true;
    }
  }
  return false;
}

bool inRam(const std::vector<GpaRange>& ram, uint64_t gpa, uint64_t end) {
  for (const GpaRange& r : ram) {
    if (gpa >= r.gpa && end <= r.end()) {
      return true;
    }
  }
  return false;
}

// [gpa, gpa + pages * 4 KiB) without overflow.
std::optional<uint64_t> pagesEnd(uint64_t gpa, uint64_t pages) {
  if (pages > (UINT64_MAX >> 12)) {
    return std::nullopt;
  }
  uint64_t size = pages * kPageSize;
  if (gpa > UINT64_MAX - size) {
    return std::nullopt;
  }
  return gpa + size;
}

struct Checker {
  explicit Checker(const Plan& p) : plan(p) {}
  const Plan& plan;
  std::vector<GpaRange> ram;
  RangeSet mapped;
  RangeSet loaded;  // imports, parameter areas and VMSAs that occupy guest pages
  std::vector<bool> vp_set;

  // Every GPA range an op occupies, against the backend platform's width (igvm/gpa.h): the
  // backstop for plans not made by plan(), whose PlanBuilder refuses such pages per header.
  Status inWidth(size_t i, std::string_view what, uint64_t gpa, uint64_t size) {
    Status s = igvm::checkGpaRange(platformFor(plan.backend), what, gpa, size);
    return s.ok() ? s : bad(i, s.error().rule, s.error().message);
  }

  Status placePages(size_t i, uint64_t gpa, uint64_t end) {
    if (!mapped.covers(gpa, end)) {
      if (inRam(ram, gpa, end)) {
        return bad(i, "plan.unmapped",
                   "pages " + hex(gpa) + "-" + hex(end) + " are not mapped by an earlier map op");
      }
      return bad(
          i, "plan.outside_ram",
          "pages " + hex(gpa) + "-" + hex(end) + " are not inside guest ram or a mapped region");
    }
    if (auto other = loaded.overlap(gpa, end)) {
      return bad(
          i, "plan.overlap",
          "pages " + hex(gpa) + "-" + hex(end) + " overlap pages loaded earlier at " + hex(*other));
    }
    loaded.add(gpa, end);
    return okStatus();
  }

  Status check(size_t i, const MapMemory& m) {
    if (m.gpa % kPageSize != 0 || m.size % kPageSize != 0 || m.size == 0) {
      return bad(i, "plan.map_alignment",
                 "map " + hex(m.gpa) + " size " + hex(m.size) +
                     " is not a nonzero whole number of 4 KiB pages");
    }
    IGVMKIT_RETURN_IF_ERROR(inWidth(i, "map", m.gpa, m.size));
    // Either RAM, or an extra region wholly outside RAM for file data (QEMU's igvm.N regions,
    // e.g. firmware below 4 GiB in the MMIO hole).
    if (!inRam(ram, m.gpa, m.gpa + m.size) && overlapsRam(ram, m.gpa, m.gpa + m.size)) {
      return bad(i, "plan.outside_ram",
                 "map " + hex(m.gpa) + " size " + hex(m.size) +
                     " is partly inside guest ram but not inside one ram range");
    }
    if (auto other = mapped.overlap(m.gpa, m.gpa + m.size)) {
      return bad(i, "plan.map_overlap",
                 "map " + hex(m.gpa) + " overlaps the map at " + hex(*other));
    }
    bool confidential =
        plan.backend == BackendKind::kKvmSnp || plan.backend == BackendKind::kKvmTdx;
    if (m.is_private && !confidential && plan.backend != BackendKind::kMshvSnp) {
      return cannot(i, "plan.private_memory",
                    std::string(backendName(plan.backend)) + " has no private memory");
    }
    mapped.add(m.gpa, m.gpa + m.size);
    return okStatus();
  }

  Status check(size_t i, const ImportPages& p) {
    if (p.gpa % kPageSize != 0) {
      return bad(i, "plan.import_alignment", "import gpa " + hex(p.gpa) + " is not page aligned");
    }
    if (p.page_count == 0) {
      return bad(i, "plan.import_empty", "import at " + hex(p.gpa) + " has no pages");
    }
    if (p.page_count > (UINT64_MAX >> 12)) {
      return bad(i, "gpa.wrap",
                 "import at " + hex(p.gpa) + " of " + hex(p.page_count) +
                     " pages wraps the address space");
    }
    // A last page ending at 2^64 does not wrap (it is past every width instead).
    IGVMKIT_RETURN_IF_ERROR(inWidth(i, "import", p.gpa, p.page_count * kPageSize));
    const std::optional<uint64_t> end = pagesEnd(p.gpa, p.page_count);
    if (p.data.size() > p.page_count * kPageSize) {
      return bad(
          i, "plan.import_data",
          "import data " + hex(p.data.size()) + " exceeds its " + hex(p.page_count) + " pages");
    }
    if ((p.flags & ~kKnownPageFlags) != 0) {
      return bad(i, "plan.import_flags", "import flags " + hex(p.flags) + " has unknown bits");
    }
    if (p.type == PageType::kVmsa) {
      return bad(i, "plan.vmsa_import", "a vmsa is loaded with a vp op, not imported as data");
    }
    if (!pageTypeAllowed(plan.backend, p.type)) {
      return cannot(i, "plan.page_type",
                    std::string(backendName(plan.backend)) + " has no " +
                        std::string(pageTypeName(p.type)) + " pages");
    }
    if ((p.flags & kPageFlagShared) != 0 && p.type != PageType::kNormal) {
      return bad(i, "plan.shared_type",
                 "shared pages at " + hex(p.gpa) + " must be normal, not " +
                     std::string(pageTypeName(p.type)));
    }
    if ((p.type == PageType::kSecrets || p.type == PageType::kCpuid) && p.page_count != 1 &&
        !allowsMultiPageImport(plan.backend, p.type)) {
      return bad(
          i, "plan.single_page",
          std::string(pageTypeName(p.type)) + " import at " + hex(p.gpa) + " must be one page");
    }
    return placePages(i, p.gpa, *end);
  }

  Status check(size_t i, const FillParameter& f) {
    if (f.gpa % kPageSize != 0 || f.size == 0 || f.size % kPageSize != 0) {
      return bad(i, "plan.parameter_alignment",
                 "parameter area at " + hex(f.gpa) + " of " + hex(f.size) +
                     " bytes is not a nonzero whole number of aligned pages");
    }
    for (const AreaWrite& w : f.writes) {
      if (w.offset > f.size || w.bytes.size() > f.size - w.offset) {
        return bad(i, "plan.parameter_alignment",
                   "parameter area at " + hex(f.gpa) + ": " + hex(w.bytes.size()) +
                       " bytes at offset " + hex(w.offset) + " run past its " + hex(f.size) +
                       " bytes");
      }
    }
    IGVMKIT_RETURN_IF_ERROR(inWidth(i, "parameter area", f.gpa, f.size));
    std::optional<uint64_t> end = pagesEnd(f.gpa, f.size / kPageSize);
    return placePages(i, f.gpa, *end);
  }

  Status check(size_t i, const SetVpState& s) {
    if (s.vp_index >= plan.config.vcpus) {
      return bad(i, "plan.vp_index",
                 "vp index " + std::to_string(s.vp_index) + " is not below " +
                     std::to_string(plan.config.vcpus) + " vcpus");
    }
    if (vp_set[s.vp_index]) {
      return bad(i, "plan.vp_twice",
                 "vp " + std::to_string(s.vp_index) + " already has its state set");
    }
    vp_set[s.vp_index] = true;
    const BackendKind b = plan.backend;
    if (const auto* regs = std::get_if<x86::VpState>(&s.state)) {
      (void)regs;
      if (b != BackendKind::kKvm && b != BackendKind::kMshv) {
        return cannot(
            i, "plan.vp_registers",
            std::string(backendName(b)) + " cannot load vcpu registers: " +
                (b == BackendKind::kKvmTdx ? "a td starts from the architectural reset state"
                                           : "an snp guest starts from its vmsa"));
      }
      return okStatus();
    }
    const SnpVmsa& vmsa = std::get<SnpVmsa>(s.state);
    if (!isSnp(b)) {
      return cannot(i, "plan.vp_vmsa", std::string(backendName(b)) + " cannot load an snp vmsa");
    }
    if (vmsa.page.size() != sizeof(igvm::SevVmsa)) {
      return bad(i, "vmsa.size", "vmsa is " + hex(vmsa.page.size()) + " bytes, expected 0x1000");
    }
    IGVMKIT_RETURN_IF_ERROR(inWidth(i, "vmsa", vmsa.gpa, kPageSize));
    if (b == BackendKind::kKvmSnp) {
      if (vmsa.gpa != kKvmSnpVmsaGpa) {
        return cannot(i, "kvm_snp.vmsa_gpa",
                      "vmsa of vp " + std::to_string(s.vp_index) + " is at " + hex(vmsa.gpa) +
                          ", but kvm places every vmsa at " + hex(kKvmSnpVmsaGpa));
      }
      Result<x86::VpState> decoded =
          detail::decodeKvmVmsa(vmsa.page, plan.setup.sev_features);
      if (!decoded.ok()) {
        Error e = decoded.error();
        e.message = at(i) + e.message;
        return e;
      }
      return okStatus();
    }
    // mshv-snp imports the page at the GPA the file names.
    if (vmsa.gpa % kPageSize != 0) {
      return bad(i, "plan.vmsa_alignment", "vmsa gpa " + hex(vmsa.gpa) + " is not page aligned");
    }
    return placePages(i, vmsa.gpa, vmsa.gpa + kPageSize);
  }

  Status check(size_t i, const Finalize& f) {
    if (f.snp_id && !isSnp(plan.backend)) {
      return cannot(i, "plan.id_block",
                    std::string(backendName(plan.backend)) + " has no snp id block");
    }
    if (i + 1 != plan.ops.size()) {
      return bad(i, "plan.finalize_last", "finalize must be the last op");
    }
    if (plan.backend == BackendKind::kKvmSnp) {
      for (uint32_t vp = 0; vp < vp_set.size(); ++vp) {
        if (!vp_set[vp]) {
          return bad(
              i, "kvm_snp.vp_missing",
              "vcpu " + std::to_string(vp) + " has no vmsa, but kvm measures one for every vcpu");
        }
      }
    }
    if (plan.backend == BackendKind::kMshvSnp && !vp_set[0]) {
      return bad(i, "mshv_snp.vp_missing", "vcpu 0 has no vmsa");
    }
    return okStatus();
  }

  Status run() {
    const VmConfig& c = plan.config;
    IGVMKIT_ASSIGN_OR_RETURN(ram, c.ramLayout());
    vp_set.assign(c.vcpus, false);
    if (isSnp(plan.backend)) {
      if ((plan.setup.snp_policy & (1ull << 17)) == 0) {
        return invalid("plan.snp_policy", "snp policy " + hex(plan.setup.snp_policy) +
                                              " does not set bit 17, which must be one");
      }
      if ((plan.setup.sev_features & kSevFeatureSnpActive) == 0) {
        return invalid("plan.sev_features",
                       "sev features " + hex(plan.setup.sev_features) + " lack snp_active (bit 0)");
      }
    }
    for (size_t i = 0; i < plan.ops.size(); ++i) {
      IGVMKIT_RETURN_IF_ERROR(
          std::visit([&](const auto& op) { return check(i, op); }, plan.ops[i]));
    }
    if (plan.ops.empty() || !std::holds_alternative<Finalize>(plan.ops.back())) {
      return invalid("plan.no_finalize", "the plan does not end with finalize");
    }
    return okStatus();
  }
};

}  // namespace

std::string_view backendName(BackendKind kind) {
  switch (kind) {
    case BackendKind::kKvm:
      return "kvm";
    case BackendKind::kKvmSnp:
      return "kvm-snp";
    case BackendKind::kKvmTdx:
      return "kvm-tdx";
    case BackendKind::kMshv:
      return "mshv";
    case BackendKind::kMshvSnp:
      return "mshv-snp";
  }
  return "?";
}

Result<BackendKind> parseBackend(std::string_view name) {
  for (BackendKind k : {BackendKind::kKvm, BackendKind::kKvmSnp, BackendKind::kKvmTdx,
                        BackendKind::kMshv, BackendKind::kMshvSnp}) {
    if (backendName(k) == name) {
      return k;
    }
  }
  return usage("unknown backend '" + std::string(name) +
               "' (expected kvm, kvm-snp, kvm-tdx, mshv or mshv-snp)");
}

bool isSnp(BackendKind kind) {
  return kind == BackendKind::kKvmSnp || kind == BackendKind::kMshvSnp;
}

std::vector<GpaRange> defaultMmioGaps() {
  return {GpaRange{x86::kMmioGapStart, x86::kMmioGapEnd - x86::kMmioGapStart}};
}

Result<std::vector<GpaRange>> VmConfig::ramLayout() const {
  if (memory_size == 0 || memory_size % kPageSize != 0) {
    return invalid("config.memory_size",
                   "memory size " + hex(memory_size) + " is not a nonzero multiple of 4 KiB");
  }
  if (vcpus == 0 || vcpus > igvm::kMaxVcpus) {
    return invalid("config.vcpus", "vcpu count " + std::to_string(vcpus) + " is not in 1.." +
                                       std::to_string(igvm::kMaxVcpus));
  }
  std::vector<GpaRange> gaps = mmio_gaps;
  std::sort(gaps.begin(), gaps.end(),
            [](const GpaRange& a, const GpaRange& b) { return a.gpa < b.gpa; });
  for (size_t i = 0; i < gaps.size(); ++i) {
    const GpaRange& g = gaps[i];
    if (g.gpa % kPageSize != 0 || g.size % kPageSize != 0 || g.size == 0 ||
        g.gpa > UINT64_MAX - g.size) {
      return invalid("config.mmio_gap", "mmio gap " + hex(g.gpa) + " size " + hex(g.size) +
                                            " is not a nonzero whole number of aligned pages");
    }
    if (i > 0 && gaps[i - 1].end() > g.gpa) {
      return invalid("config.mmio_gap",
                     "mmio gaps at " + hex(gaps[i - 1].gpa) + " and " + hex(g.gpa) + " overlap");
    }
  }
  std::vector<GpaRange> ram;
  uint64_t left = memory_size;
  uint64_t cursor = 0;
  for (const GpaRange& g : gaps) {
    if (left == 0) {
      break;
    }
    if (g.gpa > cursor) {
      uint64_t n = std::min(left, g.gpa - cursor);
      ram.push_back({cursor, n});
      left -= n;
    }
    cursor = std::max(cursor, g.end());
  }
  if (left > 0) {
    if (cursor > UINT64_MAX - left) {
      return invalid("config.memory_size", "memory size " + hex(memory_size) +
                                               " does not fit the address space around the gaps");
    }
    ram.push_back({cursor, left});
  }
  return ram;
}

std::string_view pageTypeName(PageType type) {
  switch (type) {
    case PageType::kNormal:
      return "normal";
    case PageType::kZero:
      return "zero";
    case PageType::kUnmeasured:
      return "unmeasured";
    case PageType::kSecrets:
      return "secrets";
    case PageType::kCpuid:
      return "cpuid";
    case PageType::kVmsa:
      return "vmsa";
  }
  return "?";
}

ByteVector FillParameter::contents() const {
  ByteVector out(size, std::byte{0});
  for (const AreaWrite& w : writes) {
    if (w.offset <= size && w.bytes.size() <= size - w.offset) {
      std::copy(w.bytes.begin(), w.bytes.end(), out.begin() + static_cast<ptrdiff_t>(w.offset));
    }
  }
  return out;
}

std::string_view parameterKindName(ParameterKind kind) {
  switch (kind) {
    case ParameterKind::kVpCount:
      return "vp_count";
    case ParameterKind::kMemoryMap:
      return "memory_map";
    case ParameterKind::kCommandLine:
      return "command_line";
    case ParameterKind::kMadt:
      return "madt";
    case ParameterKind::kSrat:
      return "srat";
    case ParameterKind::kSlit:
      return "slit";
    case ParameterKind::kPptt:
      return "pptt";
    case ParameterKind::kMmioRanges:
      return "mmio_ranges";
    case ParameterKind::kDeviceTree:
      return "device_tree";
    case ParameterKind::kEnvironmentInfo:
      return "environment_info";
  }
  return "?";
}

Status checkPlan(const Plan& plan) { return Checker(plan).run(); }

bool allowsMultiPageImport(BackendKind backend, PageType type) {
  (void)backend;  // every backend takes ranges of normal/zero/unmeasured pages in one call
  return type == PageType::kNormal || type == PageType::kZero || type == PageType::kUnmeasured;
}

void appendCoalesced(std::vector<LaunchOp>& ops, BackendKind backend, LaunchOp op) {
  auto* next = std::get_if<ImportPages>(&op);
  auto* prev = ops.empty() ? nullptr : std::get_if<ImportPages>(&ops.back());
  if (next != nullptr && prev != nullptr && prev->type == next->type &&
      prev->flags == next->flags && allowsMultiPageImport(backend, next->type) &&
      prev->page_count <= (UINT64_MAX >> 13) && next->page_count <= (UINT64_MAX >> 13) &&
      prev->gpa <= UINT64_MAX - prev->page_count * kPageSize &&
      prev->gpa + prev->page_count * kPageSize == next->gpa) {
    bool both_zero = prev->data.empty() && next->data.empty();
    bool adjacent = !prev->data.empty() && !next->data.empty() &&
                    prev->data.size() == prev->page_count * kPageSize &&
                    prev->data.data() + prev->data.size() == next->data.data() &&
                    prev->keep_alive == next->keep_alive;
    if (both_zero || adjacent) {
      if (adjacent) {
        prev->data = Bytes(prev->data.data(), prev->data.size() + next->data.size());
      }
      prev->page_count += next->page_count;
      return;
    }
  }
  ops.push_back(std::move(op));
}

void coalesce(Plan& plan) {
  std::vector<LaunchOp> out;
  out.reserve(plan.ops.size());
  for (LaunchOp& op : plan.ops) {
    appendCoalesced(out, plan.backend, std::move(op));
  }
  plan.ops = std::move(out);
}

namespace {

std::string kindsText(const std::vector<ParameterKind>& kinds) {
  std::string s;
  for (ParameterKind k : kinds) {
    s += (s.empty() ? "" : ",") + std::string(parameterKindName(k));
  }
  return s.empty() ? "-" : s;
}

}  // namespace

std::string renderText(const Plan& plan) {
  std::ostringstream out;
  out << "backend " << backendName(plan.backend) << " memory=" << hex(plan.config.memory_size)
      << " vcpus=" << plan.config.vcpus << '\n';
  for (const RegionPlacement& r : plan.relocations) {
    out << "relocate header=" << r.header_index << " gpa=" << hex(r.gpa) << " size=" << hex(r.size)
        << " -> base=" << hex(r.base) << " (" << r.chosen_by << ") range=[" << hex(r.minimum)
        << ", " << hex(r.maximum) << ") align=" << hex(r.alignment);
    if ((r.flags & igvm::kRelocationFlagApplyPc) != 0) {
      out << " apply_rip";
    }
    if ((r.flags & igvm::kRelocationFlagApplyGdtr) != 0) {
      out << " apply_gdtr";
    }
    out << '\n';
  }
  if (plan.page_tables) {
    const PageTablePlacement& t = *plan.page_tables;
    out << "page-tables header=" << t.header_index << " gpa=" << hex(t.gpa)
        << " size=" << hex(t.size) << " -> base=" << hex(t.base) << " cr3=" << hex(t.cr3)
        << " -> " << hex(t.new_cr3) << " entries_patched=" << t.entries_patched
        << " tables_allocated=" << t.tables_allocated << '\n';
  }
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    out << i << ' ' << opName(plan.ops[i]);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, MapMemory>) {
            out << " gpa=" << hex(v.gpa) << " size=" << hex(v.size)
                << (v.is_private ? " private" : " shared");
          } else if constexpr (std::is_same_v<T, ImportPages>) {
            out << " gpa=" << hex(v.gpa) << " pages=" << v.page_count
                << " type=" << pageTypeName(v.type);
            if ((v.flags & kPageFlagShared) != 0) {
              out << " shared";
            }
            out << " data=" << (v.data.empty() ? std::string("zero") : hex(v.data.size()));
          } else if constexpr (std::is_same_v<T, FillParameter>) {
            out << " gpa=" << hex(v.gpa) << " size=" << hex(v.size)
                << " holds=" << kindsText(v.kinds);
          } else if constexpr (std::is_same_v<T, SetVpState>) {
            out << " index=" << v.vp_index;
            if (const auto* r = std::get_if<x86::VpState>(&v.state)) {
              out << " registers rip=" << hex(r->rip) << " rsp=" << hex(r->rsp)
                  << " cr0=" << hex(r->cr0) << " cr3=" << hex(r->cr3);
            } else {
              out << " vmsa gpa=" << hex(std::get<SnpVmsa>(v.state).gpa);
            }
          } else {
            out << (v.snp_id ? " id_block" : "");
          }
        },
        plan.ops[i]);
    out << '\n';
  }
  return out.str();
}

nlohmann::ordered_json renderJson(const Plan& plan) {
  nlohmann::ordered_json doc;
  doc["backend"] = backendName(plan.backend);
  doc["memory_size"] = plan.config.memory_size;
  doc["vcpus"] = plan.config.vcpus;
  nlohmann::ordered_json ram = nlohmann::ordered_json::array();
  if (auto layout = plan.config.ramLayout(); layout.ok()) {
    for (const GpaRange& r : *layout) {
      ram.push_back({{"gpa", r.gpa}, {"size", r.size}});
    }
  }
  doc["ram"] = ram;
  nlohmann::ordered_json relocations = nlohmann::ordered_json::array();
  for (const RegionPlacement& r : plan.relocations) {
    relocations.push_back({{"header_index", r.header_index},
                           {"gpa", r.gpa},
                           {"size", r.size},
                           {"base", r.base},
                           {"chosen_by", r.chosen_by},
                           {"minimum", r.minimum},
                           {"maximum", r.maximum},
                           {"alignment", r.alignment},
                           {"apply_rip", (r.flags & igvm::kRelocationFlagApplyPc) != 0},
                           {"apply_gdtr", (r.flags & igvm::kRelocationFlagApplyGdtr) != 0},
                           {"vp_index", r.vp_index}});
  }
  doc["relocation_policy"] = relocationPolicyName(plan.config.relocation_policy);
  doc["relocations"] = relocations;
  if (plan.page_tables) {
    const PageTablePlacement& t = *plan.page_tables;
    doc["page_tables"] = {{"header_index", t.header_index}, {"gpa", t.gpa},
                          {"size", t.size},                 {"used_size", t.used_size},
                          {"base", t.base},                 {"vp_index", t.vp_index},
                          {"cr3", t.cr3},                   {"new_cr3", t.new_cr3},
                          {"entries_patched", t.entries_patched},
                          {"tables_allocated", t.tables_allocated}};
  }
  nlohmann::ordered_json ops = nlohmann::ordered_json::array();
  for (const LaunchOp& op : plan.ops) {
    nlohmann::ordered_json j;
    j["op"] = opName(op);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, MapMemory>) {
            j["gpa"] = v.gpa;
            j["size"] = v.size;
            j["private"] = v.is_private;
          } else if constexpr (std::is_same_v<T, ImportPages>) {
            j["gpa"] = v.gpa;
            j["pages"] = v.page_count;
            j["type"] = pageTypeName(v.type);
            j["shared"] = (v.flags & kPageFlagShared) != 0;
            j["data_bytes"] = v.data.size();
          } else if constexpr (std::is_same_v<T, FillParameter>) {
            j["gpa"] = v.gpa;
            j["size"] = v.size;
            nlohmann::ordered_json kinds = nlohmann::ordered_json::array();
            for (ParameterKind k : v.kinds) {
              kinds.push_back(parameterKindName(k));
            }
            j["holds"] = kinds;
          } else if constexpr (std::is_same_v<T, SetVpState>) {
            j["vp_index"] = v.vp_index;
            if (const auto* r = std::get_if<x86::VpState>(&v.state)) {
              j["kind"] = "registers";
              j["rip"] = r->rip;
              j["rsp"] = r->rsp;
              j["cr0"] = r->cr0;
              j["cr3"] = r->cr3;
              j["gdtr_base"] = r->gdtr.base;
            } else {
              j["kind"] = "vmsa";
              j["gpa"] = std::get<SnpVmsa>(v.state).gpa;
            }
          } else {
            j["id_block"] = v.snp_id.has_value();
            j["host_data"] = hexBytes(
                Bytes(reinterpret_cast<const std::byte*>(v.host_data.data()), v.host_data.size()));
          }
        },
        op);
    ops.push_back(j);
  }
  doc["ops"] = ops;
  return doc;
}

}  // namespace igvmkit::loader
