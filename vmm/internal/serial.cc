#include "vmm/internal/serial.h"

#include <algorithm>
#include <utility>

namespace igvmkit::vmm {
namespace {

// Register offsets and bits (16550A data sheet; DLAB is LCR bit 7).
constexpr uint16_t kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6,
                   kScr = 7;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kIerRda = 0x01, kIerThre = 0x02;
constexpr uint8_t kIirNone = 0x01, kIirThre = 0x02, kIirRda = 0x04, kIirFifos = 0xC0;
constexpr uint8_t kLsrDr = 0x01, kLsrThre = 0x20, kLsrTemt = 0x40;
constexpr size_t kRxCapacity = 4096;
constexpr uint8_t kMcrOut2 = 0x08, kMcrLoop = 0x10;
constexpr uint8_t kMsrDcd = 0x80, kMsrDsr = 0x20, kMsrCts = 0x10;

}  // namespace

Serial::Serial(SerialSink sink, std::function<void(bool)> irq, RunStats& stats)
    : sink_(std::move(sink)), irq_(std::move(irq)), stats_(stats) {}

void Serial::read(uint16_t offset, std::span<uint8_t> data) {
  if (data.size() != 1) {  // UART registers are byte-wide
    ++stats_.wrong_width;
    return;
  }
  data[0] = readRegister(offset);
}

void Serial::write(uint16_t offset, std::span<const uint8_t> data) {
  if (data.size() != 1) {
    ++stats_.wrong_width;
    return;
  }
  writeRegister(offset, data[0]);
}

uint8_t Serial::readRegister(uint16_t offset) {
  bool dlab = (lcr_ & kLcrDlab) != 0;
  switch (offset) {
    case kRbrThr: {
      if (dlab) {
        return dll_;
      }
      if (rx_.empty()) {
        return 0;
      }
      uint8_t byte = rx_.front();
      rx_.pop_front();
      updateIrq();
      return byte;
    }
    case kIer:
      return dlab ? dlm_ : ier_;
    case kIirFcr: {
      uint8_t fifos = (fcr_ & 1) ? kIirFifos : 0;
      if (!rx_.empty() && (ier_ & kIerRda)) {
        return fifos | kIirRda;  // higher priority than THR empty; cleared by reading RBR
      }
      if (thre_pending_) {
        thre_pending_ = false;  // reading IIR acknowledges the THR-empty interrupt
        updateIrq();
        return fifos | kIirThre;
      }
      return fifos | kIirNone;
    }
    case kLcr:
      return lcr_;
    case kMcr:
      return mcr_;
    case kLsr:
      return kLsrThre | kLsrTemt | (rx_.empty() ? 0 : kLsrDr);  // transmitter always empty
    case kMsr:
      if (mcr_ & kMcrLoop) {
        // Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
        return static_cast<uint8_t>(((mcr_ & 0x01) << 5) | ((mcr_ & 0x02) << 3) |
                                    ((mcr_ & 0x04) << 4) | ((mcr_ & 0x08) << 4));
      }
      return kMsrDcd | kMsrDsr | kMsrCts;
    case kScr:
      return scr_;
    default:
      return 0xFF;
  }
}

void Serial::writeRegister(uint16_t offset, uint8_t value) {
  bool dlab = (lcr_ & kLcrDlab) != 0;
  switch (offset) {
    case kRbrThr:
      if (dlab) {
        dll_ = value;
        return;
      }
      if (!(mcr_ & kMcrLoop)) {
        ++stats_.serial_bytes;
        if (sink_) {
          char c = static_cast<char>(value);
          sink_(std::string_view(&c, 1));
        }
      }
      // The byte left at once: THR is empty again, which raises the interrupt if enabled.
      thre_pending_ = true;
      updateIrq();
      return;
    case kIer:
      if (dlab) {
        dlm_ = value;
        return;
      }
      // Enabling the THR-empty interrupt while THR is empty raises it at once (as the 16550 does;
      // Linux's 8250 driver relies on it to start transmitting).
      if ((value & kIerThre) && !(ier_ & kIerThre)) {
        thre_pending_ = true;
      }
      ier_ = value & 0x0F;
      updateIrq();
      return;
    case kIirFcr:
      fcr_ = value;
      return;
    case kLcr:
      lcr_ = value;
      return;
    case kMcr:
      mcr_ = value & 0x1F;
      updateIrq();
      return;
    case kScr:
      scr_ = value;
      return;
    default:  // LSR and MSR are read-only
      return;
  }
}

size_t Serial::receive(std::string_view bytes) {
  size_t taken = std::min(bytes.size(), kRxCapacity - rx_.size());
  rx_.insert(rx_.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(taken));
  updateIrq();
  return taken;
}

void Serial::updateIrq() {
  bool pending = (thre_pending_ && (ier_ & kIerThre)) || (!rx_.empty() && (ier_ & kIerRda));
  bool level = pending && (mcr_ & kMcrOut2);
  if (level != irq_level_) {
    irq_level_ = level;
    if (irq_) {
      irq_(level);
    }
  }
}

}  // namespace igvmkit::vmm
