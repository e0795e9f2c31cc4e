#include "loader/params.h"

extern "C" {
#include <libfdt.h>
}

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "igvm/defs.h"

namespace igvmkit::loader {
namespace {

template <class T>
void appendLe(ByteVector& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<std::byte>((static_cast<uint64_t>(v) >> (8 * i)) & 0xFF));
  }
}

}  // namespace

Result<ByteVector> memoryMap(const VmConfig& config, std::span<const GpaRange> reserved,
                             uint64_t max_bytes) {
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<GpaRange> ram, config.ramLayout());
  for (const GpaRange& r : reserved) {
    if (r.gpa % kPageSize != 0 || r.size % kPageSize != 0 || r.gpa > UINT64_MAX - r.size) {
      return invalid("params.reserved_range", "reserved range " + hex(r.gpa) + " size " +
                                                  hex(r.size) + " is not whole aligned pages");
    }
  }
  struct Piece {
    uint64_t gpa, end;
    uint16_t type;
  };
  std::vector<Piece> pieces;
  for (const GpaRange& r : ram) {
    // Cut every reserved range out of this RAM range.
    std::vector<Piece> cuts;
    for (const GpaRange& res : reserved) {
      uint64_t lo = std::max(r.gpa, res.gpa);
      uint64_t hi = std::min(r.end(), res.end());
      if (lo < hi) {
        cuts.push_back({lo, hi, kMemoryMapPlatformReserved});
      }
    }
    std::sort(cuts.begin(), cuts.end(),
              [](const Piece& a, const Piece& b) { return a.gpa < b.gpa; });
    uint64_t cursor = r.gpa;
    for (const Piece& c : cuts) {
      if (c.gpa > cursor) {
        pieces.push_back({cursor, c.gpa, kMemoryMapMemory});
      }
      uint64_t start = std::max(cursor, c.gpa);
      if (c.end > start) {
        pieces.push_back({start, c.end, kMemoryMapPlatformReserved});
        cursor = c.end;
      }
    }
    if (cursor < r.end()) {
      pieces.push_back({cursor, r.end(), kMemoryMapMemory});
    }
  }
  std::sort(pieces.begin(), pieces.end(),
            [](const Piece& a, const Piece& b) { return a.gpa < b.gpa; });
  uint64_t needed = (pieces.size() + 1) * sizeof(IGVM_VHS_MEMORY_MAP_ENTRY);
  if (needed > max_bytes) {
    return invalid("params.memory_map_size",
                   "memory map needs " + hex(needed) + " bytes but the area has " + hex(max_bytes));
  }
  ByteVector out;
  for (const Piece& p : pieces) {
    IGVM_VHS_MEMORY_MAP_ENTRY e{};
    e.starting_gpa_page_number = p.gpa / kPageSize;
    e.number_of_pages = (p.end - p.gpa) / kPageSize;
    e.entry_type = p.type;
    appendStruct(out, e);
  }
  appendStruct(out, IGVM_VHS_MEMORY_MAP_ENTRY{});  // terminator: number_of_pages 0
  return out;
}

ByteVector vpCount(const VmConfig& config) {
  ByteVector out;
  appendLe<uint32_t>(out, config.vcpus);
  return out;
}

Result<ByteVector> commandLine(std::string_view cmdline, uint64_t max_bytes) {
  if (size_t nul = cmdline.find('\0'); nul != std::string_view::npos) {
    return invalid("params.cmdline_nul", "command line has a nul byte at offset " + hex(nul));
  }
  if (cmdline.size() + 1 > max_bytes) {
    return invalid("params.cmdline_size", "command line of " + hex(cmdline.size() + 1) +
                                              " bytes with its nul exceeds " + hex(max_bytes));
  }
  ByteVector out(toBytes(cmdline).begin(), toBytes(cmdline).end());
  out.push_back(std::byte{0});
  return out;
}

ByteVector environmentInfo(bool memory_is_shared) {
  ByteVector out;
  appendLe<uint32_t>(out, memory_is_shared ? 1 : 0);
  return out;
}

