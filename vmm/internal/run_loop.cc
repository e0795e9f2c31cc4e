// One thread per vCPU and a supervisor (the caller's thread) that enforces the timeout, feeds serial
// input and notices when every vCPU has halted.
//
// Stopping a vCPU: the supervisor calls requestExit() (KVM: kvm_run.immediate_exit) and sends the
// vCPU thread a signal whose handler does nothing. A thread inside the run ioctl returns with
// EINTR; on KVM one about to enter it returns at once because of immediate_exit. The thread clears
// the request before it looks at its requests, so no request is lost between the two. MSHV has no
// immediate_exit, so a signal that lands just before MSHV_RUN_VP is entered is lost: teardown
// therefore kicks again every few milliseconds until every thread has left.
//
// Noticing halts: with KVM's in-kernel LAPIC, HLT never leaves the kernel. Every `halt_poll` the
// supervisor asks each vCPU thread for its state (runner.pollState()) and feeds it to handleExit().
// When two rounds in a row find no vCPU running, the run ends (status 0). Runners that cannot poll
// (MSHV) report halts as exits instead.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "vmm/internal/vcpu_runner.h"

namespace igvmkit::vmm {
namespace {

void ignoreKick(int) {}

void installKickHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = ignoreKick;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: the run ioctl must come back with EINTR
    sigaction(kickSignal(), &sa, nullptr);
  });
}

}  // namespace

int kickSignal() { return SIGRTMIN + 3; }

RunLoop::RunLoop(std::vector<VcpuRunner*> vcpus, Devices& devices, std::mutex& device_mutex,
                 const RunConfig& config)
    : devices_(devices), device_mutex_(device_mutex), config_(config) {
  for (VcpuRunner* r : vcpus) {
    auto t = std::make_unique<Thread>();
    t->runner = r;
    can_poll_ = can_poll_ && r->canPoll();
    threads_.push_back(std::move(t));
  }
}

RunLoop::~RunLoop() { stopThreads(); }

void RunLoop::kick(Thread& t) {
  t.runner->requestExit();
  if (t.thread.joinable()) {
    pthread_kill(t.thread.native_handle(), kickSignal());
  }
}

void RunLoop::finish(int status, std::string cause, unsigned vcpu, uint64_t rip) {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (!outcome_) {
    outcome_ = RunOutcome{status, std::move(cause), rip, vcpu, {}};
  }
  state_cv_.notify_all();
}

void RunLoop::pollState(Thread& t) {
  Exit e = t.runner->pollState();
  {
    // The verdict on a polled halt is the supervisor's (two quiet rounds); here it only records
    // the state, so the returned action is not acted on.
    std::lock_guard<std::mutex> lock(device_mutex_);
    (void)handleExit(e, devices_);
  }
  std::lock_guard<std::mutex> lock(state_mutex_);
  t.polled_round.store(round_);
  state_cv_.notify_all();
}

void RunLoop::vcpuLoop(Thread& t) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kickSignal());
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  VcpuRunner& v = *t.runner;
  while (true) {
    v.clearExitRequest();  // before looking at requests: see the comment at the top
    if (stop_.load()) {
      return;
    }
    if (t.poll_request.exchange(false)) {
      pollState(t);
      continue;
    }
    Result<std::optional<Exit>> r = v.run();
    if (!r.ok()) {
      finish(kFailureStatus, r.error().message, v.index(), v.rip());
      return;
    }
    if (!r->has_value()) {
      continue;
    }
    const Exit& e = **r;
    Action action;
    {
      std::lock_guard<std::mutex> lock(device_mutex_);
      if (!can_poll_ && e.kind != Exit::Kind::kHlt) {
        // Without state polls, an exit is how we learn that a vCPU (an AP the guest started) runs.
        Exit running;
        running.kind = Exit::Kind::kRunning;
        running.vcpu = e.vcpu;
        (void)handleExit(running, devices_);
      }
      action = handleExit(e, devices_);
    }
    if (action.kind == Action::Kind::kStop) {
      finish(action.status, action.cause, v.index(), e.rip != 0 ? e.rip : v.rip());
      return;
    }
    if (Status s = v.complete(e); !s.ok()) {
      finish(kFailureStatus, s.error().message, v.index(), e.rip != 0 ? e.rip : v.rip());
      return;
    }
  }
}

