// JSON dump golden files (igvm/testdata/golden/*.json, compared exactly; regenerate with
// `bazel run //igvm:update_golden` and review the diff) and the page-run summary.
#include "igvm/dump.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "igvm/testing/models.h"
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
