#include "diagnose/internal/vmsa_variants.h"

#include <cstring>
#include <vector>

namespace igvmkit::diagnose {

std::span<const VmsaEdit> igvmVmsaEdits() {
  static const std::vector<VmsaEdit> edits = [] {
    std::vector<VmsaEdit> v = {VmsaEdit{}};
    std::vector<std::optional<uint64_t>> features = {std::nullopt};
    features.insert(features.end(), std::begin(kGuestFeatureSets), std::end(kGuestFeatureSets));
    for (const std::optional<uint64_t>& f : features) {
      for (const std::optional<FpuReset>& fpu :
           {std::optional<FpuReset>(), std::optional<FpuReset>(kFpuKvm69),
            std::optional<FpuReset>(kFpuZero)}) {
        if (f || fpu) {
          v.push_back({f, fpu});
        }
      }
    }
    return v;
  }();
  return edits;
}

igvm::SevVmsa editVmsa(igvm::SevVmsa vmsa, const VmsaEdit& edit) {
  if (edit.sev_features) {
    vmsa.sev_features = *edit.sev_features;
  }
  if (edit.fpu) {
    vmsa.mxcsr = edit.fpu->mxcsr;
    vmsa.x87_fcw = edit.fpu->x87_fcw;
  }
  return vmsa;
}

igvm::SevVmsa editVmsa(Bytes page, const VmsaEdit& edit) {
  igvm::SevVmsa vmsa{};
  std::memcpy(&vmsa, page.data(), std::min(page.size(), sizeof(vmsa)));
  return editVmsa(vmsa, edit);
}

std::string describe(const VmsaEdit& edit) {
  std::string s;
  if (edit.sev_features) {
    s = "sev_features " + hex(*edit.sev_features);
  }
  if (edit.fpu) {
    s += (s.empty() ? "" : ", ") + std::string(edit.fpu->name);
  }
  return s;
}

}  // namespace igvmkit::diagnose
