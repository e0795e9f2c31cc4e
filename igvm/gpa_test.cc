// igvm/gpa.h: the GPA width per platform, the wrap rule, and check's warnings.
#include "igvm/gpa.h"

#include <gtest/gtest.h>

#include "base/testing/matchers.h"
#include "igvm/testing/test_image.h"

namespace igvmkit::igvm {
namespace {

using ::igvmkit::testing::HasRule;
using ::igvmkit::testing::IsOk;

constexpr uint64_t k4K = kPageSize4K;
constexpr uint64_t k2M = kPageSize2M;

TEST(GpaWidth, PerPlatform) {
  EXPECT_EQ(gpaWidth(PlatformType::kNative).bits, 52);
  EXPECT_EQ(gpaWidth(PlatformType::kVsmIsolation).bits, 52);
  EXPECT_EQ(gpaWidth(PlatformType::kSevSnp).bits, 51);
  EXPECT_EQ(gpaWidth(PlatformType::kSev).bits, 51);
  EXPECT_EQ(gpaWidth(PlatformType::kSevEs).bits, 51);
  EXPECT_EQ(gpaWidth(PlatformType::kTdx).bits, 51);
}

TEST(CheckGpaRange, JustBelowTheWidthPassesAndAtItFails) {
  for (PlatformType p : {PlatformType::kNative, PlatformType::kSevSnp, PlatformType::kTdx}) {
    const uint64_t limit = uint64_t{1} << gpaWidth(p).bits;
    EXPECT_THAT(checkGpaRange(p, "page data", limit - k4K, k4K), IsOk());
    EXPECT_THAT(checkGpaRange(p, "page data", limit - k2M, k2M), IsOk());
    EXPECT_THAT(checkGpaRange(p, "page data", limit, k4K), HasRule("gpa.width"));
    EXPECT_THAT(checkGpaRange(p, "page data", limit - k4K, 2 * k4K), HasRule("gpa.width"));
    EXPECT_THAT(checkGpaRange(p, "page data", uint64_t{1} << 52, k4K), HasRule("gpa.width"));
  }
}

TEST(CheckGpaRange, MessageNamesWhatWhereAndWhy) {
  Status s = checkGpaRange(PlatformType::kSevSnp, "page data", uint64_t{1} << 52, k4K);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "page data at 0x10000000000000 (0x1000 bytes) lies beyond the 51-bit guest physical "
            "address space of SEV_SNP guests (gpa below 0x8000000000000: the c-bit is bit 51)");
  EXPECT_EQ(s.error().code, Code::kInvalidInput);
}

// A 4 KiB page at 0xFFFFFFFFFFFFF000 ends at 2^64: beyond every width, but no wrap. A 2 MiB page
// there runs past 2^64: a wrap.
TEST(CheckGpaRange, TopPageEndsAt2To64AndDoesNotWrap) {
  EXPECT_THAT(checkGpaRange(PlatformType::kTdx, "page data", 0xFFFF'FFFF'FFFF'F000, k4K),
              HasRule("gpa.width"));
  EXPECT_THAT(checkGpaRange(PlatformType::kTdx, "page data", 0xFFFF'FFFF'FFE0'0000, k2M),
              HasRule("gpa.width"));
  EXPECT_THAT(checkGpaRange(PlatformType::kTdx, "page data", 0xFFFF'FFFF'FFFF'F000, k2M),
              HasRule("gpa.wrap"));
  EXPECT_THAT(checkGpaRange(PlatformType::kNative, "page data", 0xFFFF'FFFF'FFFF'F000, 2 * k4K),
              HasRule("gpa.wrap"));
}

TEST(GpaWarnings, OnePerHeaderAtItsLocation) {
  testing::TestImage t;
  t.platform(PlatformType::kNative, 0x1);
  t.platform(PlatformType::kSevSnp, 0x2);
  t.pageData(0x100000, 0x3);                             // fine everywhere
  size_t snp_only = t.pageData(uint64_t{1} << 51, 0x3);  // beyond snp's width, not native's
  size_t both = t.pageData(0xFFFF'FFFF'FFFF'F000, 0x3);  // beyond both: one warning
  t.parameterArea(0, 0x2000);
  size_t insert = t.parameterInsert((uint64_t{1} << 52) - k4K, 0x1, 0);  // its 2nd page is out
  Result<File> f = File::parse(t.bytes());
  ASSERT_TRUE(f.ok()) << f.error().describe();
  std::vector<Error> w = gpaWarnings(*f);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].rule, "gpa.width");
  EXPECT_EQ(w[0].location->offset, t.entryOffset(snp_only));
  EXPECT_NE(w[0].message.find("SEV_SNP"), std::string::npos) << w[0].message;
  EXPECT_EQ(w[1].location->offset, t.entryOffset(both));
  EXPECT_EQ(w[2].location->offset, t.entryOffset(insert));
  EXPECT_NE(w[2].message.find("parameter area at 0xffffffffff000 (0x2000 bytes)"),
            std::string::npos)
      << w[2].message;
}

TEST(GpaWarnings, TwoMibPageThatWrapsUnderLenientParsing) {
  testing::TestImage t;
  t.platform(PlatformType::kTdx, 0x1);
  t.pageData(0xFFFF'FFFF'FFFF'F000, 0x1, {}, kPageDataFlagIs2MbPage);
  Result<File> f = File::parse(t.bytes(), {.conformance = Conformance::kCompat});
  ASSERT_TRUE(f.ok()) << f.error().describe();
  std::vector<Error> w = gpaWarnings(*f);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].rule, "gpa.wrap");
}

}  // namespace
}  // namespace igvmkit::igvm
