#include "igvm/vp_state.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/bytes.h"

namespace igvmkit::igvm {
namespace {

template <class T>
T at(const void* base, size_t offset) {
  T v;
  std::memcpy(&v, static_cast<const std::byte*>(base) + offset, sizeof(T));
  return v;
}

// A long-mode state in which every field the codecs carry has a distinct value.
x86::VpState distinctState() {
  x86::VpState s;
  uint64_t n = 0x1000;
  for (uint64_t* r : {&s.rax, &s.rcx, &s.rdx, &s.rbx, &s.rsp, &s.rbp, &s.rsi, &s.rdi, &s.r8,
                      &s.r9, &s.r10, &s.r11, &s.r12, &s.r13, &s.r14, &s.r15}) {
    *r = n++;
  }
  s.rip = 0x10'0200;
  s.rflags = 0x46;
  s.cs = {0x11, 0xFFFF'FFFF, 0x08, 0xA09B};
  s.ds = {0x22, 0xFFFF'FFF0, 0x10, 0xC093};
  s.es = {0x33, 0xFFFF'FFF1, 0x18, 0xC093};
  s.fs = {0x44, 0xFFFF'FFF2, 0x20, 0x4093};
  s.gs = {0xFFFF'8000'0000'1000, 0xFFFF'FFF3, 0x28, 0xD093};
  s.ss = {0x66, 0xFFFF'F, 0x30, 0x4093};
  s.tr = {0x7000, 0x67, 0x38, 0x008B};
  s.ldtr = {0x8000, 0x1F, 0x40, 0x0082};
  s.gdtr = {0x5000, 0x2F};
  s.idtr = {0x6000, 0xFFF};
  s.cr0 = 0x8005'0033;
  s.cr2 = 0xDEAD'0000;
  s.cr3 = 0x9000;
  s.cr4 = 0x668;
  s.efer = 0xD01;
  s.xcr0 = 0x7;
  s.pat = 0x0007'0406'0007'0405;
  s.dr6 = 0xFFFF'0FF1;
  s.dr7 = 0x401;
  s.mxcsr = 0x1F81;
  s.fcw = 0x37E;
  return s;
}

TEST(VmsaCodec, RoundTripsEveryFieldItCarries) {
  const x86::VpState s = distinctState();
  EXPECT_EQ(vpStateFromVmsa(vmsaFromVpState(s)), s);
}

TEST(VmsaCodec, FieldsLandAtTheSpecsOffsets) {
  // Offsets from igvm-format.md §5.2 / AMD APM vol. 2 table B-4, written out, not offsetof.
  const SevVmsa v = vmsaFromVpState(distinctState());
  EXPECT_EQ(at<uint16_t>(&v, 0x10), 0x08);      // cs.selector
  EXPECT_EQ(at<uint16_t>(&v, 0x12), 0x0A9B);    // cs.attrib, compressed: L bit 9, G bit 11
  EXPECT_EQ(at<uint32_t>(&v, 0x14), 0xFFFFFFFFu);
  EXPECT_EQ(at<uint16_t>(&v, 0x52), 0x0D93);    // gs.attrib: AVL, D/B, G in bits 8, 10, 11
  EXPECT_EQ(at<uint64_t>(&v, 0x58), 0xFFFF800000001000u);  // gs.base
  EXPECT_EQ(at<uint32_t>(&v, 0x64), 0x2Fu);     // gdtr.limit
  EXPECT_EQ(at<uint64_t>(&v, 0x68), 0x5000u);   // gdtr.base
  EXPECT_EQ(at<uint16_t>(&v, 0x62), 0);         // gdtr has no attributes
  EXPECT_EQ(at<uint64_t>(&v, 0x88), 0x6000u);   // idtr.base
  EXPECT_EQ(at<uint16_t>(&v, 0x92), 0x008B);    // tr.attrib
  EXPECT_EQ(at<uint64_t>(&v, 0xD0), 0xD01u);    // efer (as given: SVME is the builder's policy)
  EXPECT_EQ(at<uint64_t>(&v, 0x148), 0x668u);   // cr4
  EXPECT_EQ(at<uint64_t>(&v, 0x150), 0x9000u);  // cr3
  EXPECT_EQ(at<uint64_t>(&v, 0x158), 0x80050033u);  // cr0
  EXPECT_EQ(at<uint64_t>(&v, 0x160), 0x401u);   // dr7
  EXPECT_EQ(at<uint64_t>(&v, 0x168), 0xFFFF0FF1u);  // dr6
  EXPECT_EQ(at<uint64_t>(&v, 0x170), 0x46u);    // rflags
  EXPECT_EQ(at<uint64_t>(&v, 0x178), 0x100200u);  // rip
  EXPECT_EQ(at<uint64_t>(&v, 0x1D8), 0x1004u);  // rsp
  EXPECT_EQ(at<uint64_t>(&v, 0x1F8), 0x1000u);  // rax
  EXPECT_EQ(at<uint64_t>(&v, 0x240), 0xDEAD0000u);  // cr2
  EXPECT_EQ(at<uint64_t>(&v, 0x268), 0x0007040600070405u);  // pat
  EXPECT_EQ(at<uint64_t>(&v, 0x308), 0x1001u);  // rcx
  EXPECT_EQ(at<uint64_t>(&v, 0x318), 0x1003u);  // rbx
  EXPECT_EQ(at<uint64_t>(&v, 0x340), 0x1008u);  // r8
  EXPECT_EQ(at<uint64_t>(&v, 0x378), 0x100Fu);  // r15
  EXPECT_EQ(at<uint64_t>(&v, 0x3E8), 0x7u);     // xcr0
  EXPECT_EQ(at<uint32_t>(&v, 0x408), 0x1F81u);  // mxcsr
  EXPECT_EQ(at<uint16_t>(&v, 0x410), 0x37E);    // x87_fcw
  // What the state does not describe stays zero for the caller: sev_features, vmpl, virtual_tom.
  EXPECT_EQ(at<uint64_t>(&v, 0x3B0), 0u);
  EXPECT_EQ(at<uint8_t>(&v, 0xCA), 0u);
  EXPECT_EQ(at<uint64_t>(&v, 0x3C8), 0u);
}

TEST(VmsaCodec, DecodingReadsOnlyTheStatesFields) {
  SevVmsa v = vmsaFromVpState(distinctState());
  v.sev_features = 1;
  v.vmpl = 2;
  v.star = 0x1234;
  EXPECT_EQ(vpStateFromVmsa(v), distinctState());
}

TEST(VmsaCodec, DefaultStateEncodesTheResetValues) {
  const SevVmsa v = vmsaFromVpState(x86::VpState{});
  EXPECT_EQ(v.rflags, 2u);
  EXPECT_EQ(v.xcr0, 1u);
  EXPECT_EQ(v.pat, x86::kDefaultPat);
  EXPECT_EQ(v.dr6, 0xFFFF0FF0u);
  EXPECT_EQ(v.dr7, 0x400u);
  EXPECT_EQ(v.mxcsr, 0x1F80u);
  EXPECT_EQ(v.x87_fcw, 0x37F);
}

// A state the native context can hold: one data segment (GS differs in base only), 32-bit bases,
// TR and LDTR at the values decoding gives, the rest at the defaults.
x86::VpState nativeState() {
  const x86::VpState d = distinctState();
  x86::VpState s;
  s.rax = d.rax, s.rcx = d.rcx, s.rdx = d.rdx, s.rbx = d.rbx, s.rsp = d.rsp, s.rbp = d.rbp;
  s.rsi = d.rsi, s.rdi = d.rdi, s.r8 = d.r8, s.r9 = d.r9, s.r10 = d.r10, s.r11 = d.r11;
  s.r12 = d.r12, s.r13 = d.r13, s.r14 = d.r14, s.r15 = d.r15;
  s.rip = d.rip, s.rflags = d.rflags, s.gdtr = d.gdtr, s.idtr = d.idtr;
  s.cs = d.cs;
  s.ds = s.es = s.fs = s.ss = s.gs = d.ds;
  s.gs.base = 0xFFFF'8000'0000'1000;
  s.tr = {0, 0xFFFF, 0, 0x008B};
  s.ldtr = {0, 0xFFFF, 0, 0x0082};
  s.cr0 = d.cr0, s.cr3 = d.cr3, s.cr4 = d.cr4, s.efer = d.efer;
  return s;
}

TEST(NativeCodec, RoundTripsAStateTheContextCanHold) {
  const x86::VpState s = nativeState();
  EXPECT_EQ(vpStateFromNativeContext(nativeContextFromVpState(s)), s);
}

TEST(NativeCodec, FieldsLandAtTheSpecsOffsets) {
  // igvm-format.md §5.4 (IgvmNativeVpContextX64), offsets written out.
  const IgvmNativeVpContextX64 c = nativeContextFromVpState(nativeState());
  EXPECT_EQ(at<uint64_t>(&c, 0x00), 0x1000u);     // rax
  EXPECT_EQ(at<uint64_t>(&c, 0x20), 0x1004u);     // rsp
  EXPECT_EQ(at<uint64_t>(&c, 0x78), 0x100Fu);     // r15
  EXPECT_EQ(at<uint64_t>(&c, 0x80), 0x100200u);   // rip
  EXPECT_EQ(at<uint64_t>(&c, 0x88), 0x46u);       // rflags
  EXPECT_EQ(at<uint64_t>(&c, 0x90), 0x6000u);     // idtr_base
  EXPECT_EQ(at<uint16_t>(&c, 0x98), 0xFFF);       // idtr_limit
  EXPECT_EQ(at<uint16_t>(&c, 0x9E), 0x2F);        // gdtr_limit
  EXPECT_EQ(at<uint64_t>(&c, 0xA0), 0x5000u);     // gdtr_base
  EXPECT_EQ(at<uint16_t>(&c, 0xA8), 0x08);        // code_selector
  EXPECT_EQ(at<uint16_t>(&c, 0xAA), 0xA09B);      // code_attributes, descriptor form
  EXPECT_EQ(at<uint32_t>(&c, 0xAC), 0x11u);       // code_base
  EXPECT_EQ(at<uint32_t>(&c, 0xB0), 0xFFFFFFFFu);  // code_limit
  EXPECT_EQ(at<uint16_t>(&c, 0xB4), 0x10);        // data_selector
  EXPECT_EQ(at<uint16_t>(&c, 0xB6), 0xC093);      // data_attributes
  EXPECT_EQ(at<uint32_t>(&c, 0xB8), 0x22u);       // data_base
  EXPECT_EQ(at<uint32_t>(&c, 0xBC), 0xFFFFFFF0u);  // data_limit
  EXPECT_EQ(at<uint64_t>(&c, 0xC0), 0xFFFF800000001000u);  // gs_base
  EXPECT_EQ(at<uint64_t>(&c, 0xC8), 0x80050033u);  // cr0
  EXPECT_EQ(at<uint64_t>(&c, 0xD0), 0x9000u);     // cr3
  EXPECT_EQ(at<uint64_t>(&c, 0xD8), 0x668u);      // cr4
  EXPECT_EQ(at<uint64_t>(&c, 0xE0), 0xD01u);      // efer
}

TEST(NativeCodec, DecodingGivesWhatTheContextLacksItsResetValue) {
  IgvmNativeVpContextX64 c{};
  c.data_selector = 0x10;
  c.data_attributes = 0xC093;
  c.gs_base = 0x1234;
  const x86::VpState s = vpStateFromNativeContext(c);
  EXPECT_EQ(s.tr, (x86::Segment{0, 0xFFFF, 0, 0x008B}));
  EXPECT_EQ(s.ldtr, (x86::Segment{0, 0xFFFF, 0, 0x0082}));
  EXPECT_EQ(s.fs, (x86::Segment{0, 0, 0x10, 0xC093}));
  EXPECT_EQ(s.gs.base, 0x1234u);
  EXPECT_EQ(s.xcr0, 1u);
  EXPECT_EQ(s.pat, x86::kDefaultPat);
  EXPECT_EQ(s.cr2, 0u);
}

}  // namespace
}  // namespace igvmkit::igvm
