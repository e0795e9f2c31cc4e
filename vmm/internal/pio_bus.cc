#include "vmm/internal/pio_bus.h"

#include <algorithm>

#include "base/bytes.h"

namespace igvmkit::vmm {

Status PioBus::insert(uint16_t base, uint32_t length, PioDevice& device) {
  if (length == 0) {
    return invalid("pio.empty_range", "port range at " + hex(base) + " is empty");
  }
  if (length > 0x10000u - base) {
    return invalid("pio.range_wraps",
                   "port range " + hex(base) + "+" + hex(length) + " runs past port 0xffff");
  }
  for (const Range& r : ranges_) {
    // Two half-open ranges overlap when each starts before the other ends.
    if (base < r.base + r.length && r.base < base + length) {
      return invalid("pio.overlap", "port range " + hex(base) + "+" + hex(length) + " overlaps " +
                                        hex(r.base) + "+" + hex(r.length));
    }
  }
  ranges_.push_back(Range{base, length, &device});
  return okStatus();
}

const PioBus::Range* PioBus::find(uint16_t port) const {
  for (const Range& r : ranges_) {
    if (port >= r.base && static_cast<uint32_t>(port - r.base) < r.length) {
      return &r;
    }
  }
  return nullptr;
}

bool PioBus::read(uint16_t port, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), uint8_t{0xFF});
  const Range* r = find(port);
  if (r == nullptr) {
    return false;
  }
  r->device->read(static_cast<uint16_t>(port - r->base), data);
  return true;
}

bool PioBus::write(uint16_t port, std::span<const uint8_t> data) {
  const Range* r = find(port);
  if (r == nullptr) {
    return false;
  }
  r->device->write(static_cast<uint16_t>(port - r->base), data);
  return true;
}

}  // namespace igvmkit::vmm
