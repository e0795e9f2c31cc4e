#include "vmm/internal/debug_exit.h"

namespace igvmkit::vmm {

void DebugExit::read(uint16_t /*offset*/, std::span<uint8_t> data) {
  if (data.size() != 1) {
    ++stats_.wrong_width;
  }
  // The bus preset the data to all ones; nothing to read here.
}

void DebugExit::write(uint16_t /*offset*/, std::span<const uint8_t> data) {
  if (data.size() != 1) {
    ++stats_.wrong_width;
    return;
  }
  if (!stop_) {  // the first request wins
    stop_ = StopRequest{data[0], "debug exit port 0xf4"};
  }
}

}  // namespace igvmkit::vmm