Result<ByteVector> madt(const VmConfig& config) {
  static_assert(igvm::kMaxVcpus < kIoApicId, "every vCPU's xAPIC ID lies below the I/O APIC's");
  if (config.vcpus == 0 || config.vcpus > igvm::kMaxVcpus) {
    return invalid("params.madt_vcpus", "madt cannot describe " + std::to_string(config.vcpus) +
                                            " vcpus (1.." + std::to_string(igvm::kMaxVcpus) +
                                            " with xapic ids)");
  }
  ByteVector t;
  // ACPI table header (36 bytes).
  for (char c : std::string("APIC")) {
    t.push_back(static_cast<std::byte>(c));
  }
  appendLe<uint32_t>(t, 0);  // length, patched below
  appendLe<uint8_t>(t, 5);   // revision
  appendLe<uint8_t>(t, 0);   // checksum, patched below
  for (char c : std::string("IGVMKT")) {
    t.push_back(static_cast<std::byte>(c));
  }
  for (char c : std::string("IGVMKITM")) {
    t.push_back(static_cast<std::byte>(c));
  }
  appendLe<uint32_t>(t, 1);           // OEM revision
  appendLe<uint32_t>(t, 0x4B4D5649);  // creator ID "IVMK"
  appendLe<uint32_t>(t, 1);           // creator revision
  appendLe<uint32_t>(t, kLocalApicAddress);
  appendLe<uint32_t>(t, 1);  // PCAT_COMPAT: dual 8259s present
  for (uint32_t i = 0; i < config.vcpus; ++i) {
    appendLe<uint8_t>(t, 0);  // Processor Local APIC
    appendLe<uint8_t>(t, 8);
    appendLe<uint8_t>(t, static_cast<uint8_t>(i));  // ACPI processor UID
    appendLe<uint8_t>(t, static_cast<uint8_t>(i));  // APIC ID
    appendLe<uint32_t>(t, 1);                       // enabled
  }
  appendLe<uint8_t>(t, 1);  // I/O APIC
  appendLe<uint8_t>(t, 12);
  appendLe<uint8_t>(t, kIoApicId);
  appendLe<uint8_t>(t, 0);
  appendLe<uint32_t>(t, kIoApicAddress);
  appendLe<uint32_t>(t, 0);  // GSI base
  // No Interrupt Source Override: the ISA IRQs are identity-mapped to GSIs 0-15 (ACPI 6.5
  // §5.2.12.5), because that is where KVM delivers them: the VMM keeps KVM's default routing
  // (linux arch/x86/kvm/irq_comm.c default_routing: GSI n -> IOAPIC pin n and PIC pin n), so the
  // in-kernel PIT raises IOAPIC pin 0. The PC convention "IRQ 0 -> GSI 2" holds only where the
  // VMM reroutes GSI 0 (QEMU's kvm_pc_setup_irq_routing does); announcing it here without that
  // made Linux program pin 2 for its timer, so no tick ever arrived (tests/linux/README.md).
  uint32_t length = static_cast<uint32_t>(t.size());
  std::memcpy(t.data() + 4, &length, 4);
  uint8_t sum = 0;
  for (std::byte b : t) {
    sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(b));
  }
  t[9] = static_cast<std::byte>(static_cast<uint8_t>(0x100 - sum));
  return t;
}

