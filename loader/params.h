// loader/params.h: the contents the loader writes into IGVM parameter areas (igvm-format.md §4.2),
// built from a VmConfig. Each function returns the value's bytes; writeParameter() places a value
// at a parameter's byte_offset, refusing one that does not fit the area.
//
//   ByteVector area(0x1000);
//   IGVMKIT_ASSIGN_OR_RETURN(ByteVector map, loader::memoryMap(config, {}, area.size() - 0x100));
//   IGVMKIT_RETURN_IF_ERROR(loader::writeParameter(area, 0x100, map));
//   IGVMKIT_RETURN_IF_ERROR(loader::writeParameter(area, 0, loader::vpCount(config)));
//
// Values written here are unmeasured and untrusted: the guest validates them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "loader/plan.h"

namespace igvmkit::loader {

// IGVM_VHS_MEMORY_MAP_ENTRY (igvm-format.md §4.2), 24 bytes, little endian.
struct IGVM_VHS_MEMORY_MAP_ENTRY {
  uint64_t starting_gpa_page_number;
  uint64_t number_of_pages;
  uint16_t entry_type;  // MemoryMapEntryType
  uint16_t flags;       // no defined bits: 0
  uint32_t reserved;    // 0
};
static_assert(sizeof(IGVM_VHS_MEMORY_MAP_ENTRY) == 24);
static_assert(offsetof(IGVM_VHS_MEMORY_MAP_ENTRY, number_of_pages) == 8);
static_assert(offsetof(IGVM_VHS_MEMORY_MAP_ENTRY, entry_type) == 16);
static_assert(offsetof(IGVM_VHS_MEMORY_MAP_ENTRY, flags) == 18);
static_assert(offsetof(IGVM_VHS_MEMORY_MAP_ENTRY, reserved) == 20);

enum MemoryMapEntryType : uint16_t {
  kMemoryMapMemory = 0,
  kMemoryMapPlatformReserved = 1,
  kMemoryMapPersistent = 2,
  kMemoryMapVtl2Protectable = 3,
};

// The memory map: every RAM range of `config` minus the `reserved` ranges as MEMORY entries, and
// each reserved range that lies in RAM as PLATFORM_RESERVED, sorted by GPA, then an all-zero
// terminator entry. Fails when the entries and terminator exceed `max_bytes` or a reserved range is
// not page aligned.
Result<ByteVector> memoryMap(const VmConfig& config, std::span<const GpaRange> reserved,
                             uint64_t max_bytes);

// VP_COUNT: the vCPU count as a u32.
ByteVector vpCount(const VmConfig& config);

// COMMAND_LINE: the string and a NUL; refuses an embedded NUL or a value over `max_bytes`.
Result<ByteVector> commandLine(std::string_view cmdline, uint64_t max_bytes);

// ENVIRONMENT_INFO: a u32 whose bit 0 says guest memory starts shared (unaccepted).
ByteVector environmentInfo(bool memory_is_shared);

// Fixed addresses the MADT describes (the in-kernel KVM irqchip's defaults).
inline constexpr uint32_t kLocalApicAddress = 0xFEE0'0000;
inline constexpr uint32_t kIoApicAddress = 0xFEC0'0000;
inline constexpr uint8_t kIoApicId = 0xFE;  // above every vCPU's APIC ID (igvm::kMaxVcpus)

// An ACPI MADT ("APIC", revision 5): local APIC at kLocalApicAddress with PCAT_COMPAT, one enabled
// Processor Local APIC entry per vCPU (UID = APIC ID = index), one I/O APIC at kIoApicAddress with
// GSI base 0, and the ISA IRQ 0 -> GSI 2 override. The checksum makes all bytes sum to zero.
Result<ByteVector> madt(const VmConfig& config);

// A flattened device tree (libfdt): / with #address-cells = #size-cells = 2, one memory@<gpa> node
// per RAM range (device_type "memory", reg, "microsoft,igvm-type" = 0), /cpus with cpu@<n> nodes,
// /chosen with bootargs = config.cmdline.
Result<ByteVector> deviceTree(const VmConfig& config);

// Copies `value` into `area` at `byte_offset`, or fails when it does not fit (igvm-format.md §4.2:
// a loader must fail on a value that does not fit).
Status writeParameter(ByteVector& area, uint64_t byte_offset, Bytes value);
inline Status writeParameter(ByteVector& area, uint64_t byte_offset, const ByteVector& value) {
  return writeParameter(area, byte_offset, Bytes(value));
}

}  // namespace igvmkit::loader
