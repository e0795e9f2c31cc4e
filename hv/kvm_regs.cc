#include "hv/kvm_regs.h"

#include <utility>

namespace igvmkit::hv::kvm {

kvm_segment toKvmSegment(const x86::Segment& s, bool unusable_when_not_present) {
  kvm_segment k{};
  k.base = s.base;
  k.limit = s.limit;
  k.selector = s.selector;
  const uint16_t a = s.attributes;
  k.type = a & 0xF;
  k.s = (a >> 4) & 1;
  k.dpl = (a >> 5) & 3;
  k.present = (a >> 7) & 1;
  k.avl = (a >> 12) & 1;
  k.l = (a >> 13) & 1;
  k.db = (a >> 14) & 1;
  k.g = (a >> 15) & 1;
  k.unusable = unusable_when_not_present && k.present == 0 ? 1 : 0;
  return k;
}

void setSregs(const x86::VpState& s, kvm_sregs& sregs, const SregsOptions& o) {
  const std::pair<const x86::Segment*, kvm_segment*> segments[] = {
      {&s.cs, &sregs.cs}, {&s.ds, &sregs.ds}, {&s.es, &sregs.es}, {&s.fs, &sregs.fs},
      {&s.gs, &sregs.gs}, {&s.ss, &sregs.ss}, {&s.tr, &sregs.tr}, {&s.ldtr, &sregs.ldt}};
  for (const auto& [from, to] : segments) {
    if (o.keep_zero_segments && *from == x86::Segment{}) {
      continue;
    }
    *to = toKvmSegment(*from, o.unusable_when_not_present);
  }
  sregs.gdt = kvm_dtable{s.gdtr.base, s.gdtr.limit, {0, 0, 0}};
  sregs.idt = kvm_dtable{s.idtr.base, s.idtr.limit, {0, 0, 0}};
  sregs.cr0 = s.cr0;
  sregs.cr2 = s.cr2;
  sregs.cr3 = s.cr3;
  sregs.cr4 = s.cr4;
  sregs.efer = s.efer;
}

kvm_regs toKvmRegs(const x86::VpState& s) {
  kvm_regs g{};
  g.rax = s.rax;
  g.rbx = s.rbx;
  g.rcx = s.rcx;
  g.rdx = s.rdx;
  g.rsi = s.rsi;
  g.rdi = s.rdi;
  g.rsp = s.rsp;
  g.rbp = s.rbp;
  g.r8 = s.r8;
  g.r9 = s.r9;
  g.r10 = s.r10;
  g.r11 = s.r11;
  g.r12 = s.r12;
  g.r13 = s.r13;
  g.r14 = s.r14;
  g.r15 = s.r15;
  g.rip = s.rip;
  g.rflags = s.rflags;
  return g;
}

}  // namespace igvmkit::hv::kvm
