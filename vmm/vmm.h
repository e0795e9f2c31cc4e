// vmm/vmm.h: a minimal KVM (and MSHV) virtual machine monitor that runs an already-loaded x86-64
// guest. KVM and MSHV share one vCPU-run loop and the same devices; runMshv() below is the MSHV
// entry point.
//
// The caller (the loader's `kvm` backend, or a test) describes the machine as a value: how much
// RAM, which bytes go where, the boot vCPU's registers, and how many vCPUs. run() creates the VM,
// runs it until the guest ends it, tears everything down and reports how it ended:
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
// How a run ends (shared/cli-contract.md, "run"):
//   * a byte V written to I/O port 0xf4                         -> exit_status V
//   * 0xFE written to port 0x64 (i8042 reset line)              -> 0
//   * every vCPU halted with interrupts off (or never started)  -> 0
//   * triple fault, an exit the VMM cannot handle, the timeout  -> 125, `cause` says which,
//                                                                  `vcpu` and `rip` say where
// run() returns an Error only when the VM could not be built or run at all (no /dev/kvm, a load
// outside RAM, a failing ioctl); a guest that misbehaves is an outcome, not an error.
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

namespace igvmkit::vmm {

// One segment register as the CPU caches it. `attributes` is the 16-bit descriptor form used by
// the IGVM native context (igvm-format.md §5.4) and the SEV VMSA: bits 3:0 type, 4 S, 6:5 DPL,
// 7 P, 12 AVL, 13 L, 14 D/B, 15 G (bits 11:8 unused). `limit` is the byte-granular limit the CPU
// uses (0xffffffff for a flat 4 GiB segment), not the raw 20-bit descriptor field.
// A segment that is all zero keeps KVM's architectural reset value (useful for TR and LDTR, which
// the IGVM native context does not carry).
struct Segment {
  uint64_t base = 0;
  uint32_t limit = 0;
  uint16_t selector = 0;
  uint16_t attributes = 0;
  bool operator==(const Segment&) const = default;
};

// GDTR or IDTR.
struct TableRegister {
  uint64_t base = 0;
  uint16_t limit = 0;
  bool operator==(const TableRegister&) const = default;
};

// A model-specific register to set before the vCPU first runs.
struct Msr {
  uint32_t index = 0;
  uint64_t value = 0;
  bool operator==(const Msr&) const = default;
};

// The boot vCPU's registers. Field names and order follow IgvmNativeVpContextX64 (igvm-format.md
// §5.4) so the IGVM front end maps them 1:1: its code_* fields go to `cs`, its data_* fields to
// ds/es/fs/gs/ss, gs_base to gs.base. Registers the context does not name keep the values below
// (the x86 reset values, or what Linux's 64-bit boot protocol expects).
struct VpState {
  uint64_t rax = 0, rcx = 0, rdx = 0, rbx = 0, rsp = 0, rbp = 0, rsi = 0, rdi = 0;
  uint64_t r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
  uint64_t rip = 0;
  uint64_t rflags = 0x2;  // bit 1 is reserved and always set
  TableRegister idtr;
  TableRegister gdtr;
  Segment cs, ds, es, fs, gs, ss, tr, ldtr;
  uint64_t cr0 = 0x60000010;  // reset value: CD | NW | ET
  uint64_t cr2 = 0;
  uint64_t cr3 = 0;
  uint64_t cr4 = 0;
  uint64_t efer = 0;
  uint64_t xcr0 = 0x1;  // x87 only; set 0x3 (or more) for a guest that uses SSE/AVX via XSAVE
  uint64_t pat = 0x0007040600070406;  // IA32_PAT reset value
  std::vector<Msr> msrs;              // any further MSRs, applied after the VMM's defaults
  bool operator==(const VpState&) const = default;
};

// Bytes to copy into guest RAM before the first instruction runs.
struct Load {
  uint64_t gpa = 0;
  ByteVector data;
  bool operator==(const Load&) const = default;
};

struct GuestSetup {
  uint64_t memory_bytes = 0;  // RAM size; a multiple of 4 KiB, at least 1 MiB
  std::vector<Load> loads;    // each must lie inside RAM; later loads overwrite earlier ones
  VpState bsp;                // vCPU 0
  unsigned vcpus = 1;         // 1..igvm::kMaxVcpus; vCPU i gets APIC ID i
};

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

// Builds the VM described by `setup`, runs it to its end, and tears it down (threads joined,
// memory unmapped, descriptors closed) on every path.
Result<RunOutcome> run(const GuestSetup& setup, const RunConfig& config);

// Runs a VM the loader's plain `kvm` backend created and loaded (loader::launch() done, the plan
// without SetVpState ops): `vm` supplies the VM fd, the vCPU fds and guest memory, which stay
// owned by the backend. The VMM adds what the loader does not do: the PIT, per-vCPU CPUID, MSRs,
// LAPIC, the BSP's registers (`bsp`), APs waiting for SIPI, the devices, the vCPU threads, exit
// handling and the timeout. The devices are torn down and the threads joined before it returns;
// the caller then destroys the backend.
//
//   IGVMKIT_ASSIGN_OR_RETURN(loader::Plan plan, loader::plan(file, BackendKind::kKvm, config));
//   IGVMKIT_ASSIGN_OR_RETURN(vmm::VpState bsp, vmm::takeBspState(plan, false));
//   auto backend = loader::makeBackend(loader::BackendKind::kKvm, *device);
//   IGVMKIT_RETURN_IF_ERROR(loader::launch(*backend, plan));
//   IGVMKIT_ASSIGN_OR_RETURN(vmm::RunOutcome outcome, vmm::run(backend->vm(), bsp, run_config));
Result<RunOutcome> run(const loader::LoadedVm& vm, const VpState& bsp, const RunConfig& config);

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

// The plan's state as the VMM's VpState.
VpState vpStateFromRegisters(const x86::VpState& regs);

// Removes every SetVpState op from `plan` and returns vCPU 0's state as VpState. An SNP VMSA is
// refused (rule "run.snp_vmsa") unless `allow_vmsa`, in which case its fields are translated to
// plain registers (the guest then runs without any SNP protection). A plan without a vCPU 0 state
// is refused (rule "run.no_vp_context").
Result<VpState> takeBspState(loader::Plan& plan, bool allow_vmsa);

}  // namespace igvmkit::vmm
