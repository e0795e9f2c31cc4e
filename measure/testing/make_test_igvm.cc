// Writes small IGVM files for the measure/sign CLI test (cli/measure_cli_test.sh) with the igvm
// writer: make_test_igvm OUTDIR
//   snp.igvm   SNP (mask 1, GUEST_POLICY 0x30000) + TDX (mask 2): 4 pages, a zero page, a
//              2-page parameter area, VMSAs for vp 0 (at 0xFFFFFFFFF000) and vp 1 (0xFFFFFFFFE000)
//   novmsa.igvm SNP pages without a VMSA
//   openvmm.igvm the imports of openvmm's file_loader tests (measurement.md §5) for SNP (mask 1),
//              VBS (2), SEV (4) and SEV-ES (8, plus one VMSA): pages 0-4 (page 0 = 00 05), 5-9
//              unmeasured (page 5 = 00 05), page 10 = 00 05, page 20 shared
//   vbs-secrets.igvm a VBS file with a SECRETS page, which VBS cannot measure
#include <cstdio>
#include <string>

#include "base/file.h"
#include "igvm/writer.h"

using namespace igvmkit;

namespace {

ByteVector pattern(size_t n, uint32_t seed) {
  ByteVector v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = static_cast<std::byte>((i * 7 + seed * 29 + (i >> 9)) & 0xFF);
  }
  return v;
}

int save(const std::string& path, const igvm::Model& m) {
  Result<ByteVector> bytes = igvm::write(m, {.version = 2});
  if (!bytes.ok()) {
    std::fprintf(stderr, "%s: %s: %s\n", path.c_str(), bytes.error().rule.c_str(),
                 bytes.error().message.c_str());
    return 1;
  }
  if (!writeFile(path, *bytes).ok()) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return 1;
  }
  return 0;
}

igvm::Model openVmmImports() {
  constexpr uint32_t kAll = 0xF;
  igvm::Model m;
  m.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1));
  m.add(igvm::platformEntry(igvm::PlatformType::kVsmIsolation, 0x2));
  m.add(igvm::platformEntry(igvm::PlatformType::kSev, 0x4));
  m.add(igvm::platformEntry(igvm::PlatformType::kSevEs, 0x8));
  ByteVector page_0005(4096, std::byte{0});
  page_0005[1] = std::byte{0x05};
  for (uint64_t page = 0; page < 10; ++page) {
    const bool with_data = page == 0 || page == 5;
    m.add(igvm::pageDataEntry(page * 0x1000, kAll,
                              with_data ? igvm::Blob(page_0005) : igvm::Blob(),
                              page >= 5 ? igvm::kPageDataFlagUnmeasured : 0));
  }
  m.add(igvm::pageDataEntry(10 * 0x1000, kAll, igvm::Blob(page_0005)));
  m.add(igvm::pageDataEntry(20 * 0x1000, kAll, igvm::Blob(), igvm::kPageDataFlagShared));
  ByteVector vmsa(4096, std::byte{0});
  vmsa[0x3B0] = std::byte{1};
  m.add(igvm::vpContextEntry(0xFFFFFFFFF000, 0x8, 0, igvm::Blob(std::move(vmsa))));
  return m;
}

igvm::Model vbsSecrets() {
  igvm::Model m;
  m.add(igvm::platformEntry(igvm::PlatformType::kVsmIsolation, 0x1));
  m.add(igvm::pageDataEntry(0x10000, 0x1, igvm::Blob(pattern(4096, 9)), 0,
                            igvm::PageDataType::kSecrets));
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_test_igvm OUTDIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  igvm::Model m;
  m.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1));
  m.add(igvm::platformEntry(igvm::PlatformType::kTdx, 0x2));
  igvm::IGVM_VHS_GUEST_POLICY policy{};
  policy.policy = 0x30000;
  policy.compatibility_mask = 0x1;
  m.add(igvm::makeEntry(igvm::kVhtGuestPolicy, policy));
  for (uint32_t i = 0; i < 4; ++i) {
    m.add(igvm::pageDataEntry(0x10000 + i * 0x1000, 0x3, igvm::Blob(pattern(4096, i))));
  }
  m.add(igvm::pageDataEntry(0x20000, 0x3));
  m.add(igvm::parameterAreaEntry(0, 0x2000));
  m.add(igvm::makeEntry(igvm::kVhtVpCountParameter, igvm::IGVM_VHS_PARAMETER{0, 0}));
  m.add(igvm::parameterInsertEntry(0x30000, 0x3, 0));
  igvm::Model novmsa = m;
  for (uint16_t vp = 0; vp < 2; ++vp) {
    ByteVector vmsa(4096, std::byte{0});
    vmsa[0x3B0] = std::byte{1};
    vmsa[0x100] = static_cast<std::byte>(vp + 1);
    m.add(igvm::vpContextEntry(0xFFFFFFFFF000 - vp * 0x1000, 0x1, vp, igvm::Blob(std::move(vmsa))));
  }
  return save(dir + "/snp.igvm", m) | save(dir + "/novmsa.igvm", novmsa) |
         save(dir + "/openvmm.igvm", openVmmImports()) | save(dir + "/vbs-secrets.igvm", vbsSecrets());
}
