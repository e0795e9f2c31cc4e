// vmm/testing/guest_setup.cc: vmm::run(GuestSetup, RunConfig) (guest_setup.h). Checks the setup,
// then builds the VM with the production machine's steps (vmm/internal/kvm_machine.h), adding
// what the loader's kvm backend would otherwise do: guest RAM (two slots around the MMIO gap) with
// the setup's loads copied in, and the in-kernel irqchip.
#include "vmm/testing/guest_setup.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "hv/kvm_abi.h"
#include "vmm/internal/kvm_handles.h"
#include "vmm/internal/kvm_machine.h"
#include "vmm/internal/layout.h"

namespace igvmkit::vmm {
namespace {

using namespace hv::kvm;  // NOLINT: the ABI names read like the kernel's

using x86::kPageSize;

struct RamLayout {
  uint64_t low = 0;
  uint64_t high = 0;
  // Host offset of [gpa, gpa + size), or nullopt when it is not entirely inside one RAM range.
  std::optional<uint64_t> offsetOf(uint64_t gpa, uint64_t size) const {
    if (gpa <= low && size <= low - gpa) {
      return gpa;
    }
    if (gpa >= layout::kMmioGapEnd && gpa - layout::kMmioGapEnd <= high &&
        size <= high - (gpa - layout::kMmioGapEnd)) {
      return low + (gpa - layout::kMmioGapEnd);
    }
    return std::nullopt;
  }
};

RamLayout ramLayout(uint64_t memory_bytes) {
  RamLayout r;
  r.low = std::min(memory_bytes, layout::kMmioGapStart);
  r.high = memory_bytes - r.low;
  return r;
}

Status checkSetup(const GuestSetup& setup) {
  if (setup.memory_bytes < layout::kMinMemory || setup.memory_bytes > layout::kMaxMemory ||
      setup.memory_bytes % kPageSize != 0) {
    return usage("memory size " + hex(setup.memory_bytes) +
                 " must be a multiple of 4 KiB between 1 MiB and 1 TiB");
  }
  if (setup.vcpus < 1 || setup.vcpus > igvm::kMaxVcpus) {
    return usage("vcpu count " + std::to_string(setup.vcpus) + " must be between 1 and " +
                 std::to_string(igvm::kMaxVcpus));
  }
  RamLayout ram = ramLayout(setup.memory_bytes);
  for (size_t i = 0; i < setup.loads.size(); ++i) {
    const Load& load = setup.loads[i];
    if (!ram.offsetOf(load.gpa, load.data.size())) {
      return invalid("vmm.load_outside_ram", "load #" + std::to_string(i) + " at gpa " +
                                                 hex(load.gpa) + " size " + hex(load.data.size()) +
                                                 " is not inside guest ram");
    }
  }
  return okStatus();
}

// Maps guest RAM into `memory`, registers it with the VM `vm_fd` and copies the setup's loads in.
Status setupMemory(hv::Device& sys, int vm_fd, const GuestSetup& setup, Mapping& memory) {
  int error = 0;
  void* p = sys.mmap(setup.memory_bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0, &error);
  if (p == nullptr) {
    return Error{
        Code::kInternal, "vmm.ram",
        "cannot map " + hex(setup.memory_bytes) + " bytes of guest ram: " + errnoText(error),
        std::nullopt};
  }
  memory = Mapping(&sys, p, setup.memory_bytes);
  RamLayout ram = ramLayout(setup.memory_bytes);
  struct Slot {
    uint64_t gpa, size, offset;
  };
  Slot slots[2] = {{0, ram.low, 0}, {layout::kMmioGapEnd, ram.high, ram.low}};
  for (uint32_t i = 0; i < 2; ++i) {
    if (slots[i].size == 0) {
      continue;
    }
    kvm_userspace_memory_region region{};
    region.slot = i;
    region.guest_phys_addr = slots[i].gpa;
    region.memory_size = slots[i].size;
    region.userspace_addr = reinterpret_cast<uint64_t>(memory.data() + slots[i].offset);
    if (long r = sys.ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region); r < 0) {
      return kvmError("KVM_SET_USER_MEMORY_REGION", r);
    }
  }
  for (size_t i = 0; i < setup.loads.size(); ++i) {
    const Load& load = setup.loads[i];
    std::optional<uint64_t> off = ram.offsetOf(load.gpa, load.data.size());
    if (!off) {  // checkSetup() already refused it
      return internal("load #" + std::to_string(i) + " left guest ram");
    }
    std::memcpy(memory.data() + *off, load.data.data(), load.data.size());
  }
  return okStatus();
}

Result<RunOutcome> runKvm(hv::Device& sys, const GuestSetup& setup, const RunConfig& config) {
  IGVMKIT_RETURN_IF_ERROR(checkSetup(setup));
  Mapping ram;  // unmapped after the machine has closed the VM (declared before it)
  Machine machine(sys, setup.bsp, setup.vcpus, config);
  IGVMKIT_RETURN_IF_ERROR(machine.openKvm());
  IGVMKIT_RETURN_IF_ERROR(machine.createVm());
  IGVMKIT_RETURN_IF_ERROR(setupMemory(sys, machine.vmFd(), setup, ram));
  // The interrupt controllers must exist before the vCPUs (§5.1 item 8).
  if (long r = sys.ioctl(machine.vmFd(), KVM_CREATE_IRQCHIP, uintptr_t{0}); r < 0) {
    return kvmError("KVM_CREATE_IRQCHIP", r);
  }
  IGVMKIT_RETURN_IF_ERROR(machine.createPit());
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<kvm_cpuid_entry2> cpuid, machine.supportedCpuid());
  for (unsigned i = 0; i < setup.vcpus; ++i) {
    IGVMKIT_RETURN_IF_ERROR(machine.createVcpu(i, cpuid));
  }
  return machine.run();
}

}  // namespace

Result<RunOutcome> run(const GuestSetup& setup, const RunConfig& config) {
  std::unique_ptr<hv::Device> real;
  hv::Device& sys = config.device != nullptr ? *config.device : *(real = hv::systemDevice());
  return runKvm(sys, setup, config);
}

}  // namespace igvmkit::vmm
