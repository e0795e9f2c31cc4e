// vmm/internal/kvm_registers.cc: the boot vCPU's registers on KVM (kvm_machine.h): VpState to
// KVM's FPU, special-register (segments, descriptor tables, control registers, EFER), XCR0 and
// general-register images.
#include <string>

#include "vmm/internal/kvm_machine.h"

namespace igvmkit::vmm {
namespace {

using namespace hv::kvm;  // NOLINT: the ABI names read like the kernel's

void toKvmSegment(const Segment& s, kvm_segment& k) {
  if (s == Segment{}) {
    return;  // keep KVM's reset value
  }
  uint16_t a = s.attributes;
  k.base = s.base;
  k.limit = s.limit;
  k.selector = s.selector;
  k.type = a & 0xF;
  k.s = (a >> 4) & 1;
  k.dpl = (a >> 5) & 3;
  k.present = (a >> 7) & 1;
  k.avl = (a >> 12) & 1;
  k.l = (a >> 13) & 1;
  k.db = (a >> 14) & 1;
  k.g = (a >> 15) & 1;
  k.unusable = k.present ? 0 : 1;
}

}  // namespace

Status Machine::setBspRegisters(KvmVcpu& v) {
  const VpState& s = bsp_;
  kvm_fpu fpu{};
  fpu.fcw = 0x37F;     // x87 reset control word
  fpu.mxcsr = 0x1F80;  // SSE: all exceptions masked
  if (long r = sys_.ioctl(v.fd.get(), KVM_SET_FPU, &fpu); r < 0) {
    return kvmError("KVM_SET_FPU", r);
  }
  kvm_sregs sregs{};
  if (long r = sys_.ioctl(v.fd.get(), KVM_GET_SREGS, &sregs); r < 0) {
    return kvmError("KVM_GET_SREGS", r);
  }
  toKvmSegment(s.cs, sregs.cs);
  toKvmSegment(s.ds, sregs.ds);
  toKvmSegment(s.es, sregs.es);
  toKvmSegment(s.fs, sregs.fs);
  toKvmSegment(s.gs, sregs.gs);
  toKvmSegment(s.ss, sregs.ss);
  toKvmSegment(s.tr, sregs.tr);
  toKvmSegment(s.ldtr, sregs.ldt);
  sregs.gdt.base = s.gdtr.base;
  sregs.gdt.limit = s.gdtr.limit;
  sregs.idt.base = s.idtr.base;
  sregs.idt.limit = s.idtr.limit;
  sregs.cr0 = s.cr0;
  sregs.cr2 = s.cr2;
  sregs.cr3 = s.cr3;
  sregs.cr4 = s.cr4;
  sregs.efer = s.efer;
  if (long r = sys_.ioctl(v.fd.get(), KVM_SET_SREGS, &sregs); r < 0) {
    return invalid("vmm.bad_vp_state", "kvm refused the boot vcpu's special registers (cr0 " +
                                           hex(s.cr0) + " cr4 " + hex(s.cr4) + " efer " +
                                           hex(s.efer) + "): " + errnoText(static_cast<int>(-r)));
  }
  if (s.xcr0 != 1) {
    kvm_xcrs xcrs{};
    xcrs.nr_xcrs = 1;
    xcrs.xcrs[0].xcr = 0;
    xcrs.xcrs[0].value = s.xcr0;
    if (long r = sys_.ioctl(v.fd.get(), KVM_SET_XCRS, &xcrs); r < 0) {
      return invalid("vmm.bad_vp_state",
                     "kvm refused xcr0 " + hex(s.xcr0) + ": " + errnoText(static_cast<int>(-r)));
    }
  }
  kvm_regs regs{};
  regs.rax = s.rax;
  regs.rcx = s.rcx;
  regs.rdx = s.rdx;
  regs.rbx = s.rbx;
  regs.rsp = s.rsp;
  regs.rbp = s.rbp;
  regs.rsi = s.rsi;
  regs.rdi = s.rdi;
  regs.r8 = s.r8;
  regs.r9 = s.r9;
  regs.r10 = s.r10;
  regs.r11 = s.r11;
  regs.r12 = s.r12;
  regs.r13 = s.r13;
  regs.r14 = s.r14;
  regs.r15 = s.r15;
  regs.rip = s.rip;
  regs.rflags = s.rflags | 0x2;
  if (long r = sys_.ioctl(v.fd.get(), KVM_SET_REGS, &regs); r < 0) {
    return kvmError("KVM_SET_REGS", r);
  }
  return okStatus();
}

}  // namespace igvmkit::vmm
