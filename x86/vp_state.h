// x86/vp_state.h: the one description of a virtual processor's starting state, shared by the
// builder (which renders it into IGVM VP contexts), the loader (which decodes those contexts into
// plans and hands them to hypervisors) and the VMM (which sets the boot vCPU from it).
//
// Each wire form has one codec, in the package that owns the format:
//   igvm/vp_state.h   IgvmNativeVpContextX64 <-> VpState, SevVmsa (SNP VMSA) <-> VpState
//   hv/kvm_regs.h     VpState -> kvm_regs / kvm_sregs
//   hv/mshv_regs.h    VpState -> the Hyper-V register list (HvCallSetVpRegisters)
// Policy (what a platform cannot express, what KVM refuses) stays with the callers.
//
//   x86::VpState s;
//   s.rip = entry;
//   s.cs = {.base = 0, .limit = 0xFFFF'FFFF, .selector = 0x08, .attributes = 0xA09B};
//   igvm::SevVmsa vmsa = igvm::vmsaFromVpState(s);   // attributes compressed to 0x029B there
#pragma once

#include <cstdint>
#include <vector>

#include "x86/arch.h"

namespace igvmkit::x86 {

// Segment attributes in VpState use the 16-bit descriptor form: the bits of the descriptor's
// high dword that describe the segment, with bits 8-11 (the limit's 19:16) left out:
//   bits 0-3 type, 4 S, 5-6 DPL, 7 P, 8-11 zero, 12 AVL, 13 L, 14 D/B, 15 G.
// It is the form of the IGVM native context (igvm-format.md §5.4), of Hyper-V's
// HV_X64_SEGMENT_REGISTER and of a VBS register list. The SVM/VMSA form (AMD APM vol. 2 §15.5.1,
// igvm-format.md §5.2) packs AVL, L, D/B, G into bits 8-11 instead; these two convert.
constexpr uint16_t svmAttributes(uint16_t descriptor_form) {
  return static_cast<uint16_t>((descriptor_form & 0x00FF) | ((descriptor_form >> 4) & 0x0F00));
}
constexpr uint16_t descriptorAttributes(uint16_t svm_form) {
  return static_cast<uint16_t>((svm_form & 0x00FF) | ((svm_form & 0x0F00) << 4));
}
static_assert(svmAttributes(0xA09B) == 0x0A9B);         // 64-bit code: L and G to bits 9 and 11
static_assert(descriptorAttributes(0x0C93) == 0xC093);  // flat data: G and D/B back to 15 and 14
static_assert(descriptorAttributes(svmAttributes(0xF0FF)) == 0xF0FF);

// Attribute bits of the descriptor form.
inline constexpr uint16_t kSegmentPresent = 1u << 7;

// A segment register as the CPU caches it. `limit` is the byte-granular limit the CPU uses
// (0xFFFFFFFF for a flat 4 GiB segment), not the descriptor's 20-bit field.
struct Segment {
  uint64_t base = 0;
  uint32_t limit = 0;
  uint16_t selector = 0;
  uint16_t attributes = 0;  // descriptor form (above)
  bool operator==(const Segment&) const = default;
};

// GDTR or IDTR.
struct TableRegister {
  uint64_t base = 0;
  uint16_t limit = 0;
  bool operator==(const TableRegister&) const = default;
};

// A model-specific register to set before the vCPU first runs.
struct Msr {
  uint32_t index = 0;
  uint64_t value = 0;
  bool operator==(const Msr&) const = default;
};

// The state a vCPU starts from.
//
// Defaults: what a caller sets itself (GPRs, RIP, segments, GDTR/IDTR, CR2, CR3, CR4, EFER) is
// zero; the registers a boot protocol normally leaves alone hold their architectural RESET
// values (Intel SDM vol. 3 §10.1.1 table 10-1, AMD APM vol. 2 §14.1.3), which are also what KVM
// holds for a new vCPU: RFLAGS 0x2, CR0 0x60000010 (CD|NW|ET), XCR0 0x1 (x87), the reset PAT,
// DR6 0xFFFF0FF0, DR7 0x400, MXCSR 0x1F80, FCW 0x37F. So a decoder that finds no value for one of
// those (the IGVM native context has no XCR0 or PAT) leaves the reset value, and an encoder writes
// it: no "0 means unset" convention anywhere.
//
// All-zero segments: the VMM leaves KVM's reset value in place for a segment that is all zero
// (hv::kvm::SregsOptions::keep_zero_segments); nothing else treats them specially.
struct VpState {
  uint64_t rax = 0, rcx = 0, rdx = 0, rbx = 0, rsp = 0, rbp = 0, rsi = 0, rdi = 0;
  uint64_t r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
  uint64_t rip = 0;
  uint64_t rflags = 0x2;  // bit 1 is reserved and reads as one
  Segment cs, ds, es, fs, gs, ss, tr, ldtr;
  TableRegister gdtr, idtr;
  uint64_t cr0 = 0x6000'0010;
  uint64_t cr2 = 0, cr3 = 0, cr4 = 0, efer = 0;
  uint64_t xcr0 = 0x1;
  uint64_t pat = kDefaultPat;
  uint64_t dr6 = 0xFFFF'0FF0;
  uint64_t dr7 = 0x400;
  uint32_t mxcsr = 0x1F80;  // all SSE exceptions masked
  uint16_t fcw = 0x37F;     // x87 control word: all exceptions masked, 64-bit precision
  std::vector<Msr> msrs;    // further MSRs (the VMM applies them after its own defaults)
  bool operator==(const VpState&) const = default;
};

}  // namespace igvmkit::x86
