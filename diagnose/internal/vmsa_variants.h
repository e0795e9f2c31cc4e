// diagnose/internal/vmsa_variants.h: the VMSA changes a host stack makes that `measure` does not
// model, and the guest-feature sets searched. Each is documented with its source in README.md
// ("VMSA variants", "Guest features").
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/bytes.h"
#include "igvm/defs.h"

namespace igvmkit::diagnose {

// The vCPU counts a search may cover: those `measure --vcpus` takes.
inline constexpr uint32_t kMaxSearchVcpus = igvm::kMaxVcpus;

// SEV_FEATURES values searched: SNPActive alone, + DebugSwap (bit 5), + SecureTSC (bit 9), both.
inline constexpr uint64_t kGuestFeatureSets[] = {0x1, 0x21, 0x201, 0x221};

// The FPU reset values KVM writes into the VMSA it measures (sev_es_sync_vmsa).
struct FpuReset {
  const char* name;
  uint32_t mxcsr;
  uint16_t x87_fcw;
};
// Host kernel 6.9 and later: the architectural reset values (sev-snp-measure PR #49).
inline constexpr FpuReset kFpuKvm69{"mxcsr 0x1f80 / x87 fcw 0x37f (host kernel 6.9 and later)",
                                    0x1F80, 0x37F};
// Before 6.9: zero.
inline constexpr FpuReset kFpuZero{"mxcsr 0 / x87 fcw 0 (host kernel before 6.9)", 0, 0};
// sev-snp-measure's SVSM VMSA: MXCSR 0x1f80 but FCW 0 (its `fcw=` quirk, measurement.md §1.5).
inline constexpr FpuReset kFpuSvsmQuirk{"mxcsr 0x1f80 / x87 fcw 0 (sev-snp-measure svsm mode)",
                                        0x1F80, 0};

// A change applied to a VMSA page: nullopt fields stay as they are.
struct VmsaEdit {
  std::optional<uint64_t> sev_features;
  std::optional<FpuReset> fpu;
};

// For IGVM files under kvm: first the file's bytes as they are (the modelled launch), then every
// guest-feature set x {as in the file, kFpuKvm69, kFpuZero}.
std::span<const VmsaEdit> igvmVmsaEdits();

// `page` (4096 bytes) with `edit` applied.
igvm::SevVmsa editVmsa(Bytes page, const VmsaEdit& edit);
igvm::SevVmsa editVmsa(igvm::SevVmsa vmsa, const VmsaEdit& edit);

// "sev_features 0x21, mxcsr 0 / x87 fcw 0 (host kernel before 6.9)"; "" for no change.
std::string describe(const VmsaEdit& edit);

}  // namespace igvmkit::diagnose
