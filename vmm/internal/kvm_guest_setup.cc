// vmm/internal/kvm_guest_setup.cc: the GuestSetup-only path of the KVM machine (kvm_machine.h),
// vmm::run(GuestSetup, RunConfig): the setup's checks, guest RAM (two slots around the MMIO gap)
// with the setup's loads copied in, and build(), which creates the whole VM itself instead of
// adopting one the loader built.
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

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

}  // namespace

Status Machine::setupMemory() {
  int error = 0;
  void* p = sys_.mmap(setup_.memory_bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0, &error);
  if (p == nullptr) {
    return Error{
        Code::kInternal, "vmm.ram",
        "cannot map " + hex(setup_.memory_bytes) + " bytes of guest ram: " + errnoText(error),
        std::nullopt};
  }
  ram_ = Mapping(&sys_, p, setup_.memory_bytes);
  RamLayout ram = ramLayout(setup_.memory_bytes);
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
    region.userspace_addr = reinterpret_cast<uint64_t>(ram_.data() + slots[i].offset);
    if (long r = sys_.ioctl(vm_.get(), KVM_SET_USER_MEMORY_REGION, &region); r < 0) {
      return kvmError("KVM_SET_USER_MEMORY_REGION", r);
    }
  }
  for (size_t i = 0; i < setup_.loads.size(); ++i) {
    const Load& load = setup_.loads[i];
    std::optional<uint64_t> off = ram.offsetOf(load.gpa, load.data.size());
    if (!off) {  // checkSetup() already refused it
      return internal("load #" + std::to_string(i) + " left guest ram");
    }
    std::memcpy(ram_.data() + *off, load.data.data(), load.data.size());
  }
  return okStatus();
}

Status Machine::build() {
  IGVMKIT_RETURN_IF_ERROR(checkSetup(setup_));
  IGVMKIT_RETURN_IF_ERROR(openKvm());
  IGVMKIT_RETURN_IF_ERROR(createVm());
  IGVMKIT_RETURN_IF_ERROR(setupMemory());
  // The interrupt controllers must exist before the vCPUs (§5.1 item 8).
  if (long r = vmIoctl(KVM_CREATE_IRQCHIP, 0); r < 0) {
    return kvmError("KVM_CREATE_IRQCHIP", r);
  }
  IGVMKIT_RETURN_IF_ERROR(createPit());
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<kvm_cpuid_entry2> cpuid, supportedCpuid());
  for (unsigned i = 0; i < setup_.vcpus; ++i) {
    IGVMKIT_RETURN_IF_ERROR(createVcpu(i, cpuid));
  }
  return okStatus();
}

Result<RunOutcome> runKvm(hv::Device& sys, const GuestSetup& setup, const RunConfig& config) {
  Machine machine(sys, setup, config);
  IGVMKIT_RETURN_IF_ERROR(machine.build());
  return machine.run();
}

}  // namespace igvmkit::vmm