namespace {

// One pass of the sequential-write API into `buf`; returns a libfdt error code (0 on success).
int buildFdt(std::vector<char>& buf, const VmConfig& config, const std::vector<GpaRange>& ram) {
  void* fdt = buf.data();
  int size = static_cast<int>(buf.size());
  auto cell64 = [](uint64_t v) { return cpu_to_fdt64(v); };
#define IGVMKIT_FDT(call) \
  do {                    \
    int err_ = (call);    \
    if (err_ != 0) {      \
      return err_;        \
    }                     \
  } while (false)
  IGVMKIT_FDT(fdt_create(fdt, size));
  IGVMKIT_FDT(fdt_finish_reservemap(fdt));
  IGVMKIT_FDT(fdt_begin_node(fdt, ""));
  IGVMKIT_FDT(fdt_property_u32(fdt, "#address-cells", 2));
  IGVMKIT_FDT(fdt_property_u32(fdt, "#size-cells", 2));
  IGVMKIT_FDT(fdt_property_string(fdt, "compatible", "igvmkit,vm"));
  IGVMKIT_FDT(fdt_property_string(fdt, "model", "igvmkit"));
  IGVMKIT_FDT(fdt_begin_node(fdt, "chosen"));
  IGVMKIT_FDT(fdt_property_string(fdt, "bootargs", config.cmdline.c_str()));
  IGVMKIT_FDT(fdt_end_node(fdt));
  IGVMKIT_FDT(fdt_begin_node(fdt, "cpus"));
  IGVMKIT_FDT(fdt_property_u32(fdt, "#address-cells", 1));
  IGVMKIT_FDT(fdt_property_u32(fdt, "#size-cells", 0));
  for (uint32_t i = 0; i < config.vcpus; ++i) {
    std::string name = "cpu@" + std::to_string(i);
    IGVMKIT_FDT(fdt_begin_node(fdt, name.c_str()));
    IGVMKIT_FDT(fdt_property_string(fdt, "device_type", "cpu"));
    IGVMKIT_FDT(fdt_property_u32(fdt, "reg", i));
    IGVMKIT_FDT(fdt_end_node(fdt));
  }
  IGVMKIT_FDT(fdt_end_node(fdt));
  for (const GpaRange& r : ram) {
    char name[40];
    std::snprintf(name, sizeof(name), "memory@%llx", static_cast<unsigned long long>(r.gpa));
    IGVMKIT_FDT(fdt_begin_node(fdt, name));
    IGVMKIT_FDT(fdt_property_string(fdt, "device_type", "memory"));
    fdt64_t reg[2] = {cell64(r.gpa), cell64(r.size)};
    IGVMKIT_FDT(fdt_property(fdt, "reg", reg, sizeof(reg)));
    IGVMKIT_FDT(fdt_property_u32(fdt, "microsoft,igvm-type", kMemoryMapMemory));
    IGVMKIT_FDT(fdt_end_node(fdt));
  }
  IGVMKIT_FDT(fdt_end_node(fdt));
  IGVMKIT_FDT(fdt_finish(fdt));
#undef IGVMKIT_FDT
  return 0;
}

}  // namespace

Result<ByteVector> deviceTree(const VmConfig& config) {
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<GpaRange> ram, config.ramLayout());
  if (config.cmdline.find('\0') != std::string::npos) {
    return invalid("params.cmdline_nul", "command line has a nul byte");
  }
  std::vector<char> buf(4096 + config.cmdline.size() + 128 * (config.vcpus + ram.size()));
  for (int attempt = 0; attempt < 8; ++attempt) {
    int err = buildFdt(buf, config, ram);
    if (err == -FDT_ERR_NOSPACE) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (err != 0) {
      return internal(std::string("building the device tree failed: ") + fdt_strerror(err));
    }
    size_t total = fdt_totalsize(buf.data());
    const auto* p = reinterpret_cast<const std::byte*>(buf.data());
    return ByteVector(p, p + total);
  }
  return internal("device tree does not fit 8 doublings of its buffer");
}

Status writeParameter(ByteVector& area, uint64_t byte_offset, Bytes value) {
  if (byte_offset > area.size() || value.size() > area.size() - byte_offset) {
    return invalid("params.too_large", "parameter of " + hex(value.size()) + " bytes at offset " +
                                           hex(byte_offset) + " does not fit the area of " +
                                           hex(area.size()) + " bytes");
  }
  std::memcpy(area.data() + byte_offset, value.data(), value.size());
  return okStatus();
}

}  // namespace igvmkit::loader
