// igvm/vp_state.h: the IGVM file's two x86 VP-context wire forms as x86::VpState, each codec once.
//
//   IgvmNativeVpContextX64 (NATIVE, igvm-format.md §5.4) <-> VpState
//   SevVmsa                (SEV-SNP VMSA, §5.2)          <-> VpState
//
// The codecs translate; they refuse nothing. What a platform cannot express (the builder's
// "x86.state" errors), what KVM cannot load from a VMSA (the loader's "kvm_snp.vmsa_field") and
// what a measurement warns about stay with those callers, which check the state or the struct
// before or after calling these.
//
//   IGVMKIT_ASSIGN_OR_RETURN(igvm::SevVmsa v, readStruct<igvm::SevVmsa>(page, 0));
//   x86::VpState s = igvm::vpStateFromVmsa(v);
//   igvm::IgvmNativeVpContextX64 c = igvm::nativeContextFromVpState(s);
#pragma once

#include "igvm/defs.h"
#include "x86/vp_state.h"

namespace igvmkit::igvm {

// The native context holds one code and one data segment with 32-bit bases, a separate GS base,
// GDTR/IDTR, CR0/3/4, EFER, the GPRs, RIP and RFLAGS. Encoding takes CS, DS (its attributes as
// they are, both forms of the context are the descriptor form) and GS's base; ES/FS/SS/GS and
// bases above 32 bits are the caller's to check. Decoding gives DS/ES/FS/GS/SS the data segment
// (GS with gs_base), TR a busy 32-bit TSS {0, 0xFFFF, 0, 0x008B} and LDTR an LDT {0, 0xFFFF, 0,
// 0x0082} (their architectural reset values: the context has neither) and every register it does
// not hold its VpState default (the reset value).
IgvmNativeVpContextX64 nativeContextFromVpState(const x86::VpState& state);
x86::VpState vpStateFromNativeContext(const IgvmNativeVpContextX64& context);

// The VMSA fields a VpState describes: the ten segment slots (attributes in the VMSA's compressed
// SVM form, GDTR/IDTR as limit and base only), the GPRs, RIP, RFLAGS, CR0/2/3/4, EFER, DR6/7, PAT,
// XCR0, MXCSR and the x87 control word. Everything else (SEV_FEATURES, VMPL, VIRTUAL_TOM, the
// rest of the save area) is zero after encoding, for the caller to set; decoding reads only these
// fields (a GDTR/IDTR limit is truncated to 16 bits, attribute bits 12-15 are dropped: callers
// that care refuse such pages first).
SevVmsa vmsaFromVpState(const x86::VpState& state);
x86::VpState vpStateFromVmsa(const SevVmsa& vmsa);

}  // namespace igvmkit::igvm
