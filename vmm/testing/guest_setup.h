// vmm/testing/guest_setup.h (target //vmm:guest_setup, testonly): a VM for tests and benchmarks
// that want one without the loader. The test describes the machine as a value (how much RAM,
// which bytes go where, the boot vCPU's registers, how many vCPUs); run() builds the VM itself on
// KVM, in Firecracker's order (loader-vmm.md §5.1), then runs it on the production machine
// (vmm/internal/kvm_machine.h) exactly as vmm::run(LoadedVm, ...) runs the loader's VM:
//
//   vmm::GuestSetup setup;
//   setup.memory_bytes = 64 << 20;
//   setup.loads.push_back({.gpa = 0x100000, .data = probe_bytes});
//   setup.bsp = state;  // 64-bit long mode, rip = 0x100000, rsi = probe info block
//   setup.vcpus = 2;
//   vmm::RunConfig config;
//   config.timeout = std::chrono::seconds(10);
//   config.serial = vmm::serialToFd(STDOUT_FILENO);
//   IGVMKIT_ASSIGN_OR_RETURN(vmm::RunOutcome outcome, vmm::run(setup, config));
//   return outcome.exit_status;  // the byte the guest wrote to port 0xf4
//
// RAM is [0, 3 GiB) and, for more than 3 GiB, the rest from 4 GiB up (the 32-bit MMIO gap in
// between). igvmkit (//cli:igvmkit) does not link this: it runs what the loader built.
#pragma once

#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "vmm/vmm.h"
#include "x86/vp_state.h"

namespace igvmkit::vmm {

// Bytes to copy into guest RAM before the first instruction runs.
struct Load {
  uint64_t gpa = 0;
  ByteVector data;
  bool operator==(const Load&) const = default;
};

struct GuestSetup {
  uint64_t memory_bytes = 0;  // RAM size; a multiple of 4 KiB, at least 1 MiB
  std::vector<Load> loads;    // each must lie inside RAM; later loads overwrite earlier ones
  x86::VpState bsp;           // vCPU 0
  unsigned vcpus = 1;         // 1..igvm::kMaxVcpus; vCPU i gets APIC ID i
};

// Builds the VM described by `setup` on config.device (nullptr = the real /dev/kvm), runs it to
// its end, and tears it down (threads joined, memory unmapped, descriptors closed) on every path.
// A setup that does not fit (memory size, vCPU count, a load outside RAM) is refused before
// /dev/kvm is opened.
Result<RunOutcome> run(const GuestSetup& setup, const RunConfig& config);

}  // namespace igvmkit::vmm
