// diagnoseOvmf(): the QEMU launches of OVMF (measure/ovmf_launch.h). Per launch family (VMM type,
// kernel hashes, SVSM) one measurement gives the chain before the VMSAs (read back from its
// trace) and the APs' start address; every vCPU signature x guest-feature set x FPU variant then
// only builds two VMSAs and extends the chain by one page per vCPU.
#include <algorithm>
#include <string>

#include "diagnose/diagnose.h"
#include "diagnose/internal/vmsa_variants.h"
#include "measure/snp.h"
#include "measure/snp_tail.h"
#include "measure/vmsa.h"

namespace igvmkit::diagnose {
namespace {

using measure::Platform;
using measure::Sha384Digest;
using measure::VmmType;

constexpr uint32_t kBspEip = 0xFFFF'FFF0;

bool equal(Bytes a, Bytes b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

struct Family {
  VmmType vmm = VmmType::kQemu;
  bool kernel_hashes = false;
  bool svsm = false;
  std::string name() const {
    return std::string(measure::platformName(Platform::kSnp)) + " " + measure::vmmTypeName(vmm) +
           (svsm ? " + svsm" : "") +
           (kernel_hashes ? ", kernel hashes" : ", no kernel hashes");
  }
};

// The chain before the VMSAs and where the vCPUs start, from a 1-vCPU launch of `family`.
struct Prefix {
  Sha384Digest digest{};
  uint32_t ap_eip = 0;  // APs (plain OVMF) or every vCPU (SVSM)
};

Result<Prefix> prefixOf(const OvmfImage& image, const Family& f) {
  measure::OvmfLaunchOptions o;
  o.platform = Platform::kSnp;
  o.vcpus = 1;
  o.vmm = f.vmm;
  if (f.kernel_hashes) {
    o.kernel_hashes = image.kernel_hashes;
  }
  if (f.svsm) {
    o.svsm = image.svsm;
  }
  Prefix p;
  Status parse_error;
  o.trace = [&](const std::string& line) {
    Result<measure::SnpTraceRecord> r = measure::parseSnpTrace(line);
    if (!r.ok()) {
      parse_error = r.error();
    } else if (r->type != measure::SnpPageType::kVmsa) {
      p.digest = r->digest;
    }
  };
  IGVMKIT_ASSIGN_OR_RETURN(measure::Measurement m, measure::measureOvmfLaunch(*image.firmware, o));
  IGVMKIT_RETURN_IF_ERROR(parse_error);
  const char* key = f.svsm ? "svsm_entry" : "ap_eip";
  if (!m.assumptions.contains(key) || !m.assumptions[key].is_string()) {
    return internal(std::string("the ovmf launch did not report ") + key);
  }
  p.ap_eip = static_cast<uint32_t>(std::stoull(m.assumptions[key].get<std::string>(), nullptr, 16));
  return p;
}

// The vCPU signatures QEMU can put in RDX: the distinct ones of knownVcpuTypes(), each with the
// first model name that has it.
std::vector<std::pair<std::string, uint32_t>> qemuSignatures() {
  std::vector<std::pair<std::string, uint32_t>> out;
  for (std::string_view name : measure::knownVcpuTypes()) {
    Result<uint32_t> sig = measure::vcpuSignatureOf(name);
    if (sig.ok() && std::none_of(out.begin(), out.end(),
                                 [&](const auto& s) { return s.second == *sig; })) {
      out.emplace_back(std::string(name), *sig);
    }
  }
  return out;
}

Status searchFamily(const OvmfImage& image, const Family& f, const SearchOptions& o,
                    Diagnosis& d, std::vector<Match>& variants) {
  Result<Prefix> prefix = prefixOf(image, f);
  if (!prefix.ok()) {
    d.searched.push_back(f.name() + ": not searched: " + prefix.error().message);
    return okStatus();
  }
  // A reset block with AP address 0 starts only the BSP (measureOvmfLaunch refuses more).
  const uint32_t max_vcpus = (!f.svsm && prefix->ap_eip == 0) ? 1 : o.max_vcpus;
  std::vector<std::pair<std::string, uint32_t>> sigs = {{"", 0}};
  if (f.vmm == VmmType::kQemu) {
    sigs = qemuSignatures();
  }
  std::vector<uint64_t> features = {0x1};
  if (!f.svsm) {
    features.assign(std::begin(kGuestFeatureSets), std::end(kGuestFeatureSets));
  }
  // The first FPU entry is what measure models for the family; the others are host variants.
  std::vector<std::optional<FpuReset>> fpus = {std::nullopt};
  if (f.svsm) {
    fpus = {std::nullopt, kFpuKvm69, kFpuZero};
  } else if (f.vmm == VmmType::kQemu) {
    fpus = {std::nullopt, kFpuZero};
  }
  uint64_t candidates = 0;
  for (const auto& [type, sig] : sigs) {
    for (uint64_t feat : features) {
      for (const std::optional<FpuReset>& fpu : fpus) {
        const VmsaEdit edit{.sev_features = std::nullopt, .fpu = fpu};
        igvm::SevVmsa bsp, ap;
        if (f.svsm) {
          bsp = ap = editVmsa(measure::svsmResetVmsa(prefix->ap_eip, sig), edit);
        } else {
          bsp = editVmsa(measure::ovmfResetVmsa(kBspEip, feat, sig, f.vmm), edit);
          ap = editVmsa(measure::ovmfResetVmsa(prefix->ap_eip, feat, sig, f.vmm), edit);
        }
        IGVMKIT_ASSIGN_OR_RETURN(Sha384Digest bsp_hash, measure::sha384Page(asBytes(bsp)));
        IGVMKIT_ASSIGN_OR_RETURN(Sha384Digest ap_hash, measure::sha384Page(asBytes(ap)));
        std::vector<Sha384Digest> per_vcpu(max_vcpus, ap_hash);
        per_vcpu[0] = bsp_hash;
        IGVMKIT_ASSIGN_OR_RETURN(std::vector<Sha384Digest> by_count,
                                 measure::extendKvmVmsas(prefix->digest, per_vcpu));
        candidates += by_count.size();
        for (size_t i = 0; i < by_count.size(); ++i) {
          if (!equal(by_count[i], d.digest)) {
            continue;
          }
          const uint32_t vcpus = static_cast<uint32_t>(i + 1);
          const char* platform = measure::platformName(Platform::kSnp);
          Match m;
          m.platform = Platform::kSnp;
          m.kernel_hashes = f.kernel_hashes;
          m.svsm = f.svsm;
          m.measure_args = {"--platform", platform, "--vcpus", std::to_string(vcpus)};
          if (f.vmm == VmmType::kQemu) {
            m.measure_args.insert(m.measure_args.end(), {"--vcpu-type", type});
          } else {
            m.measure_args.insert(m.measure_args.end(), {"--vmm", measure::vmmTypeName(f.vmm)});
          }
          if (!f.svsm) {
            m.measure_args.insert(m.measure_args.end(), {"--guest-features", hex(feat)});
          }
          m.variant = describe(edit);
          m.parameters = {{"platform", platform},
                          {"vmm", measure::vmmTypeName(f.vmm)},
                          {"vcpus", vcpus},
                          {"kernel_hashes", f.kernel_hashes},
                          {"svsm", f.svsm}};
          if (f.vmm == VmmType::kQemu) {
            m.parameters["vcpu_type"] = type;
            m.parameters["vcpu_sig"] = hex(sig);
          }
          if (!f.svsm) {
            m.parameters["guest_features"] = hex(feat);
          }
          if (!m.variant.empty()) {
            m.parameters["vmsa_variant"] = m.variant;
          }
          (m.variant.empty() ? d.matches : variants).push_back(std::move(m));
        }
      }
    }
  }
  d.candidates += candidates;
  d.searched.push_back(f.name() + ": vcpus 1.." + std::to_string(max_vcpus) + " x " +
                       std::to_string(sigs.size()) + " vcpu signatures x " +
                       std::to_string(features.size()) + " guest-feature sets x " +
                       std::to_string(fpus.size()) + " fpu variants (one image hash, " +
                       std::to_string(candidates) + " candidates)");
  return okStatus();
}

// Platforms measured once per launch (tdx, sev): kernel hashes on and off where given.
void searchWhole(const OvmfImage& image, Platform p, bool kernel_hashes, Diagnosis& d) {
  const std::string family = std::string(measure::platformName(p)) +
                             (kernel_hashes ? ", kernel hashes" : ", no kernel hashes");
  measure::OvmfLaunchOptions o;
  o.platform = p;
  if (kernel_hashes) {
    o.kernel_hashes = image.kernel_hashes;
  }
  Result<measure::Measurement> m = measure::measureOvmfLaunch(*image.firmware, o);
  if (!m.ok()) {
    d.searched.push_back(family + ": not searched: " + m.error().message);
    return;
  }
  d.candidates += 1;
  d.searched.push_back(family + ": 1 candidate");
  if (equal(m->digest, d.digest)) {
    const char* platform = measure::platformName(p);
    Match match;
    match.platform = p;
    match.kernel_hashes = kernel_hashes;
    match.measure_args = {"--platform", platform};
    match.parameters = {{"platform", platform}, {"kernel_hashes", kernel_hashes}};
    d.matches.push_back(std::move(match));
  }
}

}  // namespace

Result<Diagnosis> diagnoseOvmf(const OvmfImage& image, Bytes digest, const SearchOptions& o) {
  if (image.firmware == nullptr) {
    return usage("no firmware image");
  }
  if (digest.size() != 48 && digest.size() != 32) {
    return usage("a launch digest is 48 bytes (snp, tdx) or 32 bytes (sev), not " +
                 std::to_string(digest.size()));
  }
  if (o.max_vcpus == 0 || o.max_vcpus > kMaxSearchVcpus) {
    return usage("--max-vcpus wants 1.." + std::to_string(kMaxSearchVcpus));
  }
  Diagnosis d;
  d.digest.assign(digest.begin(), digest.end());
  std::vector<bool> hash_modes = {false};
  if (image.kernel_hashes) {
    hash_modes.push_back(true);
  }
  if (digest.size() == 32) {
    for (bool kh : hash_modes) {
      searchWhole(image, Platform::kSev, kh, d);
    }
    d.searched.push_back("sev-es: not searched (each candidate hashes the whole image again)");
    return d;
  }
  std::vector<Match> variants;
  if (image.svsm) {
    IGVMKIT_RETURN_IF_ERROR(searchFamily(image, {.svsm = true}, o, d, variants));
  }
  for (VmmType vmm : {VmmType::kQemu, VmmType::kEc2, VmmType::kGce}) {
    for (bool kh : hash_modes) {
      IGVMKIT_RETURN_IF_ERROR(searchFamily(image, {.vmm = vmm, .kernel_hashes = kh}, o, d,
                                           variants));
    }
  }
  searchWhole(image, Platform::kTdx, false, d);
  d.matches.insert(d.matches.end(), variants.begin(), variants.end());
  return d;
}

}  // namespace igvmkit::diagnose
