// vmm/internal/stop.h: how a device asks the VMM to end the run.
#pragma once

#include <string>

namespace igvmkit::vmm {

struct StopRequest {
  int status = 0;
  std::string cause;
};

}  // namespace igvmkit::vmm
