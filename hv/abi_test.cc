// The locally defined KVM ABI against this machine's <linux/kvm.h>, for the parts the (older)
// system header has. The newer parts (guest_memfd, SNP, TDX) are pinned by static_asserts on the
// documented sizes and offsets in hv/kvm_abi.h.
#include <cstddef>
#include <utility>

#include "hv/kvm_abi.h"
#include "hv/mshv_abi.h"

namespace ours {
namespace k = igvmkit::hv::kvm;
constexpr std::pair<const char*, unsigned long> kIoctls[] = {
    {"KVM_GET_API_VERSION", k::KVM_GET_API_VERSION},
    {"KVM_CREATE_VM", k::KVM_CREATE_VM},
    {"KVM_CHECK_EXTENSION", k::KVM_CHECK_EXTENSION},
    {"KVM_CREATE_VCPU", k::KVM_CREATE_VCPU},
    {"KVM_SET_USER_MEMORY_REGION", k::KVM_SET_USER_MEMORY_REGION},
    {"KVM_SET_TSS_ADDR", k::KVM_SET_TSS_ADDR},
    {"KVM_CREATE_IRQCHIP", k::KVM_CREATE_IRQCHIP},
    {"KVM_SET_REGS", k::KVM_SET_REGS},
    {"KVM_SET_SREGS", k::KVM_SET_SREGS},
    {"KVM_SET_FPU", k::KVM_SET_FPU},
    {"KVM_SET_DEBUGREGS", k::KVM_SET_DEBUGREGS},
    {"KVM_ENABLE_CAP", k::KVM_ENABLE_CAP},
    {"KVM_SET_XCRS", k::KVM_SET_XCRS},
    {"KVM_MEMORY_ENCRYPT_OP", k::KVM_MEMORY_ENCRYPT_OP},
};
constexpr size_t kSizes[] = {sizeof(k::kvm_userspace_memory_region),
                             sizeof(k::kvm_regs),
                             sizeof(k::kvm_segment),
                             sizeof(k::kvm_dtable),
                             sizeof(k::kvm_sregs),
                             sizeof(k::kvm_fpu),
                             sizeof(k::kvm_xcrs),
                             sizeof(k::kvm_debugregs),
                             sizeof(k::kvm_msr_entry),
                             sizeof(k::kvm_enable_cap),
                             sizeof(k::kvm_cpuid_entry2),
                             sizeof(k::kvm_sev_cmd)};
constexpr size_t kOffsets[] = {offsetof(k::kvm_sregs, tr),        offsetof(k::kvm_sregs, gdt),
                               offsetof(k::kvm_sregs, cr0),       offsetof(k::kvm_sregs, efer),
                               offsetof(k::kvm_sregs, apic_base), offsetof(k::kvm_fpu, fcw),
                               offsetof(k::kvm_fpu, xmm),         offsetof(k::kvm_fpu, mxcsr),
                               offsetof(k::kvm_sev_cmd, data),    offsetof(k::kvm_sev_cmd, error),
                               offsetof(k::kvm_sev_cmd, sev_fd),  offsetof(k::kvm_regs, rip)};
// What the VMM's run loop uses (vmm/vmm.cc).
constexpr unsigned long kVmmIoctls[] = {
    k::KVM_GET_VCPU_MMAP_SIZE, k::KVM_SET_IDENTITY_MAP_ADDR, k::KVM_IRQ_LINE,
    k::KVM_CREATE_PIT2,        k::KVM_RUN,                   k::KVM_GET_REGS,
    k::KVM_GET_SREGS,          k::KVM_GET_LAPIC,             k::KVM_SET_LAPIC,
    k::KVM_GET_MP_STATE,       k::KVM_SET_MP_STATE};
constexpr size_t kVmmLayout[] = {sizeof(k::kvm_run),
                                 offsetof(k::kvm_run, immediate_exit),
                                 offsetof(k::kvm_run, exit_reason),
                                 offsetof(k::kvm_run, io.data_offset),
                                 offsetof(k::kvm_run, mmio.len),
                                 offsetof(k::kvm_run, mmio.is_write),
                                 offsetof(k::kvm_run, fail_entry.cpu),
                                 offsetof(k::kvm_run, internal.suberror),
                                 offsetof(k::kvm_run, system_event.data),
                                 offsetof(k::kvm_run, kvm_valid_regs),
                                 sizeof(k::kvm_lapic_state),
                                 sizeof(k::kvm_pit_config),
                                 sizeof(k::kvm_irq_level),
                                 sizeof(k::kvm_mp_state)};
constexpr uint64_t kVmmConstants[] = {
    k::kExitIo,           k::kExitHlt,         k::kExitMmio,          k::kExitShutdown,
    k::kExitFailEntry,    k::kExitIntr,        k::kExitInternalError, k::kExitSystemEvent,
    k::kExitIoIn,         k::kExitIoOut,       k::kMpStateRunnable,   k::kMpStateUninitialized,
    k::kMpStateInitReceived, k::kMpStateHalted, k::kPitSpeakerDummy,  k::kCapImmediateExit,
    k::kSystemEventShutdown, k::kSystemEventReset, k::kCapTscDeadlineTimer};
}  // namespace ours

