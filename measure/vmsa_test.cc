#include "measure/vmsa.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/testing/matchers.h"
#include "igvm/defs.h"

namespace igvmkit::measure {
namespace {

using ::igvmkit::testing::HasRule;

template <class T>
void put(std::vector<std::byte>& page, size_t off, T v) {
  std::memcpy(page.data() + off, &v, sizeof(T));
}

// Edits one field of a VMSA page through igvm::SevVmsa.
template <class Edit>
void edit(std::vector<std::byte>& page, Edit change) {
  igvm::SevVmsa v;
  std::memcpy(&v, page.data(), sizeof(v));
  change(v);
  std::memcpy(page.data(), &v, sizeof(v));
}

// A VMSA KVM accepts as is: only fields QEMU copies are set (measurement.md §1.5 (b)).
std::vector<std::byte> kvmVmsa() {
  std::vector<std::byte> page(4096);
  put<uint16_t>(page, 0x10, 0xf000);      // cs.selector
  put<uint16_t>(page, 0x12, 0x9b);        // cs.attrib
  put<uint32_t>(page, 0x14, 0xffff);      // cs.limit
  put<uint64_t>(page, 0x18, 0xffff0000);  // cs.base
  put<uint64_t>(page, 0x310, 0x800f12);   // rdx
  edit(page, [](igvm::SevVmsa& v) {
    v.efer = 0x1000;
    v.cr0 = 0x31;
    v.rip = 0xfff0;
    v.rflags = 0x2;
    v.pat = 0x0007040600070406;
    v.sev_features = 1;
    v.xcr0 = 1;
    v.mxcsr = 0x1f80;
    v.x87_fcw = 0x37f;
  });
  return page;
}

// A page that is not 4 KiB is named as such (rule "vmsa.size" inside), not read past its end.
TEST(Vmsa, ShortPageIsAnIssueNotARead) {
  std::vector<std::byte> short_page(1648);
  std::vector<std::string> issues = kvmVmsaIssues(Bytes(short_page), kKvmVmsaGpa);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0], "vmsa is 0x670 bytes, not a 4 KiB page");
}

TEST(Vmsa, KvmAcceptsQemuStyleVmsa) {
  std::vector<std::byte> page = kvmVmsa();
  EXPECT_TRUE(kvmVmsaIssues(Bytes(page), kKvmVmsaGpa).empty());
  edit(page, [](igvm::SevVmsa& v) { v.cr0 = 0x30; });
  EXPECT_TRUE(kvmVmsaIssues(Bytes(page), kKvmVmsaGpa).empty());
}

TEST(Vmsa, KvmIssuesNameEachProblem) {
  std::vector<std::byte> page = kvmVmsa();
  edit(page, [](igvm::SevVmsa& v) {
    v.cr0 = 0x80000011;
    v.sev_features = 0x21;
  });
  put<uint64_t>(page, 0x240, 42);  // cr2: not passed to KVM
  page[0xCA] = std::byte{1};       // vmpl
  std::vector<std::string> issues = kvmVmsaIssues(Bytes(page), 0x803000);
  ASSERT_EQ(issues.size(), 5u);
  EXPECT_EQ(issues[0], "vmsa gpa 0x803000 is not 0xfffffffff000, where kvm measures it");
  EXPECT_EQ(issues[1], "vmsa cr0 0x80000011 is neither 0x31 nor 0x30");
  EXPECT_EQ(issues[2], "vmsa sev_features 0x21 is not exactly snp_active (0x1)");
  EXPECT_EQ(issues[3], "vmsa bytes 0xca..0xca are nonzero but qemu does not pass them to kvm");
  EXPECT_EQ(issues[4], "vmsa bytes 0x240..0x240 are nonzero but qemu does not pass them to kvm");
}

