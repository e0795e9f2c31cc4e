// vmm/internal/kvm_registers.cc: the boot vCPU's registers on KVM (kvm_machine.h): x86::VpState
// to KVM's FPU, special-register (segments, descriptor tables, control registers, EFER), XCR0 and
// general-register images, the segments and registers through hv/kvm_regs.h.
#include <string>

#include "hv/kvm_regs.h"
#include "vmm/internal/kvm_machine.h"

namespace igvmkit::vmm {

using namespace hv::kvm;  // NOLINT: the ABI names read like the kernel's

Status Machine::setBspRegisters(KvmVcpu& v) {
  const x86::VpState& s = bsp_;
  kvm_fpu fpu{};
  fpu.fcw = s.fcw;
  fpu.mxcsr = s.mxcsr;
  if (long r = sys_.ioctl(v.fd.get(), KVM_SET_FPU, &fpu); r < 0) {
    return kvmError("KVM_SET_FPU", r);
  }
  kvm_sregs sregs{};
  if (long r = sys_.ioctl(v.fd.get(), KVM_GET_SREGS, &sregs); r < 0) {
    return kvmError("KVM_GET_SREGS", r);
  }
  // An all-zero segment keeps KVM's reset value; a segment without P is unusable.
  setSregs(s, sregs, {.unusable_when_not_present = true, .keep_zero_segments = true});
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
  kvm_regs regs = toKvmRegs(s);
  regs.rflags |= 0x2;  // reserved, reads as one
  if (long r = sys_.ioctl(v.fd.get(), KVM_SET_REGS, &regs); r < 0) {
    return kvmError("KVM_SET_REGS", r);
  }
  return okStatus();
}

}  // namespace igvmkit::vmm
