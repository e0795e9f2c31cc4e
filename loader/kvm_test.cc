// The plain kvm backend against the FakeDevice.
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

using hv::testing::argOf;
using hv::testing::FakeDevice;

Plan kvmPlan() {
  Plan p = testing::basePlan(BackendKind::kKvm, 2);
  p.ops.push_back(testing::mapAll(p.backend));
  p.ops.push_back(testing::filledPages(0x100000, 2, 0x5A));
  p.ops.push_back(FillParameter{{ParameterKind::kCommandLine},
                                0x20000,
                                kPageSize,
                                {{0, ByteVector(kPageSize, std::byte{0x33})}}});
  p.ops.push_back(testing::registersOp(0));
  p.ops.push_back(Finalize{});
  return p;
}

TEST(KvmBackend, IssuesTheDocumentedSequence) {
  FakeDevice dev;
  auto backend = makeBackend(BackendKind::kKvm, dev);
  Plan p = kvmPlan();
  Status s = launch(*backend, p);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_TRUE(dev.violations().empty()) << dev.violations()[0];
  EXPECT_EQ(dev.ioctlNames(),
            (std::vector<std::string>{"KVM_GET_API_VERSION", "KVM_CREATE_VM", "KVM_SET_TSS_ADDR",
                                      "KVM_CREATE_IRQCHIP", "KVM_CREATE_VCPU", "KVM_CREATE_VCPU",
                                      "KVM_SET_USER_MEMORY_REGION", "KVM_GET_SREGS",
                                      "KVM_SET_SREGS", "KVM_SET_REGS"}));
  EXPECT_EQ(dev.find("KVM_CREATE_VM")[0]->value, 0u);
  EXPECT_EQ(dev.find("KVM_SET_TSS_ADDR")[0]->value, 0xFFFBD000u);
  EXPECT_EQ(dev.find("KVM_CREATE_VCPU")[1]->value, 1u);
  auto region =
      argOf<hv::kvm::kvm_userspace_memory_region>(dev.find("KVM_SET_USER_MEMORY_REGION")[0]);
  EXPECT_EQ(region.slot, 0u);
  EXPECT_EQ(region.flags, 0u);
  EXPECT_EQ(region.guest_phys_addr, 0u);
  EXPECT_EQ(region.memory_size, testing::kTestMemory);
  const LoadedVm& vm = backend->vm();
  ASSERT_EQ(vm.memory.size(), 1u);
  EXPECT_EQ(region.userspace_addr, reinterpret_cast<uint64_t>(vm.memory[0].host));
  // Data and parameter bytes landed in guest memory; the rest stayed zero.
  EXPECT_EQ(vm.memory[0].host[0x100000], std::byte{0x5A});
  EXPECT_EQ(vm.memory[0].host[0x101FFF], std::byte{0x5A});
  EXPECT_EQ(vm.memory[0].host[0x102000], std::byte{0});
  EXPECT_EQ(vm.memory[0].host[0x20000], std::byte{0x33});
  auto regs = argOf<hv::kvm::kvm_regs>(dev.find("KVM_SET_REGS")[0]);
  x86::VpState want = testing::sampleVmsaState();
  EXPECT_EQ(regs.rip, want.rip);
  EXPECT_EQ(regs.rsp, want.rsp);
  EXPECT_EQ(regs.rsi, want.rsi);
  EXPECT_EQ(regs.r15, want.r15);
  EXPECT_EQ(regs.rflags, 2u);
  auto sregs = argOf<hv::kvm::kvm_sregs>(dev.find("KVM_SET_SREGS")[0]);
  EXPECT_EQ(sregs.cr0, want.cr0);
  EXPECT_EQ(sregs.cr3, want.cr3);
  EXPECT_EQ(sregs.efer, want.efer);
  EXPECT_EQ(sregs.cs.selector, 8);
  EXPECT_EQ(sregs.cs.l, 1);
  EXPECT_EQ(sregs.cs.type, 0xB);
  EXPECT_EQ(sregs.cs.present, 1);
  EXPECT_EQ(sregs.ds.db, 1);
  EXPECT_EQ(sregs.ds.g, 1);
  EXPECT_EQ(sregs.gdt.base, 0x5000u);
  EXPECT_EQ(sregs.gdt.limit, 0x1F);
  EXPECT_EQ(sregs.ldt.unusable, 1);  // a null, not-present segment is unusable on VMX
  // vCPU ioctls went to vCPU 0's fd.
  EXPECT_EQ(dev.find("KVM_SET_REGS")[0]->fd, vm.vcpu_fds[0]);
}

