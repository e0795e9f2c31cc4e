// vmm/internal/kvm_abi.h: the KVM uAPI pieces this host's <linux/kvm.h> gets wrong in C++.
//
// Linux 6.1's uapi headers declare flexible arrays with __DECLARE_FLEX_ARRAY, which in C++ adds an
// empty struct (size 1): sizeof(kvm_cpuid2) and sizeof(kvm_msrs) become 12 instead of 8, so the
// ioctl numbers encode the wrong size (the kernel answers EINVAL) and `entries` sits at the wrong
// offset. The layouts and numbers here are the kernel's (loader-vmm.md §5.7).
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>

namespace igvmkit::vmm::kvm {

// struct kvm_cpuid2 / struct kvm_msrs without their flexible arrays; the entries follow at 8.
struct Cpuid2Header {
  uint32_t nent;
  uint32_t padding;
};
struct MsrsHeader {
  uint32_t nmsrs;
  uint32_t pad;
};
static_assert(sizeof(Cpuid2Header) == 8 && sizeof(MsrsHeader) == 8);
static_assert(sizeof(kvm_cpuid_entry2) == 40 && sizeof(kvm_msr_entry) == 16);

inline constexpr unsigned long kGetSupportedCpuid = 0xC008AE05;  // _IOWR(0xAE, 0x05, 8 bytes)
inline constexpr unsigned long kSetCpuid2 = 0x4008AE90;          // _IOW(0xAE, 0x90, 8 bytes)
inline constexpr unsigned long kGetMsrs = 0xC008AE88;            // _IOWR(0xAE, 0x88, 8 bytes)
inline constexpr unsigned long kSetMsrs = 0x4008AE89;            // _IOW(0xAE, 0x89, 8 bytes)

// The fixed-size structs the VMM uses are right in the system header; pin what §5.7 lists.
static_assert(KVM_SET_USER_MEMORY_REGION == 0x4020AE46);
static_assert(KVM_CREATE_PIT2 == 0x4040AE77);
static_assert(KVM_GET_REGS == 0x8090AE81 && KVM_SET_SREGS == 0x4138AE84);
static_assert(KVM_SET_FPU == 0x41A0AE8D && KVM_SET_LAPIC == 0x4400AE8F);
static_assert(KVM_IRQ_LINE == 0x4008AE61 && KVM_RUN == 0xAE80);
static_assert(offsetof(kvm_run, io) == 32);

}  // namespace igvmkit::vmm::kvm
