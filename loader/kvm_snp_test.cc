// The kvm-snp backend against the FakeDevice.
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

Plan snpPlan(uint64_t sev_features = 1) {
  Plan p = testing::basePlan(BackendKind::kKvmSnp);
  p.setup.snp_policy = 0x30000;
  p.setup.sev_features = sev_features;
  p.ops.push_back(testing::mapAll(p.backend));
  p.ops.push_back(testing::filledPages(0x100000, 2, 0x5A));
  p.ops.push_back(FillParameter{{ParameterKind::kMemoryMap}, 0x200000, kPageSize, {}});
  ImportPages shared = testing::zeroPages(0x300000, 1, PageType::kNormal);
  shared.flags = kPageFlagShared;
  p.ops.push_back(shared);
  p.ops.push_back(testing::zeroPages(0x400000, 1, PageType::kSecrets));
  p.ops.push_back(testing::zeroPages(0x401000, 1, PageType::kCpuid));
  x86::VpState st = testing::sampleVmsaState();
  p.ops.push_back(testing::vmsaOp(0, kKvmSnpVmsaGpa, testing::vmsaPage(st, sev_features)));
  Finalize fin;
  fin.snp_id = SnpIdBlock{};
  fin.snp_id->id_block[0] = 0xEE;
  fin.snp_id->author_key_enabled = true;
  fin.host_data[31] = 0x77;
  p.ops.push_back(fin);
  return p;
}

