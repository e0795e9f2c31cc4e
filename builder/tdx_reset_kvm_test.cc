// Runs the TDX reset trampoline on a plain KVM vCPU that starts the way the TDX module starts a
// TD vCPU (loader-vmm.md §3.5): 32-bit protected mode, paging off, flat segments, RIP 0xFFFFFFF0,
// RFLAGS 2, RSI = vCPU index, CR4.MCE set. The trampoline must arrive at the 64-bit entry with the
// state the other platforms' VP contexts give; the entry is a `hlt`, so the run ends in
// KVM_EXIT_HLT and the test reads the registers back.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "builder/tdx_reset.h"
#include "builder/x86.h"

namespace igvmkit::builder {
namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

class Mapping {
 public:
  explicit Mapping(size_t size)
      : size_(size),
        ptr_(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                  -1, 0)) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (ptr_ != MAP_FAILED) {
      munmap(ptr_, size_);
    }
  }
  uint8_t* data() const { return static_cast<uint8_t*>(ptr_); }
  bool ok() const { return ptr_ != MAP_FAILED; }

 private:
  size_t size_;
  void* ptr_;
};

// In C++ GCC sizes the header's `struct kvm_cpuid2` (a zero-length array member) as 12 bytes, so
// the macros encode the wrong size; these are the kernel's numbers (loader-vmm.md §5.7).
constexpr unsigned long kKvmGetSupportedCpuid = 0xC008AE05;
constexpr unsigned long kKvmSetCpuid2 = 0x4008AE90;

constexpr uint64_t kLowSize = 0x40'0000;  // 4 MiB of RAM at 0
constexpr uint64_t kEntry = 0x20'0000;    // where the `hlt` waits

kvm_segment flatSegment(uint16_t selector, uint8_t type) {
  kvm_segment s{};
  s.base = 0;
  s.limit = 0xFFFF'FFFF;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.dpl = 0;
  s.db = 1;
  s.s = 1;
  s.l = 0;
  s.g = 1;
  return s;
}

TEST(TdxResetOnKvm, ReachesTheSixtyFourBitEntry) {
  if (access("/dev/kvm", R_OK | W_OK) != 0) {
    GTEST_SKIP() << "no /dev/kvm";
  }
  Fd kvm(open("/dev/kvm", O_RDWR | O_CLOEXEC));
  ASSERT_GE(kvm.get(), 0);
  ASSERT_EQ(ioctl(kvm.get(), KVM_GET_API_VERSION, 0), 12);
  Fd vm(ioctl(kvm.get(), KVM_CREATE_VM, 0));
  if (vm.get() < 0) {
    GTEST_SKIP() << "KVM_CREATE_VM failed: " << std::strerror(errno);
  }
  ASSERT_EQ(ioctl(vm.get(), KVM_SET_TSS_ADDR, 0xFFFB'D000ul), 0);

  // Guest memory: RAM at [0, 4 MiB) and the trampoline page at 0xFFFFF000.
  Mapping low(kLowSize);
  Mapping top(0x1000);
  ASSERT_TRUE(low.ok() && top.ok());
  kvm_userspace_memory_region r0{0, 0, 0, kLowSize, reinterpret_cast<uint64_t>(low.data())};
  kvm_userspace_memory_region r1{1, 0, layout::kTdxResetPageGpa, 0x1000,
                                 reinterpret_cast<uint64_t>(top.data())};
  ASSERT_EQ(ioctl(vm.get(), KVM_SET_USER_MEMORY_REGION, &r0), 0);
  ASSERT_EQ(ioctl(vm.get(), KVM_SET_USER_MEMORY_REGION, &r1), 0);

  Result<PageTables> pt = identityMap({});
  ASSERT_TRUE(pt.ok());
  for (const Page& p : pt->pages) {
    std::memcpy(low.data() + p.gpa, p.bytes.data(), p.bytes.size());
  }
  Page gdt = makeGdtPage();
  std::memcpy(low.data() + gdt.gpa, gdt.bytes.data(), gdt.bytes.size());
  low.data()[kEntry] = 0xF4;  // hlt

  X64State state = longModeState({.rip = kEntry, .rsp = 0x5000, .rsi = 0x2000, .cr3 = pt->cr3});
  state.rax = 0xA1;
  state.rbx = 0xB2;
  state.rdi = 0xD1;
  state.rbp = 0xB9;
  state.r9 = 0x99;
  state.r15 = 0xF15;
  Result<ByteVector> page = tdxResetPage(state, pt->map_end);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  std::memcpy(top.data(), page->data(), page->size());

  Fd vcpu(ioctl(vm.get(), KVM_CREATE_VCPU, 0));
  ASSERT_GE(vcpu.get(), 0);
  const int run_size = ioctl(kvm.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
  ASSERT_GT(run_size, 0);
  void* run_ptr = mmap(nullptr, static_cast<size_t>(run_size), PROT_READ | PROT_WRITE, MAP_SHARED,
                       vcpu.get(), 0);
  ASSERT_NE(run_ptr, MAP_FAILED);
  auto* run = static_cast<kvm_run*>(run_ptr);

  // CPUID: long mode, NX and SYSCALL must be visible for the EFER writes.
  constexpr int kMaxEntries = 256;
  std::vector<uint8_t> cpuid_buf(8 + kMaxEntries * sizeof(kvm_cpuid_entry2));
  auto* cpuid = reinterpret_cast<kvm_cpuid2*>(cpuid_buf.data());
  cpuid->nent = kMaxEntries;
  ASSERT_EQ(ioctl(kvm.get(), kKvmGetSupportedCpuid, cpuid), 0) << std::strerror(errno);
  ASSERT_EQ(ioctl(vcpu.get(), kKvmSetCpuid2, cpuid), 0);

  // The TDX module's initial state: 32-bit protected mode, flat segments, paging off.
  kvm_sregs sregs{};
  ASSERT_EQ(ioctl(vcpu.get(), KVM_GET_SREGS, &sregs), 0);
  sregs.cs = flatSegment(0x08, 0xB);
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flatSegment(0x10, 0x3);
  sregs.cr0 = kCr0Pe | kCr0Et | kCr0Ne;
  sregs.cr4 = kCr4Mce;
  sregs.efer = 0;
  ASSERT_EQ(ioctl(vcpu.get(), KVM_SET_SREGS, &sregs), 0);
  kvm_regs regs{};
  regs.rip = layout::kTdxResetVector;
  regs.rflags = 0x2;
  regs.rsi = 0;  // vCPU index 0: the BSP
  ASSERT_EQ(ioctl(vcpu.get(), KVM_SET_REGS, &regs), 0);

  ASSERT_EQ(ioctl(vcpu.get(), KVM_RUN, 0), 0) << std::strerror(errno);
  EXPECT_EQ(run->exit_reason, static_cast<uint32_t>(KVM_EXIT_HLT));

  ASSERT_EQ(ioctl(vcpu.get(), KVM_GET_REGS, &regs), 0);
  ASSERT_EQ(ioctl(vcpu.get(), KVM_GET_SREGS, &sregs), 0);
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
  munmap(run_ptr, static_cast<size_t>(run_size));
}

}  // namespace
}  // namespace igvmkit::builder