TEST(KvmBackend, ReleasesEverythingItCreated) {
  FakeDevice dev;
  {
    auto backend = makeBackend(BackendKind::kKvm, dev);
    ASSERT_TRUE(launch(*backend, kvmPlan()).ok());
  }
  int opened = 0, closed = 0, mapped = 0, unmapped = 0;
  for (const auto& c : dev.calls()) {
    opened += c.kind == hv::testing::FakeCall::Kind::kOpen ? 1 : 0;
    opened += c.name == "KVM_CREATE_VM" || c.name == "KVM_CREATE_VCPU" ? 1 : 0;
    closed += c.kind == hv::testing::FakeCall::Kind::kClose ? 1 : 0;
    mapped += c.kind == hv::testing::FakeCall::Kind::kMmap ? 1 : 0;
    unmapped += c.kind == hv::testing::FakeCall::Kind::kMunmap ? 1 : 0;
  }
  EXPECT_EQ(opened, closed);
  EXPECT_EQ(mapped, unmapped);
  EXPECT_TRUE(dev.violations().empty());
}

TEST(KvmBackend, RefusesABadPlanBeforeAnyCall) {
  FakeDevice dev;
  auto backend = makeBackend(BackendKind::kKvm, dev);
  Plan p = kvmPlan();
  p.ops.insert(p.ops.end() - 1, testing::filledPages(testing::kTestMemory, 1, 1));
  Status s = launch(*backend, p);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("plan.outside_ram"));
  EXPECT_TRUE(dev.calls().empty());
}

TEST(KvmBackend, RefusesAPlanForAnotherBackend) {
  FakeDevice dev;
  auto backend = makeBackend(BackendKind::kKvm, dev);
  Plan p = kvmPlan();
  p.backend = BackendKind::kMshv;
  Status s = launch(*backend, p);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kUsage);
  EXPECT_TRUE(dev.calls().empty());
}

TEST(KvmBackend, MissingDevKvmIsUnsupported) {
  FakeDevice dev;
  dev.removeDevice("/dev/kvm");
  auto backend = makeBackend(BackendKind::kKvm, dev);
  Status s = launch(*backend, kvmPlan());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kUnsupported);
  EXPECT_EQ(s.error().message, "open /dev/kvm failed: No such file or directory (errno 2)");
}

TEST(KvmBackend, AnIoctlFailureNamesTheCallAndOp) {
  FakeDevice dev;
  dev.failOnce("KVM_SET_USER_MEMORY_REGION", EEXIST);
  auto backend = makeBackend(BackendKind::kKvm, dev);
  Status s = launch(*backend, kvmPlan());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kInternal);
  EXPECT_EQ(s.error().message, "op #0: KVM_SET_USER_MEMORY_REGION failed: File exists (errno 17)");
}

TEST(KvmBackend, WrongApiVersionIsUnsupported) {
  FakeDevice dev;
  dev.script("KVM_GET_API_VERSION",
             [](hv::testing::FakeCall&, void*) { return std::optional<long>(11); });
  auto backend = makeBackend(BackendKind::kKvm, dev);
  Status s = launch(*backend, kvmPlan());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("kvm.api_version"));
}

}  // namespace
}  // namespace igvmkit::loader
