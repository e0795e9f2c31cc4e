// The KVM machine on hv's FakeDevice (scripted exits, every ioctl checked against the kernel's
// structures): setup order, per-vCPU state, exits, timeout and teardown, all without a kernel.
// Most tests build the VM with vmm::run(GuestSetup) (//vmm:guest_setup); one adopts a VM as
// igvmkit run does (run(LoadedVm, ...)).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>

#include "base/testing/matchers.h"
#include "hv/kvm_abi.h"
#include "hv/testing/fake_device.h"
#include "vmm/testing/guest_setup.h"
#include "vmm/testing/long_mode.h"
#include "vmm/vmm.h"

using ::igvmkit::testing::HasRule;

namespace igvmkit::vmm {
namespace {

using namespace hv::kvm;  // NOLINT: the ABI names read like the kernel's
using hv::testing::FakeCall;
using hv::testing::FakeDevice;
using ::testing::IsEmpty;

// FakeDevice answers like a cooperative kernel; these make it answer like the KVM the VMM's tests
// were written against: a supported-CPUID list with the topology leaves (and E2BIG below 4
// entries), KVM_GET_SREGS with a recognisable reset state (TR selector 0x1234, a busy 64-bit TSS;
// LDTR selector 0x5678), and KVM_GET_REGS with RIP 0x100000 + the vCPU index and RFLAGS.IF set.
class FakeKvm : public FakeDevice {
 public:
  using Run = FakeDevice::KvmRun;

  FakeKvm() {
    script("KVM_GET_SUPPORTED_CPUID", [](FakeCall&, void* arg) -> std::optional<long> {
      auto* c = static_cast<kvm_cpuid2*>(arg);
      kvm_cpuid_entry2 entries[4] = {};
      entries[0].function = 0;
      entries[0].eax = 0xB;
      entries[1].function = 1;
      entries[1].ebx = 0xFFFFFFFF;  // the VMM must replace the APIC ID and count fields
      entries[1].ecx = (1u << 13) | (1u << 15);  // CX16 (emulator_safe_cpuid hides it), PDCM
      entries[2].function = 0xB;
      entries[2].index = 0;
      entries[3].function = 0xB;
      entries[3].index = 1;
      if (c->nent < 4) {
        return -E2BIG;
      }
      c->nent = 4;
      std::memcpy(c + 1, entries, sizeof(entries));
      return 0;
    });
    script("KVM_GET_SREGS", [](FakeCall&, void* arg) -> std::optional<long> {
      auto* sregs = static_cast<kvm_sregs*>(arg);
      std::memset(sregs, 0, sizeof(*sregs));
      sregs->tr.selector = 0x1234;
      sregs->tr.type = 11;
      sregs->tr.present = 1;
      sregs->ldt.selector = 0x5678;
      sregs->ldt.type = 2;
      sregs->ldt.present = 1;
      return 0;
    });
    for (unsigned v = 0; v < 4; ++v) {
      setVcpuState(v, kMpStateRunnable, 0x202);
    }
  }

  void onRun(unsigned vcpu, KvmRunStep step) { queueKvmRun(vcpu, std::move(step)); }
  // KVM_GET_MP_STATE answers `state`; KVM_GET_REGS RFLAGS `rflags`.
  void setVcpuState(unsigned vcpu, uint32_t state, uint64_t rflags) {
    setMpState(vcpu, state);
    kvm_regs regs{};
    regs.rip = 0x100000 + vcpu;
    regs.rflags = rflags;
    setVcpuRegisters(vcpu, regs);
  }
  // Makes `name` fail with -error from now on: on vCPU `vcpu`, or on any fd (-1).
  void failFromNowOn(const std::string& name, int vcpu, int error) {
    script(name, [vcpu, error](FakeCall& c, void*) -> std::optional<long> {
      if (vcpu < 0 || c.vcpu == vcpu) {
        return -error;
      }
      return std::nullopt;
    });
  }

