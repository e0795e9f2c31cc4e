// bench/make_big_igvm: writes a large IGVM file for the benchmarks: SNP, TDX and VBS platforms
// sharing N distinct 4 KiB pages of data (one PAGE_DATA each, all three mask bits), a one-page
// parameter area with its insert, and an SNP VMSA at the GPA KVM requires.
//
//   bazel run -c opt //bench:make_big_igvm -- /tmp/big.igvm 1024   # size in MiB of page data
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/file.h"
#include "igvm/writer.h"

int main(int argc, char** argv) {
  using namespace igvmkit;
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_big_igvm OUT.igvm [MiB of page data, default 1024]\n");
    return 2;
  }
  uint64_t mib = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024;
  uint64_t pages = mib * 256;
  constexpr uint32_t kSnp = 1, kTdx = 2, kVbs = 4;

  igvm::Model model;
  model.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, kSnp));
  model.add(igvm::platformEntry(igvm::PlatformType::kTdx, kTdx));
  model.add(igvm::platformEntry(igvm::PlatformType::kVsmIsolation, kVbs));
  for (uint64_t i = 0; i < pages; ++i) {
    ByteVector page(4096);
    // Distinct contents per page so deduplication cannot shrink the file.
    for (size_t off = 0; off < page.size(); off += 8) {
      uint64_t word = i * 512 + off / 8 + 1;
      std::memcpy(page.data() + off, &word, sizeof(word));
    }
    model.add(igvm::pageDataEntry(0x100000 + i * 4096, kSnp | kTdx | kVbs, std::move(page)));
  }
  model.add(igvm::parameterAreaEntry(0, 4096));
  model.add(igvm::parameterEntry(igvm::kVhtVpCountParameter, 0, 0));
  model.add(igvm::parameterInsertEntry(0x1000, kSnp | kTdx | kVbs, 0));
  ByteVector vmsa(4096);
  vmsa[0x3B0] = std::byte{1};  // sev_features: SNPActive, as KVM requires
  model.add(igvm::vpContextEntry(0xFFFFFFFFF000, kSnp, 0, std::move(vmsa)));
  // Wall and CPU time (this process is single-threaded; CPU time is what a busy shared machine
  // distorts least).
  using Clock = std::chrono::steady_clock;
  auto cpu = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  auto write_start = Clock::now();
  const double write_cpu_start = cpu();
  Result<ByteVector> bytes = igvm::write(model, {});
  const double write_cpu = cpu() - write_cpu_start;
  auto write_end = Clock::now();
  if (!bytes.ok()) {
    std::fprintf(stderr, "error: %s\n", bytes.error().describe().c_str());
    return 1;
  }
  // The bound for a writer that must produce every byte: copying the output once into fresh
  // memory (page faults included, as the writer's output buffer has them).
  auto copy_start = Clock::now();
  const double copy_cpu_start = cpu();
  ByteVector copy(bytes->begin(), bytes->end());
  const double copy_cpu = cpu() - copy_cpu_start;
  auto copy_end = Clock::now();
  auto secs = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  std::printf(
      "write: igvm::write %.3f s wall / %.3f s CPU (layout + validating parse of the "
      "output); copy of the %zu-byte output %.3f s wall / %.3f s CPU; CPU ratio %.1f\n",
      secs(write_start, write_end), write_cpu, bytes->size(), secs(copy_start, copy_end), copy_cpu,
      write_cpu / copy_cpu);
  if (copy.size() != bytes->size()) {
    return 1;
  }
  Status written = writeFile(argv[1], *bytes);
  if (!written.ok()) {
    std::fprintf(stderr, "error: %s\n", written.error().describe().c_str());
    return 2;
  }
  std::printf("%s: %zu bytes, %llu pages\n", argv[1], bytes->size(),
              static_cast<unsigned long long>(pages));
  return 0;
}
