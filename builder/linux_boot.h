// builder/linux_boot.h: what a 64-bit Linux direct boot needs in guest memory besides the kernel
// (Linux x86 boot protocol; loader-vmm.md §4.4, §5.3): the zero page (boot_params) with the
// setup header copied from the bzImage and the e820 map derived from the manifest's memory
// layout, the command line page, the initrd's place, and for SEV-SNP the cc_blob_sev_info page.
//
//   IGVMKIT_ASSIGN_OR_RETURN(uint64_t load, chooseLoadAddress(image, linux.load_address));
//   IGVMKIT_RETURN_IF_ERROR(checkKernelPlacement(image, load, memory));
//   IGVMKIT_ASSIGN_OR_RETURN(uint64_t initrd_gpa, placeInitrd(image, load, initrd.size(), memory));
//   IGVMKIT_ASSIGN_OR_RETURN(auto e820, e820FromLayout(memory));
//   IGVMKIT_ASSIGN_OR_RETURN(ByteVector zero_page, makeBootParams(image, {.e820 = e820, ...}));
//   // enter at load + 0x200 with RSI = layout::kBootParamsGpa (x86.h longModeState)
//
// Error rules: linux.placement, linux.cmdline, linux.e820.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "builder/bzimage.h"
#include "builder/layout.h"
#include "builder/manifest.h"

namespace igvmkit::builder {

inline constexpr uint32_t kE820Ram = 1;
inline constexpr uint32_t kE820Reserved = 2;
// boot_params holds at most this many e820 entries (E820_MAX_ENTRIES_ZEROPAGE).
inline constexpr size_t kE820MaxEntries = 128;

struct E820Entry {
  uint64_t addr = 0;
  uint64_t size = 0;
  uint32_t type = 0;
  bool operator==(const E820Entry&) const = default;
};

// RAM ranges as e820 RAM, except that the legacy hole [640 KiB, 1 MiB) is RESERVED where RAM
// covers it (as igvm-tooling and openvmm report it). MMIO gaps are left out, so the kernel finds
// them as holes for PCI.
Result<std::vector<E820Entry>> e820FromLayout(const MemoryLayout& memory);

// [load, load + init_size) must be RAM and must not reach into the builder's low area.
Status checkKernelPlacement(const BzImage& image, uint64_t load, const MemoryLayout& memory);

// The initrd goes at the first 2 MiB boundary after max(load, pref_address) + init_size (openvmm's
// rule), and must end in RAM at or below initrd_addr_max (+1) and, unless the kernel sets
// XLF_CAN_BE_LOADED_ABOVE_4G, below 4 GiB.
Result<uint64_t> placeInitrd(const BzImage& image, uint64_t load, uint64_t initrd_size,
                             const MemoryLayout& memory);

// The command line as the page at layout::kCommandLineGpa holds it: the text and a NUL, checked
// against the kernel's cmdline_size and the page.
Result<ByteVector> makeCommandLine(const BzImage& image, std::string_view cmdline);

struct BootParamsInput {
  uint64_t load_address = 0;
  uint64_t cmdline_gpa = layout::kCommandLineGpa;
  uint64_t initrd_gpa = 0;  // 0 with initrd_size 0: no initrd
  uint64_t initrd_size = 0;
  std::vector<E820Entry> e820{};
  uint64_t cc_blob_gpa = 0;  // SEV-SNP: the cc_blob_sev_info page, else 0
  uint64_t acpi_rsdp_gpa = 0;  // the RSDP (makeAcpiRootPage), else 0: no ACPI
};

// The 4 KiB zero page: the image's setup header at 0x1F1, then type_of_loader = 0xFF,
// code32_start = load address, cmd_line_ptr (+ext), ramdisk_image/size (+ext), e820_entries and
// e820_table, cc_blob_address, acpi_rsdp_addr. Everything else is zero.
Result<ByteVector> makeBootParams(const BzImage& image, const BootParamsInput& input);

// boot_params offsets the builder writes (Linux arch/x86/include/uapi/asm/bootparam.h).
namespace boot_params {
inline constexpr size_t kAcpiRsdpAddr = 0x070;  // boot protocol 2.14
inline constexpr size_t kExtRamdiskImage = 0x0C0;
inline constexpr size_t kExtRamdiskSize = 0x0C4;
inline constexpr size_t kExtCmdLinePtr = 0x0C8;
inline constexpr size_t kCcBlobAddress = 0x13C;
inline constexpr size_t kE820Entries = 0x1E8;
inline constexpr size_t kTypeOfLoader = 0x210;
inline constexpr size_t kCode32Start = 0x214;
inline constexpr size_t kRamdiskImage = 0x218;
inline constexpr size_t kRamdiskSize = 0x21C;
inline constexpr size_t kCmdLinePtr = 0x228;
inline constexpr size_t kE820Table = 0x2D0;  // 128 x {addr u64, size u64, type u32}
}  // namespace boot_params

// An uncompressed ELF vmlinux (Firecracker loads these, loader-vmm.md §5) has no setup header;
// the zero page then gets this one: boot_flag 0xAA55, "HdrS", protocol 2.15, LOADED_HIGH,
// XLF_KERNEL_64, initrd_addr_max 0x7FFFFFFF, kernel_alignment 2 MiB, cmdline_size 2047 (x86's
// COMMAND_LINE_SIZE - 1). `load` and `span` are the lowest segment address and the bytes from it
// to the end of the last segment; they become pref_address and init_size.
struct ElfKernelHeader {
  ByteVector setup_header;  // bytes [0x1F1, 0x268) of the zero page
  BzImage image;            // the fields the builder reads; image.setup_header views the above
  // Moves keep the vector's buffer (and so the view); a copy would not.
  ElfKernelHeader() = default;
  ElfKernelHeader(ElfKernelHeader&&) = default;
  ElfKernelHeader& operator=(ElfKernelHeader&&) = default;
  ElfKernelHeader(const ElfKernelHeader&) = delete;
  ElfKernelHeader& operator=(const ElfKernelHeader&) = delete;
};
ElfKernelHeader makeElfKernelHeader(uint64_t load, uint64_t span);
inline constexpr uint32_t kElfKernelCmdlineSize = 2047;

// ACPI for native [linux] boots, so that Linux finds every vCPU: it enumerates processors from
// the MADT (or an MP table), and the vCPU count is chosen at run time, so the MADT itself comes
// from the loader (IGVM's MADT parameter, loader/params.h madt(): one local APIC per vCPU, the
// I/O APIC, the IRQ 0 override). The builder adds what leads Linux there (ACPI 6.5 §5.2.5, §5.2.8):
// a revision 2 RSDP at offset 0 of the page and an XSDT at offset kAcpiXsdtOffset whose one entry
// is `madt_gpa`; boot_params.acpi_rsdp_addr points at the RSDP. There is no FADT or DSDT: Linux
// takes the processors and the I/O APIC from the MADT at setup, then finds no namespace to load
// and runs on without ACPI (its console says "Unable to load the System Description Tables").
inline constexpr size_t kAcpiXsdtOffset = 64;
ByteVector makeAcpiRootPage(uint64_t page_gpa, uint64_t madt_gpa);

// The 40-byte cc_blob_sev_info in a page (loader-vmm.md §3.6): magic "AMDE", version 1, the
// secrets and CPUID pages.
ByteVector makeCcBlobPage(uint64_t secrets_gpa, uint64_t cpuid_gpa);

}  // namespace igvmkit::builder
