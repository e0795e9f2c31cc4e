// vmm/testing/long_mode.h: builds tiny 64-bit guests for the VMM's tests: identity-mapped page
// tables for the first 4 GiB (2 MiB pages), a flat GDT, and a boot VpState in long mode.
//
//   vmm::GuestSetup setup = testing::longModeGuest(64 << 20, 0x100000, {0xb0, 0x2a, 0xe6, 0xf4});
//   auto outcome = vmm::run(setup, config);  // the guest wrote 42 to port 0xf4
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "vmm/testing/guest_setup.h"

namespace igvmkit::vmm::testing {

// Where the helpers put things (all below 1 MiB, away from the probe at 1 MiB).
inline constexpr uint64_t kGdtGpa = 0x1000;         // null, 0x08 code64, 0x10 data
inline constexpr uint64_t kPml4Gpa = 0x2000;        // -> PDPT at 0x3000 -> 4 PDs at 0x4000..0x7fff
inline constexpr uint64_t kTrampolineGpa = 0x8000;  // free page for the probe's AP trampoline
inline constexpr uint64_t kParamGpa = 0x10000;      // parameter area tests may fill (0x10000 bytes)
inline constexpr uint64_t kStackTop = 0x80000;      // initial RSP

// A GuestSetup with page tables and GDT loaded, vCPU 0 in 64-bit mode at `entry` (CS 0x08, data
// 0x10, IDT limit 0 so any exception triple-faults), interrupts off, and `code` loaded at `entry`.
GuestSetup longModeGuest(uint64_t memory_bytes, uint64_t entry, ByteVector code,
                         unsigned vcpus = 1);

// Bytes from a list of integers (for hand-assembled guests).
ByteVector bytes(std::initializer_list<uint8_t> list);

}  // namespace igvmkit::vmm::testing
