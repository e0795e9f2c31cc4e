// Runs the TDX reset trampoline on a plain KVM vCPU that starts the way the TDX module starts a
// TD vCPU (loader-vmm.md §3.5): 32-bit protected mode, paging off, flat segments, RIP 0xFFFFFFF0,
// RFLAGS 2, RSI = vCPU index, CR4.MCE set. The trampoline must arrive at the 64-bit entry with the
// state the other platforms' VP contexts give; the entry is a `hlt`, so the run ends in
// KVM_EXIT_HLT and the test reads the registers back.
#include <gtest/gtest.h>

#include "builder/tdx_reset.h"
#include "builder/testing/kvm_vm.h"
#include "builder/x86.h"

namespace igvmkit::builder {
namespace {

using testing::KvmVm;

constexpr uint64_t kEntry = 0x20'0000;  // where the `hlt` waits

kvm_segment flatSegment(uint16_t selector, uint8_t type) {
  kvm_segment s{};
  s.limit = 0xFFFF'FFFF;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.db = 1;
  s.s = 1;
  s.g = 1;
  return s;
}

TEST(TdxResetOnKvm, ReachesTheSixtyFourBitEntry) {
  std::string why;
  std::unique_ptr<KvmVm> vm = KvmVm::create(0x40'0000, true, &why);
  if (!vm) {
    GTEST_SKIP() << why;
  }
  Result<PageTables> pt = identityMap({});
  ASSERT_TRUE(pt.ok());
  for (const Page& p : pt->pages) {
    ASSERT_TRUE(vm->write(p.gpa, p.bytes));
  }
  Page gdt = makeGdtPage();
  ASSERT_TRUE(vm->write(gdt.gpa, gdt.bytes));
  const std::byte hlt[] = {std::byte{0xF4}};
  ASSERT_TRUE(vm->write(kEntry, hlt));

  x86::VpState state = longModeState({.rip = kEntry, .rsp = 0x5000, .rsi = 0x2000, .cr3 = pt->cr3});
  state.rax = 0xA1;
  state.rbx = 0xB2;
  state.rdi = 0xD1;
  state.rbp = 0xB9;
  state.r9 = 0x99;
  state.r15 = 0xF15;
  Result<ByteVector> page = tdxResetPage(state, pt->map_end);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_TRUE(vm->write(layout::kTdxResetPageGpa, *page));

  // The TDX module's initial state: 32-bit protected mode, flat segments, paging off.
  kvm_sregs sregs = vm->sregs();
  sregs.cs = flatSegment(0x08, 0xB);
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flatSegment(0x10, 0x3);
  sregs.cr0 = kCr0Pe | kCr0Et | kCr0Ne;
  sregs.cr4 = kCr4Mce;
  sregs.efer = 0;
  vm->setSregs(sregs);
  kvm_regs regs{};
  regs.rip = layout::kTdxResetVector;
  regs.rflags = 0x2;
  regs.rsi = 0;  // vCPU index 0: the BSP
  vm->setRegs(regs);

  KvmVm::Exit exit = vm->run();
  EXPECT_EQ(exit.reason, static_cast<uint32_t>(KVM_EXIT_HLT)) << hex(vm->regs().rip);

  regs = vm->regs();
  sregs = vm->sregs();
  EXPECT_EQ(regs.rip, kEntry + 1);  // after the hlt
  EXPECT_EQ(regs.rsp, 0x5000u);
  EXPECT_EQ(regs.rsi, 0x2000u);
  EXPECT_EQ(regs.rax, 0xA1u);
  EXPECT_EQ(regs.rbx, 0xB2u);
  EXPECT_EQ(regs.rcx, 0u);
  EXPECT_EQ(regs.rdi, 0xD1u);
  EXPECT_EQ(regs.rbp, 0xB9u);
  EXPECT_EQ(regs.r9, 0x99u);
  EXPECT_EQ(regs.r15, 0xF15u);
  EXPECT_EQ(regs.rflags & 0x200, 0u);  // interrupts still off
  EXPECT_EQ(sregs.cr3, pt->cr3);
  EXPECT_EQ(sregs.cr0 & (kCr0Pe | kCr0Pg), kCr0Pe | kCr0Pg);
  EXPECT_NE(sregs.cr4 & kCr4Pae, 0u);
  EXPECT_NE(sregs.cr4 & kCr4Mce, 0u);  // the module's fixed bit survives
  EXPECT_EQ(sregs.efer & (kEferLme | kEferLma | kEferNxe | kEferSce),
            kEferLme | kEferLma | kEferNxe | kEferSce);
  EXPECT_EQ(sregs.cs.selector, layout::kCodeSelector);
  EXPECT_EQ(sregs.cs.l, 1);
  EXPECT_EQ(sregs.ds.selector, layout::kDataSelector);
  EXPECT_EQ(sregs.ss.selector, layout::kDataSelector);
  EXPECT_EQ(sregs.gdt.base, layout::kGdtGpa);
  EXPECT_EQ(sregs.gdt.limit, layout::kGdtLimit);
}

}  // namespace
}  // namespace igvmkit::builder
