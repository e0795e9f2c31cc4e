#include "measure/internal/hash_pipeline.h"

#include <algorithm>
#include <limits>
#include <system_error>

namespace igvmkit::measure::impl {

HashPipeline::HashPipeline(unsigned threads) {
  for (unsigned t = 1; t < threads; ++t) {
    try {
      workers_.emplace_back([this] { workerLoop(); });
    } catch (const std::system_error&) {
      break;  // fewer workers: wait() hashes what they would have
    }
  }
}

HashPipeline::~HashPipeline() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& w : workers_) {
    w.join();
  }
}

HashPipeline::Ticket HashPipeline::submit(size_t items, Work work) {
  Ticket t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t = next_ticket_++;
    Job& job = jobs_.emplace_back();
    job.ticket = t;
    job.items = items;
    job.work = std::move(work);
  }
  work_cv_.notify_all();
  return t;
}

HashPipeline::Job* HashPipeline::claimable(Ticket last) {
  for (Job& j : jobs_) {
    if (j.ticket > last) {
      break;
    }
    if (j.next < j.items) {
      return &j;
    }
  }
  return nullptr;
}

void HashPipeline::runChunk(std::unique_lock<std::mutex>& lock, Job& job) {
  const size_t begin = job.next;
  const size_t end = std::min(job.items, begin + kChunkItems);
  job.next = end;
  ++job.running;
  lock.unlock();
  Status s = job.work(begin, end);
  lock.lock();
  if (!s.ok() && job.status.ok()) {
    job.status = std::move(s);
  }
  --job.running;
  done_cv_.notify_all();
}

void HashPipeline::workerLoop() {
  constexpr Ticket kAny = std::numeric_limits<Ticket>::max();
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    Job* job = nullptr;
    work_cv_.wait(lock, [&] { return stop_ || (job = claimable(kAny)) != nullptr; });
    if (stop_) {
      return;
    }
    runChunk(lock, *job);
  }
}

Status HashPipeline::wait(Ticket ticket) {
  std::unique_lock<std::mutex> lock(mu_);
  Status first;
  while (!jobs_.empty() && jobs_.front().ticket <= ticket) {
    if (Job* job = claimable(ticket)) {
      runChunk(lock, *job);  // help rather than sleep
      continue;
    }
    Job& front = jobs_.front();
    if (front.running > 0) {
      done_cv_.wait(lock);
      continue;
    }
    if (first.ok() && !front.status.ok()) {
      first = std::move(front.status);
    }
    jobs_.pop_front();
  }
  return first;
}

}  // namespace igvmkit::measure::impl
