// vmm/internal/mshv_vcpu.h: the MSHV side of the vCPU-run seam (vcpu_runner.h).
//
// MSHV_RUN_VP (upstream and downstream /dev/mshv alike) runs a VP until the hypervisor delivers an
// intercept message, copied into a 256-byte hv_message (loader-vmm.md §2.2). decodeMshvMessage()
// turns that message into an Exit without touching the hypervisor, so every rule is tested from
// recorded messages; MshvVcpu::complete() then steps past the instruction through
// MSHV_ROOT_HVCALL(SET_VP_REGISTERS) (RIP += the intercept's instruction length; RAX for IN).
//
// What is emulated, and what is not:
//   * HVMSG_X64_IO_PORT_INTERCEPT, IN and OUT of 1, 2 or 4 bytes: routed to the port bus (COM1,
//     i8042, debug exit 0xf4). OUT data is the low bytes of the message's RAX; IN replaces AL/AX
//     (bits above kept) or EAX (zero-extended into RAX, as the CPU does for 32-bit results).
//   * String I/O (INS/OUTS, REP) is not emulated (it needs guest page-table walks): the run ends
//     with status 125 naming the port.
//   * HVMSG_UNMAPPED_GPA / HVMSG_GPA_INTERCEPT (MMIO outside RAM): counted as unmapped MMIO, then
//     the run ends with status 125 naming the GPA and direction. There is no instruction emulator,
//     so neither the data of a write nor the destination register of a read is known; an
//     instruction fetch from unmapped memory also ends the run.
//   * HVMSG_X64_HALT: a halt, with RFLAGS.IF from the message (the run ends when no vCPU runs).
//   * HVMSG_UNRECOVERABLE_EXCEPTION: a triple fault (status 125).
//   * Anything else (MSR, CPUID, exception intercepts, invalid register values, ...): status 125
//     naming the message type.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "base/status.h"
#include "hv/device.h"
#include "hv/mshv_abi.h"
#include "vmm/internal/vcpu_runner.h"

namespace igvmkit::vmm {

// One intercept message, decoded.
struct MshvIntercept {
  Exit exit;                       // for handleExit(); exit.data points into the caller's io_data
  uint64_t rip = 0;                // RIP of the intercepted instruction
  uint8_t instruction_length = 0;  // from the intercept header (I/O intercepts carry it)
  uint64_t rax = 0;                // RAX at the intercept (I/O intercepts)
  bool ignore = false;             // HVMSG_NONE: nothing happened, run again
};

// Decodes `msg` for VP `vp_index`; `io_data` receives OUT data and is where IN data goes. Never
// fails: a message it cannot use becomes an Exit of kind kOther with a reason.
MshvIntercept decodeMshvMessage(const hv::mshv::hv_message& msg, unsigned vp_index,
                                std::span<uint8_t, 4> io_data);

// RAX after an IN that read `data` (1, 2 or 4 bytes) into AL, AX or EAX.
uint64_t raxAfterIn(uint64_t rax, std::span<const uint8_t> data);

class MshvVcpu final : public VcpuRunner {
 public:
  // `partition_fd` and `vp_fd` stay owned by the caller (the loader's mshv backend).
  MshvVcpu(hv::Device& device, int partition_fd, int vp_fd, unsigned index)
      : device_(device), partition_fd_(partition_fd), vp_fd_(vp_fd), index_(index) {}

  unsigned index() const override { return index_; }
  Result<std::optional<Exit>> run() override;
  Status complete(const Exit& exit) override;
  uint64_t rip() override;
  bool canPoll() const override { return false; }
  Exit pollState() override;
  void requestExit() override {}  // MSHV has no immediate_exit: RunLoop kicks until it leaves
  void clearExitRequest() override {}

 private:
  Status setRegisters(std::span<const std::pair<uint32_t, uint64_t>> regs);

  hv::Device& device_;
  int partition_fd_;
  int vp_fd_;
  unsigned index_;
  hv::mshv::hv_message message_{};
  MshvIntercept last_;
  uint8_t io_data_[4] = {};
};

}  // namespace igvmkit::vmm