  // The arguments of the VMM's calls (read after the run, when no other thread uses the fake).
  std::vector<const FakeCall*> callsOn(const std::string& name, unsigned vcpu) const {
    std::vector<const FakeCall*> out;
    for (const FakeCall* c : find(name)) {
      if (c->vcpu == static_cast<int>(vcpu)) {
        out.push_back(c);
      }
    }
    return out;
  }
  std::vector<kvm_userspace_memory_region> regions() const {
    std::vector<kvm_userspace_memory_region> out;
    for (const FakeCall* c : find("KVM_SET_USER_MEMORY_REGION")) {
      out.push_back(hv::testing::argOf<kvm_userspace_memory_region>(c));
    }
    return out;
  }
  std::vector<kvm_cpuid_entry2> cpuidOf(unsigned vcpu) const {
    auto calls = callsOn("KVM_SET_CPUID2", vcpu);
    if (calls.empty()) {
      return {};
    }
    return hv::testing::argWithEntries<kvm_cpuid2, kvm_cpuid_entry2>(
               calls.back(), [](const kvm_cpuid2& h) { return h.nent; })
        .entries;
  }
  std::vector<kvm_mp_state> mpStatesSet(unsigned vcpu) const {
    std::vector<kvm_mp_state> out;
    for (const FakeCall* c : callsOn("KVM_SET_MP_STATE", vcpu)) {
      out.push_back(hv::testing::argOf<kvm_mp_state>(c));
    }
    return out;
  }
  // The last registers the VMM set on a vCPU (zero when it set none).
  kvm_regs regsSet(unsigned vcpu) const {
    auto calls = callsOn("KVM_SET_REGS", vcpu);
    return calls.empty() ? kvm_regs{} : hv::testing::argOf<kvm_regs>(calls.back());
  }
  kvm_sregs sregsSet(unsigned vcpu) const {
    auto calls = callsOn("KVM_SET_SREGS", vcpu);
    return calls.empty() ? kvm_sregs{} : hv::testing::argOf<kvm_sregs>(calls.back());
  }
};

GuestSetup smallGuest(unsigned vcpus = 1) {
  return testing::longModeGuest(16 << 20, 0x100000, testing::bytes({0xF4}), vcpus);
}

RunConfig configFor(FakeKvm& kvm, std::string* out = nullptr) {
  RunConfig c;
  c.device = &kvm;
  c.timeout = std::chrono::seconds(20);  // a hang in the VMM fails the test instead of stalling
  if (out != nullptr) {
    c.serial = serialToString(*out);
  }
  return c;
}

// The position of the first call named `name` (on vCPU `vcpu`, or on any fd), or calls.size().
size_t indexOf(const std::vector<FakeCall>& calls, const std::string& name, int vcpu = -1) {
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].name == name && (vcpu < 0 || calls[i].vcpu == vcpu)) {
      return i;
    }
  }
  return calls.size();
}

TEST(FakeKvmRun, DebugExitStatusAndSerialOutput) {
  FakeKvm kvm;
  kvm.onRun(0, [](FakeKvm::Run& r) { return r.ioOut(0x3F8, 'h'); });
  kvm.onRun(0, [](FakeKvm::Run& r) { return r.ioOut(0x3F8, 'i'); });
  kvm.onRun(0, [](FakeKvm::Run& r) { return r.ioOut(0xF4, 42); });
  std::string out;
  Result<RunOutcome> outcome = run(smallGuest(), configFor(kvm, &out));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(outcome->exit_status, 42);
  EXPECT_EQ(outcome->cause, "debug exit port 0xf4");
  EXPECT_EQ(outcome->vcpu, 0u);
  EXPECT_EQ(outcome->rip, 0x100000u);  // the fake's RIP for vCPU 0
  EXPECT_EQ(out, "hi");
  EXPECT_EQ(outcome->stats.serial_bytes, 2u);
  EXPECT_TRUE(kvm.allReleased());
  EXPECT_THAT(kvm.violations(), IsEmpty());
}

