// loader/internal/vmsa.h: the SEV-ES/SNP VMSA fields KVM can reproduce from vCPU registers
// (loader-vmm.md §1.5 table, §3.3 step 6; measurement.md §1.5). Shared by checkPlan() and the
// kvm-snp backend. The page is read through igvm::SevVmsa, the one VMSA layout, and decoded by
// igvm::vpStateFromVmsa, the one VMSA codec; this file holds only KVM's refusals.
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/defs.h"
#include "x86/arch.h"
#include "x86/vp_state.h"

namespace igvmkit::loader::detail {

// EFER.SVME: KVM always sets it in the save area it syncs into the VMSA.
using x86::kEferSvme;

// Decodes a 4096-byte VMSA for KVM, refusing (kUnsupported, rule "kvm_snp.vmsa_field") any nonzero
// byte outside the fields KVM can set (those of x86::VpState plus SEV_FEATURES), segment
// attributes above bit 11, a GDTR/IDTR limit above 0xffff or with a selector or attributes, EFER
// without SVME, XCR0 without x87 (bit 0), and SEV_FEATURES other than `sev_features` or without
// SNP_ACTIVE. The state is the page's, EFER.SVME included.
Result<x86::VpState> decodeKvmVmsa(Bytes page, uint64_t sev_features);

}  // namespace igvmkit::loader::detail
