// hv/kvm_abi.h: the KVM uAPI the loader and the VMM use, defined locally because this
// machine's <linux/kvm.h> predates guest_memfd, SNP and TDX (loader-vmm.md §0), and its flexible
// arrays (kvm_cpuid2, kvm_msrs) have the wrong size in C++. The one KVM ABI header of the project:
// never include <linux/kvm.h> next to it (its macros share these names). Layouts and numbers from
// loader-vmm.md §3 and §5.7; abi_test compares the ones the host header has.
#pragma once

#include <cstddef>
#include <cstdint>

namespace igvmkit::hv::kvm {

// _IOC encoding (asm-generic/ioctl.h): dir << 30 | size << 16 | type << 8 | nr.
constexpr unsigned long ioc(unsigned dir, unsigned type, unsigned nr, unsigned size) {
  return (static_cast<unsigned long>(dir) << 30) | (static_cast<unsigned long>(size) << 16) |
         (type << 8) | nr;
}
inline constexpr unsigned kNone = 0, kWrite = 1, kRead = 2;
inline constexpr unsigned kKvmIo = 0xAE;

struct kvm_userspace_memory_region {
  uint32_t slot;
  uint32_t flags;
  uint64_t guest_phys_addr;
  uint64_t memory_size;
  uint64_t userspace_addr;
};
static_assert(sizeof(kvm_userspace_memory_region) == 32);

struct kvm_userspace_memory_region2 {
  uint32_t slot;
  uint32_t flags;
  uint64_t guest_phys_addr;
  uint64_t memory_size;
  uint64_t userspace_addr;
  uint64_t guest_memfd_offset;
  uint32_t guest_memfd;
  uint32_t pad1;
  uint64_t pad2[14];
};
static_assert(sizeof(kvm_userspace_memory_region2) == 160);
static_assert(offsetof(kvm_userspace_memory_region2, guest_memfd_offset) == 32);
static_assert(offsetof(kvm_userspace_memory_region2, guest_memfd) == 40);
static_assert(offsetof(kvm_userspace_memory_region2, pad2) == 48);
inline constexpr uint32_t kMemLogDirtyPages = 1, kMemReadonly = 2, kMemGuestMemfd = 4;

struct kvm_create_guest_memfd {
  uint64_t size;
  uint64_t flags;
  uint64_t reserved[6];
};
static_assert(sizeof(kvm_create_guest_memfd) == 64);
inline constexpr uint64_t kGuestMemfdFlagMmap = 1, kGuestMemfdFlagInitShared = 2;

struct kvm_memory_attributes {
  uint64_t address;
  uint64_t size;
  uint64_t attributes;
  uint64_t flags;
};
static_assert(sizeof(kvm_memory_attributes) == 32);
inline constexpr uint64_t kMemoryAttributePrivate = 1ull << 3;

struct kvm_regs {
  uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rip, rflags;
};
static_assert(sizeof(kvm_regs) == 144);

struct kvm_segment {
  uint64_t base;
  uint32_t limit;
  uint16_t selector;
  uint8_t type;
  uint8_t present, dpl, db, s, l, g, avl;
  uint8_t unusable;
  uint8_t padding;
};
static_assert(sizeof(kvm_segment) == 24);
struct kvm_dtable {
  uint64_t base;
  uint16_t limit;
  uint16_t padding[3];
};
static_assert(sizeof(kvm_dtable) == 16);
struct kvm_sregs {
  kvm_segment cs, ds, es, fs, gs, ss;
  kvm_segment tr, ldt;
  kvm_dtable gdt, idt;
  uint64_t cr0, cr2, cr3, cr4, cr8;
  uint64_t efer;
  uint64_t apic_base;
  uint64_t interrupt_bitmap[4];
};
static_assert(sizeof(kvm_sregs) == 312);
static_assert(offsetof(kvm_sregs, cr0) == 224);

struct kvm_fpu {
  uint8_t fpr[8][16];
  uint16_t fcw;
  uint16_t fsw;
  uint8_t ftwx;
  uint8_t pad1;
  uint16_t last_opcode;
  uint64_t last_ip;
  uint64_t last_dp;
  uint8_t xmm[16][16];
  uint32_t mxcsr;
  uint32_t pad2;
};
static_assert(sizeof(kvm_fpu) == 416);
static_assert(offsetof(kvm_fpu, mxcsr) == 408);

struct kvm_xcr {
  uint32_t xcr;
  uint32_t reserved;
  uint64_t value;
};
struct kvm_xcrs {
  uint32_t nr_xcrs;
  uint32_t flags;
  kvm_xcr xcrs[16];
  uint64_t padding[16];
};
static_assert(sizeof(kvm_xcrs) == 392);

struct kvm_debugregs {
  uint64_t db[4];
  uint64_t dr6;
  uint64_t dr7;
  uint64_t flags;
  uint64_t reserved[9];
};
static_assert(sizeof(kvm_debugregs) == 128);

struct kvm_msr_entry {
  uint32_t index;
  uint32_t reserved;
  uint64_t data;
};
struct kvm_msrs {
  uint32_t nmsrs;
  uint32_t pad;
  // kvm_msr_entry entries[nmsrs] follow
};
static_assert(sizeof(kvm_msr_entry) == 16 && sizeof(kvm_msrs) == 8);
inline constexpr uint32_t kMsrPat = 0x277;

struct kvm_enable_cap {
  uint32_t cap;
  uint32_t flags;
  uint64_t args[4];
  uint8_t pad[64];
};
static_assert(sizeof(kvm_enable_cap) == 104);

struct kvm_cpuid_entry2 {
  uint32_t function;
  uint32_t index;
  uint32_t flags;
  uint32_t eax, ebx, ecx, edx;
  uint32_t padding[3];
};
static_assert(sizeof(kvm_cpuid_entry2) == 40);
struct kvm_cpuid2 {
  uint32_t nent;
  uint32_t padding;
  // kvm_cpuid_entry2 entries[nent] follow
};
static_assert(sizeof(kvm_cpuid2) == 8);

// The vCPU's shared page (mmap of the vCPU fd, KVM_GET_VCPU_MMAP_SIZE bytes): the exit the last
// KVM_RUN ended with. Only the fields up to the exit union are spelled out; the rest is padding.
struct kvm_run {
  uint8_t request_interrupt_window;
  uint8_t immediate_exit;  // set by another thread: the next KVM_RUN returns -EINTR at once
  uint8_t padding1[6];
  uint32_t exit_reason;
  uint8_t ready_for_interrupt_injection;
  uint8_t if_flag;
  uint16_t flags;
  uint64_t cr8;
  uint64_t apic_base;
  union {
    struct {
      uint64_t hardware_entry_failure_reason;
      uint32_t cpu;
    } fail_entry;
    struct {
      uint8_t direction;  // kExitIoIn / kExitIoOut
      uint8_t size;
      uint16_t port;
      uint32_t count;
      uint64_t data_offset;  // from the start of kvm_run
    } io;
    struct {
      uint64_t phys_addr;
      uint8_t data[8];
      uint32_t len;
      uint8_t is_write;
    } mmio;
    struct {
      uint32_t suberror;
      uint32_t ndata;
      uint64_t data[16];
    } internal;
    struct {
      uint32_t type;  // kSystemEventShutdown, kSystemEventReset, ...
      uint32_t ndata;
      uint64_t data[16];
    } system_event;
    uint8_t exit_padding[256];
  };
  uint64_t kvm_valid_regs;
  uint64_t kvm_dirty_regs;
  uint8_t sync_regs[2048];
};
static_assert(offsetof(kvm_run, immediate_exit) == 1 && offsetof(kvm_run, exit_reason) == 8);
static_assert(offsetof(kvm_run, io) == 32 && offsetof(kvm_run, kvm_valid_regs) == 288);
static_assert(sizeof(kvm_run) == 2352);
// Exit reasons (loader-vmm.md §5.7).
inline constexpr uint32_t kExitIo = 2, kExitHlt = 5, kExitMmio = 6, kExitIrqWindowOpen = 7,
                          kExitShutdown = 8, kExitFailEntry = 9, kExitIntr = 10,
                          kExitInternalError = 17, kExitSystemEvent = 24;
inline constexpr uint8_t kExitIoIn = 0, kExitIoOut = 1;
inline constexpr uint32_t kSystemEventShutdown = 1, kSystemEventReset = 2;

struct kvm_mp_state {
  uint32_t mp_state;
};
inline constexpr uint32_t kMpStateRunnable = 0, kMpStateUninitialized = 1,
                          kMpStateInitReceived = 2, kMpStateHalted = 3;

struct kvm_lapic_state {
  uint8_t regs[1024];  // the APIC page: register at offset X is at regs[X]
};
struct kvm_pit_config {
  uint32_t flags;
  uint32_t pad[15];
};
static_assert(sizeof(kvm_lapic_state) == 1024 && sizeof(kvm_pit_config) == 64);
inline constexpr uint32_t kPitSpeakerDummy = 1;
struct kvm_irq_level {
  uint32_t irq;
  uint32_t level;
};
static_assert(sizeof(kvm_irq_level) == 8);

// SEV (loader-vmm.md §3.3).
struct kvm_sev_cmd {
  uint32_t id;
  uint32_t pad0;
  uint64_t data;
  uint32_t error;
  uint32_t sev_fd;
};
static_assert(sizeof(kvm_sev_cmd) == 24);
inline constexpr uint32_t kSevInit2 = 22, kSevSnpLaunchStart = 100, kSevSnpLaunchUpdate = 101,
                          kSevSnpLaunchFinish = 102;

struct kvm_sev_init {
  uint64_t vmsa_features;
  uint32_t flags;
  uint16_t ghcb_version;
  uint16_t pad1;
  uint32_t pad2[8];
};
static_assert(sizeof(kvm_sev_init) == 48);

struct kvm_sev_snp_launch_start {
  uint64_t policy;
  uint8_t gosvw[16];
  uint16_t flags;
  uint8_t pad0[6];
  uint64_t pad1[4];
};
static_assert(sizeof(kvm_sev_snp_launch_start) == 64);
static_assert(offsetof(kvm_sev_snp_launch_start, flags) == 24);
static_assert(offsetof(kvm_sev_snp_launch_start, pad1) == 32);

struct kvm_sev_snp_launch_update {
  uint64_t gfn_start;
  uint64_t uaddr;
  uint64_t len;
  uint8_t type;
  uint8_t pad0;
  uint16_t flags;
  uint32_t pad1;
  uint64_t pad2[4];
};
static_assert(sizeof(kvm_sev_snp_launch_update) == 64);
static_assert(offsetof(kvm_sev_snp_launch_update, type) == 24);
static_assert(offsetof(kvm_sev_snp_launch_update, flags) == 26);
static_assert(offsetof(kvm_sev_snp_launch_update, pad2) == 32);
// KVM/firmware SNP page types (loader-vmm.md §3.3, §2.4).
inline constexpr uint8_t kSnpPageNormal = 1, kSnpPageZero = 3, kSnpPageUnmeasured = 4,
                         kSnpPageSecrets = 5, kSnpPageCpuid = 6;

struct kvm_sev_snp_launch_finish {
  uint64_t id_block_uaddr;
  uint64_t id_auth_uaddr;
  uint8_t id_block_en;
  uint8_t auth_key_en;
  uint8_t vcek_disabled;
  uint8_t host_data[32];
  uint8_t pad0[3];
  uint16_t flags;
  uint64_t pad1[4];
};
static_assert(sizeof(kvm_sev_snp_launch_finish) == 88);
static_assert(offsetof(kvm_sev_snp_launch_finish, host_data) == 19);
static_assert(offsetof(kvm_sev_snp_launch_finish, flags) == 54);
static_assert(offsetof(kvm_sev_snp_launch_finish, pad1) == 56);
inline constexpr size_t kSnpIdBlockSize = 96, kSnpIdAuthSize = 4096;

// TDX (loader-vmm.md §3.4).
struct kvm_tdx_cmd {
  uint32_t id;
  uint32_t flags;
  uint64_t data;
  uint64_t hw_error;
};
static_assert(sizeof(kvm_tdx_cmd) == 24);
inline constexpr uint32_t kTdxCapabilities = 0, kTdxInitVm = 1, kTdxInitVcpu = 2,
                          kTdxInitMemRegion = 3, kTdxFinalizeVm = 4;
inline constexpr uint32_t kTdxMeasureMemoryRegion = 1u << 0;

struct kvm_tdx_capabilities {
  uint64_t supported_attrs;
  uint64_t supported_xfam;
  uint64_t kernel_tdvmcallinfo_1_r11;
  uint64_t user_tdvmcallinfo_1_r11;
  uint64_t kernel_tdvmcallinfo_1_r12;
  uint64_t user_tdvmcallinfo_1_r12;
  uint64_t reserved[250];
  kvm_cpuid2 cpuid;  // entries follow
};
static_assert(offsetof(kvm_tdx_capabilities, cpuid) == 2048);

struct kvm_tdx_init_vm {
  uint64_t attributes;
  uint64_t xfam;
  uint64_t mrconfigid[6];
  uint64_t mrowner[6];
  uint64_t mrownerconfig[6];
  uint64_t reserved[12];
  kvm_cpuid2 cpuid;  // entries follow
};
static_assert(offsetof(kvm_tdx_init_vm, mrowner) == 64);
static_assert(offsetof(kvm_tdx_init_vm, mrownerconfig) == 112);
static_assert(offsetof(kvm_tdx_init_vm, cpuid) == 256);

struct kvm_tdx_init_mem_region {
  uint64_t source_addr;
  uint64_t gpa;
  uint64_t nr_pages;
};
static_assert(sizeof(kvm_tdx_init_mem_region) == 24);

// VM types and capabilities (§3.1).
inline constexpr unsigned long kVmDefault = 0, kVmSnp = 4, kVmTdx = 5;
inline constexpr unsigned long kCapExitHypercall = 201, kCapUserMemory2 = 231,
                               kCapMemoryAttributes = 233, kCapGuestMemfd = 234, kCapVmTypes = 235;
inline constexpr uint64_t kHcMapGpaRange = 12;
inline constexpr unsigned long kCapImmediateExit = 136;
// The in-kernel LAPIC emulates the TSC-deadline timer mode (KVM_CAP_TSC_DEADLINE_TIMER, kvm.h);
// userspace advertises it in CPUID.1:ECX[24], KVM_GET_SUPPORTED_CPUID does not.
inline constexpr unsigned long kCapTscDeadlineTimer = 72;

// ioctl numbers (loader-vmm.md §5.7; static_asserts below pin the documented values).
inline constexpr unsigned long KVM_GET_API_VERSION = ioc(kNone, kKvmIo, 0x00, 0);
inline constexpr unsigned long KVM_CREATE_VM = ioc(kNone, kKvmIo, 0x01, 0);
inline constexpr unsigned long KVM_CHECK_EXTENSION = ioc(kNone, kKvmIo, 0x03, 0);
inline constexpr unsigned long KVM_GET_SUPPORTED_CPUID = ioc(kRead | kWrite, kKvmIo, 0x05, 8);
inline constexpr unsigned long KVM_CREATE_VCPU = ioc(kNone, kKvmIo, 0x41, 0);
inline constexpr unsigned long KVM_GET_VCPU_MMAP_SIZE = ioc(kNone, kKvmIo, 0x04, 0);
inline constexpr unsigned long KVM_SET_USER_MEMORY_REGION = ioc(kWrite, kKvmIo, 0x46, 32);
inline constexpr unsigned long KVM_SET_TSS_ADDR = ioc(kNone, kKvmIo, 0x47, 0);
inline constexpr unsigned long KVM_SET_IDENTITY_MAP_ADDR = ioc(kWrite, kKvmIo, 0x48, 8);
inline constexpr unsigned long KVM_SET_USER_MEMORY_REGION2 = ioc(kWrite, kKvmIo, 0x49, 160);
inline constexpr unsigned long KVM_CREATE_IRQCHIP = ioc(kNone, kKvmIo, 0x60, 0);
inline constexpr unsigned long KVM_IRQ_LINE = ioc(kWrite, kKvmIo, 0x61, 8);
inline constexpr unsigned long KVM_CREATE_PIT2 = ioc(kWrite, kKvmIo, 0x77, 64);
inline constexpr unsigned long KVM_RUN = ioc(kNone, kKvmIo, 0x80, 0);
inline constexpr unsigned long KVM_GET_REGS = ioc(kRead, kKvmIo, 0x81, 144);
inline constexpr unsigned long KVM_SET_REGS = ioc(kWrite, kKvmIo, 0x82, 144);
inline constexpr unsigned long KVM_GET_SREGS = ioc(kRead, kKvmIo, 0x83, 312);
inline constexpr unsigned long KVM_SET_SREGS = ioc(kWrite, kKvmIo, 0x84, 312);
inline constexpr unsigned long KVM_GET_MSRS = ioc(kRead | kWrite, kKvmIo, 0x88, 8);
inline constexpr unsigned long KVM_SET_MSRS = ioc(kWrite, kKvmIo, 0x89, 8);
inline constexpr unsigned long KVM_SET_FPU = ioc(kWrite, kKvmIo, 0x8D, 416);
inline constexpr unsigned long KVM_GET_LAPIC = ioc(kRead, kKvmIo, 0x8E, 1024);
inline constexpr unsigned long KVM_SET_LAPIC = ioc(kWrite, kKvmIo, 0x8F, 1024);
inline constexpr unsigned long KVM_SET_CPUID2 = ioc(kWrite, kKvmIo, 0x90, 8);
inline constexpr unsigned long KVM_GET_MP_STATE = ioc(kRead, kKvmIo, 0x98, 4);
inline constexpr unsigned long KVM_SET_MP_STATE = ioc(kWrite, kKvmIo, 0x99, 4);
inline constexpr unsigned long KVM_SET_DEBUGREGS = ioc(kWrite, kKvmIo, 0xA2, 128);
inline constexpr unsigned long KVM_ENABLE_CAP = ioc(kWrite, kKvmIo, 0xA3, 104);
inline constexpr unsigned long KVM_SET_XCRS = ioc(kWrite, kKvmIo, 0xA7, 392);
inline constexpr unsigned long KVM_MEMORY_ENCRYPT_OP = ioc(kRead | kWrite, kKvmIo, 0xBA, 8);
inline constexpr unsigned long KVM_SET_MEMORY_ATTRIBUTES = ioc(kWrite, kKvmIo, 0xD2, 32);
inline constexpr unsigned long KVM_CREATE_GUEST_MEMFD = ioc(kRead | kWrite, kKvmIo, 0xD4, 64);

static_assert(KVM_CREATE_VM == 0xAE01 && KVM_CHECK_EXTENSION == 0xAE03);
static_assert(KVM_GET_SUPPORTED_CPUID == 0xC008AE05 && KVM_CREATE_VCPU == 0xAE41);
static_assert(KVM_SET_USER_MEMORY_REGION == 0x4020AE46 && KVM_SET_TSS_ADDR == 0xAE47);
static_assert(KVM_SET_USER_MEMORY_REGION2 == 0x40A0AE49 && KVM_CREATE_IRQCHIP == 0xAE60);
static_assert(KVM_SET_REGS == 0x4090AE82 && KVM_SET_SREGS == 0x4138AE84);
static_assert(KVM_SET_MSRS == 0x4008AE89 && KVM_SET_FPU == 0x41A0AE8D);
static_assert(KVM_SET_CPUID2 == 0x4008AE90 && KVM_ENABLE_CAP == 0x4068AEA3);
static_assert(KVM_MEMORY_ENCRYPT_OP == 0xC008AEBA && KVM_SET_MEMORY_ATTRIBUTES == 0x4020AED2);
static_assert(KVM_CREATE_GUEST_MEMFD == 0xC040AED4);
static_assert(KVM_GET_VCPU_MMAP_SIZE == 0xAE04 && KVM_SET_IDENTITY_MAP_ADDR == 0x4008AE48);
static_assert(KVM_IRQ_LINE == 0x4008AE61 && KVM_CREATE_PIT2 == 0x4040AE77 && KVM_RUN == 0xAE80);
static_assert(KVM_GET_REGS == 0x8090AE81 && KVM_GET_SREGS == 0x8138AE83);
static_assert(KVM_GET_MSRS == 0xC008AE88 && KVM_SET_MSRS == 0x4008AE89);
static_assert(KVM_GET_LAPIC == 0x8400AE8E && KVM_SET_LAPIC == 0x4400AE8F);

// Where plain KVM on Intel needs its TSS (three pages in the 32-bit MMIO hole; §5.1).
inline constexpr unsigned long kTssAddress = 0xFFFB'D000;

}  // namespace igvmkit::hv::kvm