TEST(FakeKvmRun, SerialSinksForFdsAndStreams) {
  for (int mode = 0; mode < 2; ++mode) {
    FakeKvm kvm;
    kvm.onRun(0, [](FakeKvm::Run& r) { return r.ioOut(0x3F8, 'o'); });
    kvm.onRun(0, [](FakeKvm::Run& r) { return r.ioOut(0x3F8, 'k'); });
    kvm.onRun(0, [](FakeKvm::Run& r) { return r.ioOut(0xF4, 0); });
    RunConfig config = configFor(kvm);
    std::ostringstream stream;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    config.serial = mode == 0 ? serialToStream(stream) : serialToFd(fds[1]);
    ASSERT_TRUE(run(smallGuest(), config).ok());
    close(fds[1]);
    char buf[8] = {};
    ssize_t n = read(fds[0], buf, sizeof(buf));
    close(fds[0]);
    EXPECT_EQ(mode == 0 ? stream.str() : std::string(buf, n > 0 ? n : 0), "ok");
  }
}

TEST(FakeKvmRun, SetupFollowsTheKvmOrder) {
  FakeKvm kvm;
  kvm.onRun(0, [](FakeKvm::Run& r) { return r.ioOut(0xF4, 0); });
  ASSERT_TRUE(run(smallGuest(2), configFor(kvm)).ok());
  const std::vector<FakeCall>& calls = kvm.calls();
  EXPECT_THAT(kvm.violations(), IsEmpty());
  size_t version = indexOf(calls, "KVM_GET_API_VERSION");
  size_t create_vm = indexOf(calls, "KVM_CREATE_VM");
  size_t tss = indexOf(calls, "KVM_SET_TSS_ADDR");
  size_t identity = indexOf(calls, "KVM_SET_IDENTITY_MAP_ADDR");
  size_t memory = indexOf(calls, "KVM_SET_USER_MEMORY_REGION");
  size_t irqchip = indexOf(calls, "KVM_CREATE_IRQCHIP");
  size_t pit = indexOf(calls, "KVM_CREATE_PIT2");
  size_t vcpu = indexOf(calls, "KVM_CREATE_VCPU");
  size_t cpuid = indexOf(calls, "KVM_SET_CPUID2", 0);
  size_t sregs = indexOf(calls, "KVM_SET_SREGS", 0);
  size_t regs = indexOf(calls, "KVM_SET_REGS", 0);
  size_t run0 = indexOf(calls, "KVM_RUN", 0);
  size_t ap_mp = indexOf(calls, "KVM_SET_MP_STATE", 1);
  ASSERT_LT(run0, calls.size());
  EXPECT_LT(version, create_vm);
  EXPECT_LT(create_vm, tss);
  EXPECT_LT(tss, identity);
  EXPECT_LT(identity, memory);
  EXPECT_LT(memory, irqchip);
  EXPECT_LT(irqchip, pit);
  EXPECT_LT(pit, vcpu);  // interrupt controllers before any vCPU
  EXPECT_LT(vcpu, cpuid);
  EXPECT_LT(cpuid, sregs);
  EXPECT_LT(sregs, regs);
  EXPECT_LT(regs, run0);
  EXPECT_LT(ap_mp, run0);
  // The BSP's registers come from VpState; the AP is left waiting for SIPI.
  EXPECT_EQ(indexOf(calls, "KVM_SET_REGS", 1), calls.size());
  auto mp = kvm.mpStatesSet(1);
  ASSERT_EQ(mp.size(), 1u);
  EXPECT_EQ(mp[0].mp_state, static_cast<uint32_t>(kMpStateInitReceived));
  EXPECT_TRUE(kvm.mpStatesSet(0).empty());
}