TEST(KvmSnpBackend, IssuesTheDocumentedSequence) {
  FakeDevice dev;
  auto backend = makeBackend(BackendKind::kKvmSnp, dev);
  Plan plan = snpPlan(0x21);  // the finish call points into it
  Status s = launch(*backend, plan);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  ASSERT_TRUE(dev.violations().empty()) << dev.violations()[0];
  EXPECT_EQ(dev.ioctlNames(), (std::vector<std::string>{"KVM_GET_API_VERSION",
                                                        "KVM_CHECK_EXTENSION",
                                                        "KVM_CREATE_VM",
                                                        "KVM_ENABLE_CAP",
                                                        "KVM_ENABLE_CAP",
                                                        "KVM_SEV_INIT2",
                                                        "KVM_CREATE_VCPU",
                                                        "KVM_SEV_SNP_LAUNCH_START",
                                                        "KVM_CREATE_GUEST_MEMFD",
                                                        "KVM_SET_USER_MEMORY_REGION2",
                                                        "KVM_SET_MEMORY_ATTRIBUTES",
                                                        "KVM_SEV_SNP_LAUNCH_UPDATE",
                                                        "KVM_SEV_SNP_LAUNCH_UPDATE",
                                                        "KVM_SET_MEMORY_ATTRIBUTES",
                                                        "KVM_SEV_SNP_LAUNCH_UPDATE",
                                                        "KVM_SEV_SNP_LAUNCH_UPDATE",
                                                        "KVM_GET_SREGS",
                                                        "KVM_SET_SREGS",
                                                        "KVM_SET_REGS",
                                                        "KVM_SET_XCRS",
                                                        "KVM_SET_MSRS",
                                                        "KVM_SET_DEBUGREGS",
                                                        "KVM_SET_FPU",
                                                        "KVM_SEV_SNP_LAUNCH_FINISH"}));
  EXPECT_EQ(dev.find("KVM_CREATE_VM")[0]->value, hv::kvm::kVmSnp);
  EXPECT_EQ(dev.find("KVM_CHECK_EXTENSION")[0]->value, hv::kvm::kCapVmTypes);
  auto cap = argOf<hv::kvm::kvm_enable_cap>(dev.find("KVM_ENABLE_CAP")[0]);
  EXPECT_EQ(cap.cap, hv::kvm::kCapExitHypercall);
  EXPECT_EQ(cap.args[0], 1u << 12);
  // INIT2 carries the VMSA features without SNP_ACTIVE.
  EXPECT_EQ(payloadOf<hv::kvm::kvm_sev_init>(dev.find("KVM_SEV_INIT2")[0]).vmsa_features, 0x20u);
  auto sev_cmd = argOf<hv::kvm::kvm_sev_cmd>(dev.find("KVM_SEV_INIT2")[0]);
  EXPECT_EQ(sev_cmd.id, hv::kvm::kSevInit2);
  EXPECT_EQ(
      payloadOf<hv::kvm::kvm_sev_snp_launch_start>(dev.find("KVM_SEV_SNP_LAUNCH_START")[0]).policy,
      0x30000u);
  auto gmem = argOf<hv::kvm::kvm_create_guest_memfd>(dev.find("KVM_CREATE_GUEST_MEMFD")[0]);
  EXPECT_EQ(gmem.size, testing::kTestMemory);
  auto region =
      argOf<hv::kvm::kvm_userspace_memory_region2>(dev.find("KVM_SET_USER_MEMORY_REGION2")[0]);
  EXPECT_EQ(region.flags, hv::kvm::kMemGuestMemfd);
  EXPECT_EQ(static_cast<long>(region.guest_memfd), dev.find("KVM_CREATE_GUEST_MEMFD")[0]->result);
  auto attrs = dev.find("KVM_SET_MEMORY_ATTRIBUTES");
  EXPECT_EQ(argOf<hv::kvm::kvm_memory_attributes>(attrs[0]).attributes, hv::kvm::kMemoryAttributePrivate);
  EXPECT_EQ(argOf<hv::kvm::kvm_memory_attributes>(attrs[0]).size, testing::kTestMemory);
  // The shared page is made shared and not launch-updated.
  EXPECT_EQ(argOf<hv::kvm::kvm_memory_attributes>(attrs[1]).address, 0x300000u);
  EXPECT_EQ(argOf<hv::kvm::kvm_memory_attributes>(attrs[1]).attributes, 0u);
  auto updates = dev.find("KVM_SEV_SNP_LAUNCH_UPDATE");
  const struct {
    uint64_t gfn, len;
    uint8_t type;
  } want[] = {{0x100, 0x2000, 1}, {0x200, 0x1000, 4}, {0x400, 0x1000, 5}, {0x401, 0x1000, 6}};
  ASSERT_EQ(updates.size(), 4u);
  const LoadedVm& vm = backend->vm();
  for (size_t i = 0; i < 4; ++i) {
    auto u = payloadOf<hv::kvm::kvm_sev_snp_launch_update>(updates[i]);
    EXPECT_EQ(u.gfn_start, want[i].gfn) << i;
    EXPECT_EQ(u.len, want[i].len) << i;
    EXPECT_EQ(u.type, want[i].type) << i;
    EXPECT_EQ(u.uaddr, reinterpret_cast<uint64_t>(vm.memory[0].host + want[i].gfn * kPageSize))
        << i;
  }
  // The VMSA became registers; EFER goes in without SVME (KVM sets it).
  auto sregs = argOf<hv::kvm::kvm_sregs>(dev.find("KVM_SET_SREGS")[0]);
  EXPECT_EQ(sregs.efer, 0xD00u);
  EXPECT_EQ(sregs.ldt.unusable, 0);
  auto xcrs = argOf<hv::kvm::kvm_xcrs>(dev.find("KVM_SET_XCRS")[0]);
  EXPECT_EQ(xcrs.nr_xcrs, 1u);
  EXPECT_EQ(xcrs.xcrs[0].value, 1u);
  auto fpu = argOf<hv::kvm::kvm_fpu>(dev.find("KVM_SET_FPU")[0]);
  EXPECT_EQ(fpu.fcw, 0x37F);
  EXPECT_EQ(fpu.mxcsr, 0x1F80u);
  auto fin = payloadOf<hv::kvm::kvm_sev_snp_launch_finish>(dev.find("KVM_SEV_SNP_LAUNCH_FINISH")[0]);
  EXPECT_EQ(fin.id_block_en, 1);
  EXPECT_EQ(fin.auth_key_en, 1);
  EXPECT_EQ(fin.host_data[31], 0x77);
  EXPECT_EQ(*reinterpret_cast<const uint8_t*>(fin.id_block_uaddr), 0xEE);
}

