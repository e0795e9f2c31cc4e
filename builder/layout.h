// builder/layout.h: every fixed guest physical address the builder uses, each with its reason.
//
// The builder places its own structures (GDT, zero page, command line, boot stack, page tables)
// in low memory below the 640 KiB legacy boundary, where no firmware, kernel or ELF payload goes,
// and puts confidential-platform pages where the hosts require them. Nothing else in builder/
// spells a guest address; the manifest can move components (kernel, initrd, blobs, parameter
// areas) but not these.
//
//   0x0000_1000  GDT                      0x0001_0000  page tables (up to kPageTablesMaxBytes)
//   0x0000_2000  zero page (boot_params)  0x0008_0000  end of the builder's low area
//   0x0000_3000  kernel command line      0x0010_0000  1 MiB: kernels / payloads start here
//   0x0000_4000  boot stack (one page)    0xFFFF_F000  TDX reset-vector page
//   0x0000_5000  SNP secrets page         0xFFFF_FFFF_F000  SNP VMSA under KVM
//   0x0000_6000  SNP CPUID page
//   0x0000_7000  SNP cc_blob_sev_info
//   0x0000_8000  ACPI RSDP + XSDT (native [linux])
//   0x0000_9000  ACPI MADT parameter area (native [linux])
#pragma once

#include <cstdint>

#include "x86/arch.h"

namespace igvmkit::builder::layout {

// Every directive works on 4 KiB pages (igvm-format.md §3).
using x86::kPageSize;
// Identity maps use 2 MiB leaves: no CPU feature needed beyond PAE/long mode (1 GiB leaves need
// CPUID PDPE1GB, which not every virtual CPU offers), and 4 GiB cost only 6 table pages.
using x86::kLargePageSize;
inline constexpr uint64_t kGiB = 0x4000'0000;
inline constexpr uint64_t k4GiB = 0x1'0000'0000;

// Page 0 stays unused so a null pointer in the guest never hits builder data (openvmm's layout
// also starts at 0x1000).
// GDT: null, null, 64-bit code at 0x10, data at 0x18: the selectors Linux's boot protocol names
// (__BOOT_CS = 0x10, __BOOT_DS = 0x18; loader-vmm.md §4.4).
inline constexpr uint64_t kGdtGpa = 0x1000;
inline constexpr uint16_t kCodeSelector = 0x10;
inline constexpr uint16_t kDataSelector = 0x18;
inline constexpr uint16_t kGdtLimit = 4 * 8 - 1;

// Linux zero page, handed over in RSI (loader-vmm.md §5.3; openvmm uses the same address).
inline constexpr uint64_t kBootParamsGpa = 0x2000;
// Kernel command line, NUL-terminated, one page: longer than x86's COMMAND_LINE_SIZE (2048) and
// the kernel's own cmdline_size limit is checked as well.
inline constexpr uint64_t kCommandLineGpa = 0x3000;
inline constexpr uint64_t kCommandLineMaxBytes = kPageSize;
// One page of boot stack; RSP starts at its top. Linux and the probe payload switch stacks early.
inline constexpr uint64_t kStackGpa = 0x4000;
inline constexpr uint64_t kStackTop = kStackGpa + kPageSize;

// SNP pages Linux finds through cc_blob_sev_info (loader-vmm.md §3.6): the firmware fills the
// secrets page, the host the CPUID page; both must be private pages the guest need not validate.
inline constexpr uint64_t kSnpSecretsGpa = 0x5000;
inline constexpr uint64_t kSnpCpuidGpa = 0x6000;
inline constexpr uint64_t kSnpCcBlobGpa = 0x7000;

// ACPI for native Linux boots (linux_boot.h makeAcpiRootPage): the RSDP and XSDT page, and the
// one-page parameter area where the loader writes the MADT for the run's vCPU count. Linux keeps
// the first MiB reserved, so neither is reused as memory.
inline constexpr uint64_t kAcpiRootGpa = 0x8000;
inline constexpr uint64_t kAcpiMadtGpa = 0x9000;

// Generated page tables: from 64 KiB up to the 512 KiB mark, i.e. 112 pages, enough for an
// identity map of 110 GiB with 2 MiB leaves. Below 640 KiB so even a tiny guest has it as RAM.
inline constexpr uint64_t kPageTablesGpa = 0x1'0000;
inline constexpr uint64_t kPageTablesMaxBytes = 0x8'0000 - kPageTablesGpa;

// End of the builder's reserved low area; components must not be placed below it.
inline constexpr uint64_t kLowAreaEnd = 0x8'0000;

// The legacy hole [640 KiB, 1 MiB): VGA and option ROMs on a PC; e820 reports it reserved
// (igvm-tooling and openvmm do the same, loader-vmm.md §4).
inline constexpr uint64_t kLegacyHoleStart = 0xA'0000;
inline constexpr uint64_t kLegacyHoleEnd = 0x10'0000;

// Where kernels and payloads may start: 1 MiB (HIMEM_START in Firecracker, loader-vmm.md §5.3).
inline constexpr uint64_t kHighMemoryStart = 0x10'0000;

// The initrd is aligned to 2 MiB, as openvmm does for ELF kernels (loader-vmm.md §4.2).
inline constexpr uint64_t kInitrdAlignment = kLargePageSize;

// Default 32-bit MMIO gap when the manifest gives only a RAM size: [3 GiB, 4 GiB), as
// Firecracker's MMIO32 region (loader-vmm.md §5.1).
inline constexpr uint64_t kDefaultMmioGapStart = x86::kMmioGapStart;

// Flash firmware images (OVMF) end at 4 GiB so the reset vector lands at 0xFFFF_FFF0.
inline constexpr uint64_t kFirmwareEnd = k4GiB;

// TDX: the vCPU starts at the architectural reset vector 0xFFFF_FFF0 (loader-vmm.md §3.5), so the
// trampoline page is the last page below 4 GiB (openvmm's igvmfilegen uses the same page).
inline constexpr uint64_t kTdxResetPageGpa = 0xFFFF'F000;
inline constexpr uint64_t kTdxResetVector = 0xFFFF'FFF0;

// SNP on KVM: KVM measures the BSP VMSA at this fixed GPA at LAUNCH_FINISH (loader-vmm.md §1.5,
// QEMU requires it, openvmm places it there).
inline constexpr uint64_t kSnpKvmVmsaGpa = x86::kKvmVmsaGpa;

}  // namespace igvmkit::builder::layout
