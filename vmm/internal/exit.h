// vmm/internal/exit.h: what a vCPU exit means, decided by one pure function.
//
// The vCPU loop turns each KVM exit (or a polled vCPU state) into an Exit value and asks
// handleExit() what to do; handleExit() touches only the Devices it is given, never KVM, so every
// rule is tested from a table without /dev/kvm (vmm/exit_test.cc):
//
//   Exit e = Exit::io(0, 0xf4, /*is_write=*/true, data);   // the guest wrote data[0] to port 0xf4
//   Action a = handleExit(e, devices);                    // a.kind == kStop, a.status == data[0]
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vmm/internal/debug_exit.h"
#include "vmm/internal/i8042.h"
#include "vmm/internal/pio_bus.h"
#include "vmm/internal/serial.h"
#include "vmm/internal/stop.h"
#include "vmm/vmm.h"

namespace igvmkit::vmm {

// What the VMM last knew about a vCPU.
enum class VcpuState {
  kRunning,     // executing, or halted with interrupts on (an interrupt will wake it)
  kHalted,      // halted with interrupts off: done, unless another vCPU sends it INIT or NMI
  kWaitForSipi  // an AP that was never started (or was sent INIT and waits for SIPI)
};

// Every device of the machine and the run's shared bookkeeping. Not copyable (devices keep
// references into it); one instance per run, guarded by the VMM's device lock.
struct Devices {
  // `irq4(level)` drives COM1's interrupt line; vCPU 0 starts kRunning, the others kWaitForSipi.
  Devices(SerialSink serial, std::function<void(bool)> irq4, unsigned vcpus);
  Devices(const Devices&) = delete;
  Devices& operator=(const Devices&) = delete;

  RunStats stats;
  std::optional<StopRequest> stop;  // set by a device that ends the run
  Serial com1;
  I8042 i8042;
  DebugExit debug_exit;
  PioBus bus;
  std::vector<VcpuState> vcpus;
};

struct Exit {
  enum class Kind {
    kIo,             // port I/O: port, is_write, size, data (size * count bytes)
    kMmio,           // an access outside RAM that no in-kernel device claimed: address, data
    kHlt,            // the vCPU halted (or was found halted): interrupts_enabled
    kRunning,        // the vCPU was found running (a state poll)
    kWaitForSipi,    // the vCPU was found waiting for SIPI (a state poll)
    kShutdown,       // triple fault (KVM_EXIT_SHUTDOWN)
    kSystemEvent,    // KVM_EXIT_SYSTEM_EVENT: detail = event type (1 shutdown, 2 reset, 3 crash)
    kFailEntry,      // KVM_EXIT_FAIL_ENTRY: detail = hardware entry failure reason
    kInternalError,  // KVM_EXIT_INTERNAL_ERROR: detail = suberror
    kOther,          // anything else: detail = the KVM exit reason, or `reason`
  };
  Kind kind = Kind::kOther;
  unsigned vcpu = 0;
  uint64_t rip = 0;  // filled for the kinds that may end the run abnormally
  // kIo
  uint16_t port = 0;
  uint8_t size = 0;    // access width in bytes: 1, 2 or 4
  uint32_t count = 1;  // repetitions (string I/O); data holds size * count bytes
  // kIo and kMmio
  bool is_write = false;
  uint64_t address = 0;
  std::span<uint8_t> data;  // written data, or where read data goes (the caller's kvm_run page)
  // kHlt
  bool interrupts_enabled = false;
  // kSystemEvent, kFailEntry, kInternalError, kOther
  uint64_t detail = 0;
  // kOther: what happened, when the hypervisor is not KVM (e.g. "mshv intercept message
  // 0x80010001 (msr intercept) is not handled"); empty = a KVM exit reason in `detail`.
  std::string reason;
};

struct Action {
  enum class Kind { kContinue, kStop };
  Kind kind = Kind::kContinue;
  int status = 0;     // for kStop
  std::string cause;  // for kStop
};

// The one place that decides what an exit does (see the kinds above and vmm.h for the outcomes).
Action handleExit(const Exit& exit, Devices& devices);

}  // namespace igvmkit::vmm
