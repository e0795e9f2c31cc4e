// Writes a large SNP IGVM file for bench/measure_bench.sh with the igvm writer:
//   make_big_igvm OUT.igvm [MIB]   (default 1024 MiB of distinct 4 KiB pages, plus one VMSA)
// Page data comes from splitmix64, so no two pages are equal (the writer deduplicates equal data).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/file.h"
#include "igvm/writer.h"

using namespace igvmkit;

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: make_big_igvm OUT.igvm [MIB]\n");
    return 2;
  }
  const uint64_t mib = argc == 3 ? std::strtoull(argv[2], nullptr, 10) : 1024;
  const uint64_t pages = mib * 256;
  if (pages == 0) {
    std::fprintf(stderr, "MIB must be at least 1\n");
    return 2;
  }
  ByteVector data(pages * 4096);
  uint64_t x = 0x9E3779B97F4A7C15;
  for (size_t off = 0; off < data.size(); off += 8) {
    uint64_t z = (x += 0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
    z ^= z >> 31;
    std::memcpy(data.data() + off, &z, 8);
  }
  igvm::Model m;
  m.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1));
  for (uint64_t i = 0; i < pages; ++i) {
    m.add(igvm::pageDataEntry(0x100000 + i * 4096, 0x1,
                              igvm::Blob::view(Bytes(data).subspan(i * 4096, 4096))));
  }
  ByteVector vmsa(4096, std::byte{0});
  vmsa[0x3B0] = std::byte{1};
  m.add(igvm::vpContextEntry(0xFFFFFFFFF000, 0x1, 0, igvm::Blob(std::move(vmsa))));
  Result<ByteVector> bytes = igvm::write(m, {.version = 2});
  if (!bytes.ok()) {
    std::fprintf(stderr, "%s: %s\n", bytes.error().rule.c_str(), bytes.error().message.c_str());
    return 1;
  }
  if (!writeFile(argv[1], *bytes).ok()) {
    std::fprintf(stderr, "cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
