// vmm/internal/i8042.h: the i8042 keyboard controller's CPU reset line, nothing else.
//
// Emulated: a write of 0xFE (pulse reset) to the command port 0x64 ends the run with status 0
// (Linux `reboot=k`); the status register reads 0 (no data, input buffer empty) so a guest's
// wait-for-ready loop finishes; the data port reads 0.
// NOT emulated: the keyboard, the aux port, the controller's command byte, output port, A20 gate,
// self-test, interrupts. Other commands are accepted and ignored. Accesses wider than a byte are
// counted in `wrong_width` and ignored.
#pragma once

#include <optional>

#include "vmm/internal/pio_bus.h"
#include "vmm/internal/stop.h"
#include "vmm/vmm.h"

namespace igvmkit::vmm {

class I8042 final : public PioDevice {
 public:
  I8042(std::optional<StopRequest>& stop, RunStats& stats) : stop_(stop), stats_(stats) {}
  void read(uint16_t offset, std::span<uint8_t> data) override;
  void write(uint16_t offset, std::span<const uint8_t> data) override;

 private:
  std::optional<StopRequest>& stop_;
  RunStats& stats_;
};

}  // namespace igvmkit::vmm
