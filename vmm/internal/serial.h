// vmm/internal/serial.h: a 16550A UART for COM1.
//
// Emulated: the transmit path (each byte written to THR goes to the sink at once, so THR is always
// empty and LSR always reports THRE|TEMT); the receive path from receive() (a host-side buffer of
// up to 4 KiB behind RBR, LSR.DR and the received-data interrupt); the divisor latch (stored, no
// effect); IER/IIR for the received-data and THR-empty interrupts; LCR; MCR (OUT2 gates the IRQ
// line; loopback only mirrors the modem control bits into MSR); SCR. The IRQ line is raised and
// lowered through the `irq` callback.
// NOT emulated: the 16-byte FIFOs and their trigger levels and timeouts (FCR writes are stored,
// IIR reports FIFOs enabled when asked), loopback data, line-status errors, breaks and overruns
// (receive() takes at most 4 KiB; the caller keeps the rest), modem-status interrupts, baud timing.
// Only byte-wide accesses are accepted; others are counted in `wrong_width` and ignored (reads
// return all ones).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string_view>

#include "vmm/internal/pio_bus.h"
#include "vmm/vmm.h"

namespace igvmkit::vmm {

class Serial final : public PioDevice {
 public:
  // `sink` receives output; `irq(level)` drives the interrupt line; `stats` counts bytes and
  // wrong-width accesses. All must outlive the device.
  Serial(SerialSink sink, std::function<void(bool)> irq, RunStats& stats);

  void read(uint16_t offset, std::span<uint8_t> data) override;
  void write(uint16_t offset, std::span<const uint8_t> data) override;

  // Queues host input for the guest to read from RBR; returns how many bytes were taken.
  size_t receive(std::string_view bytes);

  bool irqLevel() const { return irq_level_; }

 private:
  uint8_t readRegister(uint16_t offset);
  void writeRegister(uint16_t offset, uint8_t value);
  void updateIrq();

  SerialSink sink_;
  std::function<void(bool)> irq_;
  RunStats& stats_;
  uint8_t ier_ = 0;
  uint8_t lcr_ = 0x03;  // 8N1
  uint8_t mcr_ = 0x08;  // OUT2 set, as firmware leaves it
  uint8_t scr_ = 0;
  uint8_t dll_ = 0x0C;  // 9600 baud
  uint8_t dlm_ = 0;
  uint8_t fcr_ = 0;
  std::deque<uint8_t> rx_;
  // The THR-empty interrupt is pending until IIR is read or THR written.
  bool thre_pending_ = false;
  bool irq_level_ = false;
};

}  // namespace igvmkit::vmm
