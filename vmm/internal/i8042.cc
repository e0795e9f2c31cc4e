#include "vmm/internal/i8042.h"

namespace igvmkit::vmm {
namespace {
constexpr uint16_t kCommandPortOffset = 4;  // port 0x64 in the range starting at 0x60
constexpr uint8_t kCmdResetCpu = 0xFE;
}  // namespace

void I8042::read(uint16_t /*offset*/, std::span<uint8_t> data) {
  if (data.size() != 1) {
    ++stats_.wrong_width;
    return;
  }
  data[0] = 0;  // status: output buffer empty, input buffer empty; data: 0
}

void I8042::write(uint16_t offset, std::span<const uint8_t> data) {
  if (data.size() != 1) {
    ++stats_.wrong_width;
    return;
  }
  if (offset == kCommandPortOffset && data[0] == kCmdResetCpu && !stop_) {
    stop_ = StopRequest{0, "i8042 reset"};
  }
}

}  // namespace igvmkit::vmm
