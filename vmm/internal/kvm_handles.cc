// vmm/internal/kvm_handles.cc: the error text of failed KVM calls (kvm_handles.h).
#include "vmm/internal/kvm_handles.h"

#include <cctype>
#include <cstring>
#include <optional>

namespace igvmkit::vmm {

std::string errnoText(int error) {
  char buf[128];
  // GNU strerror_r returns the message pointer (thread-safe, unlike strerror).
  std::string text = strerror_r(error, buf, sizeof(buf));
  if (!text.empty()) {
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text + " (errno " + std::to_string(error) + ")";
}

Error kvmError(const std::string& what, long r) {
  return Error{Code::kInternal, "vmm.kvm_ioctl",
               what + " failed: " + errnoText(static_cast<int>(-r)), std::nullopt};
}

}  // namespace igvmkit::vmm
