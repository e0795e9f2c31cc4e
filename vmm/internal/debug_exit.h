// vmm/internal/debug_exit.h: the debug-exit port 0xf4. A byte V written there ends the run with
// exit status V (shared/cli-contract.md "run"; the same port QEMU's isa-debug-exit uses, though
// QEMU reports (V << 1) | 1 and this device reports V itself).
// NOT emulated: anything else. Reads return all ones; wider writes are counted in `wrong_width`
// and ignored, so a guest cannot end the run with a status above 255 by accident.
#pragma once

#include <optional>

#include "vmm/internal/pio_bus.h"
#include "vmm/internal/stop.h"
#include "vmm/vmm.h"

namespace igvmkit::vmm {

class DebugExit final : public PioDevice {
 public:
  DebugExit(std::optional<StopRequest>& stop, RunStats& stats) : stop_(stop), stats_(stats) {}
  void read(uint16_t offset, std::span<uint8_t> data) override;
  void write(uint16_t offset, std::span<const uint8_t> data) override;

 private:
  std::optional<StopRequest>& stop_;
  RunStats& stats_;
};

}  // namespace igvmkit::vmm
