#include "measure/snp.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/testing/matchers.h"
#include "measure/vmsa.h"

namespace igvmkit::measure {
namespace {

using ::igvmkit::testing::HasRule;

// Known answers from shared/reference/measurement.md §1.3 (single pages from LD0, computed there
// with sev-snp-measure and an independent formula) and §5 (OpenVMM igvmfilegen's test imports).
constexpr const char* kZeroPageSha384 =
    "c0e59a3e3ffbd3b5c75428fb36432facabc745944296ff515f737c4fef4efc64586809f7a16f56354a1eaecf2aa8d7"
    "74";
constexpr const char* kNormalZeroAt0 =
    "9d13634b6014bb21cf059b2dc694e7bff01a8a7137041100cd2b695f3d10fb687267b97808b27f8f471d943bc6f53a"
    "20";
constexpr const char* kZeroAt0 =
    "70c0ecaab9608f14ebf8ac6f0f07bcd8728f4e2ab30382b539b4de4de904ca9f8ebdf4b2cd3cd84dd996bd55dd7946"
    "76";
constexpr const char* kUnmeasuredAt1000 =
    "81475a112c0223cebe1ccb31a0aa2567772871200b33515a3cbbd5ed6a68a8e630902dd83469ea6553554bfb67111f"
    "ad";
constexpr const char* kSecretsThenCpuid =
    "9674080570feb3e400fbae0fc64b0fc8a42ced71747fe316052778e04f005a343ae83daee87cb29d1949f5a8fbd819"
    "df";
constexpr const char* kZeroVmsaAtKvmGpa =
    "f4577da9b848673216afc3909e5ea7aa80150dda441526874cd2b0282894709b46484c13a07221aefbedfff6671992"
    "59";
constexpr const char* kZeroVmsaAt803000 =
    "dcc38e5afb33480847b33ea8de3da9608b61565c1177cd25645e2ad063bc6b586af6f76eb92b3d70e4b9f03d60fd72"
    "78";
constexpr const char* kOpenVmmSnp =
    "889a19386c82e2219bded3e92a764e8c00c29b966d04a662bca6cfdfec647b9051995653390783846557913263d71c"
    "4f";

std::string single(uint64_t gpa, SnpPageType type, Bytes contents = {}) {
  SnpLaunchDigest ld;
  Status s = ld.addPage(gpa, type, contents);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return hexDigest(ld.digest());
}

TEST(SnpPageInfo, LayoutMatchesMeasurementMd) {
  Sha384Digest cur{}, contents{};
  cur[0] = std::byte{0xAA};
  contents[47] = std::byte{0xBB};
  SNP_PAGE_INFO info = makeSnpPageInfo(cur, contents, SnpPageType::kVmsa, 0x1234000);
  Bytes b = asBytes(info);
  ASSERT_EQ(b.size(), 0x70u);
  EXPECT_EQ(b[0x00], std::byte{0xAA});
  EXPECT_EQ(b[0x5F], std::byte{0xBB});
  EXPECT_EQ(b[0x60], std::byte{0x70});  // LENGTH = 0x0070, little endian
  EXPECT_EQ(b[0x61], std::byte{0x00});
  EXPECT_EQ(b[0x62], std::byte{0x02});       // PAGE_TYPE
  EXPECT_TRUE(allZero(b.subspan(0x63, 5)));  // IMI_PAGE, VMPL permissions, reserved
  EXPECT_EQ(b[0x69], std::byte{0x40});       // GPA 0x1234000 little endian: 00 40 23 01
  EXPECT_EQ(b[0x6A], std::byte{0x23});
  EXPECT_EQ(b[0x6B], std::byte{0x01});
}

TEST(SnpLaunchDigest, ZeroPageContentsDigest) {
  Result<Sha384Digest> d = sha384Page({});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(hexDigest(*d), kZeroPageSha384);
  // A full page of zeros is the same page as empty contents.
  std::vector<std::byte> zeros(4096);
  EXPECT_EQ(hexDigest(*sha384Page(Bytes(zeros))), kZeroPageSha384);
}

TEST(SnpLaunchDigest, InitialDigestIsZero) {
  SnpLaunchDigest ld;
  EXPECT_TRUE(allZero(Bytes(ld.digest())));
  EXPECT_EQ(ld.pageCount(), 0u);
}

TEST(SnpLaunchDigest, SinglePageVectors) {
  EXPECT_EQ(single(0, SnpPageType::kNormal), kNormalZeroAt0);
  EXPECT_EQ(single(0, SnpPageType::kZero), kZeroAt0);
  EXPECT_EQ(single(0x1000, SnpPageType::kUnmeasured), kUnmeasuredAt1000);
  EXPECT_EQ(single(kKvmVmsaGpa, SnpPageType::kVmsa), kZeroVmsaAtKvmGpa);
  EXPECT_EQ(single(0x803000, SnpPageType::kVmsa), kZeroVmsaAt803000);
  std::vector<std::byte> vmsa(4096);
  EXPECT_EQ(single(kKvmVmsaGpa, SnpPageType::kVmsa, Bytes(vmsa)), kZeroVmsaAtKvmGpa);
}

TEST(SnpLaunchDigest, SecretsThenCpuid) {
  SnpLaunchDigest ld;
  ASSERT_TRUE(ld.addPage(0x1000, SnpPageType::kSecrets, {}).ok());
  // The host's CPUID table does not change LD (§1.3): pass some bytes to prove it.
  std::vector<std::byte> table(4096, std::byte{0x5A});
  ASSERT_TRUE(ld.addPage(0x2000, SnpPageType::kCpuid, Bytes(table)).ok());
  EXPECT_EQ(hexDigest(ld.digest()), kSecretsThenCpuid);
  EXPECT_EQ(ld.pageCount(), 2u);
}

// OpenVMM igvmfilegen's file_loader tests (measurement.md §5): pages 0-4 measured with data 00 05
// on page 0, pages 5-9 unmeasured, page 10 measured with 00 05, page 20 shared (not measured on
// the microsoft/igvm / MSHV host model, so not added here).
TEST(SnpLaunchDigest, OpenVmmFileLoaderVector) {
  const std::byte data[] = {std::byte{0x00}, std::byte{0x05}};
  SnpLaunchDigest ld;
  ASSERT_TRUE(ld.addPage(0, SnpPageType::kNormal, Bytes(data)).ok());
  for (uint64_t p = 1; p < 5; ++p) {
    ASSERT_TRUE(ld.addPage(p * 4096, SnpPageType::kNormal, {}).ok());
  }
  for (uint64_t p = 5; p < 10; ++p) {
    // Page 5 carries data, but unmeasured contents are ignored.
    ASSERT_TRUE(
        ld.addPage(p * 4096, SnpPageType::kUnmeasured, p == 5 ? Bytes(data) : Bytes()).ok());
  }
  ASSERT_TRUE(ld.addPage(10 * 4096, SnpPageType::kNormal, Bytes(data)).ok());
  EXPECT_EQ(hexDigest(ld.digest()), kOpenVmmSnp);
}

// Derived independently by measure/testdata/derive_vectors.py (Python hashlib, run once):
// pages 0..7 NORMAL filled with byte i+1, UNMEASURED 0x8000, ZERO 0x9000, SECRETS 0xA000,
// CPUID 0xB000, a VMSA (cr0 0x31, rip 0xfff0, sev_features 1) at 0xFFFFFFFFF000, then NORMAL
// "igvmkit" at 0xC000.
TEST(SnpLaunchDigest, MixedMultiPageChain) {
  SnpLaunchDigest ld;
  for (int i = 0; i < 8; ++i) {
    std::vector<std::byte> page(4096, std::byte(i + 1));
    ASSERT_TRUE(ld.addPage(i * 4096, SnpPageType::kNormal, Bytes(page)).ok());
  }
  ASSERT_TRUE(ld.addPage(0x8000, SnpPageType::kUnmeasured, {}).ok());
  ASSERT_TRUE(ld.addPage(0x9000, SnpPageType::kZero, {}).ok());
  ASSERT_TRUE(ld.addPage(0xA000, SnpPageType::kSecrets, {}).ok());
  ASSERT_TRUE(ld.addPage(0xB000, SnpPageType::kCpuid, {}).ok());
  std::vector<std::byte> vmsa(4096);
  uint64_t cr0 = 0x31, rip = 0xfff0, features = 1;
  std::memcpy(vmsa.data() + 0x158, &cr0, 8);
  std::memcpy(vmsa.data() + 0x178, &rip, 8);
  std::memcpy(vmsa.data() + 0x3B0, &features, 8);
  ASSERT_TRUE(ld.addPage(kKvmVmsaGpa, SnpPageType::kVmsa, Bytes(vmsa)).ok());
  ASSERT_TRUE(ld.addPage(0xC000, SnpPageType::kNormal, toBytes("igvmkit")).ok());
  EXPECT_EQ(hexDigest(ld.digest()),
            "64745d6e9adefb665a1b2e7cf6f9634822f725efa8d0746d3d6466e43df308be3aa5f3038c8abc37"
            "7154ba38fd15b279");
  EXPECT_EQ(ld.pageCount(), 14u);
}

TEST(SnpLaunchDigest, ResumesFromSeed) {
  SnpLaunchDigest whole;
  ASSERT_TRUE(whole.addPage(0, SnpPageType::kNormal, {}).ok());
  ASSERT_TRUE(whole.addPage(0x1000, SnpPageType::kUnmeasured, {}).ok());
  Result<Sha384Digest> seed = parseDigest<48>(kNormalZeroAt0, "test");
  ASSERT_TRUE(seed.ok());
  SnpLaunchDigest resumed(*seed);
  ASSERT_TRUE(resumed.addPage(0x1000, SnpPageType::kUnmeasured, {}).ok());
  EXPECT_EQ(resumed.digest(), whole.digest());
}

TEST(SnpLaunchDigest, ContentsDigestPathMatchesAddPage) {
  Result<Sha384Digest> zero = parseDigest<48>(kZeroPageSha384, "test");
  ASSERT_TRUE(zero.ok());
  SnpLaunchDigest ld;
  ASSERT_TRUE(ld.addPageWithContentsDigest(0, SnpPageType::kNormal, *zero).ok());
  EXPECT_EQ(hexDigest(ld.digest()), kNormalZeroAt0);
}

TEST(SnpLaunchDigest, TraceRecordsEveryPage) {
  std::vector<SnpTraceRecord> records;
  SnpLaunchDigest ld;
  ld.setTrace([&](const SnpTraceRecord& r) { records.push_back(r); });
  ASSERT_TRUE(ld.addPage(0, SnpPageType::kNormal, {}).ok());
  ASSERT_TRUE(ld.addPage(0x1000, SnpPageType::kUnmeasured, {}).ok());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].index, 0u);
  EXPECT_EQ(records[0].type, SnpPageType::kNormal);
  EXPECT_EQ(hexDigest(records[0].contents), kZeroPageSha384);
  EXPECT_EQ(hexDigest(records[0].digest), kNormalZeroAt0);
  EXPECT_EQ(formatSnpTrace(records[0]), std::string("0 normal gpa=0x0 contents=") +
                                            kZeroPageSha384 + " digest=" + kNormalZeroAt0);
  EXPECT_EQ(records[1].index, 1u);
  EXPECT_EQ(records[1].gpa, 0x1000u);
  EXPECT_TRUE(allZero(Bytes(records[1].contents)));
  EXPECT_EQ(formatSnpTrace(records[1]).substr(0, 41), "1 unmeasured gpa=0x1000 contents=zero dig");
  EXPECT_EQ(records[1].digest, ld.digest());
}

