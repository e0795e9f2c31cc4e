// vmm/internal/vcpu_runner.h: the one seam between the run loop and a hypervisor. A VcpuRunner runs
// one vCPU until the next event and turns what the hypervisor reported into an Exit (port I/O with
// data, width and direction; MMIO; halt; shutdown / triple fault; anything else); RunLoop runs one
// thread per vCPU, hands each Exit to handleExit() and the devices, and ends the run.
//
//   KvmVcpu (vmm.cc): KVM_RUN and struct kvm_run.
//   MshvVcpu (mshv_vcpu.h): MSHV_RUN_VP and the hv_message intercepts.
//
//   std::vector<VcpuRunner*> vcpus = ...;           // one per vCPU, index i at position i
//   Devices devices(config.serial, irq4, vcpus.size());
//   RunOutcome outcome = RunLoop(vcpus, devices, config).run();
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "vmm/internal/exit.h"
#include "vmm/vmm.h"

namespace igvmkit::vmm {

class VcpuRunner {
 public:
  virtual ~VcpuRunner() = default;

  virtual unsigned index() const = 0;

  // Runs the vCPU until the next event. An Exit when there is something to handle (its `data`
  // points into storage the runner owns, valid until the next run()); nullopt when the run was
  // interrupted (a kick, a signal) with nothing to handle; an Error when the run call failed (the
  // message names the call and the errno).
  virtual Result<std::optional<Exit>> run() = 0;

  // After handleExit() decided to go on: hands read data to the vCPU and steps past the
  // instruction, where the hypervisor does not do that itself. An Error ends the run with
  // kFailureStatus and the error's message as the cause (e.g. MMIO that cannot be emulated).
  virtual Status complete(const Exit& exit) = 0;

  // The vCPU's RIP, or 0 when it cannot be read.
  virtual uint64_t rip() = 0;

  // Whether pollState() can tell a halted vCPU from a running one. When it cannot, halts are only
  // seen as exits, and a vCPU counts as running from its first exit on.
  virtual bool canPoll() const = 0;
  // The vCPU's state as a kRunning, kHlt or kWaitForSipi Exit (called on the vCPU's own thread).
  virtual Exit pollState() = 0;

  // Called by the supervisor before it signals the vCPU's thread: makes a run() that is about to
  // start return at once, where the hypervisor offers that (KVM's immediate_exit).
  virtual void requestExit() = 0;
  // Called by the vCPU's thread before it looks at its requests.
  virtual void clearExitRequest() = 0;
};

// The vCPU threads and the supervisor (the caller's thread) of one run: the timeout, serial input,
// halt polls, and teardown (every thread joined before run() returns).
class RunLoop {
 public:
  RunLoop(std::vector<VcpuRunner*> vcpus, Devices& devices, std::mutex& device_mutex,
          const RunConfig& config);
  ~RunLoop();
  RunLoop(const RunLoop&) = delete;
  RunLoop& operator=(const RunLoop&) = delete;

  RunOutcome run();

 private:
  struct Thread {
    VcpuRunner* runner = nullptr;
    std::thread thread;
    std::atomic<bool> poll_request{false};
    std::atomic<uint64_t> polled_round{0};
    std::atomic<bool> done{false};
  };

  void vcpuLoop(Thread& t);
  void pollState(Thread& t);
  void kick(Thread& t);
  void finish(int status, std::string cause, unsigned vcpu, uint64_t rip);
  bool pollRound();
  void pumpInput();
  void stopThreads();

  std::vector<std::unique_ptr<Thread>> threads_;
  Devices& devices_;
  std::mutex& device_mutex_;  // guards devices_
  const RunConfig& config_;
  bool can_poll_ = true;

  std::mutex state_mutex_;  // guards outcome_ and the poll rounds
  std::condition_variable state_cv_;
  std::optional<RunOutcome> outcome_;
  std::atomic<bool> stop_{false};
  uint64_t round_ = 0;
  int input_fd_ = -1;          // -1 once the input reached its end
  std::string input_backlog_;  // read from the host but not yet taken by the UART
};

// The signal the supervisor uses to kick vCPU threads out of KVM_RUN / MSHV_RUN_VP.
int kickSignal();

}  // namespace igvmkit::vmm
