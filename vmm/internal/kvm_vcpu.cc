// vmm/internal/kvm_vcpu.cc: KvmVcpu (kvm_vcpu.h): KVM_RUN, struct kvm_run exits as Exit values,
// and the halt polls (KVM_GET_MP_STATE).
#include "vmm/internal/kvm_vcpu.h"

#include <algorithm>
#include <cerrno>
#include <span>
#include <string>

namespace igvmkit::vmm {
namespace {

using namespace hv::kvm;  // NOLINT: the ABI names read like the kernel's

constexpr uint64_t kRflagsIf = 1u << 9;

}  // namespace

uint64_t KvmVcpu::rip() {
  kvm_regs regs{};
  if (sys_.ioctl(fd.get(), KVM_GET_REGS, &regs) < 0) {
    return 0;
  }
  return regs.rip;
}

Result<std::optional<Exit>> KvmVcpu::run() {
  // Interruptible: the supervisor's kick must come back as EINTR, not be retried.
  long r = sys_.ioctlInterruptible(fd.get(), KVM_RUN, nullptr);
  if (r == -EINTR || r == -EAGAIN) {
    return std::optional<Exit>();
  }
  if (r < 0) {
    return Error{Code::kInternal, "vmm.kvm_ioctl",
                 "KVM_RUN failed on vcpu " + std::to_string(index_) + ": " +
                     errnoText(static_cast<int>(-r)),
                 std::nullopt};
  }
  bool ok = false;
  Exit e = translate(&ok);
  if (!ok) {
    return std::optional<Exit>();
  }
  return std::optional<Exit>(e);
}

Exit KvmVcpu::translate(bool* ok) {
  kvm_run& run = *run_;
  Exit e;
  e.vcpu = index_;
  *ok = true;
  switch (run.exit_reason) {
    case kExitIo: {
      e.kind = Exit::Kind::kIo;
      e.port = run.io.port;
      e.size = run.io.size;
      e.count = run.io.count;
      e.is_write = run.io.direction == kExitIoOut;
      // The data lives inside the kvm_run mapping; refuse an offset that points outside it.
      uint64_t bytes = static_cast<uint64_t>(run.io.size) * run.io.count;
      if (run.io.data_offset > run_size_ || bytes > run_size_ - run.io.data_offset) {
        e.kind = Exit::Kind::kOther;
        e.detail = kExitIo;
        break;
      }
      e.data = std::span<uint8_t>(run_map.data() + run.io.data_offset, bytes);
      return e;
    }
    case kExitMmio:
      e.kind = Exit::Kind::kMmio;
      e.address = run.mmio.phys_addr;
      e.is_write = run.mmio.is_write != 0;
      e.data = std::span<uint8_t>(run.mmio.data, std::min<uint32_t>(run.mmio.len, 8));
      return e;
    case kExitIntr:
      *ok = false;  // nothing happened; just run again
      return e;
    case kExitHlt:
      e.kind = Exit::Kind::kHlt;
      break;
    case kExitShutdown:
      e.kind = Exit::Kind::kShutdown;
      break;
    case kExitSystemEvent:
      e.kind = Exit::Kind::kSystemEvent;
      e.detail = run.system_event.type;
      break;
    case kExitFailEntry:
      e.kind = Exit::Kind::kFailEntry;
      e.detail = run.fail_entry.hardware_entry_failure_reason;
      break;
    case kExitInternalError:
      e.kind = Exit::Kind::kInternalError;
      e.detail = run.internal.suberror;
      break;
    default:
      e.kind = Exit::Kind::kOther;
      e.detail = run.exit_reason;
      break;
  }
  // Everything but I/O may end the run and must say where the vCPU was.
  kvm_regs regs{};
  if (sys_.ioctl(fd.get(), KVM_GET_REGS, &regs) >= 0) {
    e.rip = regs.rip;
    e.interrupts_enabled = (regs.rflags & kRflagsIf) != 0;
  }
  return e;
}

Exit KvmVcpu::pollState() {
  Exit e;
  e.vcpu = index_;
  kvm_mp_state mp{};
  if (sys_.ioctl(fd.get(), KVM_GET_MP_STATE, &mp) >= 0) {
    switch (mp.mp_state) {
      case kMpStateHalted: {
        e.kind = Exit::Kind::kHlt;
        kvm_regs regs{};
        if (sys_.ioctl(fd.get(), KVM_GET_REGS, &regs) >= 0) {
          e.rip = regs.rip;
          e.interrupts_enabled = (regs.rflags & kRflagsIf) != 0;
        } else {
          e.interrupts_enabled = true;  // unknown: assume it may still wake up
        }
        break;
      }
      case kMpStateUninitialized:
      case kMpStateInitReceived:
        e.kind = Exit::Kind::kWaitForSipi;
        break;
      default:
        e.kind = Exit::Kind::kRunning;
        break;
    }
  } else {
    e.kind = Exit::Kind::kRunning;
  }
  return e;
}

}  // namespace igvmkit::vmm
