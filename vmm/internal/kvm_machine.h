// vmm/internal/kvm_machine.h: the KVM machine behind vmm::run(): VM and vCPU setup (CPUID, MSRs,
// LAPIC, registers, the PIT), the devices, and KVM's side of the vCPU-run seam. vmm.cc chooses
// the device; these take it.
#pragma once

#include "base/status.h"
#include "hv/device.h"
#include "loader/backend.h"
#include "vmm/vmm.h"

namespace igvmkit::vmm {

// Builds the VM `setup` describes on `device` and runs it (vmm::run(GuestSetup, RunConfig)).
Result<RunOutcome> runKvm(hv::Device& device, const GuestSetup& setup, const RunConfig& config);

// Adopts the VM the loader's kvm backend built and runs it (vmm::run(LoadedVm, VpState, ...)).
Result<RunOutcome> runKvm(hv::Device& device, const loader::LoadedVm& vm, const VpState& bsp,
                          const RunConfig& config);

}  // namespace igvmkit::vmm
