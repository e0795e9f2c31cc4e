// base/progress.h: a progress line on stderr for work that takes more than about a second.
//
// It is drawn only when its descriptor is a terminal, never into a pipe or a file (scripts, logs
// and --json readers see nothing), and only once the work has run for `delay`, so quick commands
// stay silent. The line is redrawn in place at most every `interval` and erased by finish() (or
// the destructor), before the command prints its result.
//
//   Progress progress("build out.igvm");          // stderr
//   for (...) { progress.update(done_bytes, total_bytes); }
//   progress.finish();
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace igvmkit {

struct ProgressTiming {
  std::chrono::milliseconds delay{1000};    // silent before this
  std::chrono::milliseconds interval{100};  // between redraws
};

class Progress {
 public:
  explicit Progress(std::string label, int fd = 2, ProgressTiming timing = {});
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` of `total` units (total 0: unknown). Cheap when nothing is to be drawn.
  void update(uint64_t done, uint64_t total);
  // Erases the line, if one was drawn; later updates draw nothing.
  void finish();
  // Whether the descriptor is a terminal (otherwise every call does nothing).
  bool active() const { return active_; }

  // The line's text: "LABEL: 37% 2.1 s" ("LABEL: 2.1 s" without a total; done clamps at total).
  static std::string render(std::string_view label, uint64_t done, uint64_t total,
                            double seconds);

 private:
  std::string label_;
  int fd_;
  ProgressTiming timing_;
  bool active_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point next_;  // no redraw before this
};

}  // namespace igvmkit
