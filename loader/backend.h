// loader/backend.h: turning a launch plan into hypervisor calls. One interface, five backends
// (kvm, kvm-snp, kvm-tdx on /dev/kvm; mshv, mshv-snp on /dev/mshv), each issuing its ioctls through
// a hv::Device (device.h), so the same code runs against the kernel and against the recording fake.
//
//   std::unique_ptr<hv::Device> dev = hv::systemDevice();
//   std::unique_ptr<loader::Backend> backend = loader::makeBackend(plan.backend, *dev);
//   IGVMKIT_RETURN_IF_ERROR(loader::launch(*backend, plan));   // checkPlan, start, every op
//   const loader::LoadedVm& vm = backend->vm();                 // fds and memory for the VMM
//
// launch() refuses a plan checkPlan() rejects before the first hypervisor call. A backend owns
// the fds and mappings it creates and releases them when destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "hv/device.h"
#include "loader/plan.h"

namespace igvmkit::loader {

// A host mapping of guest memory.
struct GuestRegion {
  uint64_t gpa = 0;
  uint64_t size = 0;
  std::byte* host = nullptr;  // shared (host-visible) backing
  int guest_memfd = -1;       // private backing on KVM (kvm-snp, kvm-tdx), else -1
};

// What a launched VM consists of, for the VMM that runs it.
struct LoadedVm {
  int vm_fd = -1;  // KVM VM fd or MSHV partition fd
  std::vector<int> vcpu_fds;
  std::vector<GuestRegion> memory;
};

// The two /dev/mshv ABIs (loader-vmm.md §2.1): upstream Linux has no SNP isolation and no
// isolated-import ioctls; Microsoft's downstream kernels have both.
enum class MshvFlavor { kUnknown, kUpstream, kDownstream };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendKind kind() const = 0;
  // Creates the VM (and vCPUs) for plan.config and plan.setup. Called once, before apply().
  virtual Status start(const Plan& plan) = 0;
  // Issues one op. Finalize completes the launch (LAUNCH_FINISH, FINALIZE_VM, complete import).
  virtual Status apply(const LaunchOp& op) = 0;
  virtual const LoadedVm& vm() const = 0;
};

// A backend for `kind` that issues its calls through `device` (which must outlive it).
std::unique_ptr<Backend> makeBackend(BackendKind kind, hv::Device& device);

// The /dev/mshv flavour a mshv or mshv-snp backend detected in start(), kUnknown for others.
MshvFlavor mshvFlavor(const Backend& backend);

// checkPlan(plan), then start and every op in order; stops at the first error.
Status launch(Backend& backend, const Plan& plan);

}  // namespace igvmkit::loader
