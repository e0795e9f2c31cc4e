// The register codecs: hv/kvm_regs.h and hv/mshv_regs.h.
#include <gtest/gtest.h>

#include <cstring>
#include <iterator>

#include "hv/kvm_regs.h"
#include "hv/mshv_regs.h"

namespace igvmkit::hv {
namespace {

x86::VpState sample() {
  x86::VpState s;
  uint64_t n = 0x1000;
  for (uint64_t* r : {&s.rax, &s.rcx, &s.rdx, &s.rbx, &s.rsp, &s.rbp, &s.rsi, &s.rdi, &s.r8,
                      &s.r9, &s.r10, &s.r11, &s.r12, &s.r13, &s.r14, &s.r15}) {
    *r = n++;
  }
  s.rip = 0x10'0200;
  s.rflags = 0x46;
  s.cs = {0, 0xFFFF'FFFF, 0x08, 0xA09B};  // 64-bit code: type 0xB, S, P, L, G
  s.ds = s.es = s.fs = s.ss = {0, 0xFFFF'FFFF, 0x10, 0xC093};
  s.gs = {0xFFFF'8000'0000'1000, 0xFFFF'F, 0x10, 0x5073};  // AVL, D/B, DPL 3, type 3, no P
  s.tr = {0x7000, 0x67, 0x38, 0x008B};
  s.gdtr = {0x5000, 0x2F};
  s.idtr = {0x6000, 0xFFF};
  s.cr0 = 0x8005'0033;
  s.cr2 = 0xDEAD'0000;
  s.cr3 = 0x9000;
  s.cr4 = 0x668;
  s.efer = 0xD01;
  return s;
}

TEST(KvmRegs, SegmentAttributesSplitIntoKvmFields) {
  const kvm::kvm_segment cs = kvm::toKvmSegment(sample().cs, true);
  EXPECT_EQ(cs.selector, 0x08);
  EXPECT_EQ(cs.limit, 0xFFFFFFFFu);
  EXPECT_EQ(cs.type, 0xB);
  EXPECT_EQ(cs.s, 1);
  EXPECT_EQ(cs.dpl, 0);
  EXPECT_EQ(cs.present, 1);
  EXPECT_EQ(cs.avl, 0);
  EXPECT_EQ(cs.l, 1);
  EXPECT_EQ(cs.db, 0);
  EXPECT_EQ(cs.g, 1);
  EXPECT_EQ(cs.unusable, 0);
  const kvm::kvm_segment gs = kvm::toKvmSegment(sample().gs, false);
  EXPECT_EQ(gs.base, 0xFFFF800000001000u);
  EXPECT_EQ(gs.type, 3);
  EXPECT_EQ(gs.dpl, 3);
  EXPECT_EQ(gs.present, 0);
  EXPECT_EQ(gs.avl, 1);
  EXPECT_EQ(gs.l, 0);
  EXPECT_EQ(gs.db, 1);
  EXPECT_EQ(gs.g, 0);
  EXPECT_EQ(gs.unusable, 0);  // not asked for
}

TEST(KvmRegs, UnusableOnlyWhenAskedAndNotPresent) {
  EXPECT_EQ(kvm::toKvmSegment(sample().gs, true).unusable, 1);
  EXPECT_EQ(kvm::toKvmSegment(sample().cs, true).unusable, 0);
  EXPECT_EQ(kvm::toKvmSegment(x86::Segment{}, true).unusable, 1);
  EXPECT_EQ(kvm::toKvmSegment(x86::Segment{}, false).unusable, 0);
}

TEST(KvmRegs, SregsTakeTheStateAndKeepTheRest) {
  kvm::kvm_sregs sregs{};
  sregs.apic_base = 0xFEE00900;
  sregs.cr8 = 5;
  sregs.interrupt_bitmap[1] = 7;
  sregs.ldt.selector = 0x5678;
  sregs.gdt.padding[0] = 9;
  const x86::VpState s = sample();
  kvm::setSregs(s, sregs, {});
  EXPECT_EQ(sregs.cs.l, 1);
  EXPECT_EQ(sregs.ss.selector, 0x10);
  EXPECT_EQ(sregs.tr.base, 0x7000u);
  EXPECT_EQ(sregs.ldt.selector, 0);  // the state's all-zero LDTR, written
  EXPECT_EQ(sregs.ldt.unusable, 1);
  EXPECT_EQ(sregs.gdt.base, 0x5000u);
  EXPECT_EQ(sregs.gdt.limit, 0x2F);
  EXPECT_EQ(sregs.gdt.padding[0], 0);
  EXPECT_EQ(sregs.idt.base, 0x6000u);
  EXPECT_EQ(sregs.idt.limit, 0xFFF);
  EXPECT_EQ(sregs.cr0, 0x80050033u);
  EXPECT_EQ(sregs.cr2, 0xDEAD0000u);
  EXPECT_EQ(sregs.cr3, 0x9000u);
  EXPECT_EQ(sregs.cr4, 0x668u);
  EXPECT_EQ(sregs.efer, 0xD01u);
  EXPECT_EQ(sregs.apic_base, 0xFEE00900u);
  EXPECT_EQ(sregs.cr8, 5u);
  EXPECT_EQ(sregs.interrupt_bitmap[1], 7u);
}

TEST(KvmRegs, KeepZeroSegmentsLeavesKvmsValue) {
  kvm::kvm_sregs sregs{};
  sregs.ldt.selector = 0x5678;
  sregs.ldt.type = 2;
  kvm::setSregs(sample(), sregs, {.keep_zero_segments = true});
  EXPECT_EQ(sregs.ldt.selector, 0x5678);
  EXPECT_EQ(sregs.ldt.type, 2);
  EXPECT_EQ(sregs.tr.selector, 0x38);  // a non-zero segment is still written
}

TEST(KvmRegs, GprsGoToKvmsOrder) {
  const kvm::kvm_regs r = kvm::toKvmRegs(sample());
  uint64_t raw[18];
  std::memcpy(raw, &r, sizeof(raw));
  // struct kvm_regs (arch/x86/include/uapi/asm/kvm.h): rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp,
  // r8..r15, rip, rflags.
  const uint64_t want[18] = {0x1000, 0x1003, 0x1001, 0x1002, 0x1006, 0x1007, 0x1004, 0x1005,
                             0x1008, 0x1009, 0x100A, 0x100B, 0x100C, 0x100D, 0x100E, 0x100F,
                             0x100200, 0x46};
  for (int i = 0; i < 18; ++i) {
    EXPECT_EQ(raw[i], want[i]) << i;
  }
}

template <class T>
T valueAt(const mshv::hv_register_assoc& a, size_t offset) {
  T v;
  std::memcpy(&v, a.value + offset, sizeof(T));
  return v;
}

TEST(MshvRegs, TheListInOrderWithHyperVsNames) {
  const std::vector<mshv::hv_register_assoc> regs = mshv::registersFor(sample());
  // HV_REGISTER_NAME values (Hyper-V TLFS; Linux include/hyperv/hvgdk_mini.h).
  const uint32_t names[] = {0x20000, 0x20001, 0x20002, 0x20003, 0x20004, 0x20005, 0x20006,
                            0x20007, 0x20008, 0x20009, 0x2000A, 0x2000B, 0x2000C, 0x2000D,
                            0x2000E, 0x2000F, 0x20010, 0x20011, 0x40000, 0x40002, 0x40003,
                            0x80001, 0x60000, 0x60001, 0x60002, 0x60003, 0x60004, 0x60005,
                            0x60006, 0x60007, 0x70000, 0x70001};
  ASSERT_EQ(regs.size(), std::size(names));
  for (size_t i = 0; i < regs.size(); ++i) {
    EXPECT_EQ(regs[i].name, names[i]) << i;
  }
  EXPECT_EQ(valueAt<uint64_t>(regs[0], 0), 0x1000u);   // rax
  EXPECT_EQ(valueAt<uint64_t>(regs[3], 0), 0x1003u);   // rbx
  EXPECT_EQ(valueAt<uint64_t>(regs[16], 0), 0x100200u);  // rip
  EXPECT_EQ(valueAt<uint64_t>(regs[21], 0), 0xD01u);   // efer
  // CS as HV_X64_SEGMENT_REGISTER: base u64, limit u32, selector u16, attributes u16 in the
  // descriptor form (L at bit 13, G at 15).
  EXPECT_EQ(valueAt<uint64_t>(regs[23], 0), 0u);
  EXPECT_EQ(valueAt<uint32_t>(regs[23], 8), 0xFFFFFFFFu);
  EXPECT_EQ(valueAt<uint16_t>(regs[23], 12), 0x08);
  EXPECT_EQ(valueAt<uint16_t>(regs[23], 14), 0xA09B);
  EXPECT_EQ(valueAt<uint64_t>(regs[27], 0), 0xFFFF800000001000u);  // gs.base
  // GDTR as HV_X64_TABLE_REGISTER: 3 pad u16, limit u16, base u64.
  EXPECT_EQ(valueAt<uint16_t>(regs[31], 0), 0);
  EXPECT_EQ(valueAt<uint16_t>(regs[31], 6), 0x2F);
  EXPECT_EQ(valueAt<uint64_t>(regs[31], 8), 0x5000u);
}

}  // namespace
}  // namespace igvmkit::hv
