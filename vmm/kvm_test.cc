// End-to-end runs on the real /dev/kvm: the probe guest with 1 and 2 vCPUs (full serial output and
// exit status), and hand-assembled guests for triple fault, timeout, reset, halt, and stray
// port/MMIO accesses. Skips when /dev/kvm is not accessible.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "testdata/guests/probe_abi.h"
#include "vmm/testing/guest_setup.h"
#include "vmm/testing/long_mode.h"
#include "vmm/testing/probe_guest.h"
#include "vmm/vmm.h"

namespace igvmkit::vmm {
namespace {

constexpr uint64_t kMemory = 64 << 20;
constexpr uint64_t kEntry = 0x100000;

class KvmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
      GTEST_SKIP() << "no /dev/kvm";
    }
  }
};

RunConfig config(std::string& out, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  RunConfig c;
  c.timeout = timeout;
  c.serial = serialToString(out);
  return c;
}

ByteVector probeImage() {
  Result<ByteVector> image = testing::probeImage();
  EXPECT_TRUE(image.ok()) << image.error().describe();
  return image.ok() ? *image : ByteVector{};
}

testing::ProbeRun probeRun(unsigned vcpus, const std::string& cmdline, bool smp_flag,
                           bool bad_checksum) {
  testing::ProbeOptions o;
  o.vcpus = vcpus;
  o.memory_bytes = kMemory;
  o.cmdline = cmdline;
  o.smp_flag = smp_flag;
  o.bad_checksum = bad_checksum;
  return testing::probeRun(o, probeImage());
}

TEST_F(KvmTest, ProbeOneVcpu) {
  testing::ProbeRun p = probeRun(1, "console=ttyS0 hello", false, false);
  std::string out;
  auto start = std::chrono::steady_clock::now();
  Result<RunOutcome> outcome = run(p.setup, config(out));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(out, p.expected + "probe: ok\n");
  EXPECT_EQ(outcome->exit_status, 0) << outcome->cause;
  EXPECT_EQ(outcome->cause, "debug exit port 0xf4");
  EXPECT_EQ(outcome->stats.serial_bytes, out.size());
  EXPECT_EQ(outcome->stats.unhandled_pio, 0u);
  EXPECT_EQ(outcome->stats.wrong_width, 0u);
  std::printf("probe run, 1 vcpu: %lld ms wall\n", static_cast<long long>(ms.count()));
}

TEST_F(KvmTest, ProbeTwoVcpusStartsTheApWithInitSipi) {
  testing::ProbeRun p = probeRun(2, "console=ttyS0 smp", false, false);
  std::string out;
  auto start = std::chrono::steady_clock::now();
  Result<RunOutcome> outcome = run(p.setup, config(out));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(out, p.expected + "smp: vcpu 1 up\nsmp: 2 of 2 vcpus up\nprobe: ok\n");
  EXPECT_EQ(outcome->exit_status, 0) << outcome->cause;
  std::printf("probe run, 2 vcpus with smp: %lld ms wall\n", static_cast<long long>(ms.count()));
}

TEST_F(KvmTest, ProbeFourVcpusBySmpFlag) {
  testing::ProbeRun p = probeRun(4, "quiet", true, false);
  std::string out;
  Result<RunOutcome> outcome = run(p.setup, config(out));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(out, p.expected +
                     "smp: vcpu 1 up\nsmp: vcpu 2 up\nsmp: vcpu 3 up\nsmp: 4 of 4 vcpus up\n"
                     "probe: ok\n");
  EXPECT_EQ(outcome->exit_status, 0) << outcome->cause;
}

TEST_F(KvmTest, ProbeReportsABadChecksum) {
  testing::ProbeRun p = probeRun(1, "x", false, true);
  std::string out;
  Result<RunOutcome> outcome = run(p.setup, config(out));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(out, p.expected + "probe: fail 0x2\n");
  EXPECT_EQ(outcome->exit_status, PROBE_FAIL_BLOB);
}

TEST_F(KvmTest, ProbeWithoutInfoBlockFails) {
  GuestSetup setup = testing::longModeGuest(kMemory, kEntry, probeImage());
  setup.bsp.rsi = testing::kParamGpa;  // zero memory: no magic
  std::string out;
  Result<RunOutcome> outcome = run(setup, config(out));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(out, "probe: igvmkit probe 1\nprobe: fail 0x1\n");
  EXPECT_EQ(outcome->exit_status, PROBE_FAIL_INFO);
}