TEST(FakeKvmRun, VpStateReachesTheBspRegisters) {
  FakeKvm kvm;
  kvm.onRun(0, [](FakeKvm::Run& r) { return r.ioOut(0xF4, 0); });
  GuestSetup setup = smallGuest(2);
  x86::VpState& s = setup.bsp;
  s.rax = 1, s.rcx = 2, s.rdx = 3, s.rbx = 4, s.rsp = 5, s.rbp = 6, s.rsi = 7, s.rdi = 8;
  s.r8 = 9, s.r15 = 16, s.rip = 0x100123, s.rflags = 0x46;
  s.gs = {0xFFFF800000001000, 0xFFFFFFFF, 0x10, 0xC093};
  s.ss = {0, 0xFFFFF, 0x18, 0x4093};  // 32-bit, byte granular
  s.idtr = {0x3000, 0xFFF};
  s.cr2 = 0xDEAD000;
  ASSERT_TRUE(run(setup, configFor(kvm)).ok());
  kvm_regs regs = kvm.regsSet(0);
  EXPECT_EQ(regs.rax, 1u);
  EXPECT_EQ(regs.rcx, 2u);
  EXPECT_EQ(regs.rdx, 3u);
  EXPECT_EQ(regs.rbx, 4u);
  EXPECT_EQ(regs.rsp, 5u);
  EXPECT_EQ(regs.rbp, 6u);
  EXPECT_EQ(regs.rsi, 7u);
  EXPECT_EQ(regs.rdi, 8u);
  EXPECT_EQ(regs.r8, 9u);
  EXPECT_EQ(regs.r15, 16u);
  EXPECT_EQ(regs.rip, 0x100123u);
  EXPECT_EQ(regs.rflags, 0x46u);
  kvm_sregs sregs = kvm.sregsSet(0);
  // CS 0xa09b: type 0xb (code, read, accessed), S, DPL 0, P, L, 4 KiB granular.
  EXPECT_EQ(sregs.cs.selector, 0x08);
  EXPECT_EQ(sregs.cs.type, 0xB);
  EXPECT_EQ(sregs.cs.s, 1);
  EXPECT_EQ(sregs.cs.dpl, 0);
  EXPECT_EQ(sregs.cs.present, 1);
  EXPECT_EQ(sregs.cs.l, 1);
  EXPECT_EQ(sregs.cs.db, 0);
  EXPECT_EQ(sregs.cs.g, 1);
  EXPECT_EQ(sregs.cs.unusable, 0);
  EXPECT_EQ(sregs.cs.limit, 0xFFFFFFFFu);
  EXPECT_EQ(sregs.gs.base, 0xFFFF800000001000u);
  EXPECT_EQ(sregs.ss.selector, 0x18);
  EXPECT_EQ(sregs.ss.type, 3);
  EXPECT_EQ(sregs.ss.db, 1);
  EXPECT_EQ(sregs.ss.g, 0);
  EXPECT_EQ(sregs.ss.limit, 0xFFFFFu);
  EXPECT_EQ(sregs.ds.selector, 0x10);
  // TR and LDTR were all zero in VpState: KVM's reset values stay.
  EXPECT_EQ(sregs.tr.selector, 0x1234);
  EXPECT_EQ(sregs.tr.type, 11);
  EXPECT_EQ(sregs.ldt.selector, 0x5678);
  EXPECT_EQ(sregs.gdt.base, testing::kGdtGpa);
  EXPECT_EQ(sregs.gdt.limit, 23);
  EXPECT_EQ(sregs.idt.base, 0x3000u);
  EXPECT_EQ(sregs.idt.limit, 0xFFF);
  EXPECT_EQ(sregs.cr0, 0x80000031u);
  EXPECT_EQ(sregs.cr2, 0xDEAD000u);
  EXPECT_EQ(sregs.cr3, testing::kPml4Gpa);
  EXPECT_EQ(sregs.cr4, 0x20u);
  EXPECT_EQ(sregs.efer, 0x500u);
  // The AP gets no registers: it starts from INIT/SIPI.
  EXPECT_EQ(kvm.regsSet(1).rip, 0u);
  EXPECT_EQ(kvm.sregsSet(1).cr0, 0u);
}