TEST(Vmsa, KvmPlanUsesVpIndexOrZero) {
  // cli-contract.md: vCPU i uses vp_index i, or vp_index 0 when the file has none for i.
  const uint32_t file[] = {0, 2, 5};
  Result<KvmVmsaPlan> plan = kvmVmsaPlan(file, 4);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->source_vp_index, (std::vector<uint32_t>{0, 0, 2, 0}));
  EXPECT_EQ(plan->unused_vp_indexes, (std::vector<uint32_t>{5}));

  const uint32_t only_bsp[] = {0};
  plan = kvmVmsaPlan(only_bsp, 1);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->source_vp_index, (std::vector<uint32_t>{0}));
}

// A vCPU count that does not fit a file with one VMSA per vCPU: fewer vCPUs than VMSAs is a launch
// QEMU refuses; more leaves vCPUs that QEMU starts from its own reset state.
TEST(Vmsa, KvmVcpuCountWarnings) {
  const uint32_t per_vcpu[] = {0, 1, 2, 3};
  for (uint32_t vcpus : {4u}) {
    Result<KvmVmsaPlan> plan = kvmVmsaPlan(per_vcpu, vcpus);
    ASSERT_TRUE(plan.ok());
    EXPECT_TRUE(kvmVcpuCountWarnings(*plan, vcpus).empty());
  }
  Result<KvmVmsaPlan> fewer = kvmVmsaPlan(per_vcpu, 2);
  ASSERT_TRUE(fewer.ok());
  EXPECT_EQ(kvmVcpuCountWarnings(*fewer, 2),
            (std::vector<std::string>{
                "the vmsa for vp_index 2, 3 is not measured with 2 vcpus, and qemu refuses a vp "
                "context for a vcpu the vm does not have: this launch needs at least 4 vcpus"}));
  Result<KvmVmsaPlan> more = kvmVmsaPlan(per_vcpu, 6);
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(kvmVcpuCountWarnings(*more, 6),
            (std::vector<std::string>{
                "vcpu 4, 5 has no vmsa of its own and is measured with vp_index 0's, but qemu "
                "applies no vp context to it (kvm measures its own reset state)"}));
  // One VMSA for every vCPU (the BSP's alone): the contract, no warning.
  const uint32_t only_bsp[] = {0};
  Result<KvmVmsaPlan> shared = kvmVmsaPlan(only_bsp, 4);
  ASSERT_TRUE(shared.ok());
  EXPECT_TRUE(kvmVcpuCountWarnings(*shared, 4).empty());
}

TEST(Vmsa, KvmPagesPerVcpu) {
  std::vector<std::byte> bsp = kvmVmsa();
  std::vector<std::byte> ap = kvmVmsa();
  edit(ap, [](igvm::SevVmsa& v) { v.rip = 0x1000; });
  const VpVmsa file[] = {{1, Bytes(ap)}, {0, Bytes(bsp)}};
  Result<std::vector<Bytes>> pages = kvmVmsaPages(file, 3);
  ASSERT_TRUE(pages.ok());
  ASSERT_EQ(pages->size(), 3u);
  EXPECT_EQ((*pages)[0].data(), bsp.data());
  EXPECT_EQ((*pages)[1].data(), ap.data());
  EXPECT_EQ((*pages)[2].data(), bsp.data());
  const VpVmsa only_ap[] = {{1, Bytes(ap)}};
  EXPECT_THAT(kvmVmsaPages(only_ap, 1), HasRule("snp.kvm_vmsa_missing"));
}

TEST(Vmsa, KvmPlanErrors) {
  const uint32_t no_bsp[] = {1};
  Result<KvmVmsaPlan> plan = kvmVmsaPlan(no_bsp, 2);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan, HasRule("snp.kvm_vmsa_missing"));
  EXPECT_EQ(plan.error().message, "vcpu 0 has no vmsa and the file has none for vp_index 0");
  const uint32_t dup[] = {0, 0};
  EXPECT_THAT(kvmVmsaPlan(dup, 1), HasRule("snp.duplicate_vp_index"));
  const uint32_t one[] = {0};
  EXPECT_EQ(kvmVmsaPlan(one, 0).error().code, Code::kUsage);
  EXPECT_FALSE(kvmVmsaPlan({}, 1).ok());
}

}  // namespace
}  // namespace igvmkit::measure
