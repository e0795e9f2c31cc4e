// The kvm-tdx backend against the FakeDevice.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "base/testing/matchers.h"
#include "loader/backend.h"
#include "hv/kvm_abi.h"
#include "hv/testing/fake_device.h"
#include "loader/testing/test_util.h"

namespace igvmkit::loader {
namespace {

using ::igvmkit::testing::HasRule;

using hv::testing::FakeCall;
using hv::testing::FakeDevice;
using hv::testing::argOf;
using hv::testing::payloadOf;

Plan tdxPlan() {
  Plan p = testing::basePlan(BackendKind::kKvmTdx, 2);
  p.setup.tdx_attributes = 1ull << 28;
  p.setup.tdx_xfam = 0x3;
  p.ops.push_back(testing::mapAll(p.backend));
  p.ops.push_back(testing::filledPages(0x100000, 2, 0x5A));
  p.ops.push_back(testing::zeroPages(0x200000, 1, PageType::kUnmeasured));
  p.ops.push_back(FillParameter{{ParameterKind::kVpCount}, 0x300000, kPageSize, {}});
  ImportPages shared = testing::zeroPages(0x400000, 1, PageType::kNormal);
  shared.flags = kPageFlagShared;
  p.ops.push_back(shared);
  p.ops.push_back(Finalize{});
  return p;
}

TEST(KvmTdxBackend, IssuesTheDocumentedSequence) {
  FakeDevice dev;
  auto backend = makeBackend(BackendKind::kKvmTdx, dev);
  Status s = launch(*backend, tdxPlan());
  ASSERT_TRUE(s.ok()) << s.error().describe();
  ASSERT_TRUE(dev.violations().empty()) << dev.violations()[0];
  EXPECT_EQ(dev.ioctlNames(),
            (std::vector<std::string>{
                "KVM_GET_API_VERSION", "KVM_CHECK_EXTENSION", "KVM_CREATE_VM",
                "KVM_TDX_CAPABILITIES", "KVM_GET_SUPPORTED_CPUID", "KVM_ENABLE_CAP",
                "KVM_TDX_INIT_VM", "KVM_CREATE_VCPU", "KVM_CREATE_VCPU", "KVM_TDX_INIT_VCPU",
                "KVM_TDX_INIT_VCPU", "KVM_CREATE_GUEST_MEMFD", "KVM_SET_USER_MEMORY_REGION2",
                "KVM_SET_MEMORY_ATTRIBUTES", "KVM_TDX_INIT_MEM_REGION", "KVM_TDX_INIT_MEM_REGION",
                "KVM_TDX_INIT_MEM_REGION", "KVM_SET_MEMORY_ATTRIBUTES", "KVM_TDX_FINALIZE_VM"}));
  EXPECT_EQ(dev.find("KVM_CREATE_VM")[0]->value, hv::kvm::kVmTdx);
  auto init = hv::testing::payloadWithEntries<hv::kvm::kvm_tdx_init_vm, hv::kvm::kvm_cpuid_entry2>(
      dev.find("KVM_TDX_INIT_VM")[0], [](const auto& h) { return h.cpuid.nent; });
  EXPECT_EQ(init.header.attributes, 1ull << 28);
  EXPECT_EQ(init.header.xfam, 0x3u);
  // Leaf 1 from the supported list, masked by the configurable bits the capabilities gave.
  ASSERT_EQ(init.entries.size(), 1u);
  const hv::kvm::kvm_cpuid_entry2& leaf = init.entries[0];
  EXPECT_EQ(leaf.function, 1u);
  EXPECT_EQ(leaf.ecx, 0xFEFA3223u & 0x800u);
  const LoadedVm& vm = backend->vm();
  auto regions = dev.find("KVM_TDX_INIT_MEM_REGION");
  const struct {
    uint64_t gpa, pages;
    uint32_t flags;
  } want[] = {{0x100000, 2, 1}, {0x200000, 1, 0}, {0x300000, 1, 0}};
  for (size_t i = 0; i < 3; ++i) {
    auto r = payloadOf<hv::kvm::kvm_tdx_init_mem_region>(regions[i]);
    EXPECT_EQ(r.gpa, want[i].gpa) << i;
    EXPECT_EQ(r.nr_pages, want[i].pages) << i;
    EXPECT_EQ(r.source_addr, reinterpret_cast<uint64_t>(vm.memory[0].host + want[i].gpa)) << i;
    EXPECT_EQ(argOf<hv::kvm::kvm_tdx_cmd>(regions[i]).flags, want[i].flags) << i;
    EXPECT_EQ(regions[i]->fd, vm.vcpu_fds[0]) << i;
  }
  EXPECT_EQ(dev.find("KVM_TDX_INIT_VCPU")[1]->fd, vm.vcpu_fds[1]);
  EXPECT_EQ(dev.find("KVM_TDX_FINALIZE_VM")[0]->fd, vm.vm_fd);
}

TEST(KvmTdxBackend, RefusesUnsupportedAttributes) {
  FakeDevice dev;
  Plan p = tdxPlan();
  p.setup.tdx_attributes = 1ull << 30;
  auto backend = makeBackend(BackendKind::kKvmTdx, dev);
  Status s = launch(*backend, p);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("kvm_tdx.attributes"));
  EXPECT_EQ(s.error().message, "td attributes 0x40000000 are not within the supported 0x10000001");
  EXPECT_TRUE(dev.find("KVM_TDX_INIT_VM").empty());
}

TEST(KvmTdxBackend, RefusesUnsupportedXfam) {
  FakeDevice dev;
  Plan p = tdxPlan();
  p.setup.tdx_xfam = 0x8000;
  auto backend = makeBackend(BackendKind::kKvmTdx, dev);
  Status s = launch(*backend, p);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("kvm_tdx.xfam"));
}

