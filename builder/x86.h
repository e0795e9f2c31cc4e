// builder/x86.h: x86-64 boot structures and the initial processor state, rendered for each
// IGVM platform.
//
// One x86::VpState describes how the boot processor starts. longModeState() gives the state a
// 64-bit entry needs (paging on through generated identity tables, flat segments from
// makeGdtPage(), interrupts off); the manifest's [vp.registers] adjust it with applyRegisters(). The state is
// then rendered per platform:
//   * nativeVpContext(): IGVM's IgvmNativeVpContextX64 page (NATIVE, igvm-format.md §5.4),
//   * snpVmsa():         an SEV-SNP VMSA page (igvm-format.md §5.2), optionally restricted to
//                        what KVM can reproduce,
//   * vbsVpContext():    a VBS register list (igvm-format.md §5.3),
//   * tdxResetPage() in builder/tdx_reset.h: TDX has no VP context; a reset-vector trampoline
//                        reaches the same state.
//
//   IGVMKIT_ASSIGN_OR_RETURN(PageTables pt, identityMap({.map_end = 4 * layout::kGiB}));
//   x86::VpState s = longModeState({.rip = entry, .rsp = layout::kStackTop, .cr3 = pt.cr3});
//   IGVMKIT_ASSIGN_OR_RETURN(ByteVector vmsa, snpVmsa(s, VmsaOptions{}));
//
// Error rules: x86.page_tables, x86.state (the state cannot be expressed on that platform).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "builder/layout.h"
#include "builder/manifest.h"
#include "builder/pages.h"
#include "x86/arch.h"
#include "x86/vp_state.h"