TEST(FakeKvmRun, EachVcpuGetsItsOwnApicIdAndTopology) {
  FakeKvm kvm;
  kvm.onRun(0, [](FakeKvm::Run& r) { return r.ioOut(0xF4, 0); });
  ASSERT_TRUE(run(smallGuest(3), configFor(kvm)).ok());
  for (unsigned v = 0; v < 3; ++v) {
    auto cpuid = kvm.cpuidOf(v);
    auto leaf = [&](uint32_t fn, uint32_t index) {
      auto it = std::find_if(cpuid.begin(), cpuid.end(), [&](const kvm_cpuid_entry2& e) {
        return e.function == fn && e.index == index;
      });
      EXPECT_NE(it, cpuid.end());
      return it == cpuid.end() ? kvm_cpuid_entry2{} : *it;
    };
    EXPECT_EQ(leaf(1, 0).ebx >> 24, v) << "initial APIC ID of vcpu " << v;
    EXPECT_EQ((leaf(1, 0).ebx >> 16) & 0xFF, 3u) << "logical processor count";
    EXPECT_NE(leaf(1, 0).edx & (1u << 28), 0u) << "HTT";
    EXPECT_NE(leaf(1, 0).ecx & (1u << 31), 0u) << "hypervisor bit";
    EXPECT_NE(leaf(1, 0).ecx & (1u << 24), 0u) << "TSC-deadline timer (KVM emulates it)";
    EXPECT_EQ(leaf(1, 0).ecx & (1u << 15), 0u) << "PDCM cleared";
    EXPECT_EQ(leaf(0xB, 0).edx, v) << "x2APIC ID";
    EXPECT_EQ(leaf(0xB, 1).edx, v);
    EXPECT_EQ(leaf(0xB, 1).ebx & 0xFFFF, 3u) << "cores at the core level";
    EXPECT_EQ(leaf(0xB, 1).eax & 0x1F, 2u) << "APIC ID bits below the package level";
  }
}

// run(LoadedVm, ...) adopts a VM someone else built: the CPUID topology counts that VM's vCPUs.
TEST(FakeKvmRun, AdoptedVmAnnouncesItsVcpuCount) {
  FakeKvm kvm;
  int system = kvm.open("/dev/kvm", 0);
  loader::LoadedVm vm;
  vm.vm_fd = static_cast<int>(kvm.ioctl(system, KVM_CREATE_VM, 0ul));
  for (unsigned long i = 0; i < 2; ++i) {
    vm.vcpu_fds.push_back(static_cast<int>(kvm.ioctl(vm.vm_fd, KVM_CREATE_VCPU, i)));
  }
  kvm.onRun(0, [](FakeKvm::Run& r) { return r.ioOut(0xF4, 7); });
  Result<RunOutcome> outcome = run(vm, smallGuest().bsp, configFor(kvm));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(outcome->exit_status, 7);
  for (unsigned v = 0; v < 2; ++v) {
    auto cpuid = kvm.cpuidOf(v);
    auto leaf1 = std::find_if(cpuid.begin(), cpuid.end(),
                              [](const kvm_cpuid_entry2& e) { return e.function == 1; });
    ASSERT_NE(leaf1, cpuid.end());
    EXPECT_EQ(leaf1->ebx >> 24, v) << "initial APIC ID";
    EXPECT_EQ((leaf1->ebx >> 16) & 0xFF, 2u) << "logical processor count of vcpu " << v;
    EXPECT_NE(leaf1->edx & (1u << 28), 0u) << "HTT";
  }
  // The VMM borrowed the VM's fds: they are still open until their owner closes them.
  EXPECT_FALSE(kvm.allReleased());
  for (int fd : vm.vcpu_fds) {
    EXPECT_EQ(kvm.close(fd), 0);
  }
  EXPECT_EQ(kvm.close(vm.vm_fd), 0);
  EXPECT_EQ(kvm.close(system), 0);
  EXPECT_TRUE(kvm.allReleased());
  EXPECT_THAT(kvm.violations(), IsEmpty());
}

