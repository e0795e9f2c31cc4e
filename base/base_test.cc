#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <limits>

#include "base/bytes.h"
#include "base/file.h"
#include "base/status.h"
#include "base/testing/matchers.h"

namespace igvmkit {
namespace {

using ::igvmkit::testing::HasMessage;
using ::igvmkit::testing::HasRule;
using ::igvmkit::testing::IsOk;
using ::igvmkit::testing::StatusIs;

Result<int> half(int x) {
  if (x % 2 != 0) {
    return invalid("odd", "odd input " + std::to_string(x));
  }
  return x / 2;
}

Result<int> quarter(int x) {
  IGVMKIT_ASSIGN_OR_RETURN(int h, half(x));
  IGVMKIT_ASSIGN_OR_RETURN(int q, half(h));
  return q;
}

TEST(Status, PropagatesTheFirstError) {
  EXPECT_EQ(*quarter(8), 2);
  Result<int> r = quarter(6);
  ASSERT_THAT(r, HasRule("odd"));
  EXPECT_EQ(r.error().message, "odd input 3");
  EXPECT_EQ(r.error().code, Code::kInvalidInput);
}

TEST(Status, LocationDescribesHeaderAndOffset) {
  Location loc;
  loc.header_index = 7;
  loc.header_type = 0x302;
  loc.header_name = "PAGE_DATA";
  loc.offset = 0x1a8;
  Error e = invalid("page_data.gpa_alignment", "gpa 0x1001 is not page aligned", loc);
  EXPECT_EQ(e.describe(),
            "header #7 (PAGE_DATA 0x302) at offset 0x1a8: gpa 0x1001 is not page aligned");
  Location text;
  text.line = 3;
  text.column = 5;
  EXPECT_EQ(text.describe(), "line 3, column 5");
}

// Misuse ends the process with a message instead of undefined behaviour.
TEST(StatusDeathTest, MisuseFailsLoudly) {
  EXPECT_DEATH((void)Status().error(), "internal error: error\\(\\) of an OK Status");
  EXPECT_DEATH((void)Result<int>(3).error(), "error\\(\\) of a successful Result");
  EXPECT_DEATH((void)Result<int>(invalid("r", "m")).value(), "value\\(\\) of a failed Result");
  EXPECT_DEATH((void)*Result<int>(invalid("r", "m")), "value\\(\\) of a failed Result");
  EXPECT_DEATH((void)Result<int>(okStatus()), "a Result made from an OK Status");
}

TEST(Status, MatchersDescribeTheError) {
  Result<int> r = quarter(6);
  EXPECT_THAT(r, StatusIs(Code::kInvalidInput, "odd"));
  EXPECT_THAT(r, StatusIs(Code::kInvalidInput));
  EXPECT_THAT(r, ::testing::Not(StatusIs(Code::kUsage)));
  EXPECT_THAT(r, HasMessage("odd input 3"));
  EXPECT_THAT(quarter(8), IsOk());
  EXPECT_THAT(quarter(8), ::testing::Not(HasRule("odd")));
  EXPECT_THAT(usage("cli.flag", "bad flag"), StatusIs(Code::kUsage, "cli.flag"));
  EXPECT_EQ(::testing::PrintToString(Status(r.error())), "kInvalidInput [odd] odd input 3");
}

TEST(Status, InnermostLocationWins) {
  Location inner;
  inner.offset = 4;
  Location outer;
  outer.offset = 8;
  Status s = Status(invalid("r", "m", inner)).at(outer);
  EXPECT_EQ(*s.error().location->offset, 4u);
  Status t = Status(invalid("r", "m")).at(outer);
  EXPECT_EQ(*t.error().location->offset, 8u);
}

TEST(Bytes, SliceRejectsOverflowingRanges) {
  std::byte data[16] = {};
  Bytes b(data);
  EXPECT_TRUE(slice(b, 0, 16).ok());
  EXPECT_TRUE(slice(b, 16, 0).ok());
  EXPECT_FALSE(slice(b, 17, 0).ok());
  EXPECT_FALSE(slice(b, 8, 9).ok());
  Result<Bytes> wrap = slice(b, 8, std::numeric_limits<uint64_t>::max() - 4);
  ASSERT_FALSE(wrap.ok());
  EXPECT_EQ(wrap.error().message, "range 0x8 + 0xfffffffffffffffb exceeds size 0x10");
}

TEST(Bytes, ReadStructIsUnaligned) {
  std::byte data[9] = {std::byte{0xAA}, std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4},
                       std::byte{5},    std::byte{6}, std::byte{7}, std::byte{8}};
  Result<uint64_t> v = readStruct<uint64_t>(Bytes(data), 1);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 0x0807060504030201ull);
  EXPECT_FALSE(readStruct<uint64_t>(Bytes(data), 2).ok());
}

TEST(Bytes, HexRoundTrips) {
  EXPECT_EQ(hex(0), "0x0");
  EXPECT_EQ(hex(0x1A8), "0x1a8");
  EXPECT_EQ(hex(~0ull), "0xffffffffffffffff");
  Result<ByteVector> parsed = parseHexBytes("00Ff10");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(hexBytes(*parsed), "00ff10");
  EXPECT_FALSE(parseHexBytes("0").ok());
  EXPECT_FALSE(parseHexBytes("0g").ok());
}

TEST(File, WriteThenMapReadsTheSameBytes) {
  const char* tmpdir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(tmpdir ? tmpdir : "/tmp") + "/base_test.bin";
  ASSERT_TRUE(writeFile(path, toBytes("hello")).ok());
  Result<MappedFile> mapped = MappedFile::open(path);
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(hexBytes(mapped->bytes()), "68656c6c6f");
  Result<MappedFile> missing = MappedFile::open(path + ".missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Code::kUnreadable);
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace igvmkit
