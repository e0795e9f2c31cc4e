#include "base/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "base/internal/io.h"

namespace igvmkit {

Progress::Progress(std::string label, int fd, ProgressTiming timing)
    : label_(std::move(label)),
      fd_(fd),
      timing_(timing),
      active_(::isatty(fd) == 1),
      start_(std::chrono::steady_clock::now()),
      next_(start_ + timing.delay) {}

Progress::~Progress() { finish(); }

std::string Progress::render(std::string_view label, uint64_t done, uint64_t total,
                             double seconds) {
  char tail[64];
  if (total == 0) {
    std::snprintf(tail, sizeof(tail), ": %.1f s", seconds);
  } else {
    const uint64_t percent = std::min(done, total) * 100 / total;
    std::snprintf(tail, sizeof(tail), ": %llu%% %.1f s", static_cast<unsigned long long>(percent),
                  seconds);
  }
  return std::string(label) + tail;
}

void Progress::update(uint64_t done, uint64_t total) {
  if (!active_) {
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now < next_) {
    return;
  }
  next_ = now + timing_.interval;
  // \r: back to the start of the line; ESC[K: clear what a longer earlier line left.
  const std::string line =
      "\r" + render(label_, done, total, std::chrono::duration<double>(now - start_).count()) +
      "\x1b[K";
  drawn_ = true;
  (void)detail::writeAll(fd_, reinterpret_cast<const std::byte*>(line.data()), line.size(), -1);
}

void Progress::finish() {
  if (active_ && drawn_) {
    static constexpr char kErase[] = "\r\x1b[K";
    (void)detail::writeAll(fd_, reinterpret_cast<const std::byte*>(kErase), sizeof(kErase) - 1,
                           -1);
  }
  active_ = false;
}

}  // namespace igvmkit
