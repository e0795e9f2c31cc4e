// hv/kvm_regs.h: x86::VpState as KVM's register structures (KVM_SET_REGS, KVM_SET_SREGS), the
// one translation both the loader's kvm backends and the VMM use.
//
//   kvm_sregs sregs{};
//   ioctl(vcpu, KVM_GET_SREGS, &sregs);             // keeps APIC base and the interrupt bitmap
//   hv::kvm::setSregs(state, sregs, {.unusable_when_not_present = true});
//   ioctl(vcpu, KVM_SET_SREGS, &sregs);
//   kvm_regs regs = hv::kvm::toKvmRegs(state);
//
// XCR0, PAT, DR6/DR7 and the FPU control words go through their own ioctls (KVM_SET_XCRS,
// KVM_SET_MSRS, KVM_SET_DEBUGREGS, KVM_SET_FPU); which of them a caller sets is its policy.
#pragma once

#include "hv/kvm_abi.h"
#include "x86/vp_state.h"

namespace igvmkit::hv::kvm {

// The segment as kvm_segment, attributes split from the descriptor form (x86/vp_state.h) into
// KVM's one-byte fields. `unusable_when_not_present`: a segment without P is marked unusable, the
// VMX notion KVM needs for a null data segment in a plain vCPU (QEMU does the same,
// target/i386/kvm/kvm.c set_seg). The kvm-snp backend passes false: it copies the VMSA's segments
// as they are, so the state KVM measures is the file's.
kvm_segment toKvmSegment(const x86::Segment& segment, bool unusable_when_not_present);

struct SregsOptions {
  bool unusable_when_not_present = true;  // see toKvmSegment()
  // An all-zero segment leaves the value already in `sregs` (what KVM_GET_SREGS returned, i.e.
  // KVM's reset value): the VMM's rule for a VpState that names no TR or LDTR.
  bool keep_zero_segments = false;
};

// Writes the eight segments, GDTR/IDTR (padding zeroed), CR0, CR2, CR3, CR4 and EFER of `state`
// into `sregs`; CR8, the APIC base and the interrupt bitmap stay as they are.
void setSregs(const x86::VpState& state, kvm_sregs& sregs, const SregsOptions& options);

// The GPRs, RIP and RFLAGS.
kvm_regs toKvmRegs(const x86::VpState& state);

}  // namespace igvmkit::hv::kvm
