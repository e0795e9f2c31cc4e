// loader/internal/vmsa.h: the SEV-ES/SNP VMSA fields KVM can reproduce from vCPU registers
// (loader-vmm.md §1.5 table, §3.3 step 6; measurement.md §1.5). Shared by checkPlan() and the
// kvm-snp backend. The page is read and written through igvm::SevVmsa, the one VMSA layout.
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/defs.h"
#include "loader/plan.h"
#include "x86/arch.h"

namespace igvmkit::loader::detail {

// EFER.SVME: KVM always sets it in the save area it syncs into the VMSA.
using x86::kEferSvme;

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
