#include "vmm/internal/exit.h"

#include <algorithm>
#include <utility>

#include "base/bytes.h"
#include "vmm/internal/layout.h"

namespace igvmkit::vmm {
namespace {

Action stop(int status, std::string cause) {
  return Action{Action::Kind::kStop, status, std::move(cause)};
}
Action proceed() { return Action{}; }

// Where x86 starts after reset (CS base 0xffff0000 + IP 0xfff0).
constexpr uint64_t kResetVectorRip = 0xfff0;

std::string where(const Exit& e) {
  return "on vcpu " + std::to_string(e.vcpu) + " at rip " + hex(e.rip);
}

Action handleIo(const Exit& e, Devices& d) {
  // Bad exit data from a fake or a future kernel must not make us read past the buffer.
  if ((e.size != 1 && e.size != 2 && e.size != 4) ||
      static_cast<uint64_t>(e.size) * e.count > e.data.size()) {
    return stop(kFailureStatus, "malformed i/o exit " + where(e));
  }
  for (uint32_t i = 0; i < e.count; ++i) {
    std::span<uint8_t> item = e.data.subspan(static_cast<size_t>(i) * e.size, e.size);
    bool claimed = e.is_write ? d.bus.write(e.port, item) : d.bus.read(e.port, item);
    if (!claimed) {
      ++d.stats.unhandled_pio;  // unknown ports: writes ignored, reads all ones
    }
    if (d.stop) {
      return stop(d.stop->status, d.stop->cause);
    }
  }
  return proceed();
}

Action handleHalt(const Exit& e, Devices& d) {
  if (e.vcpu >= d.vcpus.size()) {
    return stop(kFailureStatus, "exit from unknown vcpu " + std::to_string(e.vcpu));
  }
  d.vcpus[e.vcpu] = e.interrupts_enabled ? VcpuState::kRunning : VcpuState::kHalted;
  bool any_running = std::any_of(d.vcpus.begin(), d.vcpus.end(),
                                 [](VcpuState s) { return s == VcpuState::kRunning; });
  // HLT with interrupts off can only be left by INIT, NMI or SMI; when no vCPU runs to send one,
  // the machine is finished: a clean end (cli-contract.md "run").
  if (!any_running) {
    return stop(0, "halt");
  }
  return proceed();
}

Action setState(const Exit& e, Devices& d, VcpuState state) {
  if (e.vcpu >= d.vcpus.size()) {
    return stop(kFailureStatus, "exit from unknown vcpu " + std::to_string(e.vcpu));
  }
  d.vcpus[e.vcpu] = state;
  return proceed();
}

}  // namespace

Devices::Devices(SerialSink serial, std::function<void(bool)> irq4, unsigned vcpu_count)
    : com1(std::move(serial), std::move(irq4), stats),
      i8042(stop, stats),
      debug_exit(stop, stats),
      vcpus(vcpu_count, VcpuState::kWaitForSipi) {
  if (!vcpus.empty()) {
    vcpus[0] = VcpuState::kRunning;
  }
  // Fixed, disjoint ranges: inserting them cannot fail.
  (void)bus.insert(layout::kCom1Base, layout::kCom1Size, com1);
  (void)bus.insert(layout::kI8042Base, layout::kI8042Size, i8042);
  (void)bus.insert(layout::kDebugExitPort, 1, debug_exit);
}

Action handleExit(const Exit& e, Devices& d) {
  switch (e.kind) {
    case Exit::Kind::kIo:
      return handleIo(e, d);
    case Exit::Kind::kMmio:
      // Nothing lives outside RAM but the in-kernel LAPIC/IOAPIC: reads float high, writes vanish.
      ++d.stats.unmapped_mmio;
      if (!e.is_write) {
        std::fill(e.data.begin(), e.data.end(), uint8_t{0xFF});
      }
      return proceed();
    case Exit::Kind::kHlt:
      return handleHalt(e, d);
    case Exit::Kind::kRunning:
      return setState(e, d, VcpuState::kRunning);
    case Exit::Kind::kWaitForSipi:
      return setState(e, d, VcpuState::kWaitForSipi);
    case Exit::Kind::kShutdown:
      // KVM on AMD re-initialises a vCPU on a shutdown intercept before it returns to us (Linux
      // arch/x86/kvm/svm/svm.c, shutdown_interception: "VMCB is undefined after a SHUTDOWN
      // intercept"), so the faulting rip is gone and the reset vector is all we can read.
      if (e.rip == kResetVectorRip) {
        return stop(kFailureStatus, "triple fault " + where(e) +
                                        " (the reset vector: KVM on AMD resets a vCPU that shuts "
                                        "down, the faulting rip is lost)");
      }
      return stop(kFailureStatus, "triple fault " + where(e));
    case Exit::Kind::kSystemEvent:
      if (e.detail == 1 || e.detail == 2) {  // KVM_SYSTEM_EVENT_SHUTDOWN / _RESET
        return stop(0, e.detail == 1 ? "system shutdown" : "system reset");
      }
      return stop(kFailureStatus, "system event " + hex(e.detail) + " " + where(e));
    case Exit::Kind::kFailEntry:
      return stop(kFailureStatus,
                  "vm entry failed (hardware reason " + hex(e.detail) + ") " + where(e));
    case Exit::Kind::kInternalError:
      return stop(kFailureStatus,
                  "kvm internal error (suberror " + hex(e.detail) + ") " + where(e));
    case Exit::Kind::kOther:
      if (!e.reason.empty()) {
        return stop(kFailureStatus, e.reason + " " + where(e));
      }
      return stop(kFailureStatus,
                  "unhandled exit (kvm exit reason " + std::to_string(e.detail) + ") " + where(e));
  }
  return stop(kFailureStatus, "unhandled exit " + where(e));
}

}  // namespace igvmkit::vmm
