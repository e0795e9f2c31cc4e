// Writes the seed corpus of //ovmf:parse_fuzz: small synthetic images with every kind of entry
// and table (valid), and one corrupt image per parse rule. bazel run //ovmf:make_fuzz_corpus --
// $PWD/ovmf/testdata/fuzz
#include <cstdio>
#include <string>

#include "base/file.h"
#include "ovmf/testing/image_builder.h"

using igvmkit::ByteVector;
using namespace igvmkit::ovmf;
using testing::ImageBuilder;
using testing::le;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_corpus OUTDIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const TdvfSection bfv{0, 0x400, 0xfffff000, 0x1000, TdvfSectionType::kBfv, 1};
  const TdvfSection hob{0, 0, 0x809000, 0x2000, TdvfSectionType::kTdHob, 0};
  const std::vector<SevSection> sev = {{0x800000, 0x9000, SevSectionType::kSnpSecMem},
                                       {0x80d000, 0x1000, SevSectionType::kSnpSecrets},
                                       {0x80e000, 0x1000, SevSectionType::kCpuid},
                                       {0x80f000, 0x1000, SevSectionType::kSvsmCaa},
                                       {0x810000, 0x1000, SevSectionType::kSnpKernelHashes}};
  const size_t footer = 0x1000 - 0x20 - 18;
  const std::vector<std::pair<std::string, ByteVector>> seeds = {
      {"seed_amdsev_like", ImageBuilder(0x1000)
                               .resetBlock(0x80b004)
                               .areaEntry(kSevSecretGuid, 0x810000, 0xc00)
                               .areaEntry(kSevHashTableGuid, 0x810c00, 0x400)
                               .sevMetadata(sev)
                               .tdxMetadata({bfv, hob})
                               .build()},
      {"seed_svsm_like",
       ImageBuilder(0x1000).resetBlock(0xfffffff0).u32Entry(kSvsmInfoGuid, 0).sevMetadata(sev).build()},
      {"seed_no_table", ByteVector(0x1000)},
      {"corrupt_footer_size", ImageBuilder(0x1000).put(footer, le<uint16_t>(0xffff)).build()},
      {"corrupt_entry_size", ImageBuilder(0x1000).resetBlock(1).put(footer - 18, le<uint16_t>(2)).build()},
      {"corrupt_duplicate", ImageBuilder(0x1000).resetBlock(1).resetBlock(2).build()},
      {"corrupt_sev_offset", ImageBuilder(0x1000).u32Entry(kSevMetadataGuid, 0xffffffff).build()},
      {"corrupt_sev_count",
       ImageBuilder(0x1000).sevMetadata(sev).put(0x10c, le<uint32_t>(0x7fffffff)).build()},
      {"corrupt_tdx_count",
       ImageBuilder(0x1000).tdxMetadata({bfv}).put(0x30c, le<uint32_t>(0x7fffffff)).build()},
  };
  for (const auto& [name, bytes] : seeds) {
    igvmkit::Status s = igvmkit::writeFile(dir + "/" + name + ".fd", bytes);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.error().describe().c_str());
      return 1;
    }
  }
  return 0;
}