TEST_F(KvmTest, TripleFaultEndsWith125AndNamesVcpuAndRip) {
  // ud2 with an empty IDT: #UD -> #GP -> #DF -> triple fault.
  GuestSetup setup = testing::longModeGuest(kMemory, kEntry, testing::bytes({0x90, 0x0F, 0x0B}));
  std::string out;
  Result<RunOutcome> outcome = run(setup, config(out));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(outcome->exit_status, 125);
  EXPECT_EQ(outcome->vcpu, 0u);
  if (outcome->rip == 0xfff0) {
    // KVM on AMD resets the vCPU before reporting the shutdown: the rip is lost, and said so.
    EXPECT_EQ(outcome->cause,
              "triple fault on vcpu 0 at rip 0xfff0 (the reset vector: KVM on AMD resets a vCPU "
              "that shuts down, the faulting rip is lost)");
  } else {
    EXPECT_EQ(outcome->cause, "triple fault on vcpu 0 at rip 0x100001");
    EXPECT_EQ(outcome->rip, 0x100001u);
  }
}

TEST_F(KvmTest, LoopingGuestTimesOut) {
  GuestSetup setup =
      testing::longModeGuest(kMemory, kEntry, testing::bytes({0xEB, 0xFE}));  // jmp .
  std::string out;
  auto start = std::chrono::steady_clock::now();
  Result<RunOutcome> outcome = run(setup, config(out, std::chrono::milliseconds(500)));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(outcome->exit_status, 125);
  EXPECT_EQ(outcome->cause, "timeout");
  EXPECT_EQ(outcome->rip, kEntry);
  EXPECT_GE(elapsed, std::chrono::milliseconds(500));
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

TEST_F(KvmTest, StrayPortsAndMmioAreIgnoredAndCounted) {
  GuestSetup setup = testing::longModeGuest(
      kMemory, kEntry,
      testing::bytes({
          0xB0, 0x12,                    // mov $0x12, %al
          0xE6, 0x80,                    // out %al, $0x80        unknown port write
          0xE4, 0x81,                    // in $0x81, %al         unknown port read: 0xff
          0x88, 0xC3,                    // mov %al, %bl
          0xB9, 0x00, 0x00, 0x00, 0xD0,  // mov $0xd0000000, %ecx (in the MMIO gap)
          0x88, 0x19,                    // mov %bl, (%rcx)       unmapped MMIO write
          0x8A, 0x01,                    // mov (%rcx), %al       unmapped MMIO read: 0xff
          0x20, 0xD8,                    // and %bl, %al
          0x66, 0xBA, 0xF8, 0x03,        // mov $0x3f8, %dx
          0x66, 0xEF,                    // out %ax, (%dx)        16-bit write to the UART
          0x24, 0x2A,                    // and $0x2a, %al        42 if both reads were 0xff
          0xE6, 0xF4,                    // out %al, $0xf4
          0xF4,                          // hlt (not reached)
      }));
  std::string out;
  Result<RunOutcome> outcome = run(setup, config(out));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(outcome->exit_status, 42) << outcome->cause;
  // KVM leaves rip on an OUT it hands to user space (Linux arch/x86/kvm/x86.c,
  // kvm_fast_pio_out: the instruction completes on the next KVM_RUN, which never comes here).
  EXPECT_EQ(outcome->rip, kEntry + 27);  // the OUT to 0xf4
  EXPECT_EQ(outcome->stats.unhandled_pio, 2u);
  EXPECT_EQ(outcome->stats.unmapped_mmio, 2u);
  EXPECT_EQ(outcome->stats.wrong_width, 1u);
  EXPECT_EQ(out, "");
}

TEST_F(KvmTest, I8042ResetEndsWithZero) {
  GuestSetup setup = testing::longModeGuest(
      kMemory, kEntry, testing::bytes({0xB0, 0xFE, 0xE6, 0x64, 0xEB, 0xFE}));  // out 0xfe, 0x64
  std::string out;
  Result<RunOutcome> outcome = run(setup, config(out));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(outcome->exit_status, 0);
  EXPECT_EQ(outcome->cause, "i8042 reset");
}

TEST_F(KvmTest, HaltWithInterruptsOffEndsWithZero) {
  GuestSetup setup =
      testing::longModeGuest(kMemory, kEntry, testing::bytes({0xFA, 0xF4, 0xEB, 0xFD}), 2);
  std::string out;
  Result<RunOutcome> outcome = run(setup, config(out, std::chrono::seconds(20)));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(outcome->exit_status, 0);
  EXPECT_EQ(outcome->cause, "halt");
  EXPECT_EQ(outcome->rip, kEntry + 2);  // after the HLT
}

TEST_F(KvmTest, PatAndExtraMsrsReachTheGuest) {
  GuestSetup setup =
      testing::longModeGuest(kMemory, kEntry,
                             testing::bytes({
                                 0xB9, 0x02, 0x01, 0x00, 0xC0,  // mov $0xc0000102, %ecx
                                 0x0F, 0x32,                    // rdmsr (KERNEL_GS_BASE)
                                 0x89, 0xC3,                    // mov %eax, %ebx
                                 0xB9, 0x77, 0x02, 0x00, 0x00,  // mov $0x277, %ecx
                                 0x0F, 0x32,                    // rdmsr (PAT)
                                 0x09, 0xD8,                    // or %ebx, %eax
                                 0xE6, 0xF4,                    // out %al, $0xf4
                             }));
  setup.bsp.pat = 0x0007040600070404;            // PA0 = WT (4) instead of WB (6)
  setup.bsp.msrs.push_back({0xC0000102, 0x20});  // after the VMM's default of 0
  // XCR0 is accepted with CR4.OSXSAVE. The guest does not read it back: this host's KVM is
  // kvm-pvm, whose instruction emulation fails on XGETBV (KVM_EXIT_INTERNAL_ERROR, see dmesg).
  setup.bsp.cr4 |= 1u << 18;
  setup.bsp.xcr0 = 0x3;
  std::string out;
  Result<RunOutcome> outcome = run(setup, config(out));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(outcome->exit_status, 0x4 | 0x20) << outcome->cause;
}

TEST_F(KvmTest, SerialInputReachesTheGuest) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(write(fds[1], "A", 1), 1);
  GuestSetup setup = testing::longModeGuest(kMemory, kEntry,
                                            testing::bytes({
                                                0x66, 0xBA, 0xFD, 0x03,  // mov $0x3fd, %dx
                                                0xEC,                    // 1: in (%dx), %al     LSR
                                                0xA8, 0x01,  // test $1, %al          data ready?
                                                0x74, 0xFB,  // jz 1b
                                                0x66, 0xBA, 0xF8, 0x03,  // mov $0x3f8, %dx
                                                0xEC,        // in (%dx), %al         RBR
                                                0xE6, 0xF4,  // out %al, $0xf4
                                            }));
  std::string out;
  RunConfig c = config(out, std::chrono::seconds(20));
  c.serial_input_fd = fds[0];
  Result<RunOutcome> outcome = run(setup, c);
  close(fds[0]);
  close(fds[1]);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(outcome->exit_status, 'A') << outcome->cause;
}