// One poll round: every vCPU reports its state. True when no vCPU was found running.
bool RunLoop::pollRound() {
  uint64_t round;
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    round = ++round_;
  }
  for (auto& t : threads_) {
    t->poll_request.store(true);
    kick(*t);
  }
  std::unique_lock<std::mutex> lock(state_mutex_);
  bool all = state_cv_.wait_for(lock, std::chrono::seconds(1), [&] {
    return outcome_.has_value() || std::all_of(threads_.begin(), threads_.end(), [&](auto& t) {
             return t->polled_round.load() >= round;
           });
  });
  if (!all || outcome_) {
    return false;
  }
  lock.unlock();
  std::lock_guard<std::mutex> dlock(device_mutex_);
  return std::none_of(devices_.vcpus.begin(), devices_.vcpus.end(),
                      [](VcpuState s) { return s == VcpuState::kRunning; });
}

// Moves whatever host input is ready into the UART's receive buffer (never blocks).
void RunLoop::pumpInput() {
  if (input_fd_ >= 0 && input_backlog_.size() < 4096) {
    pollfd p{input_fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {
      char buf[512];
      ssize_t n = ::read(input_fd_, buf, sizeof(buf));
      if (n > 0) {
        input_backlog_.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        input_fd_ = -1;  // end of input: the guest just sees no more bytes
      }
    }
  }
  if (!input_backlog_.empty()) {
    std::lock_guard<std::mutex> lock(device_mutex_);
    input_backlog_.erase(0, devices_.com1.receive(input_backlog_));
  }
}

void RunLoop::stopThreads() {
  // stop_ is set before the exit request, and a vCPU thread clears the request before it reads
  // stop_, so on KVM one kick is enough. Kicks repeat until every thread has left, for MSHV.
  stop_.store(true);
  while (std::any_of(threads_.begin(), threads_.end(),
                     [](auto& t) { return t->thread.joinable() && !t->done.load(); })) {
    for (auto& t : threads_) {
      if (t->thread.joinable() && !t->done.load()) {
        kick(*t);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (auto& t : threads_) {
    if (t->thread.joinable()) {
      t->thread.join();
    }
  }
}

RunOutcome RunLoop::run() {
  installKickHandler();
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const bool has_deadline = config_.timeout.count() > 0;
  const auto deadline = start + config_.timeout;
  const auto halt_poll = std::max(config_.halt_poll, std::chrono::milliseconds(1));
  input_fd_ = config_.serial_input_fd;
  const auto tick = input_fd_ >= 0 ? std::min(halt_poll, std::chrono::milliseconds(10)) : halt_poll;
  auto next_halt_poll = start + halt_poll;
  for (auto& t : threads_) {
    Thread* raw = t.get();
    t->thread = std::thread([this, raw] {
      vcpuLoop(*raw);
      raw->done.store(true);
    });
  }
  int quiet_rounds = 0;
  bool timed_out = false;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(state_mutex_);
      auto until = Clock::now() + tick;
      if (has_deadline && deadline < until) {
        until = deadline;
      }
      state_cv_.wait_until(lock, until, [&] { return outcome_.has_value(); });
      if (outcome_) {
        break;
      }
    }
    if (has_deadline && Clock::now() >= deadline) {
      timed_out = true;
      break;
    }
    pumpInput();
    if (!can_poll_ || Clock::now() < next_halt_poll) {
      continue;
    }
    next_halt_poll = Clock::now() + halt_poll;
    quiet_rounds = pollRound() ? quiet_rounds + 1 : 0;
    if (quiet_rounds >= 2) {
      break;  // every vCPU halted with interrupts off (or never started), twice in a row
    }
  }
  stopThreads();
  RunOutcome out;
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    if (outcome_) {
      out = *outcome_;
    } else {
      out.exit_status = timed_out ? kFailureStatus : 0;
      out.cause = timed_out ? "timeout" : "halt";
      out.vcpu = 0;
      out.rip = threads_.empty() ? 0 : threads_[0]->runner->rip();
    }
  }
  std::lock_guard<std::mutex> lock(device_mutex_);
  out.stats = devices_.stats;
  return out;
}

}  // namespace igvmkit::vmm