TEST(KvmTdxBackend, ReportsTheModuleStatus) {
  FakeDevice dev;
  dev.script("KVM_TDX_INIT_MEM_REGION", [](FakeCall&, void* arg) -> std::optional<long> {
    static_cast<hv::kvm::kvm_tdx_cmd*>(arg)->hw_error = 0xC000010000000000ull;
    return -EIO;
  });
  auto backend = makeBackend(BackendKind::kKvmTdx, dev);
  Status s = launch(*backend, tdxPlan());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(
      s.error().message,
      "op #1: KVM_TDX_INIT_MEM_REGION failed: Input/output error (errno 5), tdx module status "
      "0xc000010000000000");
}

TEST(KvmTdxBackend, FollowsPartialProgressAndRefusesNone) {
  FakeDevice dev;
  dev.script("KVM_TDX_INIT_MEM_REGION", [](FakeCall&, void* arg) -> std::optional<long> {
    auto* cmd = static_cast<hv::kvm::kvm_tdx_cmd*>(arg);
    auto* r = reinterpret_cast<hv::kvm::kvm_tdx_init_mem_region*>(cmd->data);
    r->gpa += 0x1000;
    r->source_addr += 0x1000;
    r->nr_pages -= 1;
    return 0;
  });
  ASSERT_TRUE(launch(*makeBackend(BackendKind::kKvmTdx, dev), tdxPlan()).ok());
  EXPECT_EQ(dev.find("KVM_TDX_INIT_MEM_REGION").size(), 4u);  // 2 + 1 + 1 pages, one per call
  FakeDevice stuck;
  stuck.script("KVM_TDX_INIT_MEM_REGION", [](FakeCall&, void*) { return std::optional<long>(0); });
  Status s = launch(*makeBackend(BackendKind::kKvmTdx, stuck), tdxPlan());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "op #1: KVM_TDX_INIT_MEM_REGION at 0x100000 made no progress");
}

TEST(KvmTdxBackend, RefusesRegistersBeforeAnyCall) {
  FakeDevice dev;
  Plan p = tdxPlan();
  p.ops.insert(p.ops.end() - 1, testing::registersOp(0));
  auto backend = makeBackend(BackendKind::kKvmTdx, dev);
  Status s = launch(*backend, p);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("plan.vp_registers"));
  EXPECT_TRUE(dev.calls().empty());
}

TEST(KvmTdxBackend, RefusesWithoutTheTdxVmType) {
  FakeDevice dev;
  dev.setVmTypes((1 << 0) | (1 << 4));
  auto backend = makeBackend(BackendKind::kKvmTdx, dev);
  Status s = launch(*backend, tdxPlan());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("kvm.vm_type"));
  EXPECT_NE(s.error().message.find("vm type 5 (kvm-tdx)"), std::string::npos);
}

}  // namespace
}  // namespace igvmkit::loader
