// loader/internal/backends.h: the concrete backends and helpers they share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "loader/backend.h"

namespace igvmkit::loader::detail {

std::unique_ptr<Backend> makeKvmBackend(BackendKind kind, hv::Device& device);  // kvm, kvm-snp, kvm-tdx
std::unique_ptr<Backend> makeMshvBackend(BackendKind kind, hv::Device& device);  // mshv, mshv-snp
MshvFlavor mshvFlavorOf(const Backend& backend);

// Guest memory and fds owned by a backend, released through the Device.
class Resources {
 public:
  explicit Resources(hv::Device& device) : device_(device) {}
  ~Resources();
  Resources(const Resources&) = delete;
  Resources& operator=(const Resources&) = delete;

  // Anonymous shared mapping of `size` bytes (zero filled).
  Result<std::byte*> mapAnonymous(uint64_t size);
  void ownFd(int fd) { fds_.push_back(fd); }
  hv::Device& device() { return device_; }

 private:
  hv::Device& device_;
  std::vector<std::pair<void*, size_t>> maps_;
  std::vector<int> fds_;
};

// The host address of [gpa, gpa + size) in `vm`'s memory, or an error when not mapped.
Result<std::byte*> hostAddress(const LoadedVm& vm, uint64_t gpa, uint64_t size);

// The pages of `op` written into host memory (data, then zeros).
Status writePages(const LoadedVm& vm, uint64_t gpa, uint64_t page_count, Bytes data);
// Writes a parameter area at its gpa: zeros, then each write in order.
Status writeArea(const LoadedVm& vm, const FillParameter& f);

}  // namespace igvmkit::loader::detail
