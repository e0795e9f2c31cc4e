// bench/make_big_igvm: writes a large IGVM file for the benchmarks: SNP, TDX and VBS platforms
// sharing N distinct 4 KiB pages of data (one PAGE_DATA each, all three mask bits), a one-page
// parameter area with its insert, and an SNP VMSA at the GPA KVM requires.
//
//   bazel run -c opt //bench:make_big_igvm -- /tmp/big.igvm 1024   # size in MiB of page data
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
  Result<ByteVector> bytes = igvm::write(model, {});
  if (!bytes.ok()) {
    std::fprintf(stderr, "error: %s\n", bytes.error().describe().c_str());
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
