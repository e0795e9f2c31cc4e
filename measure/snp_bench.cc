// Throughput of the SNP launch digest: serial addPage against SnpPageStream with N threads.
#include <benchmark/benchmark.h>

#include <vector>

#include "measure/parallel.h"

namespace igvmkit::measure {
namespace {

constexpr size_t kPages = 16384;  // 64 MiB

const std::vector<std::byte>& image() {
  static const std::vector<std::byte> bytes = [] {
    std::vector<std::byte> b(kPages * kPageSize);
    for (size_t i = 0; i < b.size(); ++i) {
      b[i] = std::byte(i * 31 + (i >> 12));
    }
    return b;
  }();
  return bytes;
}

std::vector<SnpPageOp> ops() {
  std::vector<SnpPageOp> out;
  for (size_t i = 0; i < kPages; ++i) {
    out.push_back(
        {i * kPageSize, SnpPageType::kNormal, Bytes(image().data() + i * kPageSize, kPageSize)});
  }
  return out;
}

void BM_SerialAddPage(benchmark::State& state) {
  std::vector<SnpPageOp> list = ops();
  for (auto _ : state) {
    SnpLaunchDigest ld;
    for (const SnpPageOp& op : list) {
      if (!ld.addPage(op.gpa, op.type, op.contents).ok()) {
        state.SkipWithError("addPage failed");
      }
    }
    benchmark::DoNotOptimize(ld.digest());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPages * kPageSize));
}
BENCHMARK(BM_SerialAddPage)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ParallelStream(benchmark::State& state) {
  std::vector<SnpPageOp> list = ops();
  unsigned threads = static_cast<unsigned>(state.range(0));
  for (auto _ : state) {
    SnpLaunchDigest ld;
    if (!measureSnpPages(ld, list, {.threads = threads, .batch_pages = 1024}).ok()) {
      state.SkipWithError("measureSnpPages failed");
    }
    benchmark::DoNotOptimize(ld.digest());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPages * kPageSize));
}
BENCHMARK(BM_ParallelStream)->Arg(1)->Arg(2)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace igvmkit::measure
