// vmm/vmm.h: a minimal KVM (and MSHV) virtual machine monitor that runs an already-loaded x86-64
// guest. KVM and MSHV share one vCPU-run loop and the same devices; runMshv() below is the MSHV
// entry point.
//
// The caller (igvmkit run's vmm::launchAndRun, vmm/launch.h) hands run() a VM the loader's `kvm`
// backend created and loaded, and the boot vCPU's registers; run() adds the devices and vCPU
// threads, runs the guest until it ends the run, tears its part down and reports how it ended:
//
//   IGVMKIT_ASSIGN_OR_RETURN(vmm::RunOutcome outcome, vmm::run(backend->vm(), bsp, config));
//   return outcome.exit_status;  // the byte the guest wrote to port 0xf4
//
// (Tests that want a VM without the loader describe one as a vmm::GuestSetup value:
// vmm/testing/guest_setup.h, test-only.)
//
// How a run ends (shared/cli-contract.md, "run"):
//   * a byte V written to I/O port 0xf4                         -> exit_status V
//   * 0xFE written to port 0x64 (i8042 reset line)              -> 0
//   * every vCPU halted with interrupts off (or never started)  -> 0
//   * triple fault, an exit the VMM cannot handle, the timeout  -> 125, `cause` says which,
//                                                                  `vcpu` and `rip` say where
// run() returns an Error only when the VM could not be set up or run at all (no /dev/kvm, a
// failing ioctl); a guest that misbehaves is an outcome, not an error.
//
// The machine: RAM at [0, 3 GiB) and, for more than 3 GiB, the rest from 4 GiB up (the 32-bit MMIO
// gap in between); in-kernel PIC, IOAPIC, LAPICs and PIT; a 16550 UART on COM1 (0x3f8, IRQ 4);
// the i8042 reset line; the debug-exit port 0xf4. vCPU 0 starts with `bsp`; the others wait for
// INIT/SIPI from the guest, as on real hardware. See vmm/README.md for what is not emulated.
//
// run() and runMshv() install a do-nothing handler for SIGRTMIN+3, which they use to kick vCPU
// threads out of KVM_RUN / MSHV_RUN_VP; a program that embeds the VMM must leave that signal alone.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/defs.h"
#include "loader/backend.h"
#include "hv/device.h"
#include "loader/plan.h"
#include "x86/vp_state.h"

