// The parameter search of diagnose.h. README.md lists the dimensions and their sources.
#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "diagnose/diagnose.h"
#include "diagnose/internal/vmsa_variants.h"
#include "measure/digest.h"
#include "measure/snp.h"
#include "measure/snp_tail.h"
#include "measure/vmsa.h"

namespace igvmkit::diagnose {
namespace {

using measure::HostModel;
using measure::Platform;
using measure::Sha384Digest;

bool equal(Bytes a, Bytes b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::string plural(uint64_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

// Collects matches, modelled launches before variants.
class Results {
 public:
  explicit Results(Bytes digest) { d_.digest.assign(digest.begin(), digest.end()); }
  Bytes digest() const { return d_.digest; }
  void count(uint64_t n) { d_.candidates += n; }
  void searched(std::string line) { d_.searched.push_back(std::move(line)); }
  void match(Match m) { (m.variant.empty() ? modelled_ : variants_).push_back(std::move(m)); }
  Diagnosis take() {
    d_.matches = std::move(modelled_);
    d_.matches.insert(d_.matches.end(), variants_.begin(), variants_.end());
    return std::move(d_);
  }

 private:
  Diagnosis d_;
  std::vector<Match> modelled_, variants_;
};

// --- IGVM files -------------------------------------------------------------------------------

// True when some SNP PAGE_DATA has no file data: only then does native_zero change the digest.
bool hasDatalessSnpPage(const igvm::File& file) {
  const auto* p = file.platform(igvm::PlatformType::kSevSnp);
  if (p == nullptr) {
    return false;
  }
  for (const igvm::Header& h : file.headers()) {
    if (h.section == igvm::Section::kDirective && h.appliesTo(p->compatibility_mask) &&
        h.get<igvm::IGVM_VHS_PAGE_DATA>() != nullptr && h.data.empty()) {
      return true;
    }
  }
  return false;
}

// "snp kvm, zero pages normal": one SNP family of the search.
std::string snpFamily(HostModel host, bool native_zero) {
  return std::string(measure::platformName(Platform::kSnp)) + " " + measure::hostModelName(host) +
         ", zero pages " + (native_zero ? "zero" : "normal");
}

// An SNP launch that gives the digest: the measure arguments that reproduce it and its --json
// parameters (vcpus under kvm only).
Match snpMatch(HostModel host, std::optional<uint32_t> vcpus, bool native_zero) {
  const char* platform = measure::platformName(Platform::kSnp);
  const char* host_name = measure::hostModelName(host);
  Match m;
  m.platform = Platform::kSnp;
  m.host = host;
  m.measure_args = {"--platform", platform, "--host", host_name};
  m.parameters = {{"platform", platform}, {"host", host_name}};
  if (vcpus) {
    m.measure_args.insert(m.measure_args.end(), {"--vcpus", std::to_string(*vcpus)});
    m.parameters["vcpus"] = *vcpus;
  }
  if (native_zero) {
    m.measure_args.push_back("--native-zero");
  }
  m.parameters["zero_pages"] = native_zero ? "zero" : "normal";
  return m;
}

// Every vCPU count x every VMSA variant under kvm, from one prefix; and mshv from the same prefix
// when it is the same chain (`mshv_done`).
Status searchSnpKvm(const igvm::File& file, bool native_zero, const SearchOptions& o,
                    Results& out, bool& mshv_done) {
  const std::string family = snpFamily(HostModel::kKvm, native_zero);
  Result<measure::SnpKvmPrefix> prefix =
      measure::snpKvmPrefix(file, {.native_zero = native_zero, .threads = o.threads});
  if (!prefix.ok()) {
    out.searched(family + ": not searched: " + prefix.error().message);
    return okStatus();
  }
  Result<std::vector<Bytes>> pages = measure::kvmVmsaPages(prefix->vmsas, o.max_vcpus);
  if (!pages.ok()) {
    out.searched(family + ": not searched: " + pages.error().message);
    return okStatus();
  }
  // The distinct VMSA pages (vCPUs share their source's page).
  std::vector<Bytes> sources;
  std::vector<size_t> source_of;
  for (Bytes p : *pages) {
    auto it = std::find_if(sources.begin(), sources.end(),
                           [&](Bytes s) { return s.data() == p.data(); });
    source_of.push_back(static_cast<size_t>(it - sources.begin()));
    if (it == sources.end()) {
      sources.push_back(p);
    }
  }
  std::vector<std::vector<Sha384Digest>> seen;
  uint64_t variants = 0;
  for (const VmsaEdit& edit : igvmVmsaEdits()) {
    std::vector<Sha384Digest> hashes;
    for (Bytes s : sources) {
      IGVMKIT_ASSIGN_OR_RETURN(Sha384Digest h, measure::sha384Page(asBytes(editVmsa(s, edit))));
      hashes.push_back(h);
    }
    // An edit that leaves every page as it was (the file already holds those values) is the
    // same candidate as an earlier one.
    if (std::find(seen.begin(), seen.end(), hashes) != seen.end()) {
      continue;
    }
    seen.push_back(hashes);
    ++variants;
    std::vector<Sha384Digest> per_vcpu;
    for (size_t s : source_of) {
      per_vcpu.push_back(hashes[s]);
    }
    IGVMKIT_ASSIGN_OR_RETURN(std::vector<Sha384Digest> by_count,
                             measure::extendKvmVmsas(prefix->digest, per_vcpu));
    out.count(by_count.size());
    for (size_t i = 0; i < by_count.size(); ++i) {
      if (!equal(by_count[i], out.digest())) {
        continue;
      }
      const uint32_t vcpus = static_cast<uint32_t>(i + 1);
      Match m = snpMatch(HostModel::kKvm, vcpus, native_zero);
      m.variant = describe(edit);
      if (!m.variant.empty()) {
        m.parameters["vmsa_variant"] = m.variant;
      }
      out.match(std::move(m));
    }
  }
  out.searched(family + ": vcpus 1.." + std::to_string(o.max_vcpus) + " x " +
               plural(variants, "vmsa variant") + " (one image hash, " +
               plural(variants * o.max_vcpus, "candidate") + ")");
  if (prefix->mshv_shares_prefix) {
    IGVMKIT_ASSIGN_OR_RETURN(Sha384Digest mshv, measure::mshvDigestFromPrefix(*prefix));
    mshv_done = true;
    out.count(1);
    out.searched(snpFamily(HostModel::kMshv, native_zero) + ": 1 candidate (from the " +
                 measure::hostModelName(HostModel::kKvm) + " prefix)");
    if (equal(mshv, out.digest())) {
      out.match(snpMatch(HostModel::kMshv, std::nullopt, native_zero));
    }
  }
  return okStatus();
}

// One whole measurement (the models that do not depend on vCPUs or VMSA variants: SNP under
// mshv, the other platforms).
void searchOnce(const igvm::File& file, const measure::MeasureOptions& opts,
                const std::string& family, Results& out) {
  Result<measure::Measurement> m = measure::measure(file, opts);
  if (!m.ok()) {
    out.searched(family + ": not searched: " + m.error().message);
    return;
  }
  out.count(1);
  out.searched(family + ": 1 candidate");
  if (!equal(m->digest, out.digest())) {
    return;
  }
  if (opts.platform == Platform::kSnp) {
    out.match(snpMatch(opts.host, std::nullopt, opts.native_zero));
    return;
  }
  const char* platform = measure::platformName(opts.platform);
  Match match;
  match.platform = opts.platform;
  match.measure_args = {"--platform", platform};
  match.parameters = {{"platform", platform}};
  out.match(std::move(match));
}

}  // namespace

std::span<const uint64_t> guestFeatureSets() { return kGuestFeatureSets; }

Result<Diagnosis> diagnoseIgvm(const igvm::File& file, Bytes digest, const SearchOptions& o) {
  if (digest.size() != 48 && digest.size() != 32) {
    return usage("a launch digest is 48 bytes (snp, tdx) or 32 bytes (vbs, sev, sev-es), not " +
                 std::to_string(digest.size()));
  }
  if (o.max_vcpus == 0 || o.max_vcpus > kMaxSearchVcpus) {
    return usage("--max-vcpus wants 1.." + std::to_string(kMaxSearchVcpus));
  }
  Results out(digest);
  const std::vector<Platform> platforms =
      digest.size() == 48 ? std::vector<Platform>{Platform::kSnp, Platform::kTdx}
                          : std::vector<Platform>{Platform::kVbs, Platform::kSev,
                                                  Platform::kSevEs};
  for (Platform p : platforms) {
    const std::string name = measure::platformName(p);
    if (file.platform(measure::igvmPlatformType(p)) == nullptr) {
      out.searched(name + ": not in the file");
      continue;
    }
    if (p != Platform::kSnp) {
      searchOnce(file, {.platform = p, .threads = o.threads}, name, out);
      continue;
    }
    std::vector<bool> zero_modes = {false};
    if (hasDatalessSnpPage(file)) {
      zero_modes.push_back(true);
    } else {
      out.searched(name + ": --native-zero not searched: no page without data");
    }
    for (bool native_zero : zero_modes) {
      bool mshv_done = false;
      IGVMKIT_RETURN_IF_ERROR(searchSnpKvm(file, native_zero, o, out, mshv_done));
      if (mshv_done) {
        continue;
      }
      searchOnce(file,
                 {.platform = p,
                  .host = HostModel::kMshv,
                  .native_zero = native_zero,
                  .threads = o.threads},
                 snpFamily(HostModel::kMshv, native_zero), out);
    }
  }
  return out.take();
}

}  // namespace igvmkit::diagnose
