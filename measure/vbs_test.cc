#include "measure/vbs.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/testing/matchers.h"
#include "igvm/defs.h"

namespace igvmkit::measure {
namespace {

using ::igvmkit::testing::HasRule;

std::string digestHex(const VbsBootDigest& d) {
  Result<Sha256Digest> r = d.digest();
  EXPECT_TRUE(r.ok());
  return r.ok() ? hexDigest(*r) : "";
}

const std::byte kData[] = {std::byte{0x00}, std::byte{0x05}};

// OpenVMM igvmfilegen's file_loader imports (measurement.md §5): pages 0-4 with 00 05 on page 0,
// pages 5-9 unmeasured (page 5's data ignored), page 10 with 00 05, page 20 shared (skipped).
void addOpenVmmPages(VbsBootDigest& d) {
  ASSERT_TRUE(d.addPage(0, Bytes(kData), VbsAcceptance::kNone, false).ok());
  for (uint64_t p = 1; p < 5; ++p) {
    ASSERT_TRUE(d.addPage(p * 4096, {}, VbsAcceptance::kNone, false).ok());
  }
  for (uint64_t p = 5; p < 10; ++p) {
    ASSERT_TRUE(
        d.addPage(p * 4096, p == 5 ? Bytes(kData) : Bytes(), VbsAcceptance::kNone, true).ok());
  }
  ASSERT_TRUE(d.addPage(10 * 4096, Bytes(kData), VbsAcceptance::kNone, false).ok());
}

TEST(VbsRecords, LayoutMatchesMeasurementMd) {
  VBS_VP_GPA_PAGE_CHUNK page = makeVbsPageChunk(0x5000, VbsAcceptance::kReadWrite, true);
  Bytes p = asBytes(page);
  ASSERT_EQ(p.size(), 32u);
  EXPECT_EQ(p[0], std::byte{0x20});  // byte_count 0x1020
  EXPECT_EQ(p[1], std::byte{0x10});
  EXPECT_EQ(p[4], std::byte{0x02});  // VP_GPA_PAGE
  EXPECT_TRUE(allZero(p.subspan(8, 8)));
  EXPECT_EQ(p[16], std::byte{0x07});  // acceptance 3 | unmeasured bit 2
  EXPECT_EQ(p[24], std::byte{0x05});  // page number

  VBS_VP_REGISTER_CHUNK reg =
      makeVbsRegisterChunk(2, igvm::kHvX64RegisterRip, vbsScalarValue(0x1234));
  Bytes r = asBytes(reg);
  ASSERT_EQ(r.size(), 48u);
  EXPECT_EQ(r[0], std::byte{48});
  EXPECT_EQ(r[4], std::byte{0});      // VP_REGISTER
  EXPECT_EQ(r[20], std::byte{2});     // vtl
  EXPECT_EQ(r[28], std::byte{0x10});  // name 0x00020010
  EXPECT_EQ(r[30], std::byte{0x02});
  EXPECT_EQ(r[32], std::byte{0x34});
  EXPECT_EQ(r[33], std::byte{0x12});
  EXPECT_TRUE(allZero(r.subspan(34)));
}

TEST(VbsRegisterValues, Encodings) {
  VbsRegisterValue seg = vbsSegmentValue(0x1122334455667788, 0xAABBCCDD, 0x0010, 0xA09B);
  EXPECT_EQ(seg[0], std::byte{0x88});
  EXPECT_EQ(seg[8], std::byte{0xDD});
  EXPECT_EQ(seg[12], std::byte{0x10});
  EXPECT_EQ(seg[14], std::byte{0x9B});
  EXPECT_EQ(seg[15], std::byte{0xA0});
  VbsRegisterValue table = vbsTableValue(0x27, 0x1000);
  EXPECT_TRUE(allZero(Bytes(table).first(6)));
  EXPECT_EQ(table[6], std::byte{0x27});
  EXPECT_EQ(table[9], std::byte{0x10});
}

TEST(VbsBootDigest, EmptyIsZero) {
  VbsBootDigest d;
  EXPECT_EQ(digestHex(d), std::string(64, '0'));
}

// measurement.md §5: VBS (no registers) -> 30134c9b...
TEST(VbsBootDigest, OpenVmmFileLoaderVector) {
  VbsBootDigest d;
  addOpenVmmPages(d);
  EXPECT_EQ(digestHex(d), "30134c9bb89cd72d8a418d1e7afb75927f45e8571dda7ac7be87d4b6c72ca64c");
  EXPECT_EQ(d.pageCount(), 11u);
}

// Derived independently by measure/testdata/derive_vectors.py (Python hashlib, run once): the
// OpenVMM pages, an ERROR_RANGE of 3 pages at 0x100000 (acceptance RW), one PARAMETER_INSERT page
// at 0x14000, then registers VTL0 Rip=0xfff0, VTL0 Cs {0xffff0000, 0xffff, 0xf000, 0x9b},
// VTL2 Gdtr {limit 0x27, base 0x1000}.
constexpr const char* kWithRegisters =
    "571c9dfb41b5b151127506f488c4d360161631cb0012be483df33bff86b7d9f4";

TEST(VbsBootDigest, PagesRangesAndRegisters) {
  VbsBootDigest d;
  addOpenVmmPages(d);
  ASSERT_TRUE(d.addUnmeasuredPages(0x100000, 3, VbsAcceptance::kReadWrite).ok());
  ASSERT_TRUE(d.addUnmeasuredPages(0x14000, 1, VbsAcceptance::kNone).ok());
  d.addRegister(0, igvm::kHvX64RegisterRip, vbsScalarValue(0xfff0));
  d.addRegister(0, igvm::kHvX64RegisterCs, vbsSegmentValue(0xffff0000, 0xffff, 0xf000, 0x9b));
  d.addRegister(2, igvm::kHvX64RegisterGdtr, vbsTableValue(0x27, 0x1000));
  EXPECT_EQ(digestHex(d), kWithRegisters);
  EXPECT_EQ(d.registerCount(), 3u);
}

TEST(VbsBootDigest, RegistersAlwaysFollowPages) {
  // Registers added first (a VP context early in the file) still hash after every page.
  VbsBootDigest d;
  d.addRegister(0, igvm::kHvX64RegisterRip, vbsScalarValue(0xfff0));
  d.addRegister(0, igvm::kHvX64RegisterCs, vbsSegmentValue(0xffff0000, 0xffff, 0xf000, 0x9b));
  addOpenVmmPages(d);
  d.addRegister(2, igvm::kHvX64RegisterGdtr, vbsTableValue(0x27, 0x1000));
  ASSERT_TRUE(d.addUnmeasuredPages(0x100000, 3, VbsAcceptance::kReadWrite).ok());
  ASSERT_TRUE(d.addPage(0x14000, toBytes("ignored"), VbsAcceptance::kNone, true).ok());
  EXPECT_EQ(digestHex(d), kWithRegisters);
}

TEST(VbsBootDigest, RejectsBadInput) {
  VbsBootDigest d;
  Status s = d.addPage(0x800, {}, VbsAcceptance::kNone, false);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("vbs.gpa_alignment"));
  std::vector<std::byte> big(4097);
  s = d.addPage(0, Bytes(big), VbsAcceptance::kNone, false);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("page.too_large"));
  s = d.addUnmeasuredPages(0xFFFFFFFFFFFFF000, 2, VbsAcceptance::kNone);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("vbs.range_overflow"));
  EXPECT_EQ(d.pageCount(), 0u);
  EXPECT_TRUE(d.addUnmeasuredPages(0xFFFFFFFFFFFFF000, 1, VbsAcceptance::kNone).ok());
}

}  // namespace
}  // namespace igvmkit::measure
