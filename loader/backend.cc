#include "loader/backend.h"

#include <sys/mman.h>

#include <cstring>

#include "loader/internal/backends.h"

namespace igvmkit::loader {

std::unique_ptr<Backend> makeBackend(BackendKind kind, hv::Device& device) {
  switch (kind) {
    case BackendKind::kKvm:
    case BackendKind::kKvmSnp:
    case BackendKind::kKvmTdx:
      return detail::makeKvmBackend(kind, device);
    case BackendKind::kMshv:
    case BackendKind::kMshvSnp:
      return detail::makeMshvBackend(kind, device);
  }
  return nullptr;
}

MshvFlavor mshvFlavor(const Backend& backend) {
  if (backend.kind() != BackendKind::kMshv && backend.kind() != BackendKind::kMshvSnp) {
    return MshvFlavor::kUnknown;
  }
  return detail::mshvFlavorOf(backend);
}

Status launch(Backend& backend, const Plan& plan) {
  if (plan.backend != backend.kind()) {
    return usage("plan is for backend " + std::string(backendName(plan.backend)) +
                 " but the backend is " + std::string(backendName(backend.kind())));
  }
  IGVMKIT_RETURN_IF_ERROR(checkPlan(plan));
  IGVMKIT_RETURN_IF_ERROR(backend.start(plan));
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    Status s = backend.apply(plan.ops[i]);
    if (!s.ok()) {
      Error e = std::move(s).error();
      e.message = "op #" + std::to_string(i) + ": " + e.message;
      return e;
    }
  }
  return okStatus();
}

namespace detail {

Resources::~Resources() {
  for (auto& [addr, len] : maps_) {
    (void)device_.munmap(addr, len);
  }
  for (auto it = fds_.rbegin(); it != fds_.rend(); ++it) {
    (void)device_.close(*it);
  }
}

Result<std::byte*> Resources::mapAnonymous(uint64_t size) {
  int err = 0;
  void* p = device_.mmap(size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
                         -1, 0, &err);
  if (p == nullptr) {
    return hv::errnoError("mmap of " + hex(size) + " bytes of guest memory", -err);
  }
  maps_.emplace_back(p, size);
  return static_cast<std::byte*>(p);
}

Result<std::byte*> hostAddress(const LoadedVm& vm, uint64_t gpa, uint64_t size) {
  for (const GuestRegion& r : vm.memory) {
    if (gpa >= r.gpa && gpa - r.gpa <= r.size && size <= r.size - (gpa - r.gpa)) {
      return r.host + (gpa - r.gpa);
    }
  }
  return internal("gpa " + hex(gpa) + " size " + hex(size) + " is not in mapped guest memory");
}

Status writePages(const LoadedVm& vm, uint64_t gpa, uint64_t page_count, Bytes data) {
  uint64_t size = page_count * kPageSize;
  IGVMKIT_ASSIGN_OR_RETURN(std::byte * host, hostAddress(vm, gpa, size));
  if (!data.empty()) {
    std::memcpy(host, data.data(), data.size());
  }
  std::memset(host + data.size(), 0, size - data.size());
  return okStatus();
}

Status writeArea(const LoadedVm& vm, const FillParameter& f) {
  IGVMKIT_ASSIGN_OR_RETURN(std::byte * host, hostAddress(vm, f.gpa, f.size));
  std::memset(host, 0, f.size);
  for (const AreaWrite& w : f.writes) {
    if (w.offset > f.size || w.bytes.size() > f.size - w.offset) {
      return internal("a parameter write runs past its area");
    }
    std::memcpy(host + w.offset, w.bytes.data(), w.bytes.size());
  }
  return okStatus();
}

}  // namespace detail
}  // namespace igvmkit::loader
