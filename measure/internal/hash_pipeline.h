// measure/internal/hash_pipeline.h: page hashing in the background, so reading, writing and the
// serial SNP chain overlap the content hashes instead of waiting for them.
//
// A job is N independent items (pages) and a function that hashes items [begin, end). submit()
// queues it and returns at once; `threads - 1` workers (started once, joined by the destructor)
// take it in chunks. wait(ticket) returns when that job and every earlier one is done, and the
// calling thread hashes unclaimed chunks itself while it waits, so with one worker the caller's
// idle time goes to hashing too. With threads = 1 there are no workers and wait() does the work.
//
//   HashPipeline pipeline(2);
//   HashPipeline::Ticket t = pipeline.submit(pages.size(), [&](size_t b, size_t e) {...});
//   ... read the next batch, fold the previous one ...
//   IGVMKIT_RETURN_IF_ERROR(pipeline.wait(t));   // the job's memory may go now
//
// Whatever a job's function reads and writes must stay valid until its wait() returns or the
// pipeline is destroyed (the destructor lets running chunks finish, drops the rest and joins).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "base/status.h"

namespace igvmkit::measure::impl {

class HashPipeline {
 public:
  using Ticket = uint64_t;
  using Work = std::function<Status(size_t begin, size_t end)>;

  // Items a thread takes at a time: 32 pages (128 KiB), small enough to balance two threads.
  static constexpr size_t kChunkItems = 32;

  // `threads`: hashing threads including the caller (0 counts as 1). A worker the system refuses
  // to start is simply missing: the caller does its share in wait().
  explicit HashPipeline(unsigned threads);
  ~HashPipeline();
  HashPipeline(const HashPipeline&) = delete;
  HashPipeline& operator=(const HashPipeline&) = delete;

  Ticket submit(size_t items, Work work);
  // Every job up to `ticket` done; the first error among them (in submission order).
  Status wait(Ticket ticket);

  // Workers actually running (tests).
  size_t workers() const { return workers_.size(); }

 private:
  struct Job {
    Ticket ticket = 0;
    size_t items = 0;
    Work work;
    size_t next = 0;     // first unclaimed item
    size_t running = 0;  // chunks claimed, not finished
    Status status;
  };
  // Under mu_: the oldest job up to `last` with unclaimed items, or nullptr.
  Job* claimable(Ticket last);
  // Under mu_ (held by `lock`): claims the next chunk of `job`, runs it unlocked, records it.
  void runChunk(std::unique_lock<std::mutex>& lock, Job& job);
  void workerLoop();

  std::mutex mu_;
  std::condition_variable work_cv_;  // a job has unclaimed items, or stop_
  std::condition_variable done_cv_;  // a chunk finished
  std::deque<Job> jobs_;             // submitted, not yet waited for; oldest first
  Ticket next_ticket_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace igvmkit::measure::impl