TEST(SnpLaunchDigest, RejectsBadInputWithoutAdvancing) {
  SnpLaunchDigest ld;
  Status s = ld.addPage(0x1001, SnpPageType::kNormal, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("snp.gpa_alignment"));
  EXPECT_EQ(s.error().message, "gpa 0x1001 is not 4 KiB aligned");

  s = ld.addPage(kSnpMaxGpa, SnpPageType::kNormal, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("snp.gpa_range"));
  EXPECT_TRUE(ld.addPage(kSnpMaxGpa - 4096, SnpPageType::kNormal, {}).ok());
  ld = SnpLaunchDigest();

  std::vector<std::byte> big(4097);
  s = ld.addPage(0, SnpPageType::kNormal, Bytes(big));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("page.too_large"));

  Sha384Digest nonzero{};
  nonzero[3] = std::byte{1};
  s = ld.addPageWithContentsDigest(0, SnpPageType::kZero, nonzero);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("snp.contents_not_zero"));

  s = ld.addPage(0, static_cast<SnpPageType>(7), {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("snp.page_type"));

  EXPECT_TRUE(allZero(Bytes(ld.digest())));
  EXPECT_EQ(ld.pageCount(), 0u);
}

TEST(SnpPageType, DecodeAndNames) {
  for (uint8_t raw = 1; raw <= 6; ++raw) {
    Result<SnpPageType> t = decodeSnpPageType(raw);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(static_cast<uint8_t>(*t), raw);
  }
  EXPECT_FALSE(decodeSnpPageType(0).ok());
  EXPECT_FALSE(decodeSnpPageType(7).ok());
  EXPECT_STREQ(snpPageTypeName(SnpPageType::kCpuid), "cpuid");
  EXPECT_TRUE(snpPageTypeHasContents(SnpPageType::kVmsa));
  EXPECT_FALSE(snpPageTypeHasContents(SnpPageType::kSecrets));
}

}  // namespace
}  // namespace igvmkit::measure
