// Opt-in tests against real devices. Each skips with a message unless its device exists (and, for
// the confidential backends, unless the kernel offers the VM type), so they pass everywhere and
// mean something only on the matching hardware. Tags: requires-kvm, requires-snp, requires-tdx,
// requires-mshv (see loader/README.md).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "loader/backend.h"
#include "hv/kvm_abi.h"
#include "loader/testing/test_util.h"

namespace igvmkit::loader {
namespace {

bool accessible(const char* path) { return access(path, R_OK | W_OK) == 0; }

// Whether /dev/kvm offers `type` in KVM_CAP_VM_TYPES.
bool kvmOffers(unsigned long type) {
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  auto dev = hv::systemDevice();
  long types = dev->ioctl(fd, hv::kvm::KVM_CHECK_EXTENSION, hv::kvm::kCapVmTypes);
  close(fd);
  return types > 0 && (types & (1l << type)) != 0;
}

Plan smallPlan(BackendKind b) {
  Plan p = testing::basePlan(b);
  p.ops.push_back(testing::mapAll(b));
  p.ops.push_back(testing::filledPages(0x100000, 4, 0xF4));
  p.ops.push_back(FillParameter{{ParameterKind::kVpCount}, 0x200000, kPageSize, {}});
  if (b == BackendKind::kKvm || b == BackendKind::kMshv) {
    p.ops.push_back(testing::registersOp(0));
  }
  if (b == BackendKind::kKvmSnp) {
    p.ops.push_back(
        testing::vmsaOp(0, kKvmSnpVmsaGpa, testing::vmsaPage(testing::sampleVmsaState())));
  }
  if (b == BackendKind::kMshvSnp) {
    p.ops.push_back(testing::vmsaOp(0, 0x300000, testing::vmsaPage(testing::sampleVmsaState())));
  }
  p.ops.push_back(Finalize{});
  return p;
}

void launchOnHardware(BackendKind b) {
  auto dev = hv::systemDevice();
  auto backend = makeBackend(b, *dev);
  Status s = launch(*backend, smallPlan(b));
  ASSERT_TRUE(s.ok()) << s.error().describe();
  ASSERT_FALSE(backend->vm().memory.empty());
  EXPECT_EQ(backend->vm().memory[0].host[0x100000], std::byte{0xF4});
}

TEST(Hardware, PlainKvmLoads) {
  if (!accessible("/dev/kvm")) {
    GTEST_SKIP() << "no accessible /dev/kvm";
  }
  launchOnHardware(BackendKind::kKvm);
}

TEST(Hardware, KvmSnpLaunches) {
  if (!accessible("/dev/kvm") || !accessible("/dev/sev") || !kvmOffers(hv::kvm::kVmSnp)) {
    GTEST_SKIP() << "no SEV-SNP host (needs /dev/kvm with vm type 4 and /dev/sev)";
  }
  launchOnHardware(BackendKind::kKvmSnp);
}

TEST(Hardware, KvmTdxLaunches) {
  if (!accessible("/dev/kvm") || !kvmOffers(hv::kvm::kVmTdx)) {
    GTEST_SKIP() << "no TDX host (needs /dev/kvm with vm type 5)";
  }
  launchOnHardware(BackendKind::kKvmTdx);
}

TEST(Hardware, MshvLoads) {
  if (!accessible("/dev/mshv")) {
    GTEST_SKIP() << "no accessible /dev/mshv";
  }
  launchOnHardware(BackendKind::kMshv);
}

TEST(Hardware, MshvSnpLaunches) {
  if (!accessible("/dev/mshv") || std::getenv("IGVMKIT_MSHV_SNP") == nullptr) {
    GTEST_SKIP() << "no /dev/mshv on an SNP host (set IGVMKIT_MSHV_SNP=1 on a downstream kernel)";
  }
  launchOnHardware(BackendKind::kMshvSnp);
}

}  // namespace
}  // namespace igvmkit::loader
