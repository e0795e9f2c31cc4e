#include "measure/reference.h"

#include <gtest/gtest.h>

#include "base/testing/matchers.h"

namespace igvmkit::measure {
namespace {

using ::igvmkit::testing::HasRule;

const std::string kDigest(96, 'a');

TEST(ReferenceValues, ParsesSingleMeasureDocumentAndKeepsAssumptions) {
  std::string text = R"({"platform":"snp","host":"kvm","vcpus":2,"digest":")" + kDigest +
                     R"(","pages_measured":7,"vmsa_gpa":"0xfffffffff000"})";
  Result<ReferenceValues> ref = ReferenceValues::fromJson(text);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  ASSERT_EQ(ref->measurements.size(), 1u);
  const ReferenceDigest& d = ref->measurements[0];
  EXPECT_EQ(d.platform, "snp");
  EXPECT_EQ(d.host, "kvm");
  EXPECT_EQ(d.vcpus, 2u);
  EXPECT_EQ(d.pages_measured, 7u);
  EXPECT_EQ(hexBytes(d.digest), kDigest);
  EXPECT_EQ(d.extra["vmsa_gpa"], "0xfffffffff000");
  EXPECT_EQ(d.label(), "snp/kvm/2 vcpus");
  EXPECT_FALSE(ref->policy.has_value());
  // A single document without policy round-trips to the same shape.
  EXPECT_EQ(ref->toJson(), nlohmann::ordered_json::parse(text));
}

TEST(ReferenceValues, ParsesMeasurementsArrayAndPolicy) {
  std::string text = R"({"measurements":[{"platform":"snp","host":"kvm","vcpus":1,"digest":")" +
                     kDigest + R"("},{"platform":"tdx","digest":")" + std::string(96, 'b') +
                     R"("},{"platform":"snp","host":"mshv","digest":")" + std::string(96, 'c') +
                     R"("}],"policy":{"debug_allowed":true,"min_tcb":{"snp":8,"microcode":115},)"
                     R"("guest_svn":3,"host_data":")" + std::string(64, '1') +
                     R"(","report_data":"0102","rtmrs":[null,")" + std::string(96, '2') +
                     R"("],"td_attributes":"0000001000000000","xfam":231}})";
  Result<ReferenceValues> ref = ReferenceValues::fromJson(text);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->measurements.size(), 3u);
  EXPECT_EQ(ref->forPlatform("snp").size(), 2u);
  EXPECT_EQ(ref->forPlatform("tdx").size(), 1u);
  ASSERT_TRUE(ref->policy.has_value());
  const ReferencePolicy& p = *ref->policy;
  EXPECT_TRUE(p.debug_allowed);
  EXPECT_EQ(p.min_tcb->snp, 8);
  EXPECT_EQ(p.min_tcb->microcode, 115);
  EXPECT_FALSE(p.min_tcb->tee.has_value());
  EXPECT_EQ(p.guest_svn, 3u);
  EXPECT_EQ(p.report_data->size(), 2u);
  ASSERT_EQ(p.rtmrs.size(), 2u);
  EXPECT_FALSE(p.rtmrs[0].has_value());
  EXPECT_EQ(p.td_attributes, 0x10000000u);  // bit 28 SEPT_VE_DISABLE, bytes in quote order
  EXPECT_EQ(p.xfam, 231u);
  // Round trip through toJson keeps every value.
  Result<ReferenceValues> again = ReferenceValues::fromJsonDoc(ref->toJson());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->toJson(), ref->toJson());
}

TEST(ReferenceValues, IdBlockIdentityRoundTripsPerMeasurement) {
  const std::string id_digest(96, 'b'), author_digest(96, 'c');
  std::string text = R"({"measurements":[{"platform":"snp","host":"kvm","vcpus":1,"digest":")" +
                     kDigest + R"(","id_key_digest":")" + id_digest +
                     R"(","author_key_digest":")" + author_digest +
                     R"(","family_id":"00112233445566778899aabbccddeeff","image_id":")" +
                     std::string(32, '0') +
                     R"(","guest_svn":7,"guest_policy":196608},{"platform":"snp","host":"mshv","digest":")" +
                     kDigest + R"("}]})";
  Result<ReferenceValues> ref = ReferenceValues::fromJson(text);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  ASSERT_EQ(ref->measurements.size(), 2u);
  const auto& id = ref->measurements[0].id_block;
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(hexBytes(id->id_key_digest), id_digest);
  ASSERT_TRUE(id->author_key_digest.has_value());
  EXPECT_EQ(hexBytes(*id->author_key_digest), author_digest);
  EXPECT_EQ(hexBytes(id->family_id), "00112233445566778899aabbccddeeff");
  EXPECT_EQ(id->guest_svn, 7u);
  EXPECT_EQ(id->guest_policy, 0x30000u);
  EXPECT_TRUE(ref->measurements[0].extra.empty());
  EXPECT_FALSE(ref->measurements[1].id_block.has_value());
  EXPECT_EQ(ref->toJson(), nlohmann::ordered_json::parse(text));
  // Part of an identity is refused: a verifier would silently pin less than it meant to.
  std::string partial = R"({"platform":"snp","digest":")" + kDigest + R"(","family_id":")" +
                        std::string(32, '0') + R"("})";
  EXPECT_THAT(ReferenceValues::fromJson(partial), HasRule("reference.id_key_digest"));
  std::string short_key = R"({"platform":"snp","digest":")" + kDigest +
                          R"(","id_key_digest":"00","family_id":"00","image_id":"00",)"
                          R"("guest_svn":0,"guest_policy":0})";
  EXPECT_THAT(ReferenceValues::fromJson(short_key), HasRule("reference.id_key_digest"));
}