// TSC-deadline is advertised only when KVM says its LAPIC emulates it (KVM_CAP_TSC_DEADLINE_TIMER).
TEST(FakeKvmRun, TscDeadlineFollowsKvmsCapability) {
  FakeKvm kvm;
  kvm.script("KVM_CHECK_EXTENSION", [](FakeCall& c, void*) -> std::optional<long> {
    if (c.value == 72) {  // KVM_CAP_TSC_DEADLINE_TIMER (linux/kvm.h)
      return 0;
    }
    return std::nullopt;
  });
  kvm.onRun(0, [](FakeKvm::Run& r) { return r.ioOut(0xF4, 0); });
  ASSERT_TRUE(run(smallGuest(1), configFor(kvm)).ok());
  auto cpuid = kvm.cpuidOf(0);
  auto leaf1 = std::find_if(cpuid.begin(), cpuid.end(),
                            [](const kvm_cpuid_entry2& e) { return e.function == 1; });
  ASSERT_NE(leaf1, cpuid.end());
  EXPECT_EQ(leaf1->ecx & (1u << 24), 0u);
}

// CPUID.1:ECX.CX16 reaches the guest unless emulator_safe_cpuid asks to hide it (kvm-pvm hosts).
TEST(FakeKvmRun, EmulatorSafeCpuidHidesCx16) {
  for (auto mode : {RunConfig::EmulatorSafeCpuid::kOn, RunConfig::EmulatorSafeCpuid::kOff}) {
    FakeKvm kvm;
    kvm.onRun(0, [](FakeKvm::Run& r) { return r.ioOut(0xF4, 0); });
    RunConfig c = configFor(kvm);
    c.emulator_safe_cpuid = mode;
    ASSERT_TRUE(run(smallGuest(1), c).ok());
    auto cpuid = kvm.cpuidOf(0);
    auto it = std::find_if(cpuid.begin(), cpuid.end(),
                           [](const kvm_cpuid_entry2& e) { return e.function == 1; });
    ASSERT_NE(it, cpuid.end());
    EXPECT_EQ((it->ecx >> 13) & 1, mode == RunConfig::EmulatorSafeCpuid::kOn ? 0u : 1u);
  }
}

TEST(FakeKvmRun, LoadsLandInRamAndRamIsSplitAroundTheMmioGap) {
  FakeKvm kvm;
  GuestSetup setup = testing::longModeGuest(5ull << 30, 0x100000, testing::bytes({0xF4}));
  setup.loads.push_back({0x1'0000'0000 + 0x2000, testing::bytes({0xAB, 0xCD})});
  bool loaded = false;
  kvm.onRun(0, [&](FakeKvm::Run& r) {
    auto* low = reinterpret_cast<uint8_t*>(kvm.guestMemory(0x100000));
    auto* high = reinterpret_cast<uint8_t*>(kvm.guestMemory(0x1'0000'0000 + 0x2000));
    loaded = low != nullptr && high != nullptr && low[0] == 0xF4 && high[0] == 0xAB &&
             high[1] == 0xCD;
    return r.ioOut(0xF4, 0);
  });
  ASSERT_TRUE(run(setup, configFor(kvm)).ok());
  EXPECT_TRUE(loaded);
  auto regions = kvm.regions();
  ASSERT_EQ(regions.size(), 2u);
  EXPECT_EQ(regions[0].guest_phys_addr, 0u);
  EXPECT_EQ(regions[0].memory_size, 3ull << 30);
  EXPECT_EQ(regions[1].guest_phys_addr, 4ull << 30);
  EXPECT_EQ(regions[1].memory_size, 2ull << 30);
  EXPECT_EQ(regions[1].userspace_addr - regions[0].userspace_addr, 3ull << 30);
  EXPECT_NE(regions[0].slot, regions[1].slot);
}

