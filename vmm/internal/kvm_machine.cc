// vmm/internal/kvm_machine.cc: the KVM machine (kvm_machine.h) in Firecracker's order
// (loader-vmm.md §5.1-5.2): /dev/kvm and its capabilities, the VM, the PIT, adopting the VM the
// loader's kvm backend built, COM1's interrupt line, and the run on RunLoop.
#include "vmm/internal/kvm_machine.h"

#include <fcntl.h>

#include <cerrno>
#include <string>

#include "vmm/internal/layout.h"
#include "vmm/internal/vcpu_runner.h"

namespace igvmkit::vmm {
namespace {

using namespace hv::kvm;  // NOLINT: the ABI names read like the kernel's

constexpr int kKvmApiVersion = 12;

}  // namespace

Status Machine::openKvm() {
  int fd = sys_.open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return unsupported("vmm.no_kvm", "cannot open /dev/kvm: " + errnoText(-fd));
  }
  kvm_ = Fd(&sys_, fd);
  long version = sys_.ioctl(kvm_.get(), KVM_GET_API_VERSION, uintptr_t{0});
  if (version != kKvmApiVersion) {
    return unsupported("vmm.kvm_api_version",
                       "kvm api version " + std::to_string(version) + " is not 12");
  }
  // The supervisor's way of stopping vCPUs needs kvm_run.immediate_exit (Linux 4.11+).
  if (sys_.ioctl(kvm_.get(), KVM_CHECK_EXTENSION, uintptr_t{kCapImmediateExit}) <= 0) {
    return unsupported("vmm.kvm_capability", "kvm lacks kCapImmediateExit");
  }
  long size = sys_.ioctl(kvm_.get(), KVM_GET_VCPU_MMAP_SIZE, uintptr_t{0});
  if (size < static_cast<long>(sizeof(kvm_run))) {
    return kvmError("KVM_GET_VCPU_MMAP_SIZE", size < 0 ? size : -EINVAL);
  }
  run_size_ = static_cast<size_t>(size);
  tsc_deadline_ = sys_.ioctl(kvm_.get(), KVM_CHECK_EXTENSION, uintptr_t{kCapTscDeadlineTimer}) > 0;
  return okStatus();
}

Status Machine::createVm() {
  long fd;
  do {
    fd = sys_.ioctl(kvm_.get(), KVM_CREATE_VM, uintptr_t{0});
  } while (fd == -EINTR);
  if (fd < 0) {
    return kvmError("KVM_CREATE_VM", fd);
  }
  vm_ = Fd(&sys_, static_cast<int>(fd));
  // Intel needs these in the 32-bit gap before any vCPU exists (§5.1 items 5-6).
  if (long r = vmIoctl(KVM_SET_TSS_ADDR, layout::kTssAddr); r < 0) {
    return kvmError("KVM_SET_TSS_ADDR", r);
  }
  uint64_t identity = layout::kIdentityMapAddr;
  if (long r = sys_.ioctl(vm_.get(), KVM_SET_IDENTITY_MAP_ADDR, &identity); r < 0) {
    return kvmError("KVM_SET_IDENTITY_MAP_ADDR", r);
  }
  return okStatus();
}

Status Machine::createPit() {
  kvm_pit_config pit{};
  pit.flags = kPitSpeakerDummy;
  if (long r = sys_.ioctl(vm_.get(), KVM_CREATE_PIT2, &pit); r < 0) {
    return kvmError("KVM_CREATE_PIT2", r);
  }
  return okStatus();
}

Status Machine::adopt(const loader::LoadedVm& vm) {
  if (vm.vm_fd < 0 || vm.vcpu_fds.empty() || vm.vcpu_fds.size() > igvm::kMaxVcpus) {
    return usage("the loaded vm has no vm fd or " + std::to_string(vm.vcpu_fds.size()) +
                 " vcpus (1.." + std::to_string(igvm::kMaxVcpus) + ")");
  }
  IGVMKIT_RETURN_IF_ERROR(openKvm());
  vm_ = Fd::borrowed(vm.vm_fd);
  // The loader made the irqchip; the PIT is the VMM's (it is a device of this machine model).
  IGVMKIT_RETURN_IF_ERROR(createPit());
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<kvm_cpuid_entry2> cpuid, supportedCpuid());
  for (size_t i = 0; i < vm.vcpu_fds.size(); ++i) {
    auto v = std::make_unique<KvmVcpu>(sys_, static_cast<unsigned>(i));
    v->fd = Fd::borrowed(vm.vcpu_fds[i]);
    IGVMKIT_RETURN_IF_ERROR(setupVcpu(std::move(v), cpuid));
  }
  return okStatus();
}

void Machine::setIrq4(bool level) {
  kvm_irq_level irq{};
  irq.irq = layout::kCom1Irq;
  irq.level = level ? 1 : 0;
  (void)sys_.ioctl(vm_.get(), KVM_IRQ_LINE, &irq);
}

RunOutcome Machine::run() {
  std::vector<VcpuRunner*> runners;
  for (auto& v : vcpus_) {
    runners.push_back(v.get());
  }
  return RunLoop(runners, devices_, device_mutex_, config_).run();
}

Result<RunOutcome> runKvm(hv::Device& sys, const loader::LoadedVm& vm, const x86::VpState& bsp,
                          const RunConfig& config) {
  Machine machine(sys, bsp, static_cast<unsigned>(vm.vcpu_fds.size()), config);
  IGVMKIT_RETURN_IF_ERROR(machine.adopt(vm));
  return machine.run();
}

}  // namespace igvmkit::vmm
