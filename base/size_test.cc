#include "base/size.h"

#include <gtest/gtest.h>

#include "base/testing/matchers.h"

using ::igvmkit::testing::HasRule;

namespace igvmkit {
namespace {

TEST(ParseSize, BytesHexAndBinarySuffixes) {
  EXPECT_EQ(*parseSize("4096"), 4096u);
  EXPECT_EQ(*parseSize("0x1000"), 0x1000u);
  EXPECT_EQ(*parseSize("0X2000"), 0x2000u);
  EXPECT_EQ(*parseSize("1_000"), 1000u);
  EXPECT_EQ(*parseSize("4K"), 4096u);
  EXPECT_EQ(*parseSize("4kb"), 4096u);
  EXPECT_EQ(*parseSize("4KiB"), 4096u);
  EXPECT_EQ(*parseSize("64M"), 64u << 20);
  EXPECT_EQ(*parseSize("512m"), 512u << 20);
  EXPECT_EQ(*parseSize("64MiB"), 64u << 20);
  EXPECT_EQ(*parseSize("2G"), 2ull << 30);
  EXPECT_EQ(*parseSize("2GiB"), 2ull << 30);
  EXPECT_EQ(*parseSize("1T"), 1ull << 40);
  EXPECT_EQ(*parseSize("1TiB"), 1ull << 40);
  EXPECT_EQ(*parseSize("18446744073709551615"), UINT64_MAX);
}

TEST(ParseSize, RefusesWhatIsNotASize) {
  for (const char* bad : {"", "M", "12Q", "0x10M", "4KB2", "4Kx", "-1", "0x", "1.5G"}) {
    Result<uint64_t> r = parseSize(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, Code::kInvalidInput) << bad;
    EXPECT_THAT(r, HasRule("size.syntax")) << bad;
  }
  EXPECT_THAT(parseSize("99999999999999999999"), HasRule("size.range"));
  EXPECT_THAT(parseSize("17179869184G"), HasRule("size.range"));
  EXPECT_THAT(parseSize("16777216T"), HasRule("size.range"));
}

}  // namespace
}  // namespace igvmkit