TEST(FakeKvmRun, TimeoutKicksBlockedVcpusOut) {
  FakeKvm kvm;  // nothing scripted: both vCPUs block in KVM_RUN until kicked
  RunConfig config = configFor(kvm);
  config.timeout = std::chrono::milliseconds(100);
  auto start = std::chrono::steady_clock::now();
  Result<RunOutcome> outcome = run(smallGuest(2), config);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->exit_status, 125);
  EXPECT_EQ(outcome->cause, "timeout");
  EXPECT_GE(elapsed, std::chrono::milliseconds(100));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_TRUE(kvm.allReleased());
  EXPECT_THAT(kvm.violations(), IsEmpty());
}

TEST(FakeKvmRun, AllVcpusHaltedWithInterruptsOffEndsWithZero) {
  FakeKvm kvm;
  kvm.setVcpuState(0, kMpStateHalted, 0x2);  // IF clear
  kvm.setVcpuState(1, kMpStateInitReceived, 0x2);
  Result<RunOutcome> outcome = run(smallGuest(2), configFor(kvm));
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->exit_status, 0);
  EXPECT_EQ(outcome->cause, "halt");
  EXPECT_TRUE(kvm.allReleased());
  EXPECT_THAT(kvm.violations(), IsEmpty());
}

TEST(FakeKvmRun, HaltWithInterruptsOnKeepsRunningUntilTimeout) {
  FakeKvm kvm;
  kvm.setVcpuState(0, kMpStateHalted, 0x202);  // IF set: an interrupt may wake it
  RunConfig config = configFor(kvm);
  config.timeout = std::chrono::milliseconds(150);
  Result<RunOutcome> outcome = run(smallGuest(1), config);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->cause, "timeout");
}

TEST(FakeKvmRun, ShutdownExitIsATripleFault) {
  FakeKvm kvm;
  kvm.onRun(1, [](FakeKvm::Run& r) { return r.exitReason(kExitShutdown); });
  Result<RunOutcome> outcome = run(smallGuest(2), configFor(kvm));
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->exit_status, 125);
  EXPECT_EQ(outcome->cause, "triple fault on vcpu 1 at rip 0x100001");
  EXPECT_EQ(outcome->vcpu, 1u);
  EXPECT_EQ(outcome->rip, 0x100001u);
}

TEST(FakeKvmRun, KvmRunFailureEndsTheRun) {
  FakeKvm kvm;
  kvm.onRun(0, [](FakeKvm::Run&) { return -EFAULT; });
  Result<RunOutcome> outcome = run(smallGuest(), configFor(kvm));
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->exit_status, 125);
  EXPECT_EQ(outcome->cause.rfind("KVM_RUN failed on vcpu 0: bad address", 0), 0u) << outcome->cause;
  EXPECT_TRUE(kvm.allReleased());
  EXPECT_THAT(kvm.violations(), IsEmpty());
}

TEST(FakeKvmRun, MissingKvmIsAnError) {
  FakeKvm kvm;
  kvm.removeDevice("/dev/kvm");
  Result<RunOutcome> outcome = run(smallGuest(), configFor(kvm));
  ASSERT_FALSE(outcome.ok());
  EXPECT_THAT(outcome, HasRule("vmm.no_kvm"));
  EXPECT_EQ(outcome.error().message.rfind("cannot open /dev/kvm: no such file", 0), 0u)
      << outcome.error().message;
}

TEST(FakeKvmRun, WrongApiVersionIsRefusedAndEverythingReleased) {
  FakeKvm kvm;
  kvm.script("KVM_GET_API_VERSION", [](FakeCall&, void*) -> std::optional<long> { return 11; });
  Result<RunOutcome> outcome = run(smallGuest(), configFor(kvm));
  ASSERT_FALSE(outcome.ok());
  EXPECT_THAT(outcome, HasRule("vmm.kvm_api_version"));
  EXPECT_TRUE(kvm.allReleased());
  EXPECT_THAT(kvm.violations(), IsEmpty());
}

