#include "igvm/vp_state.h"

namespace igvmkit::igvm {
namespace {

// The native context's architectural reset values for the registers it does not carry (Intel SDM
// vol. 3 table 10-1: TR and LDTR present, limit 0xFFFF; TR a busy 32-bit TSS).
constexpr x86::Segment kResetTr{.base = 0, .limit = 0xFFFF, .selector = 0, .attributes = 0x008B};
constexpr x86::Segment kResetLdtr{.base = 0, .limit = 0xFFFF, .selector = 0, .attributes = 0x0082};

SevVmsaSegment toVmsa(const x86::Segment& s) {
  return {.selector = s.selector,
          .attrib = x86::svmAttributes(s.attributes),
          .limit = s.limit,
          .base = s.base};
}
x86::Segment fromVmsa(const SevVmsaSegment& s) {
  return {.base = s.base,
          .limit = s.limit,
          .selector = s.selector,
          .attributes = x86::descriptorAttributes(s.attrib)};
}
// GDTR and IDTR use a segment slot's limit and base only.
SevVmsaSegment toVmsa(const x86::TableRegister& t) {
  return {.selector = 0, .attrib = 0, .limit = t.limit, .base = t.base};
}
x86::TableRegister tableFromVmsa(const SevVmsaSegment& s) {
  return {.base = s.base, .limit = static_cast<uint16_t>(s.limit)};
}

}  // namespace

IgvmNativeVpContextX64 nativeContextFromVpState(const x86::VpState& s) {
  IgvmNativeVpContextX64 c{};
  c.rax = s.rax, c.rcx = s.rcx, c.rdx = s.rdx, c.rbx = s.rbx;
  c.rsp = s.rsp, c.rbp = s.rbp, c.rsi = s.rsi, c.rdi = s.rdi;
  c.r8 = s.r8, c.r9 = s.r9, c.r10 = s.r10, c.r11 = s.r11;
  c.r12 = s.r12, c.r13 = s.r13, c.r14 = s.r14, c.r15 = s.r15;
  c.rip = s.rip;
  c.rflags = s.rflags;
  c.idtr_base = s.idtr.base;
  c.idtr_limit = s.idtr.limit;
  c.gdtr_limit = s.gdtr.limit;
  c.gdtr_base = s.gdtr.base;
  c.code_selector = s.cs.selector;
  c.code_attributes = s.cs.attributes;
  c.code_base = static_cast<uint32_t>(s.cs.base);
  c.code_limit = s.cs.limit;
  c.data_selector = s.ds.selector;
  c.data_attributes = s.ds.attributes;
  c.data_base = static_cast<uint32_t>(s.ds.base);
  c.data_limit = s.ds.limit;
  c.gs_base = s.gs.base;
  c.cr0 = s.cr0;
  c.cr3 = s.cr3;
  c.cr4 = s.cr4;
  c.efer = s.efer;
  return c;
}

x86::VpState vpStateFromNativeContext(const IgvmNativeVpContextX64& c) {
  x86::VpState s;
  s.rax = c.rax, s.rcx = c.rcx, s.rdx = c.rdx, s.rbx = c.rbx;
  s.rsp = c.rsp, s.rbp = c.rbp, s.rsi = c.rsi, s.rdi = c.rdi;
  s.r8 = c.r8, s.r9 = c.r9, s.r10 = c.r10, s.r11 = c.r11;
  s.r12 = c.r12, s.r13 = c.r13, s.r14 = c.r14, s.r15 = c.r15;
  s.rip = c.rip;
  s.rflags = c.rflags;
  s.idtr = {c.idtr_base, c.idtr_limit};
  s.gdtr = {c.gdtr_base, c.gdtr_limit};
  s.cs = {c.code_base, c.code_limit, c.code_selector, c.code_attributes};
  const x86::Segment data{c.data_base, c.data_limit, c.data_selector, c.data_attributes};
  s.ds = s.es = s.fs = s.gs = s.ss = data;
  s.gs.base = c.gs_base;
  s.tr = kResetTr;
  s.ldtr = kResetLdtr;
  s.cr0 = c.cr0;
  s.cr3 = c.cr3;
  s.cr4 = c.cr4;
  s.efer = c.efer;
  return s;
}

SevVmsa vmsaFromVpState(const x86::VpState& s) {
  SevVmsa v{};
  v.es = toVmsa(s.es);
  v.cs = toVmsa(s.cs);
  v.ss = toVmsa(s.ss);
  v.ds = toVmsa(s.ds);
  v.fs = toVmsa(s.fs);
  v.gs = toVmsa(s.gs);
  v.gdtr = toVmsa(s.gdtr);
  v.ldtr = toVmsa(s.ldtr);
  v.idtr = toVmsa(s.idtr);
  v.tr = toVmsa(s.tr);
  v.efer = s.efer;
  v.cr4 = s.cr4;
  v.cr3 = s.cr3;
  v.cr0 = s.cr0;
  v.dr7 = s.dr7;
  v.dr6 = s.dr6;
  v.rflags = s.rflags;
  v.rip = s.rip;
  v.rsp = s.rsp;
  v.rax = s.rax;
  v.cr2 = s.cr2;
  v.pat = s.pat;
  v.rcx = s.rcx;
  v.rdx = s.rdx;
  v.rbx = s.rbx;
  v.rbp = s.rbp;
  v.rsi = s.rsi;
  v.rdi = s.rdi;
  v.r8 = s.r8;
  v.r9 = s.r9;
  v.r10 = s.r10;
  v.r11 = s.r11;
  v.r12 = s.r12;
  v.r13 = s.r13;
  v.r14 = s.r14;
  v.r15 = s.r15;
  v.xcr0 = s.xcr0;
  v.mxcsr = s.mxcsr;
  v.x87_fcw = s.fcw;
  return v;
}

x86::VpState vpStateFromVmsa(const SevVmsa& v) {
  x86::VpState s;
  s.es = fromVmsa(v.es);
  s.cs = fromVmsa(v.cs);
  s.ss = fromVmsa(v.ss);
  s.ds = fromVmsa(v.ds);
  s.fs = fromVmsa(v.fs);
  s.gs = fromVmsa(v.gs);
  s.gdtr = tableFromVmsa(v.gdtr);
  s.ldtr = fromVmsa(v.ldtr);
  s.idtr = tableFromVmsa(v.idtr);
  s.tr = fromVmsa(v.tr);
  s.efer = v.efer;
  s.cr4 = v.cr4;
  s.cr3 = v.cr3;
  s.cr0 = v.cr0;
  s.dr7 = v.dr7;
  s.dr6 = v.dr6;
  s.rflags = v.rflags;
  s.rip = v.rip;
  s.rsp = v.rsp;
  s.rax = v.rax;
  s.cr2 = v.cr2;
  s.pat = v.pat;
  s.rcx = v.rcx;
  s.rdx = v.rdx;
  s.rbx = v.rbx;
  s.rbp = v.rbp;
  s.rsi = v.rsi;
  s.rdi = v.rdi;
  s.r8 = v.r8;
  s.r9 = v.r9;
  s.r10 = v.r10;
  s.r11 = v.r11;
  s.r12 = v.r12;
  s.r13 = v.r13;
  s.r14 = v.r14;
  s.r15 = v.r15;
  s.xcr0 = v.xcr0;
  s.mxcsr = v.mxcsr;
  s.fcw = v.x87_fcw;
  return s;
}

}  // namespace igvmkit::igvm
