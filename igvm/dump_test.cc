// JSON dump golden files (igvm/testdata/golden/*.json, compared exactly; regenerate with
// `bazel run //igvm:update_golden` and review the diff) and the page-run summary.
#include "igvm/dump.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "igvm/testing/models.h"
#include "igvm/testing/test_image.h"
#include "igvm/writer.h"

namespace igvmkit::igvm {
namespace {

struct Parsed {
  ByteVector bytes;
  Result<File> file;
};

Parsed build(const testing::GoldenModel& g) {
  WriteOptions wo;
  wo.version = g.version;
  wo.allow_undeclared_mask_bits = g.allow_undeclared_mask_bits;
  Result<ByteVector> bytes = write(g.model, wo);
  EXPECT_TRUE(bytes.ok()) << g.name;
  Parsed p{bytes.ok() ? *bytes : ByteVector{}, internal("unset")};
  ParseOptions po;
  po.allow_undeclared_mask_bits = g.allow_undeclared_mask_bits;
  p.file = File::parse(p.bytes, po);
  return p;
}

TEST(Dump, GoldenJson) {
  for (const testing::GoldenModel& g : testing::goldenModels()) {
    Parsed p = build(g);
    ASSERT_TRUE(p.file.ok()) << g.name << ": " << p.file.error().describe();
    std::string got = dumpJson(*p.file).dump(2) + "\n";
    std::string path = std::string("igvm/testdata/golden/") + g.name + ".json";
    std::ifstream in(path);
    ASSERT_TRUE(in.good()) << path << " missing; run bazel run //igvm:update_golden";
    std::stringstream want;
    want << in.rdbuf();
    EXPECT_EQ(got, want.str()) << g.name << " differs; run bazel run //igvm:update_golden";
  }
}

// Vector B's pages 0,1,2,4,10,11,12,14: runs 0-2, 4, 10-12, 14.
TEST(Dump, PageRunsMergeConsecutivePages) {
  Parsed p = build(testing::goldenModels()[1]);
  ASSERT_TRUE(p.file.ok());
  nlohmann::ordered_json j = dumpJson(*p.file);
  const auto& d = j["directives"];
  ASSERT_EQ(d.size(), 7u);
  EXPECT_EQ(d[0]["gpa"], 0);
  EXPECT_EQ(d[0]["gpa_end"], 0x3000);
  EXPECT_EQ(d[0]["pages"], 3);
  EXPECT_EQ(d[0]["first_index"], 1);
  EXPECT_EQ(d[0]["last_index"], 3);
  EXPECT_EQ(d[1]["gpa"], 0x4000);
  EXPECT_EQ(d[1]["pages"], 1);
  EXPECT_EQ(d[2]["gpa"], 0xA000);
  EXPECT_EQ(d[2]["pages"], 3);
  // The same three blobs in the same order: the same digest.
  EXPECT_EQ(d[0]["sha256"], d[2]["sha256"]);
  EXPECT_EQ(d[3]["pages"], 1);
  EXPECT_EQ(d[4]["type"], "PARAMETER_AREA");
  EXPECT_FALSE(d[0].contains("hex"));
  EXPECT_EQ(d[1]["sha256"], d[3]["sha256"]);
}

// Issue 12: a 64 KiB file of 2 MiB zero-page headers names gigabytes of zeros. A run's digest is
// over its pages' digests, and a zero page's digest is computed once, so 4096 such headers (8 GiB
// named by a 128 KiB file) dump at once. Expected values: Python's hashlib,
//   z = sha256(bytes(2 << 20)).digest(); sha256(z).hexdigest(); sha256(z * 4096).hexdigest()
TEST(Dump, ZeroPagesCostADigestNotAPage) {
  testing::TestImage one;
  one.platform(PlatformType::kSevSnp, 0x1);
  one.pageData(0, 0x1, {}, kPageDataFlagIs2MbPage);
  Result<File> f1 = File::parse(one.bytes());
  ASSERT_TRUE(f1.ok()) << f1.error().describe();
  nlohmann::ordered_json j1 = dumpJson(*f1);
  ASSERT_EQ(j1["directives"].size(), 1u);
  EXPECT_EQ(j1["directives"][0]["zero_pages"], 1);
  EXPECT_EQ(j1["directives"][0]["sha256"],
            "a092b1804f2a694edacf3f5b9e60dc5bdbd2018fa4d03f3faf2e42014ea87daa");

  testing::TestImage many;
  many.platform(PlatformType::kSevSnp, 0x1);
  for (uint64_t i = 0; i < 4096; ++i) {
    many.pageData(i * kPageSize2M, 0x1, {}, kPageDataFlagIs2MbPage);
  }
  ByteVector bytes = many.bytes();
  EXPECT_LE(bytes.size(), 132u * 1024);
  Result<File> f = File::parse(bytes);
  ASSERT_TRUE(f.ok()) << f.error().describe();
  nlohmann::ordered_json j = dumpJson(*f);
  ASSERT_EQ(j["directives"].size(), 1u);
  EXPECT_EQ(j["directives"][0]["pages"], 4096);
  EXPECT_EQ(j["directives"][0]["sha256"],
            "a3a96957bb19fa525faaf0de04fea91f8b1da2e64b9fcdf374bf6d5f9a820f99");
}

TEST(Dump, HexOnlyWhenAsked) {
  Parsed p = build(testing::goldenModels()[1]);
  ASSERT_TRUE(p.file.ok());
  DumpOptions o;
  o.hex = true;
  nlohmann::ordered_json j = dumpJson(*p.file, o);
  std::string h = j["directives"][1]["hex"];
  EXPECT_EQ(h.size(), 8192u);
  EXPECT_EQ(h.substr(0, 4), "0404");
}

TEST(Dump, TextHasOneLinePerHeaderOrRun) {
  Parsed p = build(testing::goldenModels()[1]);
  ASSERT_TRUE(p.file.ok());
  std::string text = dumpText(*p.file);
  std::istringstream lines(text);
  std::string line;
  std::vector<std::string> all;
  while (std::getline(lines, line)) {
    all.push_back(line);
  }
  ASSERT_EQ(all.size(), 1u + 1u + 7u);
  EXPECT_EQ(all[0].rfind("IGVM format_version=1", 0), 0u) << all[0];
  EXPECT_EQ(all[2].rfind("#1-#3 @0x30 PAGE_DATA gpa=0x0 gpa_end=0x3000", 0), 0u) << all[2];
}

}  // namespace
}  // namespace igvmkit::igvm