TEST(KvmSnpBackend, FollowsPartialProgressAndRetriesEagain) {
  FakeDevice dev;
  // The "kernel" processes one page per call.
  dev.script("KVM_SEV_SNP_LAUNCH_UPDATE", [](FakeCall&, void* arg) -> std::optional<long> {
    auto* cmd = static_cast<hv::kvm::kvm_sev_cmd*>(arg);
    auto* u = reinterpret_cast<hv::kvm::kvm_sev_snp_launch_update*>(cmd->data);
    u->gfn_start += 1;
    u->uaddr += 0x1000;
    u->len -= 0x1000;
    return 0;
  });
  dev.failOnce("KVM_SEV_SNP_LAUNCH_UPDATE", EAGAIN);
  auto backend = makeBackend(BackendKind::kKvmSnp, dev);
  ASSERT_TRUE(launch(*backend, snpPlan()).ok());
  auto updates = dev.find("KVM_SEV_SNP_LAUNCH_UPDATE");
  ASSERT_EQ(updates.size(), 6u);  // EAGAIN, then 2 + 1 + 1 + 1 pages
  EXPECT_EQ(updates[0]->result, -EAGAIN);
  EXPECT_EQ(payloadOf<hv::kvm::kvm_sev_snp_launch_update>(updates[2]).gfn_start, 0x101u);
  EXPECT_EQ(payloadOf<hv::kvm::kvm_sev_snp_launch_update>(updates[2]).len, 0x1000u);
}

TEST(KvmSnpBackend, NoProgressIsAnError) {
  FakeDevice dev;
  dev.script("KVM_SEV_SNP_LAUNCH_UPDATE", [](FakeCall&, void*) { return std::optional<long>(0); });
  auto backend = makeBackend(BackendKind::kKvmSnp, dev);
  Status s = launch(*backend, snpPlan());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "op #1: KVM_SEV_SNP_LAUNCH_UPDATE at 0x100000 made no progress");
}

TEST(KvmSnpBackend, FirmwareErrorsAreReported) {
  FakeDevice dev;
  dev.script("KVM_SEV_SNP_LAUNCH_FINISH", [](FakeCall&, void* arg) -> std::optional<long> {
    static_cast<hv::kvm::kvm_sev_cmd*>(arg)->error = 11;
    return -EIO;
  });
  auto backend = makeBackend(BackendKind::kKvmSnp, dev);
  Status s = launch(*backend, snpPlan());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(
      s.error().message,
      "op #7: KVM_SEV_SNP_LAUNCH_FINISH failed: Input/output error (errno 5), firmware error 0xb");
}

TEST(KvmSnpBackend, RefusesWithoutTheSnpVmType) {
  FakeDevice dev;
  dev.setVmTypes(1);
  auto backend = makeBackend(BackendKind::kKvmSnp, dev);
  Status s = launch(*backend, snpPlan());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kUnsupported);
  EXPECT_EQ(s.error().message,
            "this kernel's kvm does not offer vm type 4 (kvm-snp): KVM_CAP_VM_TYPES is 0x1");
  EXPECT_TRUE(dev.find("KVM_CREATE_VM").empty());
}

TEST(KvmSnpBackend, RefusesWithoutDevSev) {
  FakeDevice dev;
  dev.removeDevice("/dev/sev");
  auto backend = makeBackend(BackendKind::kKvmSnp, dev);
  Status s = launch(*backend, snpPlan());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kUnsupported);
  EXPECT_EQ(s.error().message, "open /dev/sev failed: No such file or directory (errno 2)");
}

TEST(KvmSnpBackend, RefusesMeasuredPagesInSharedMemory) {
  FakeDevice dev;
  Plan p = snpPlan();
  std::get<MapMemory>(p.ops[0]).is_private = false;
  auto backend = makeBackend(BackendKind::kKvmSnp, dev);
  Status s = launch(*backend, p);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("kvm.import_shared_memory"));
  EXPECT_TRUE(dev.find("KVM_SEV_SNP_LAUNCH_UPDATE").empty());
  EXPECT_TRUE(dev.violations().empty());
}

TEST(KvmSnpBackend, RefusesAVmsaElsewhereBeforeAnyCall) {
  FakeDevice dev;
  Plan p = snpPlan();
  std::get<SnpVmsa>(std::get<SetVpState>(p.ops[6]).state).gpa = 0x803000;
  auto backend = makeBackend(BackendKind::kKvmSnp, dev);
  Status s = launch(*backend, p);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("kvm_snp.vmsa_gpa"));
  EXPECT_TRUE(dev.calls().empty());
}

}  // namespace
}  // namespace igvmkit::loader
