// takeBspState: the boot vCPU's state taken out of a loader plan.
#include <gtest/gtest.h>

#include <variant>

#include "base/testing/matchers.h"
#include "loader/plan.h"
#include "vmm/vmm.h"

using ::igvmkit::testing::HasRule;

namespace igvmkit::vmm {
namespace {

x86::VpState longModeRegisters() {
  x86::VpState r;
  r.rip = 0x100000;
  r.rsi = 0x82000;
  // Written in SVM form: type b, S, P, L (bit 9); P, D/B (10), G (11).
  r.cs = {0, 0xffffffff, 0x08, x86::descriptorAttributes(0x29b)};
  r.ds = r.es = r.fs = r.gs = r.ss = {0, 0xffffffff, 0x10, x86::descriptorAttributes(0xc93)};
  r.cr0 = 0x80000011;
  r.cr3 = 0x2000;
  r.cr4 = 0x20;
  r.efer = 0x500;
  return r;
}

TEST(PlanState, AttributesGoToDescriptorForm) {
  loader::Plan plan;
  plan.ops.push_back(loader::SetVpState{0, longModeRegisters()});
  Result<x86::VpState> taken = takeBspState(plan, false);
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  const x86::VpState& v = *taken;
  EXPECT_EQ(v.cs.attributes, 0x209b);  // L is descriptor bit 13
  EXPECT_EQ(v.ds.attributes, 0xc093);  // D/B bit 14, G bit 15
  EXPECT_EQ(v.cs.selector, 0x08);
  EXPECT_EQ(v.rip, 0x100000u);
  EXPECT_EQ(v.rsi, 0x82000u);
  EXPECT_EQ(v.efer, 0x500u);
}

TEST(PlanState, TakesVp0AndDropsEverySetVpState) {
  loader::Plan plan;
  plan.ops.push_back(loader::MapMemory{0, 0x1000000, false});
  plan.ops.push_back(loader::SetVpState{1, longModeRegisters()});
  plan.ops.push_back(loader::SetVpState{0, longModeRegisters()});
  plan.ops.push_back(loader::Finalize{});
  Result<x86::VpState> v = takeBspState(plan, false);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->rip, 0x100000u);
  ASSERT_EQ(plan.ops.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<loader::MapMemory>(plan.ops[0]));
  EXPECT_TRUE(std::holds_alternative<loader::Finalize>(plan.ops[1]));
}

TEST(PlanState, RefusesAPlanWithoutVp0) {
  loader::Plan plan;
  plan.ops.push_back(loader::Finalize{});
  Result<x86::VpState> v = takeBspState(plan, false);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v, HasRule("run.no_vp_context"));
}

TEST(PlanState, RefusesAnSnpVmsaUnlessAllowed) {
  loader::Plan plan;
  // Emplaced: GCC 12 under ASan warns (maybe-uninitialized) about moving the temporary's other
  // variant alternative, which is never read.
  auto& op = std::get<loader::SetVpState>(plan.ops.emplace_back(loader::SetVpState{}));
  op.state.emplace<loader::SnpVmsa>(loader::SnpVmsa{loader::kKvmSnpVmsaGpa, ByteVector(4096)});
  Result<x86::VpState> v = takeBspState(plan, false);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v, HasRule("run.snp_vmsa"));
  // Allowed, an all-zero page still fails the VMSA decoder (EFER without SVME): refused, not run.
  Result<x86::VpState> w = takeBspState(plan, true);
  EXPECT_FALSE(w.ok());
}

}  // namespace
}  // namespace igvmkit::vmm
