// x86/arch.h: the x86 machine facts every layer shares, each stated once: the page sizes, the
// 32-bit MMIO gap, and the GPA where KVM keeps every SEV-SNP VMSA.
//
//   if (gpa % x86::kPageSize != 0) { ... }
//   ram.low = std::min(memory_bytes, x86::kMmioGapStart);
#pragma once

#include <cstdint>

namespace igvmkit::x86 {

// A 4 KiB page: the unit of every IGVM directive (igvm-format.md §3), of paging and of the
// hypervisors' memory calls.
inline constexpr uint64_t kPageSize = 0x1000;
// A 2 MiB page: an IGVM IS_2MB_PAGE directive, a PD leaf with PS set.
inline constexpr uint64_t kLargePageSize = 0x20'0000;

// The 32-bit MMIO gap [3 GiB, 4 GiB): IOAPIC, LAPIC, flash and the reset vector live there, so RAM
// beyond 3 GiB continues at 4 GiB (Firecracker's MMIO32 region, loader-vmm.md §5.1).
inline constexpr uint64_t kMmioGapStart = 0xC000'0000;
inline constexpr uint64_t kMmioGapEnd = 0x1'0000'0000;

// KVM's INITIAL_VMSA_GPA: where KVM places and measures every SEV-SNP VMSA (loader-vmm.md §1.5,
// measurement.md §1.4); QEMU refuses an IGVM VMSA anywhere else.
inline constexpr uint64_t kKvmVmsaGpa = 0xFFFF'FFFF'F000;

}  // namespace igvmkit::x86