TEST(ReferenceValues, RejectsBadInputWithRule) {
  struct Case {
    std::string text;
    std::string rule;
  } cases[] = {
      {"not json", "reference.json"},
      {"[]", "reference.json"},
      {"{}", "reference.empty"},
      {R"({"platform":"snp"})", "reference.digest"},
      {R"({"platform":"snp","digest":"zz"})", "reference.digest"},
      {R"({"measurements":{}})", "reference.measurements"},
      {R"({"policy":{"bogus":1}})", "reference.policy"},
      {R"({"policy":{"host_data":"00"}})", "reference.host_data"},
      {R"({"policy":{"min_tcb":{"snp":300}}})", "reference.min_tcb.snp"},
      {R"({"policy":{"debug_allowed":"no"}})", "reference.debug_allowed"},
      // issue 12 item 6: checks that would silently do nothing.
      {R"({"policy":{"debug_allowed":true}})", "reference.empty"},
      {R"({"measurements":[]})", "reference.measurements"},
      {R"({"measurements":[{"platform":"snp","digest":"aa"}],"digest":"bb"})", "reference.key"},
      {R"({"measurements":[{"platform":"snp","digest":"aa"}],"polcy":{}})", "reference.key"},
      {R"({"platform":"snp","digest":"aa","polcy":{"debug_allowed":true}})", "reference.key"},
      {R"({"platform":"snp","digest":"aa","debug_allowed":true})", "reference.key"},
      {R"({"platform":"snp","digest":"aa","vcpu":2})", "reference.key"},
      {R"({"measurements":[{"platform":"snp","digest":"aa","plaform":"tdx"}]})", "reference.key"},
      {R"({"platform":"snp","digest":"aa","digest":"bb"})", "reference.json"},
      {R"({"platform":"snp","digest":"aa","policy":{"vmpl":0,"vmpl":1}})", "reference.json"},
      {R"({"platform":"snp","digest":"aa","policy":{"vmpl":4}})", "reference.vmpl"},
      {R"({"platform":"snp","digest":"aa","policy":{"platform_info":{"required":["smt"]}}})",
       "reference.platform_info"},
      {R"({"platform":"snp","digest":"aa","policy":{"platform_info":{"required":["smt_enabled"],)"
       R"("forbidden":["smt_enabled"]}}})",
       "reference.platform_info"},
      {R"({"platform":"snp","digest":"aa","policy":{"chip_id":"00"}})", "reference.chip_id"},
      {R"({"platform":"snp","digest":"aa","policy":{"allowed_tcb_status":["UptoDate"]}})",
       "reference.allowed_tcb_status"},
  };
  for (const Case& c : cases) {
    Result<ReferenceValues> ref = ReferenceValues::fromJson(c.text);
    ASSERT_FALSE(ref.ok()) << c.text;
    EXPECT_THAT(ref, HasRule(c.rule)) << c.text << ": " << ref.error().message;
  }
}

TEST(ReferenceValues, ParsesSnpPlatformPolicyKeysAndRoundTrips) {
  std::string text = R"({"platform":"snp","digest":")" + kDigest +
                     R"(","policy":{"vmpl":1,"min_build":29,"migrate_ma_allowed":true,)"
                     R"("smt_allowed":false,"platform_info":{"required":["smt_enabled","tsme_enabled"],)"
                     R"("forbidden":["tio_enabled"]},"chip_id":[")" +
                     std::string(128, '1') + R"(",")" + std::string(128, '2') +
                     R"("],"allowed_tcb_status":["UpToDate","SWHardeningNeeded"]}})";
  Result<ReferenceValues> ref = ReferenceValues::fromJson(text);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  const ReferencePolicy& p = *ref->policy;
  EXPECT_EQ(p.vmpl, 1u);
  EXPECT_EQ(p.min_build, 29);
  EXPECT_TRUE(p.migrate_ma_allowed);
  EXPECT_EQ(p.smt_allowed, false);
  EXPECT_EQ(p.platform_info_required, 0x3u);
  EXPECT_EQ(p.platform_info_forbidden, 0x80u);
  ASSERT_EQ(p.chip_ids.size(), 2u);
  EXPECT_EQ(p.chip_ids[1].size(), 64u);
  EXPECT_EQ(p.allowed_tcb_status, (std::vector<std::string>{"UpToDate", "SWHardeningNeeded"}));
  Result<ReferenceValues> again = ReferenceValues::fromJsonDoc(ref->toJson());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->toJson(), ref->toJson());
  // Keys far from any known one stay as the measurement's stated assumptions.
  Result<ReferenceValues> extra =
      ReferenceValues::fromJson(R"({"platform":"snp","digest":"aa","firmware_notes":"x"})");
  ASSERT_TRUE(extra.ok()) << extra.error().message;
}

TEST(StrictJson, DuplicateKeysAtAnyDepthAreErrors) {
  EXPECT_TRUE(parseStrictJson(R"({"a":{"b":1},"c":[{"b":2},{"b":3}]})", "r").ok());
  Result<nlohmann::ordered_json> dup = parseStrictJson(R"({"a":[{"b":1,"b":2}]})", "r");
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(dup, HasRule("r"));
  EXPECT_NE(dup.error().message.find("\"b\""), std::string::npos);
  EXPECT_FALSE(parseStrictJson("{", "r").ok());
}

}  // namespace
}  // namespace igvmkit::measure
