// vmm/internal/kvm_machine.h: the KVM machine behind vmm::run(): the VM (built here from a
// GuestSetup, or adopted from the loader's kvm backend), the PIT, the vCPUs and their setup (CPUID,
// MSRs, LAPIC, registers), the devices, and the run on RunLoop. vmm.cc chooses the device; these
// take it. Where each part lives:
//   kvm_machine.cc      /dev/kvm, the VM, the PIT, adopting the loader's VM, COM1's IRQ, the run
//   kvm_vcpu_setup.cc   per-vCPU setup: kvm_run mapping, CPUID, MSRs, LAPIC, APs waiting for SIPI
//   kvm_registers.cc    the boot vCPU's registers (FPU, special registers, XCR0, general registers)
//   kvm_guest_setup.cc  the GuestSetup-only path: checks, guest RAM and its loads, build()
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

class Machine {
 public:
  Machine(hv::Device& sys, const GuestSetup& setup, const RunConfig& config)
      : sys_(sys),
        setup_(setup),
        bsp_(setup.bsp),
        config_(config),
        vcpu_count_(setup.vcpus),
        devices_(
            config.serial, [this](bool level) { setIrq4(level); }, setup.vcpus) {}
  Machine(hv::Device& sys, const x86::VpState& bsp, unsigned vcpus, const RunConfig& config)
      : sys_(sys),
        setup_(empty_setup_),
        bsp_(bsp),
        config_(config),
        vcpu_count_(vcpus),
        devices_(
            config.serial, [this](bool level) { setIrq4(level); }, vcpus) {}

  Status build();
  // Takes over a VM the loader built (fds borrowed, memory left to the loader).
  Status adopt(const loader::LoadedVm& vm);
  RunOutcome run();

 private:
  Status openKvm();
  Status createVm();
  Status setupMemory();
  Status createVcpu(unsigned index, const std::vector<hv::kvm::kvm_cpuid_entry2>& cpuid);
  Status setupVcpu(std::unique_ptr<KvmVcpu> v, const std::vector<hv::kvm::kvm_cpuid_entry2>& cpuid);
  Status createPit();
  Status setCpuid(KvmVcpu& v, std::vector<hv::kvm::kvm_cpuid_entry2> cpuid);
  Status setMsrs(KvmVcpu& v);
  Status setLapic(KvmVcpu& v);
  Status setBspRegisters(KvmVcpu& v);
  Result<std::vector<hv::kvm::kvm_cpuid_entry2>> supportedCpuid();
  long vmIoctl(unsigned long request, uintptr_t arg) { return sys_.ioctl(vm_.get(), request, arg); }

  void setIrq4(bool level);

  hv::Device& sys_;
  const GuestSetup empty_setup_;
  const GuestSetup& setup_;
  const x86::VpState& bsp_;
  const RunConfig& config_;
  const unsigned vcpu_count_;  // the topology CPUID announces
  Fd kvm_;
  Mapping ram_;  // unmapped after the VM is closed (declared before vm_)
  Fd vm_;
  size_t run_size_ = 0;
  bool tsc_deadline_ = false;  // KVM_CAP_TSC_DEADLINE_TIMER
  std::vector<std::unique_ptr<KvmVcpu>> vcpus_;

  std::mutex device_mutex_;  // guards devices_
  Devices devices_;
};

// Builds the VM `setup` describes on `device` and runs it (vmm::run(GuestSetup, RunConfig)).
Result<RunOutcome> runKvm(hv::Device& device, const GuestSetup& setup, const RunConfig& config);

// Adopts the VM the loader's kvm backend built and runs it (vmm::run(LoadedVm, VpState, ...)).
Result<RunOutcome> runKvm(hv::Device& device, const loader::LoadedVm& vm, const x86::VpState& bsp,
                          const RunConfig& config);

}  // namespace igvmkit::vmm
