// Loader import speed: a 1 GiB IGVM image loaded into plain KVM guest memory (the kvm backend on the
// FakeDevice, whose guest memory is a real anonymous mapping) against a plain memcpy of the same
// bytes into a fresh mapping. `bazel run -c opt //bench:loader_bench`.
// IGVMKIT_BENCH_MIB overrides the image size (default 1024).
#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "igvm/file.h"
#include "igvm/writer.h"
#include "loader/backend.h"
#include "loader/plan.h"
#include "hv/testing/fake_device.h"

namespace igvmkit::loader {
namespace {

uint64_t imageBytes() {
  const char* mib = std::getenv("IGVMKIT_BENCH_MIB");
  return (mib != nullptr ? std::strtoull(mib, nullptr, 10) : 1024) << 20;
}

constexpr uint64_t kBase = 0x100000;

// The image (one NATIVE platform, imageBytes() of distinct 4 KiB pages at kBase) and its parse.
struct Image {
  ByteVector bytes;
  std::optional<igvm::File> file;
};

const Image& image() {
  static const Image* img = [] {
    auto* out = new Image;
    igvm::Model m;
    m.add(igvm::platformEntry(igvm::PlatformType::kNative, 1));
    uint64_t pages = imageBytes() / kPageSize;
    for (uint64_t i = 0; i < pages; ++i) {
      ByteVector page(kPageSize);
      std::memcpy(page.data(), &i, sizeof(i));  // distinct, so the writer keeps every page
      page[kPageSize - 1] = std::byte{0xA5};
      m.add(igvm::pageDataEntry(kBase + i * kPageSize, 1, igvm::Blob(std::move(page))));
    }
    auto bytes = igvm::write(m, {.version = 2});
    if (!bytes.ok()) {
      std::abort();
    }
    out->bytes = std::move(*bytes);
    auto file = igvm::File::parse(out->bytes);
    if (!file.ok()) {
      std::abort();
    }
    out->file.emplace(std::move(*file));
    return out;
  }();
  return *img;
}

VmConfig config() {
  VmConfig c;
  c.memory_size = imageBytes() + (64ull << 20);
  c.mmio_gaps.clear();  // one RAM range, so large images need no gap handling
  return c;
}

// plan() + launch() on the kvm backend: map guest memory, copy every page, set no vCPU state.
void BM_LoaderImport(benchmark::State& state) {
  const Image& img = image();
  for (auto _ : state) {
    auto p = plan(*img.file, BackendKind::kKvm, config());
    if (!p.ok()) {
      state.SkipWithError(p.error().describe().c_str());
      return;
    }
    hv::testing::FakeDevice dev;
    auto backend = makeBackend(BackendKind::kKvm, dev);
    Status s = launch(*backend, *p);
    if (!s.ok()) {
      state.SkipWithError(s.error().describe().c_str());
      return;
    }
    benchmark::DoNotOptimize(backend->vm().memory.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * imageBytes()));
}
BENCHMARK(BM_LoaderImport)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same bytes into a fresh anonymous mapping of the guest's size (page faults included, as the
// loader's guest memory is fresh too).
void BM_MemcpyFresh(benchmark::State& state) {
  const Image& img = image();
  Bytes data = img.file->directives()[0].data;
  const std::byte* src = data.data();  // page data is contiguous in the file
  uint64_t size = config().memory_size;
  for (auto _ : state) {
    void* dst = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (dst == MAP_FAILED) {
      state.SkipWithError("mmap failed");
      return;
    }
    std::memcpy(static_cast<std::byte*>(dst) + kBase, src, imageBytes());
    benchmark::ClobberMemory();
    ::munmap(dst, size);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * imageBytes()));
}
BENCHMARK(BM_MemcpyFresh)->Unit(benchmark::kMillisecond)->UseRealTime();

// plan() alone (262144 PAGE_DATA headers -> one coalesced import).
void BM_PlanOnly(benchmark::State& state) {
  const Image& img = image();
  for (auto _ : state) {
    auto p = plan(*img.file, BackendKind::kKvm, config());
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_PlanOnly)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace igvmkit::loader

BENCHMARK_MAIN();