namespace igvmkit::vmm {

// The boot vCPU's registers are an x86::VpState (x86/vp_state.h): segment attributes in the
// descriptor form, RFLAGS/CR0/XCR0/PAT/FPU words at their reset values unless set. The VMM sets
// the segments, tables, CR0/2/3/4, EFER and GPRs through hv/kvm_regs.h (an all-zero segment keeps
// KVM's reset value, useful for TR and LDTR, which the IGVM native context does not carry), FCW
// and MXCSR, XCR0 when it is not 1, PAT and `msrs`; DR6/DR7 stay at KVM's reset values.

inline constexpr int kFailureStatus = 125;  // triple fault, unhandled exit, timeout

// Receives the guest's COM1 output as it is written (called with the device lock held, from a
// vCPU thread; must not call back into the VMM).
using SerialSink = std::function<void(std::string_view bytes)>;
SerialSink serialToFd(int fd);                 // write(2) to fd, retrying short writes
SerialSink serialToString(std::string& out);   // appends (the string must outlive the run)
SerialSink serialToStream(std::ostream& out);  // writes and flushes (must outlive the run)

struct RunConfig {
  std::chrono::milliseconds timeout{0};  // 0 = no limit
  SerialSink serial;                     // empty = discard
  // Interactive input: bytes read from this descriptor (checked every 10 ms) reach the guest
  // through COM1's receive side. -1 = none. The VMM neither closes it nor changes its mode.
  int serial_input_fd = -1;
  // The system-call layer (hv/device.h, the one the loader's backends use); nullptr = the real
  // one. Tests pass a fake to run without /dev/kvm or /dev/mshv. For a VM the loader built, it
  // must be the device that built it (the fds are that device's).
  hv::Device* device = nullptr;
  // How often the VMM checks whether every vCPU has halted with interrupts off.
  std::chrono::milliseconds halt_poll{20};
  // Hide CPU features whose instructions KVM's instruction emulator cannot execute: CPUID leaf 1
  // ECX.CX16 (CMPXCHG16B). Only matters on a host that emulates the guest's kernel code instead
  // of running it (kvm-pvm, vmm/README.md "Linux on this host"), where Linux otherwise stops at
  // its first CMPXCHG16B. kAuto: on when the kvm_pvm module is loaded (/sys/module/kvm_pvm).
  enum class EmulatorSafeCpuid { kAuto, kOn, kOff };
  EmulatorSafeCpuid emulator_safe_cpuid = EmulatorSafeCpuid::kAuto;
};

// True when /sys/module/kvm_pvm exists: the host's KVM runs guests on kvm-pvm, which emulates
// guest kernel code instruction by instruction.
bool hostEmulatesGuestKernel();

// What the devices saw that a careful guest should not do; all of it was ignored.
struct RunStats {
  uint64_t unhandled_pio = 0;  // accesses to ports with no device (reads return 0xff)
  uint64_t unmapped_mmio = 0;  // accesses outside RAM with no device (reads return all ones)
  uint64_t wrong_width = 0;    // accesses of the wrong size to a device register
  uint64_t serial_bytes = 0;   // bytes the guest wrote to COM1
};

struct RunOutcome {
  int exit_status = 0;  // the guest's status (0..255), or kFailureStatus
  // What ended the run, one line: "debug exit port 0xf4", "i8042 reset", "halt",
  // "triple fault on vcpu 0 at rip 0x100004", "timeout", "unhandled exit ...".
  std::string cause;
  uint64_t rip = 0;   // the ending vCPU's RIP (for an I/O exit: the instruction after the OUT)
  unsigned vcpu = 0;  // the vCPU that ended the run (0 for timeout)
  RunStats stats;
};

// Runs a VM the loader's plain `kvm` backend created and loaded (loader::launch() done, the plan
// without SetVpState ops): `vm` supplies the VM fd, the vCPU fds and guest memory, which stay
// owned by the backend. The VMM adds what the loader does not do: the PIT, per-vCPU CPUID, MSRs,
// LAPIC, the BSP's registers (`bsp`), APs waiting for SIPI, the devices, the vCPU threads, exit
// handling and the timeout. The devices are torn down and the threads joined before it returns;
// the caller then destroys the backend.
//
//   IGVMKIT_ASSIGN_OR_RETURN(loader::Plan plan, loader::plan(file, BackendKind::kKvm, config));
//   IGVMKIT_ASSIGN_OR_RETURN(x86::VpState bsp, vmm::takeBspState(plan, false));
//   auto backend = loader::makeBackend(loader::BackendKind::kKvm, *device);
//   IGVMKIT_RETURN_IF_ERROR(loader::launch(*backend, plan));
//   IGVMKIT_ASSIGN_OR_RETURN(vmm::RunOutcome outcome, vmm::run(backend->vm(), bsp, run_config));
Result<RunOutcome> run(const loader::LoadedVm& vm, const x86::VpState& bsp,
                       const RunConfig& config);

// Runs a partition the loader's plain `mshv` backend created and loaded on /dev/mshv
// (loader::launch() done with the whole plan: on MSHV the backend itself writes the vCPUs'
// registers from the plan's SetVpState ops, and the hypervisor supplies CPUID, MSRs and the
// LAPICs). `device` is the one the backend used. The VMM adds the devices, one thread per VP
// running MSHV_RUN_VP, intercept handling and the timeout. Port I/O reaches the same COM1, i8042
// and debug-exit devices as on KVM; what MSHV intercepts are emulated is listed in vmm/README.md
// ("MSHV"). COM1's interrupt line is not connected on MSHV (guests poll LSR, as the probe does).
// `config.device` must be the device the backend used (nullptr = the real /dev/mshv).
//
//   IGVMKIT_ASSIGN_OR_RETURN(loader::Plan plan, loader::plan(file, BackendKind::kMshv, config));
//   auto device = hv::systemDevice();
//   auto backend = loader::makeBackend(loader::BackendKind::kMshv, *device);
//   IGVMKIT_RETURN_IF_ERROR(loader::launch(*backend, plan));
//   IGVMKIT_ASSIGN_OR_RETURN(vmm::RunOutcome outcome, vmm::runMshv(backend->vm(), run_config));
Result<RunOutcome> runMshv(const loader::LoadedVm& vm, const RunConfig& config);

enum class Hypervisor { kKvm, kMshv };

// `igvmkit run --hypervisor NAME`: "kvm" or "mshv" as named (an unknown name is a usage error,
// rule "run.hypervisor"; "mshv" without /dev/mshv is one too, rule "run.no_mshv"), or "" for
// whichever of /dev/kvm and /dev/mshv is present (KVM when both are; rule "run.no_hypervisor",
// kUnsupported, when neither is).
Result<Hypervisor> chooseHypervisor(std::string_view name, bool kvm_present, bool mshv_present);

// Removes every SetVpState op from `plan` and returns vCPU 0's state. An SNP VMSA is refused
// (rule "run.snp_vmsa") unless `allow_vmsa`, in which case loader::registersFromVmsa() makes it
// plain registers (the guest then runs without any SNP protection); as before the one VP-state
// type, a VMSA's PAT of 0 keeps the reset PAT and its MXCSR/FCW are not loaded (reset values). A plan without a vCPU 0 state
// is refused (rule "run.no_vp_context").
Result<x86::VpState> takeBspState(loader::Plan& plan, bool allow_vmsa);

}  // namespace igvmkit::vmm
