// x86/arch.h: the x86 machine facts every layer shares, each stated once: the page sizes, the
// 32-bit MMIO gap, the GPA where KVM keeps every SEV-SNP VMSA, control-register and EFER bits.
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

// Control-register and EFER bits (Intel SDM vol. 3 §2.5, §2.2.1; AMD APM vol. 2 §3.1.7).
inline constexpr uint64_t kCr0Pe = 1ull << 0;
inline constexpr uint64_t kCr0Et = 1ull << 4;
inline constexpr uint64_t kCr0Ne = 1ull << 5;
inline constexpr uint64_t kCr0Pg = 1ull << 31;
inline constexpr uint64_t kCr4Pae = 1ull << 5;
inline constexpr uint64_t kCr4Mce = 1ull << 6;
inline constexpr uint64_t kCr4Osfxsr = 1ull << 9;
inline constexpr uint64_t kCr4Osxmmexcpt = 1ull << 10;
inline constexpr uint64_t kCr4La57 = 1ull << 12;
inline constexpr uint64_t kEferSce = 1ull << 0;
inline constexpr uint64_t kEferLme = 1ull << 8;
inline constexpr uint64_t kEferLma = 1ull << 10;
inline constexpr uint64_t kEferNxe = 1ull << 11;
// SVME: the hardware requires it in an SEV-ES/SNP VMSA, and KVM always sets it in the save area.
inline constexpr uint64_t kEferSvme = 1ull << 12;
// IA32_PAT's architectural reset value.
inline constexpr uint64_t kDefaultPat = 0x0007'0406'0007'0406ull;

}  // namespace igvmkit::x86
