// vmm/internal/layout.h: every fixed address and port of the machine, each with its reason.
#pragma once

#include <cstdint>

#include "x86/arch.h"

namespace igvmkit::vmm::layout {

// RAM above this address is placed from 4 GiB up, leaving the 32-bit MMIO gap free (as Firecracker
// does: loader-vmm.md §5.1 item 7). The LAPIC (0xfee00000), IOAPIC (0xfec00000), TSS and identity
// map pages below all sit in the gap.
using x86::kMmioGapEnd;
using x86::kMmioGapStart;

// Intel VMX needs three pages for a real-mode TSS and one for the EPT identity map when the guest
// runs unpaged; KVM's documented default places the map directly below the TSS (§5.1 items 5-6).
inline constexpr uint64_t kTssAddr = 0xFFFB'D000;
inline constexpr uint64_t kIdentityMapAddr = 0xFFFB'C000;

// The xAPIC MMIO page every LAPIC answers at (reset value of IA32_APIC_BASE).
inline constexpr uint64_t kLapicBase = 0xFEE0'0000;

// Guest RAM must cover at least the real-mode area the AP trampoline needs.
inline constexpr uint64_t kMinMemory = 1ull << 20;
// A sanity bound so a typo cannot ask the kernel for a terabyte of address space.
inline constexpr uint64_t kMaxMemory = 1ull << 40;

// COM1: 8 byte-wide registers, legacy IRQ 4 (§5.4).
inline constexpr uint16_t kCom1Base = 0x3F8;
inline constexpr uint16_t kCom1Size = 8;
inline constexpr uint32_t kCom1Irq = 4;

// i8042 controller: data port 0x60 .. command/status port 0x64; only 0x64 matters here.
inline constexpr uint16_t kI8042Base = 0x60;
inline constexpr uint16_t kI8042Size = 5;

// The debug-exit port: a byte V written here ends the run with status V (cli-contract.md "run").
inline constexpr uint16_t kDebugExitPort = 0xF4;

}  // namespace igvmkit::vmm::layout
