// bench/libigvm_parse: parsing an IGVM file through libigvm's C API (igvm_new_from_binary, which
// copies the caller's bytes, then igvm_get_header for every header) against the C++ API
// (igvm::File::parse on the mapped file, then a walk of its headers), with a memcpy of the file
// (the least work a copying API must do) as the bound, in one run.
//
//   bench/libigvm_parse.sh [MiB]     or     bazel run -c opt //bench:libigvm_parse -- FILE [reps]
#include <igvm/igvm.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/file.h"
#include "igvm/file.h"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class Fn>
double timeIt(int reps, Fn fn) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto start = Clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  return median(t);
}

volatile uint32_t g_sink;  // keeps the header reads from being optimised away

// Every header of every section through igvm_get_header (what QEMU does); returns the count.
int64_t walkC(IgvmHandle igvm) {
  int64_t n = 0;
  for (uint32_t s = IGVM_HEADER_SECTION_PLATFORM; s <= IGVM_HEADER_SECTION_DIRECTIVE; ++s) {
    int32_t count = igvm_header_count(igvm, s);
    for (int32_t i = 0; i < count; ++i) {
      IgvmHandle h = igvm_get_header(igvm, s, static_cast<uint32_t>(i));
      g_sink = g_sink + igvm_get_buffer(igvm, h)[0];
      ++n;
      igvm_free_buffer(igvm, h);
    }
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: libigvm_parse FILE [repetitions]\n");
    return 2;
  }
  int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  auto mapped = igvmkit::MappedFile::open(argv[1]);
  if (!mapped.ok()) {
    std::fprintf(stderr, "error: %s\n", mapped.error().describe().c_str());
    return 2;
  }
  const auto* data = reinterpret_cast<const uint8_t*>(mapped->bytes().data());
  size_t size = mapped->bytes().size();
  std::vector<uint8_t> copy(size);
  std::memcpy(copy.data(), data, size);  // fault the file in and the copy target

  double t_copy = timeIt(reps, [&] { std::memcpy(copy.data(), data, size); });
  size_t cxx_headers = 0;
  double t_cxx = timeIt(reps, [&] {
    auto file = igvmkit::igvm::File::parse(mapped->bytes());
    if (!file.ok()) {
      std::fprintf(stderr, "error: %s\n", file.error().describe().c_str());
      std::exit(1);
    }
    cxx_headers = file->headers().size();
  });
  double t_cxx_walk = timeIt(reps, [&] {
    auto file = igvmkit::igvm::File::parse(mapped->bytes());
    uint64_t sum = 0;
    for (const auto& h : file->headers()) {
      sum += h.type;
    }
    g_sink = g_sink + static_cast<uint32_t>(sum);
  });
  double t_c = timeIt(reps, [&] {
    IgvmHandle igvm = igvm_new_from_binary(data, static_cast<uint32_t>(size));
    if (igvm < 0) {
      std::fprintf(stderr, "error: igvm_new_from_binary: %d\n", igvm);
      std::exit(1);
    }
    igvm_free(igvm);
  });
  int64_t c_headers = 0;
  double t_c_walk = timeIt(reps, [&] {
    IgvmHandle igvm = igvm_new_from_binary(data, static_cast<uint32_t>(size));
    c_headers = walkC(igvm);
    igvm_free(igvm);
  });
  std::printf("file: %s (%.1f MiB, %zu headers)\n", argv[1], size / 1048576.0, cxx_headers);
  std::printf("memcpy of the file (bound for a copying API): %.3f s\n", t_copy);
  std::printf("C++ igvm::File::parse (zero-copy):             %.3f s  (%.2fx memcpy)\n", t_cxx,
              t_cxx / t_copy);
  std::printf("C++ parse + walk every header:                 %.3f s\n", t_cxx_walk);
  std::printf("C   igvm_new_from_binary + igvm_free:          %.3f s  (%.2fx memcpy, %.2fx C++)\n",
              t_c, t_c / t_copy, t_c / t_cxx);
  std::printf("C   parse + igvm_get_header on %lld headers:  %.3f s  (%.2fx C++ walk)\n",
              static_cast<long long>(c_headers), t_c_walk, t_c_walk / t_cxx_walk);
  std::printf("median of %d repetitions each\n", reps);
  return 0;
}
