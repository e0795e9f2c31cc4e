// bench/igvm_parse: how long parse + full validation of an IGVM file takes, its peak resident
// memory, and the ratio to a plain sequential read() of the same file from the page cache (the
// physical limit for any parser that touches every byte; ours touches only the headers).
//
//   bazel run -c opt //bench:igvm_parse -- /tmp/big.igvm [repetitions]
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "base/file.h"
#include "igvm/file.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// This thread's CPU time: what a busy shared machine distorts least.
double cpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

long peakRssKib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// Reads the whole file with read() into a 1 MiB buffer; returns the seconds taken.
double sequentialRead(const char* path) {
  static std::vector<char> buffer(1 << 20);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::perror(path);
    std::exit(2);
  }
  auto start = Clock::now();
  uint64_t sum = 0;
  for (;;) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n <= 0) {
      break;
    }
    sum += static_cast<unsigned char>(buffer[static_cast<size_t>(n) - 1]);
  }
  auto end = Clock::now();
  close(fd);
  if (sum == 42) {  // keeps the loop from being optimised away
    std::puts("");
  }
  return seconds(start, end);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: igvm_parse FILE [repetitions]\n");
    return 2;
  }
  const char* path = argv[1];
  int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  long rss_before = peakRssKib();

  std::vector<double> parse_times, parse_cpu;
  size_t headers = 0;
  uint64_t size = 0;
  for (int i = 0; i < reps; ++i) {
    auto start = Clock::now();
    const double cpu_start = cpuSeconds();
    auto mapped = igvmkit::MappedFile::open(path);
    if (!mapped.ok()) {
      std::fprintf(stderr, "error: %s\n", mapped.error().describe().c_str());
      return 2;
    }
    auto file = igvmkit::igvm::File::parse(mapped->bytes());
    if (!file.ok()) {
      std::fprintf(stderr, "error: %s: %s\n", path, file.error().describe().c_str());
      return 1;
    }
    headers = file->headers().size();
    size = mapped->bytes().size();
    parse_times.push_back(seconds(start, Clock::now()));
    parse_cpu.push_back(cpuSeconds() - cpu_start);
  }
  long rss_after_parse = peakRssKib();

  std::vector<double> read_times, read_cpu;
  sequentialRead(path);  // warm the page cache
  for (int i = 0; i < reps; ++i) {
    const double cpu_start = cpuSeconds();
    read_times.push_back(sequentialRead(path));
    read_cpu.push_back(cpuSeconds() - cpu_start);
  }
  double parse = median(parse_times);
  double read = median(read_times);
  std::printf("file: %s (%.1f MiB, %zu headers)\n", path, size / 1048576.0, headers);
  std::printf("parse+validate: %.3f s median of %d (min %.3f s)\n", parse, reps,
              *std::min_element(parse_times.begin(), parse_times.end()));
  std::printf("peak RSS: %.1f MiB (%.1f MiB before parsing)\n", rss_after_parse / 1024.0,
              rss_before / 1024.0);
  std::printf("sequential read() from page cache: %.3f s (%.2f GiB/s)\n", read,
              size / 1073741824.0 / read);
  std::printf("ratio parse/read: %.2f\n", parse / read);
  std::printf("CPU time, medians: parse+validate %.3f s, read %.3f s, ratio %.2f\n",
              median(parse_cpu), median(read_cpu), median(parse_cpu) / median(read_cpu));
  return 0;
}
