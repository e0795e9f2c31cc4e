// builder/tdx_reset.h: the TDX reset-vector trampoline page.
//
// A TD cannot be given an initial register state: the TDX module starts every vCPU at the
// reset vector 0xFFFFFFF0 in 32-bit protected mode, paging off, flat segments, with RSI = the
// vCPU index (loader-vmm.md §3.5). IGVM therefore has no TDX VP context; like openvmm's
// igvmfilegen, the builder puts a measured page at layout::kTdxResetPageGpa whose code reaches the
// same 64-bit state the other platforms get from their VP contexts:
//
//   reset vector (0xFFFFFFF0):  jmp start
//   start (32-bit):  APs (ESI != 0) spin in a pause loop; the BSP loads a static GDT, ORs PAE and
//                    the state's CR4 bits into CR4, loads CR3, sets EFER.LME (and the state's
//                    other EFER bits) with rdmsr/wrmsr, ORs PG into CR0, far-jumps to 64-bit code
//   64-bit:          lgdt/lidt the state's tables, loads the data selectors, every GPR from the
//                    context block (RIP-relative), then jmp far [m16:64] to CS:RIP
//
// Control registers are ORed, never replaced, so the bits the TDX module fixes to one (CR0.NE,
// CR4.MCE, ...) stay set. The far jump through m16:64 is an Intel encoding (TDX is Intel-only).
// Requirements on the state: long mode (CR0.PE|PG, CR4.PAE, EFER.LME), CR3 below 4 GiB, RFLAGS
// = 2, data segments ES/DS/FS/GS/SS with one selector and zero bases, a 64-bit code segment, and
// page tables that identity-map the trampoline page itself (map_end must reach 4 GiB).
//
//   IGVMKIT_ASSIGN_OR_RETURN(ByteVector page, tdxResetPage(state, page_tables.map_end));
//
// Error rule: tdx_reset.state.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "base/status.h"
#include "builder/x86.h"

namespace igvmkit::builder {

// Offsets inside the trampoline page (tests and dumps use them).
namespace tdx_reset {
inline constexpr size_t kStaticGdtr = 0x00;  // 6-byte GDTR for the 32-bit lgdt
inline constexpr size_t kFinalGdtr = 0x10;   // 10-byte GDTR (limit u16, base u64)
inline constexpr size_t kFinalIdtr = 0x20;   // 10-byte IDTR
inline constexpr size_t kFarPointer = 0x30;  // m16:64: RIP u64, then CS u16
inline constexpr size_t kDataSelector = 0x40;
inline constexpr size_t kGprs = 0x48;        // rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15
inline constexpr size_t kStaticGdt = 0x100;  // null, 64-bit code (0x08), data (0x10)
inline constexpr uint16_t kStaticCodeSelector = 0x08;
inline constexpr size_t kCode = 0x200;       // the 32-bit entry the reset vector jumps to
inline constexpr size_t kResetVector = 0xFF0;
}  // namespace tdx_reset

// The 4 KiB trampoline page for `state`. `identity_map_end` is the end of the identity map
// state.cr3 describes; it must cover the page (at 0xFFFFF000).
Result<ByteVector> tdxResetPage(const x86::VpState& state, uint64_t identity_map_end);

}  // namespace igvmkit::builder
