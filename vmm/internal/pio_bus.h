// vmm/internal/pio_bus.h: the port I/O bus. Devices own a range of ports and are called with the
// offset into that range, never the absolute port (Firecracker's vstate/bus.rs design).
//
//   PioBus bus;
//   IGVMKIT_RETURN_IF_ERROR(bus.insert(0x3f8, 8, serial));
//   if (!bus.write(0x3f9, data)) { ++stats.unhandled_pio; }
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"

namespace igvmkit::vmm {

// A device on the port bus. `data.size()` is the access width (1, 2 or 4); a read fills `data`,
// which the bus has preset to all ones.
class PioDevice {
 public:
  virtual ~PioDevice() = default;
  virtual void read(uint16_t offset, std::span<uint8_t> data) = 0;
  virtual void write(uint16_t offset, std::span<const uint8_t> data) = 0;
};

class PioBus {
 public:
  // Claims [base, base + length) for `device` (which must outlive the bus). Refuses an empty range,
  // one that runs past port 0xffff, and one that overlaps a range already claimed.
  Status insert(uint16_t base, uint32_t length, PioDevice& device);

  // Dispatch an access at `port`; false when no device claims the port (the caller counts it).
  // An unclaimed read returns all ones, as on an ISA bus with nothing driving it.
  bool read(uint16_t port, std::span<uint8_t> data);
  bool write(uint16_t port, std::span<const uint8_t> data);

 private:
  struct Range {
    uint16_t base;
    uint32_t length;
    PioDevice* device;
  };
  const Range* find(uint16_t port) const;
  std::vector<Range> ranges_;  // few entries: a linear scan is fastest
};

}  // namespace igvmkit::vmm
