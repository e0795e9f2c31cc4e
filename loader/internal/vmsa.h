// loader/internal/vmsa.h: the SEV-ES/SNP VMSA fields KVM can reproduce from vCPU registers
// (loader-vmm.md §1.5 table, §3.3 step 6; measurement.md §1.5). Shared by checkPlan() and the
// kvm-snp backend.
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "base/status.h"
#include "loader/plan.h"

namespace igvmkit::loader::detail {

inline constexpr size_t kVmsaSize = 4096;

// VMSA offsets (AMD APM vol. 2 table B-4 as given in loader-vmm.md §1.5).
struct VmsaOffsets {
  static constexpr size_t kEs = 0x000, kCs = 0x010, kSs = 0x020, kDs = 0x030, kFs = 0x040,
                          kGs = 0x050, kGdtr = 0x060, kLdtr = 0x070, kIdtr = 0x080, kTr = 0x090;
  static constexpr size_t kEfer = 0x0D0, kCr4 = 0x148, kCr3 = 0x150, kCr0 = 0x158, kDr7 = 0x160,
                          kDr6 = 0x168, kRflags = 0x170, kRip = 0x178, kRsp = 0x1D8, kRax = 0x1F8,
                          kCr2 = 0x240, kGPat = 0x268, kRcx = 0x308, kRdx = 0x310, kRbx = 0x318,
                          kRbp = 0x328, kRsi = 0x330, kRdi = 0x338, kR8 = 0x340,
                          kSevFeatures = 0x3B0, kXcr0 = 0x3E8, kMxcsr = 0x408, kX87Fcw = 0x410;
};

// EFER.SVME: KVM always sets it in the save area it syncs into the VMSA.
inline constexpr uint64_t kEferSvme = 0x1000;

// The VMSA as the registers KVM can load.
struct KvmVmsaState {
  X64Registers
      regs;  // GPRs, RIP, RFLAGS, segments (attributes as in the VMSA), tables, CR0/3/4, EFER
  uint64_t cr2 = 0;
  uint64_t dr6 = 0, dr7 = 0;
  uint64_t xcr0 = 0;
  uint64_t pat = 0;
  uint16_t fcw = 0;
  uint32_t mxcsr = 0;
  uint64_t sev_features = 0;
};

// Decodes a 4096-byte VMSA for KVM, refusing (kUnsupported, rule "kvm_snp.vmsa_field") any nonzero
// byte outside the fields KVM can set, segment attributes above bit 11, a GDTR/IDTR limit above
// 0xffff, EFER without SVME, XCR0 without x87 (bit 0), and SEV_FEATURES other than `sev_features`.
Result<KvmVmsaState> decodeKvmVmsa(Bytes page, uint64_t sev_features);

// Writes `state` back into a zeroed VMSA page (the inverse of decodeKvmVmsa on accepted pages).
ByteVector encodeVmsa(const KvmVmsaState& state);

}  // namespace igvmkit::loader::detail
