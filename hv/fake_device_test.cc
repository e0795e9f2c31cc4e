// The FakeDevice's own checks: a call that breaks a documented rule is refused and recorded, so the
// backend tests above can trust an empty violations() list.
#include "hv/testing/fake_device.h"

#include <fcntl.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "hv/kvm_abi.h"
#include "hv/mshv_abi.h"

namespace igvmkit::hv::testing {
namespace {

using namespace kvm;  // NOLINT

struct SnpVm {
  FakeDevice dev;
  int kvm_fd = dev.open("/dev/kvm", O_RDWR);
  int sev_fd = dev.open("/dev/sev", O_RDWR);
  int vm = static_cast<int>(dev.ioctl(kvm_fd, KVM_CREATE_VM, kVmSnp));

  long sev(uint32_t id, void* data) {
    kvm_sev_cmd cmd{};
    cmd.id = id;
    cmd.data = reinterpret_cast<uint64_t>(data);
    cmd.sev_fd = static_cast<uint32_t>(sev_fd);
    return dev.ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &cmd);
  }
};

TEST(FakeDevice, RefusesNonzeroPaddingInRegion2) {
  SnpVm v;
  kvm_userspace_memory_region2 r{};
  r.memory_size = 0x1000;
  r.pad2[3] = 1;
  EXPECT_EQ(v.dev.ioctl(v.vm, KVM_SET_USER_MEMORY_REGION2, &r), -EINVAL);
  ASSERT_EQ(v.dev.violations().size(), 1u);
  EXPECT_EQ(v.dev.violations()[0], "KVM_SET_USER_MEMORY_REGION2: padding must be zero");
}

TEST(FakeDevice, RefusesVcpusBeforeInit2AndUpdatesOfSharedMemory) {
  SnpVm v;
  EXPECT_EQ(v.dev.ioctl(v.vm, KVM_CREATE_VCPU, 0ul), -EINVAL);
  kvm_sev_init init{};
  EXPECT_EQ(v.sev(kSevInit2, &init), 0);
  kvm_sev_snp_launch_start start{};
  start.policy = 0x30000;
  EXPECT_EQ(v.sev(kSevSnpLaunchStart, &start), 0);
  alignas(4096) static uint8_t page[4096];
  kvm_sev_snp_launch_update u{};
  u.gfn_start = 0;
  u.uaddr = reinterpret_cast<uint64_t>(page);
  u.len = 0x1000;
  u.type = kSnpPageNormal;
  EXPECT_EQ(v.sev(kSevSnpLaunchUpdate, &u), -EINVAL);
  u.type = 2;  // VMSA: not a uAPI type
  EXPECT_EQ(v.sev(kSevSnpLaunchUpdate, &u), -EINVAL);
  ASSERT_EQ(v.dev.violations().size(), 4u);
  EXPECT_EQ(v.dev.violations()[0], "KVM_CREATE_VCPU: vcpus must be created after KVM_SEV_INIT2");
  EXPECT_EQ(v.dev.violations()[1],
            "KVM_SEV_SNP_LAUNCH_UPDATE: range 0x0 is not private guest_memfd memory");
  EXPECT_EQ(v.dev.violations()[2], "KVM_SEV_SNP_LAUNCH_UPDATE: invalid page type 2");
}

TEST(FakeDevice, RefusesPolicyWithoutBit17AndInit2WithSnpActive) {
  SnpVm v;
  kvm_sev_init init{};
  init.vmsa_features = 1;
  EXPECT_EQ(v.sev(kSevInit2, &init), -EINVAL);
  kvm_sev_snp_launch_start start{};
  start.policy = 0x10000;
  EXPECT_EQ(v.sev(kSevSnpLaunchStart, &start), -EINVAL);
  ASSERT_GE(v.dev.violations().size(), 2u);
  EXPECT_EQ(v.dev.violations()[0], "KVM_SEV_INIT2: vmsa_features must not include snp_active");
  EXPECT_EQ(v.dev.violations()[1], "KVM_SEV_SNP_LAUNCH_START: policy bit 17 must be one");
}

TEST(FakeDevice, RefusesValueFormForPointerIoctlsAndWrongFds) {
  FakeDevice dev;
  int kvm_fd = dev.open("/dev/kvm", O_RDWR);
  EXPECT_EQ(dev.ioctl(kvm_fd, KVM_SET_REGS, 0ul), -EFAULT);
  EXPECT_EQ(dev.ioctl(kvm_fd, KVM_CREATE_VCPU, 0ul), -EINVAL);  // a vm ioctl on /dev/kvm
  EXPECT_EQ(dev.ioctl(kvm_fd, KVM_CREATE_VM, 9ul), -EINVAL);
  ASSERT_EQ(dev.violations().size(), 3u);
  EXPECT_EQ(dev.violations()[0], "KVM_SET_REGS: takes a pointer, not a value");
  EXPECT_EQ(dev.violations()[1], "KVM_CREATE_VCPU: must be issued on a vm fd");
  EXPECT_EQ(dev.violations()[2], "KVM_CREATE_VM: unknown vm type 9");
}

TEST(FakeDevice, RefusesBadMshvArguments) {
  FakeDevice dev;
  int mshv_fd = dev.open("/dev/mshv", O_RDWR);
  mshv::mshv_create_partition p{};
  p.pt_flags = 1ull << 40;
  EXPECT_EQ(dev.ioctl(mshv_fd, mshv::MSHV_CREATE_PARTITION, &p), -EINVAL);
  p.pt_flags = 0;
  int pt = static_cast<int>(dev.ioctl(mshv_fd, mshv::MSHV_CREATE_PARTITION, &p));
  ASSERT_GE(pt, 0);
  struct {
    mshv::mshv_import_isolated_pages h;
    uint64_t gpn;
  } imp{};
  imp.h.page_type = 1;
  imp.h.page_count = 1;
  EXPECT_EQ(dev.ioctl(pt, mshv::MSHV_IMPORT_ISOLATED_PAGES, &imp),
            -EINVAL);  // not an snp partition
  mshv::mshv_root_hvcall call{};
  call.code = 0x00EF;  // IMPORT_ISOLATED_PAGES: not on the upstream allow-list we model
  uint64_t in[2] = {};
  call.in_sz = sizeof(in);
  call.in_ptr = reinterpret_cast<uint64_t>(in);
  EXPECT_EQ(dev.ioctl(pt, mshv::MSHV_ROOT_HVCALL, &call), -EINVAL);
  ASSERT_EQ(dev.violations().size(), 3u);
  EXPECT_EQ(dev.violations()[0], "MSHV_CREATE_PARTITION: unknown partition flags 0x10000000000");
  EXPECT_EQ(dev.violations()[1],
            "MSHV_IMPORT_ISOLATED_PAGES: isolated imports need an snp partition");
  EXPECT_EQ(dev.violations()[2],
            "MSHV_ROOT_HVCALL(0xef): hypercall 0xef is not on the pass-through allow-list");
}

TEST(FakeDevice, ChecksRunVpAndVpRegisterHypercalls) {
  FakeDevice dev;
  int mshv_fd = dev.open("/dev/mshv", O_RDWR);
  mshv::mshv_create_partition p{};
  int pt = static_cast<int>(dev.ioctl(mshv_fd, mshv::MSHV_CREATE_PARTITION, &p));
  mshv::mshv_create_vp vp_arg{0};
  int vp = static_cast<int>(dev.ioctl(pt, mshv::MSHV_CREATE_VP, &vp_arg));
  ASSERT_GE(vp, 0);
  mshv::hv_message msg{};
  EXPECT_EQ(dev.ioctl(pt, mshv::MSHV_RUN_VP, &msg), -EINVAL);  // a partition fd, not a vp fd
  // A queued message is copied out once; then the VP "runs" until a signal (-EINTR).
  mshv::hv_message halt{};
  halt.header.message_type = mshv::kHvMsgX64Halt;
  Bytes b = asBytes(halt);
  dev.queueRunVpMessage(0, ByteVector(b.begin(), b.end()));
  EXPECT_EQ(dev.ioctl(vp, mshv::MSHV_RUN_VP, &msg), 0);
  EXPECT_EQ(msg.header.message_type, mshv::kHvMsgX64Halt);
  EXPECT_EQ(dev.ioctl(vp, mshv::MSHV_RUN_VP, &msg), -EINTR);

  // SET then GET of RIP on VP 0; GET with a wrong output size and SET for a VP that does not
  // exist are refused.
  struct {
    mshv::hv_input_set_vp_registers h;
    mshv::hv_register_assoc a;
  } set{};
  set.a.name = mshv::kRegRip;
  set.a.value[0] = 0x34;
  set.a.value[1] = 0x12;
  mshv::mshv_root_hvcall call{};
  call.code = mshv::kHvcallSetVpRegisters;
  call.reps = 1;
  call.in_sz = sizeof(set);
  call.in_ptr = reinterpret_cast<uint64_t>(&set);
  EXPECT_EQ(dev.ioctl(pt, mshv::MSHV_ROOT_HVCALL, &call), 0);
  EXPECT_EQ(dev.vpRegister(pt, 0, mshv::kRegRip), 0x1234u);
  set.h.vp_index = 1;
  EXPECT_EQ(dev.ioctl(pt, mshv::MSHV_ROOT_HVCALL, &call), -EINVAL);
  struct {
    mshv::hv_input_get_vp_registers h;
    uint32_t name;
  } get{};
  get.name = mshv::kRegRip;
  uint8_t out[16] = {};
  mshv::mshv_root_hvcall g{};
  g.code = mshv::kHvcallGetVpRegisters;
  g.reps = 1;
  g.in_sz = sizeof(get.h) + sizeof(get.name);  // 20: the struct itself is padded to 24
  g.out_sz = sizeof(out);
  g.in_ptr = reinterpret_cast<uint64_t>(&get);
  g.out_ptr = reinterpret_cast<uint64_t>(out);
  EXPECT_EQ(dev.ioctl(vp, mshv::MSHV_ROOT_HVCALL, &g), 0);
  EXPECT_EQ(out[0], 0x34);
  EXPECT_EQ(out[1], 0x12);
  g.out_sz = 8;
  EXPECT_EQ(dev.ioctl(pt, mshv::MSHV_ROOT_HVCALL, &g), -EINVAL);
  ASSERT_EQ(dev.violations().size(), 3u);
  EXPECT_EQ(dev.violations()[0], "MSHV_RUN_VP: must be issued on a vp fd");
  EXPECT_EQ(dev.violations()[1],
            "MSHV_ROOT_HVCALL(SET_VP_REGISTERS): vp_index 1 names no vp of this partition");
  EXPECT_EQ(dev.violations()[2],
            "MSHV_ROOT_HVCALL(GET_VP_REGISTERS): out_sz is 8 bytes; the kernel's "
            "hv_register_value[reps] is 16 (kernel_abi_facts.h)");
}

// Sizes come from the kernels' headers (kernel_abi_facts.h): a request whose _IOC_SIZE is not the
// kernel's structure size, or a hypercall input of the wrong size, is refused before any answer.
TEST(FakeDevice, RefusesArgumentsOfTheWrongSize) {
  SnpVm v;
  kvm_userspace_memory_region r{};
  r.memory_size = 0x1000;
  const unsigned long short_region = ioc(kWrite, kKvmIo, 0x46, 24);  // 8 bytes short
  EXPECT_EQ(v.dev.ioctl(v.vm, short_region, &r), -EINVAL);
  const unsigned long long_region = ioc(kWrite, kKvmIo, 0x46, 40);  // 8 bytes long
  EXPECT_EQ(v.dev.ioctl(v.vm, long_region, &r), -EINVAL);
  const unsigned long read_region = ioc(kRead, kKvmIo, 0x46, 32);  // size right, direction wrong
  EXPECT_EQ(v.dev.ioctl(v.vm, read_region, &r), -EINVAL);

  int mshv_fd = v.dev.open("/dev/mshv", O_RDWR);
  mshv::mshv_create_partition p{};
  int pt = static_cast<int>(v.dev.ioctl(mshv_fd, mshv::MSHV_CREATE_PARTITION, &p));
  mshv::hv_input_set_partition_property in{};
  mshv::mshv_root_hvcall call{};
  call.code = mshv::kHvcallSetPartitionProperty;
  call.in_sz = sizeof(in) - 8;
  call.in_ptr = reinterpret_cast<uint64_t>(&in);
  EXPECT_EQ(v.dev.ioctl(pt, mshv::MSHV_ROOT_HVCALL, &call), -EINVAL);
  call.in_sz = sizeof(in);
  EXPECT_EQ(v.dev.ioctl(pt, mshv::MSHV_ROOT_HVCALL, &call), 0);

  ASSERT_EQ(v.dev.violations().size(), 4u);
  EXPECT_EQ(v.dev.violations()[0],
            "KVM_SET_USER_MEMORY_REGION: the argument (_IOC_SIZE of 0x4018ae46) is 24 bytes; the "
            "kernel's kvm_userspace_memory_region is 32 (kernel_abi_facts.h)");
  EXPECT_EQ(v.dev.violations()[1],
            "KVM_SET_USER_MEMORY_REGION: the argument (_IOC_SIZE of 0x4028ae46) is 40 bytes; the "
            "kernel's kvm_userspace_memory_region is 32 (kernel_abi_facts.h)");
  EXPECT_EQ(v.dev.violations()[2], "ioctl(0x8020ae46): not an ioctl of the kernel's table "
                                   "(kernel_abi_facts.h)");
  EXPECT_EQ(v.dev.violations()[3],
            "MSHV_ROOT_HVCALL(SET_PARTITION_PROPERTY): in_sz is 16 bytes; the kernel's "
            "hv_input_set_partition_property is 24 (kernel_abi_facts.h)");
  // Refused calls are still recorded under their names.
  EXPECT_EQ(v.dev.find("KVM_SET_USER_MEMORY_REGION").size(), 2u);
}

// The strict views fail the test when the recorded bytes are not exactly what they read.
TEST(FakeDevice, StrictViewsRefuseTheWrongSize) {
  SnpVm v;
  kvm_userspace_memory_region r{};
  r.memory_size = 0x1000;
  ASSERT_EQ(v.dev.ioctl(v.vm, KVM_SET_USER_MEMORY_REGION, &r), 0);
  const FakeCall* call = v.dev.find("KVM_SET_USER_MEMORY_REGION")[0];
  EXPECT_EQ(argOf<kvm_userspace_memory_region>(call).memory_size, 0x1000u);
  EXPECT_NONFATAL_FAILURE(argOf<kvm_regs>(call), "the recorded argument is 32 bytes");
  EXPECT_NONFATAL_FAILURE(argOf<uint64_t>(call), "the test reads it as 8");
  EXPECT_NONFATAL_FAILURE(payloadOf<uint64_t>(call), "the recorded payload is 0 bytes");
  // A header and entries: the count the header declares must match the bytes recorded.
  auto as_entries = argWithEntries<uint64_t, uint64_t>(call, 3);
  EXPECT_EQ(as_entries.entries.size(), 3u);
  EXPECT_NONFATAL_FAILURE((argWithEntries<uint64_t, uint64_t>(call, 2)), "the test reads it as 24");
  EXPECT_NONFATAL_FAILURE((argWithEntries<uint64_t, uint64_t>(call, [](uint64_t) { return 4; })),
                          "the test reads it as 40");
  EXPECT_TRUE(v.dev.violations().empty());
}

TEST(FakeDevice, ScriptsAndFailuresApplyByName) {
  FakeDevice dev;
  int kvm_fd = dev.open("/dev/kvm", O_RDWR);
  dev.failOnce("KVM_GET_API_VERSION", EPERM);
  EXPECT_EQ(dev.ioctl(kvm_fd, KVM_GET_API_VERSION, 0ul), -EPERM);
  EXPECT_EQ(dev.ioctl(kvm_fd, KVM_GET_API_VERSION, 0ul), 12);
  dev.script("KVM_CHECK_EXTENSION", [](FakeCall& c, void*) -> std::optional<long> {
    return c.value == 7 ? std::optional<long>(42) : std::nullopt;
  });
  EXPECT_EQ(dev.ioctl(kvm_fd, KVM_CHECK_EXTENSION, 7ul), 42);
  EXPECT_EQ(dev.ioctl(kvm_fd, KVM_CHECK_EXTENSION, 8ul), 1);
  EXPECT_EQ(dev.open("/dev/nope", O_RDWR), -ENOENT);
  EXPECT_TRUE(dev.violations().empty());
}

// A KVM vCPU as the VMM drives it: its kvm_run mapping, scripted exits, then KVM_RUN blocking
// until immediate_exit; the answers to KVM_GET_MP_STATE and KVM_GET_REGS; guest memory.
TEST(FakeDevice, KvmVcpusRunScriptedExitsThenWaitForTheKick) {
  FakeDevice dev;
  int kvm_fd = dev.open("/dev/kvm", O_RDWR);
  int vm = static_cast<int>(dev.ioctl(kvm_fd, KVM_CREATE_VM, 0ul));
  int vcpu0 = static_cast<int>(dev.ioctl(vm, KVM_CREATE_VCPU, 0ul));
  int vcpu1 = static_cast<int>(dev.ioctl(vm, KVM_CREATE_VCPU, 1ul));
  long run_size = dev.ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0ul);
  ASSERT_GE(run_size, static_cast<long>(sizeof(kvm_run)));
  // Without its kvm_run mapped, a vCPU does not run in the fake.
  EXPECT_EQ(dev.ioctl(vcpu1, KVM_RUN, nullptr), -EINVAL);
  int err = 0;
  auto* run = static_cast<kvm_run*>(
      dev.mmap(static_cast<size_t>(run_size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu1, 0, &err));
  ASSERT_NE(run, nullptr);
  dev.queueKvmRun(1, [](FakeDevice::KvmRun& r) { return r.ioOut(0xF4, 42); });
  dev.queueKvmRun(1, [](FakeDevice::KvmRun& r) { return r.exitReason(kExitShutdown); });
  ASSERT_EQ(dev.ioctl(vcpu1, KVM_RUN, nullptr), 0);
  EXPECT_EQ(run->exit_reason, kExitIo);
  EXPECT_EQ(run->io.port, 0xF4);
  EXPECT_EQ(run->io.direction, kExitIoOut);
  ASSERT_LE(run->io.data_offset + 1u, static_cast<uint64_t>(run_size));
  EXPECT_EQ(reinterpret_cast<uint8_t*>(run)[run->io.data_offset], 42);
  ASSERT_EQ(dev.ioctl(vcpu1, KVM_RUN, nullptr), 0);
  EXPECT_EQ(run->exit_reason, kExitShutdown);
  // Nothing left: KVM_RUN blocks until the VMM sets immediate_exit, then fails with EINTR.
  std::atomic<bool> returned = false;
  long rc = 0;
  std::thread runner([&] {
    rc = dev.ioctlInterruptible(vcpu1, KVM_RUN, nullptr);
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(returned.load());
  std::atomic_ref<uint8_t>(run->immediate_exit).store(1);
  runner.join();
  EXPECT_EQ(rc, -EINTR);
  // KVM_GET_MP_STATE / KVM_GET_REGS: runnable and zeros by default, what KVM_SET_REGS set, or
  // what the test says.
  kvm_mp_state mp{7};
  ASSERT_EQ(dev.ioctl(vcpu0, KVM_GET_MP_STATE, &mp), 0);
  EXPECT_EQ(mp.mp_state, kMpStateRunnable);
  dev.setMpState(0, kMpStateHalted);
  ASSERT_EQ(dev.ioctl(vcpu0, KVM_GET_MP_STATE, &mp), 0);
  EXPECT_EQ(mp.mp_state, kMpStateHalted);
  kvm_regs regs{};
  regs.rip = 0x1234;
  ASSERT_EQ(dev.ioctl(vcpu0, KVM_SET_REGS, &regs), 0);
  kvm_regs got{};
  ASSERT_EQ(dev.ioctl(vcpu0, KVM_GET_REGS, &got), 0);
  EXPECT_EQ(got.rip, 0x1234u);
  regs.rip = 0x5678;
  dev.setVcpuRegisters(0, regs);
  ASSERT_EQ(dev.ioctl(vcpu0, KVM_GET_REGS, &got), 0);
  EXPECT_EQ(got.rip, 0x5678u);
  // Each call on a vCPU fd names the vCPU.
  ASSERT_EQ(dev.find("KVM_GET_MP_STATE").size(), 2u);
  EXPECT_EQ(dev.find("KVM_GET_MP_STATE")[0]->vcpu, 0);
  EXPECT_EQ(dev.find("KVM_RUN")[0]->vcpu, 1);
  EXPECT_EQ(dev.find("KVM_CREATE_VCPU")[0]->vcpu, -1);
  // Guest memory: the host address behind a registered slot.
  void* ram = dev.mmap(0x4000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &err);
  ASSERT_NE(ram, nullptr);
  kvm_userspace_memory_region region{};
  region.guest_phys_addr = 0x100000;
  region.memory_size = 0x4000;
  region.userspace_addr = reinterpret_cast<uint64_t>(ram);
  ASSERT_EQ(dev.ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region), 0);
  EXPECT_EQ(dev.guestMemory(0x102010), static_cast<std::byte*>(ram) + 0x2010);
  EXPECT_EQ(dev.guestMemory(0x104000), nullptr);
  EXPECT_TRUE(dev.violations().empty());
  // Released only when every fd is closed and every mapping unmapped.
  EXPECT_FALSE(dev.allReleased());
  EXPECT_EQ(dev.munmap(ram, 0x4000), 0);
  EXPECT_EQ(dev.munmap(run, static_cast<size_t>(run_size)), 0);
  for (int fd : {vcpu0, vcpu1, vm}) {
    EXPECT_EQ(dev.close(fd), 0);
  }
  EXPECT_FALSE(dev.allReleased());
  EXPECT_EQ(dev.close(kvm_fd), 0);
  EXPECT_TRUE(dev.allReleased());
}

TEST(FakeDevice, ChecksTheVmmsKvmCalls) {
  FakeDevice dev;
  int kvm_fd = dev.open("/dev/kvm", O_RDWR);
  int vm = static_cast<int>(dev.ioctl(kvm_fd, KVM_CREATE_VM, 0ul));
  int vcpu = static_cast<int>(dev.ioctl(vm, KVM_CREATE_VCPU, 0ul));
  EXPECT_EQ(dev.ioctl(vm, KVM_RUN, nullptr), -EINVAL);
  kvm_pit_config pit{};
  pit.flags = 2;
  EXPECT_EQ(dev.ioctl(vm, KVM_CREATE_PIT2, &pit), -EINVAL);
  pit.flags = kPitSpeakerDummy;
  EXPECT_EQ(dev.ioctl(vcpu, KVM_CREATE_PIT2, &pit), -EINVAL);
  kvm_mp_state mp{10};
  EXPECT_EQ(dev.ioctl(vcpu, KVM_SET_MP_STATE, &mp), -EINVAL);
  EXPECT_EQ(dev.ioctl(vm, KVM_CREATE_PIT2, &pit), 0);
  EXPECT_EQ(dev.ioctl(vm, KVM_GET_REGS, nullptr), -EINVAL);  // a null argument
  EXPECT_EQ(dev.violations(),
            (std::vector<std::string>{
                "KVM_RUN: must be issued on a vcpu fd",
                "KVM_CREATE_PIT2: unknown flags or nonzero pad",
                "KVM_CREATE_PIT2: must be issued on a vm fd",
                "KVM_SET_MP_STATE: unknown mp_state",
                "KVM_GET_REGS: a null argument",
            }));
}

}  // namespace
}  // namespace igvmkit::hv::testing