TEST(FakeKvmRun, FailuresPartWayThroughSetupReleaseEverything) {
  struct Case {
    const char* name;
    int vcpu;  // -1: a vm ioctl
    const char* message;
  };
  const Case cases[] = {
      {"KVM_CREATE_IRQCHIP", -1, "KVM_CREATE_IRQCHIP failed: no such device (errno 19)"},
      {"KVM_SET_USER_MEMORY_REGION", -1,
       "KVM_SET_USER_MEMORY_REGION failed: no such device (errno 19)"},
      {"KVM_SET_CPUID2", 1, "KVM_SET_CPUID2 failed: no such device (errno 19)"},
      {"KVM_SET_MP_STATE", 2, "KVM_SET_MP_STATE failed: no such device (errno 19)"},
  };
  for (const Case& c : cases) {
    FakeKvm kvm;
    kvm.failFromNowOn(c.name, c.vcpu, ENODEV);
    Result<RunOutcome> outcome = run(smallGuest(3), configFor(kvm));
    ASSERT_FALSE(outcome.ok()) << c.message;
    EXPECT_EQ(outcome.error().message, c.message);
    EXPECT_THAT(outcome, HasRule("vmm.kvm_ioctl"));
    EXPECT_TRUE(kvm.allReleased()) << c.message;
  }
}

TEST(FakeKvmRun, RefusedSpecialRegistersNameTheState) {
  FakeKvm kvm;
  kvm.failFromNowOn("KVM_SET_SREGS", 0, EINVAL);
  Result<RunOutcome> outcome = run(smallGuest(), configFor(kvm));
  ASSERT_FALSE(outcome.ok());
  EXPECT_THAT(outcome, HasRule("vmm.bad_vp_state"));
  EXPECT_EQ(outcome.error().message,
            "kvm refused the boot vcpu's special registers (cr0 0x80000031 cr4 0x20 efer 0x500): "
            "invalid argument (errno 22)");
  EXPECT_TRUE(kvm.allReleased());
  EXPECT_THAT(kvm.violations(), IsEmpty());
}

TEST(RunSetup, BadSetupsAreRefusedBeforeKvmIsOpened) {
  FakeKvm kvm;
  kvm.removeDevice("/dev/kvm");  // would make any later step fail differently
  struct Case {
    const char* name;
    GuestSetup setup;
    const char* rule;
    const char* message;
  };
  GuestSetup outside = smallGuest();
  outside.loads.push_back({(16 << 20) - 1, testing::bytes({1, 2})});
  GuestSetup in_gap = testing::longModeGuest(5ull << 30, 0x100000, testing::bytes({0xF4}));
  in_gap.loads.push_back({0xFEE00000, testing::bytes({1})});
  GuestSetup odd_memory = smallGuest();
  odd_memory.memory_bytes += 1;
  GuestSetup no_vcpus = smallGuest();
  no_vcpus.vcpus = 0;
  const Case cases[] = {
      {"load past the end", outside, "vmm.load_outside_ram",
       "load #3 at gpa 0xffffff size 0x2 is not inside guest ram"},
      {"load in the mmio gap", in_gap, "vmm.load_outside_ram",
       "load #3 at gpa 0xfee00000 size 0x1 is not inside guest ram"},
      {"memory not page sized", odd_memory, "usage",
       "memory size 0x1000001 must be a multiple of 4 KiB between 1 MiB and 1 TiB"},
      {"no vcpus", no_vcpus, "usage", "vcpu count 0 must be between 1 and 253"},
  };
  for (const Case& c : cases) {
    Result<RunOutcome> outcome = run(c.setup, configFor(kvm));
    ASSERT_FALSE(outcome.ok()) << c.name;
    EXPECT_EQ(outcome.error().message, c.message) << c.name;
    if (std::string(c.rule) != "usage") {
      EXPECT_THAT(outcome, HasRule(c.rule)) << c.name;
    } else {
      EXPECT_EQ(outcome.error().code, Code::kUsage) << c.name;
    }
  }
  EXPECT_TRUE(kvm.calls().empty());
}

}  // namespace
}  // namespace igvmkit::vmm