#include <gtest/gtest.h>
#include <linux/kvm.h>

namespace {

TEST(KvmAbi, IoctlNumbersMatchTheSystemHeader) {
  const unsigned long theirs[] = {KVM_GET_API_VERSION,
                                  KVM_CREATE_VM,
                                  KVM_CHECK_EXTENSION,
                                  KVM_CREATE_VCPU,
                                  KVM_SET_USER_MEMORY_REGION,
                                  KVM_SET_TSS_ADDR,
                                  KVM_CREATE_IRQCHIP,
                                  KVM_SET_REGS,
                                  KVM_SET_SREGS,
                                  KVM_SET_FPU,
                                  KVM_SET_DEBUGREGS,
                                  KVM_ENABLE_CAP,
                                  KVM_SET_XCRS,
                                  KVM_MEMORY_ENCRYPT_OP};
  // Not compared: KVM_GET_SUPPORTED_CPUID, KVM_SET_MSRS and KVM_SET_CPUID2 encode the size of a
  // struct ending in __DECLARE_FLEX_ARRAY, whose empty struct has size 1 in C++, so the header's
  // C++ value differs from the kernel's (C) one. kvm_abi.h pins the C values from loader-vmm.md
  // §5.7.
  static_assert(std::size(theirs) == std::size(ours::kIoctls));
  for (size_t i = 0; i < std::size(theirs); ++i) {
    EXPECT_EQ(ours::kIoctls[i].second, theirs[i]) << ours::kIoctls[i].first;
  }
}

TEST(KvmAbi, StructLayoutsMatchTheSystemHeader) {
  const size_t sizes[] = {sizeof(kvm_userspace_memory_region),
                          sizeof(kvm_regs),
                          sizeof(kvm_segment),
                          sizeof(kvm_dtable),
                          sizeof(kvm_sregs),
                          sizeof(kvm_fpu),
                          sizeof(kvm_xcrs),
                          sizeof(kvm_debugregs),
                          sizeof(kvm_msr_entry),
                          sizeof(kvm_enable_cap),
                          sizeof(kvm_cpuid_entry2),
                          sizeof(kvm_sev_cmd)};
  for (size_t i = 0; i < std::size(sizes); ++i) {
    EXPECT_EQ(ours::kSizes[i], sizes[i]) << "size #" << i;
  }
  const size_t offsets[] = {
      offsetof(kvm_sregs, tr),      offsetof(kvm_sregs, gdt),       offsetof(kvm_sregs, cr0),
      offsetof(kvm_sregs, efer),    offsetof(kvm_sregs, apic_base), offsetof(kvm_fpu, fcw),
      offsetof(kvm_fpu, xmm),       offsetof(kvm_fpu, mxcsr),       offsetof(kvm_sev_cmd, data),
      offsetof(kvm_sev_cmd, error), offsetof(kvm_sev_cmd, sev_fd),  offsetof(kvm_regs, rip)};
  for (size_t i = 0; i < std::size(offsets); ++i) {
    EXPECT_EQ(ours::kOffsets[i], offsets[i]) << "offset #" << i;
  }
}

TEST(KvmAbi, TheVmmsPartMatchesTheSystemHeader) {
  const unsigned long ioctls[] = {KVM_GET_VCPU_MMAP_SIZE, KVM_SET_IDENTITY_MAP_ADDR, KVM_IRQ_LINE,
                                  KVM_CREATE_PIT2,        KVM_RUN,                   KVM_GET_REGS,
                                  KVM_GET_SREGS,          KVM_GET_LAPIC,             KVM_SET_LAPIC,
                                  KVM_GET_MP_STATE,       KVM_SET_MP_STATE};
  static_assert(std::size(ioctls) == std::size(ours::kVmmIoctls));
  for (size_t i = 0; i < std::size(ioctls); ++i) {
    EXPECT_EQ(ours::kVmmIoctls[i], ioctls[i]) << "vmm ioctl #" << i;
  }
  const size_t layout[] = {sizeof(kvm_run),
                           offsetof(kvm_run, immediate_exit),
                           offsetof(kvm_run, exit_reason),
                           offsetof(kvm_run, io.data_offset),
                           offsetof(kvm_run, mmio.len),
                           offsetof(kvm_run, mmio.is_write),
                           offsetof(kvm_run, fail_entry.cpu),
                           offsetof(kvm_run, internal.suberror),
                           offsetof(kvm_run, system_event.data),
                           offsetof(kvm_run, kvm_valid_regs),
                           sizeof(kvm_lapic_state),
                           sizeof(kvm_pit_config),
                           sizeof(kvm_irq_level),
                           sizeof(kvm_mp_state)};
  static_assert(std::size(layout) == std::size(ours::kVmmLayout));
  for (size_t i = 0; i < std::size(layout); ++i) {
    EXPECT_EQ(ours::kVmmLayout[i], layout[i]) << "vmm layout #" << i;
  }
  const uint64_t constants[] = {
      KVM_EXIT_IO,           KVM_EXIT_HLT,        KVM_EXIT_MMIO,           KVM_EXIT_SHUTDOWN,
      KVM_EXIT_FAIL_ENTRY,   KVM_EXIT_INTR,       KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_SYSTEM_EVENT,
      KVM_EXIT_IO_IN,        KVM_EXIT_IO_OUT,     KVM_MP_STATE_RUNNABLE,   KVM_MP_STATE_UNINITIALIZED,
      KVM_MP_STATE_INIT_RECEIVED, KVM_MP_STATE_HALTED, KVM_PIT_SPEAKER_DUMMY, KVM_CAP_IMMEDIATE_EXIT,
      KVM_SYSTEM_EVENT_SHUTDOWN, KVM_SYSTEM_EVENT_RESET, KVM_CAP_TSC_DEADLINE_TIMER};
  static_assert(std::size(constants) == std::size(ours::kVmmConstants));
  for (size_t i = 0; i < std::size(constants); ++i) {
    EXPECT_EQ(ours::kVmmConstants[i], constants[i]) << "vmm constant #" << i;
  }
}

TEST(KvmAbi, ConstantsMatchTheSystemHeader) {
  EXPECT_EQ(igvmkit::hv::kvm::kCapExitHypercall,
            static_cast<unsigned long>(KVM_CAP_EXIT_HYPERCALL));
  EXPECT_EQ(igvmkit::hv::kvm::kMemLogDirtyPages,
            static_cast<uint32_t>(KVM_MEM_LOG_DIRTY_PAGES));
  EXPECT_EQ(igvmkit::hv::kvm::kMemReadonly, static_cast<uint32_t>(KVM_MEM_READONLY));
}

}  // namespace
