// idBlockLaunchIssue(): an SNP ID block signed for a launch digest the planned launch does not
// produce. The firmware refuses such a launch at SNP_LAUNCH_FINISH, long after planning.
#include <algorithm>

#include "diagnose/diagnose.h"

namespace igvmkit::diagnose {
namespace {

std::string describeLaunch(const measure::MeasureOptions& o) {
  std::string s = std::string(measure::platformName(measure::Platform::kSnp)) + " " +
                  measure::hostModelName(o.host);
  if (o.host == measure::HostModel::kKvm) {
    s += ", " + std::to_string(o.vcpus) + (o.vcpus == 1 ? " vcpu" : " vcpus");
  }
  if (o.native_zero) {
    s += ", native zero pages";
  }
  return s;
}

}  // namespace

Result<std::optional<std::string>> idBlockLaunchIssue(
    const igvm::File& file, const std::optional<measure::MeasureOptions>& planned) {
  const auto* snp = file.platform(igvm::PlatformType::kSevSnp);
  if (snp == nullptr) {
    return std::optional<std::string>();
  }
  const igvm::IGVM_VHS_SNP_ID_BLOCK* block = nullptr;
  for (const igvm::Header& h : file.headers()) {
    if (h.type == igvm::kVhtSnpIdBlock && h.appliesTo(snp->compatibility_mask)) {
      block = h.get<igvm::IGVM_VHS_SNP_ID_BLOCK>();
    }
  }
  if (block == nullptr) {
    return std::optional<std::string>();
  }
  const Bytes signed_ld = bytesAt(block->ld, sizeof(block->ld));
  if (!planned) {
    IGVMKIT_ASSIGN_OR_RETURN(Diagnosis any, diagnoseIgvm(file, signed_ld, {.max_vcpus = 64}));
    for (const Match& match : any.matches) {
      if (match.variant.empty() && match.platform == measure::Platform::kSnp) {
        return std::optional<std::string>();
      }
    }
    return std::optional<std::string>(
        "the snp id block was signed for launch digest " + hexBytes(signed_ld).substr(0, 16) +
        "..., which no launch of this file produces (snp kvm 1..64 vcpus, snp mshv, both "
        "zero-page modes): the firmware would refuse it");
  }
  measure::MeasureOptions o = *planned;
  o.platform = measure::Platform::kSnp;
  o.trace = nullptr;
  IGVMKIT_ASSIGN_OR_RETURN(measure::Measurement m, measure::measure(file, o));
  if (std::equal(signed_ld.begin(), signed_ld.end(), m.digest.begin(), m.digest.end())) {
    return std::optional<std::string>();
  }
  // Name what differs: the launch the block was signed for, found by the same search diagnose
  // runs (vCPU counts up to 64, both host models, zero-page modes), without VMSA variants.
  std::string signed_for = "a launch this file cannot produce under kvm or mshv with 1..64 vcpus";
  Result<Diagnosis> d = diagnoseIgvm(file, signed_ld, {.max_vcpus = 64, .threads = o.threads});
  if (d.ok()) {
    // Of the launches that produce the signed digest, name the one closest to the plan.
    int best = 4;
    for (const Match& match : d->matches) {
      if (!match.variant.empty() || match.platform != measure::Platform::kSnp) {
        continue;
      }
      measure::MeasureOptions found;
      found.host = match.host.value_or(measure::HostModel::kKvm);
      found.vcpus = match.parameters.value("vcpus", 1u);
      found.native_zero = match.parameters.value("zero_pages", "normal") == "zero";
      const bool host = found.host != o.host;
      const bool vcpus = !host && found.host == measure::HostModel::kKvm && found.vcpus != o.vcpus;
      const bool zero = found.native_zero != o.native_zero;
      const int distance = int(host) + int(vcpus) + int(zero);
      if (distance >= best) {
        continue;
      }
      best = distance;
      std::string differs = host ? "the host model" : vcpus ? "the vcpu count" : "the zero-page mode";
      if (distance > 1) {
        differs += " and more";
      }
      signed_for = "the launch " + describeLaunch(found) + " (" + differs + " differs)";
    }
  }
  return std::optional<std::string>("the snp id block was signed for launch digest " +
                                     hexBytes(signed_ld).substr(0, 16) + "..., which is " +
                                     signed_for + "; the planned launch (" + describeLaunch(o) +
                                     ") measures " + hexBytes(m.digest).substr(0, 16) +
                                     "...: the firmware would refuse the id block");
}

}  // namespace igvmkit::diagnose