TEST_F(KvmTest, RamAboveTheGapIsUsable) {
  // 4.5 GiB of (unbacked until touched) RAM: write and read back at 4 GiB + 0x1000, exit with it.
  GuestSetup setup = testing::longModeGuest(
      (4ull << 30) + (512ull << 20), kEntry,
      testing::bytes({
          0x48, 0xB9, 0x00, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,  // mov $0x100001000, %rcx
          0x8A, 0x01,                                                  // mov (%rcx), %al
          0xE6, 0xF4,                                                  // out %al, $0xf4
      }));
  setup.loads.push_back({(4ull << 30) + 0x1000, testing::bytes({0x37})});
  // The helper maps only the first 4 GiB; add a PDPT entry for [4 GiB, 5 GiB) with a 1 GiB page
  // only if the CPU has them: use a 2 MiB page through a new page directory instead.
  ByteVector pd(4096);
  uint64_t entry = (4ull << 30) | 0x83;
  std::memcpy(pd.data(), &entry, 8);
  setup.loads.push_back({0x9000, std::move(pd)});
  uint64_t pdpt_entry = 0x9000 | 0x3;
  setup.loads.push_back({testing::kPml4Gpa + 0x1000 + 4 * 8, ByteVector(8)});
  std::memcpy(setup.loads.back().data.data(), &pdpt_entry, 8);
  std::string out;
  Result<RunOutcome> outcome = run(setup, config(out));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(outcome->exit_status, 0x37) << outcome->cause;
}

}  // namespace
}  // namespace igvmkit::vmm
