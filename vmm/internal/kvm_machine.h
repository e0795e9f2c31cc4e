// vmm/internal/kvm_machine.h: the KVM machine behind vmm::run(): the VM (adopted from the loader's
// kvm backend, or built by the test-only vmm/testing/guest_setup.cc), the PIT, the vCPUs and their
// setup (CPUID, MSRs, LAPIC, registers), the devices, and the run on RunLoop. vmm.cc chooses the
// device; these take it. Where each part lives:
//   kvm_machine.cc      /dev/kvm, the VM, the PIT, adopting the loader's VM, COM1's IRQ, the run
//   kvm_vcpu_setup.cc   per-vCPU setup: kvm_run mapping, CPUID, MSRs, LAPIC, APs waiting for SIPI
//   kvm_registers.cc    the boot vCPU's registers (FPU, special registers, XCR0, general registers)
//   kvm_vcpu.{h,cc}     KvmVcpu: KVM_RUN and the kvm_run exit translation
//   kvm_handles.{h,cc}  owned descriptors and mappings, ioctl error text
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "base/status.h"
#include "hv/device.h"
#include "hv/kvm_abi.h"
#include "loader/backend.h"
#include "vmm/internal/exit.h"
#include "vmm/internal/kvm_handles.h"
#include "vmm/internal/kvm_vcpu.h"
#include "vmm/vmm.h"

namespace igvmkit::vmm {

// One KVM VM and its vCPUs for one run. Production adopts the VM the loader's kvm backend built
// (adopt()); a test-only builder (vmm/testing/guest_setup.cc) makes its own with the public
// steps below, in this order: openKvm, createVm, (its RAM), KVM_CREATE_IRQCHIP on vmFd(),
// createPit, supportedCpuid, createVcpu for each vCPU. Either way run() runs it.
class Machine {
 public:
  Machine(hv::Device& sys, const x86::VpState& bsp, unsigned vcpus, const RunConfig& config)
      : sys_(sys),
        bsp_(bsp),
        config_(config),
        vcpu_count_(vcpus),
        devices_(
            config.serial, [this](bool level) { setIrq4(level); }, vcpus) {}

  // Takes over a VM the loader built (fds borrowed, memory left to the loader).
  Status adopt(const loader::LoadedVm& vm);
  RunOutcome run();

  // The steps of building a VM from scratch.
  Status openKvm();
  Status createVm();
  Status createPit();
  Result<std::vector<hv::kvm::kvm_cpuid_entry2>> supportedCpuid();
  Status createVcpu(unsigned index, const std::vector<hv::kvm::kvm_cpuid_entry2>& cpuid);
  int vmFd() const { return vm_.get(); }

 private:
  Status setupVcpu(std::unique_ptr<KvmVcpu> v, const std::vector<hv::kvm::kvm_cpuid_entry2>& cpuid);
  Status setCpuid(KvmVcpu& v, std::vector<hv::kvm::kvm_cpuid_entry2> cpuid);
  Status setMsrs(KvmVcpu& v);
  Status setLapic(KvmVcpu& v);
  Status setBspRegisters(KvmVcpu& v);
  long vmIoctl(unsigned long request, uintptr_t arg) { return sys_.ioctl(vm_.get(), request, arg); }

  void setIrq4(bool level);

  hv::Device& sys_;
  const x86::VpState& bsp_;
  const RunConfig& config_;
  const unsigned vcpu_count_;  // the topology CPUID announces
  Fd kvm_;
  Fd vm_;
  size_t run_size_ = 0;
  bool tsc_deadline_ = false;  // KVM_CAP_TSC_DEADLINE_TIMER
  std::vector<std::unique_ptr<KvmVcpu>> vcpus_;

  std::mutex device_mutex_;  // guards devices_
  Devices devices_;
};

// Adopts the VM the loader's kvm backend built and runs it (vmm::run(LoadedVm, VpState, ...)).
Result<RunOutcome> runKvm(hv::Device& device, const loader::LoadedVm& vm, const x86::VpState& bsp,
                          const RunConfig& config);

}  // namespace igvmkit::vmm