namespace igvmkit::builder {

// ---- page tables -----------------------------------------------------------------------------

// Page-table entry bits (Intel SDM vol. 3 §4.5).
inline constexpr uint64_t kPtePresent = 1ull << 0;
inline constexpr uint64_t kPteWritable = 1ull << 1;
inline constexpr uint64_t kPteLargePage = 1ull << 7;  // PS: a 2 MiB leaf in a PD entry
inline constexpr uint64_t kPteAddressMask = 0x000F'FFFF'FFFF'F000ull;

struct PageTableOptions {
  uint64_t table_gpa = layout::kPageTablesGpa;  // where the PML4 and the tables after it go
  uint64_t max_bytes = layout::kPageTablesMaxBytes;
  uint64_t map_start = 0;  // 2 MiB aligned
  uint64_t map_end = layout::k4GiB;  // 2 MiB aligned, at most 2^48 (4-level paging)
  // Ored into every entry and into CR3: the SEV-SNP C-bit (1 << c_bit), or 0.
  uint64_t encryption_mask = 0;
};

// An identity map of [map_start, map_end) with 2 MiB leaves: PML4, then the PDPTs it needs, then
// one PD per GiB touched, consecutive pages from table_gpa.
struct PageTables {
  uint64_t cr3 = 0;         // PML4 address | encryption_mask
  uint64_t map_start = 0;   // the identity-mapped range
  uint64_t map_end = 0;
  std::vector<Page> pages;  // in address order, 4 KiB each (never empty)
  uint64_t end() const { return pages.empty() ? 0 : pages.back().gpa + layout::kPageSize; }
};

Result<PageTables> identityMap(const PageTableOptions& options);

// ---- GDT -------------------------------------------------------------------------------------

// Descriptors in the GDT page: null, null, 64-bit code at layout::kCodeSelector, flat data at
// layout::kDataSelector (Firecracker's encodings, loader-vmm.md §5.2).
inline constexpr uint64_t kGdtCode64 = 0x00AF'9B00'0000'FFFFull;
inline constexpr uint64_t kGdtData = 0x00CF'9300'0000'FFFFull;
// The same descriptors' attributes in the 16-bit form IGVM and Hyper-V use: low byte =
// type/S/DPL/P, bits 12..15 = AVL/L/D/G.
inline constexpr uint16_t kCode64Attributes = 0xA09B;
inline constexpr uint16_t kDataAttributes = 0xC093;
inline constexpr uint16_t kTss64BusyAttributes = 0x008B;

Page makeGdtPage(uint64_t gpa = layout::kGdtGpa);

// ---- processor state -------------------------------------------------------------------------

using x86::kCr0Et;
using x86::kCr0Ne;
using x86::kCr0Pe;
using x86::kCr0Pg;
using x86::kCr4Mce;
using x86::kCr4Osfxsr;
using x86::kCr4Osxmmexcpt;
using x86::kCr4Pae;
using x86::kDefaultPat;
using x86::kEferLma;
using x86::kEferLme;
using x86::kEferNxe;
using x86::kEferSce;
using x86::kEferSvme;

// The processor state the builder hands to a platform is x86::VpState (x86/vp_state.h): segment
// attributes in the descriptor form above, the registers the builder never sets at their reset
// values (PAT, XCR0, DR6/DR7, MXCSR, FCW), which every rendering below writes or leaves to the
// platform's reset state.

struct LongModeEntry {
  uint64_t rip = 0;
  uint64_t rsp = layout::kStackTop;
  uint64_t rsi = 0;  // Linux: the zero page
  uint64_t cr3 = 0;  // from identityMap()
  uint64_t gdt_gpa = layout::kGdtGpa;
};

// 64-bit mode, paging on: CR0 = PE|ET|NE|PG, CR4 = PAE|OSFXSR|OSXMMEXCPT, EFER = SCE|LME|LMA|NXE,
// CS = kCodeSelector (64-bit), DS/ES/FS/GS/SS = kDataSelector, GDTR = the GDT page, no IDT,
// RFLAGS = 2. OSFXSR lets a payload's compiler use SSE without setting it up.
x86::VpState longModeState(const LongModeEntry& entry);

// The state `vp.mode = "registers"` starts from: flat 4 GiB segments with zero selectors and
// attributes, CR0 and everything else zero (RFLAGS = 2; PAT, XCR0, DR6/DR7, MXCSR, FCW at their
// reset values, VpState's defaults).
x86::VpState registersBaseState();

// Applies manifest registers: GPRs, RIP, RFLAGS, control registers, EFER, GDTR/IDTR, the code
// segment's selector/attributes and the data segments' (all five at once).
void applyRegisters(x86::VpState& state, const std::map<Register, uint64_t>& registers);

// ---- per-platform renderings -----------------------------------------------------------------

// The IgvmNativeVpContextX64 in a zero-padded 4 KiB page. Fails when the state needs what the
// context cannot say: data segments that differ (it has one data descriptor), code/data base or
// limit above 32 bits, attribute bits 11:8, or registers outside the context (PAT, XCR0, TR ...
// other than their reset values are dropped silently: the loader applies reset values).
Result<ByteVector> nativeVpContext(const x86::VpState& state);

struct VmsaOptions {
  uint64_t sev_features = 1;  // bit 0 (SNP) must be set
  uint64_t virtual_tom = 0;   // with the vTOM feature
  uint8_t vmpl = 0;
  // Only what KVM reproduces from vCPU state (loader-vmm.md §1.2/1.3): no vTOM, and every field
  // outside QEMU's accepted list left zero; the VMSA then goes at layout::kSnpKvmVmsaGpa.
  bool kvm = true;
};

// A 4 KiB SEV-SNP VMSA page for the state. EFER gets SVME (the hardware requires it in a VMSA;
// KVM sets it too). Segment attributes are stored in the VMSA's compressed form.
Result<ByteVector> snpVmsa(const x86::VpState& state, const VmsaOptions& options);

// A VBS register list (header u32 count + 32-byte entries) loading the state into `vtl`. Fails
// when a GPR outside the reference's accepted list (RAX, RBX, RCX, RDX, RDI, R13..R15) is nonzero.
Result<ByteVector> vbsVpContext(const x86::VpState& state, uint8_t vtl);

}  // namespace igvmkit::builder
