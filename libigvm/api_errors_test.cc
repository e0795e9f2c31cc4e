// Every IGVMAPI code libigvm can return, each from a file (or call) with one fault, and the
// igvmkit diagnostics that come with it. Codes the reference defines but never returns from
// these functions are listed in libigvm/README.md "Return codes".
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>

#include "base/testing/matchers.h"
#include "igvm/testing/models.h"
#include "igvm/testing/test_image.h"
#include "libigvm/include/igvm/igvm.h"

namespace igvmkit::igvm {
namespace {

using ::igvmkit::testing::HasRule;

using testing::TestImage;

ByteVector page(uint8_t v) { return ByteVector(4096, std::byte{v}); }

// The reference wants file data: every image ends with one page that has contents.
ByteVector sealed(TestImage& t) {
  t.pageData(0x7000000, 0x1, page(7));
  return t.bytes();
}

IgvmHandle load(const ByteVector& b) {
  return igvm_new_from_binary(reinterpret_cast<const uint8_t*>(b.data()),
                              static_cast<uint32_t>(b.size()));
}

IGVM_VHS_RELOCATABLE_REGION reloc() {
  IGVM_VHS_RELOCATABLE_REGION r{};
  r.compatibility_mask = 1;
  r.relocation_alignment = 0x200000;
  r.relocation_region_gpa = 0x200000;
  r.relocation_region_size = 0x200000;
  r.minimum_relocation_gpa = 0x200000;
  r.maximum_relocation_gpa = 0x1000000;
  return r;
}
IGVM_VHS_PAGE_TABLE_RELOCATION pageTable(uint64_t gpa) {
  IGVM_VHS_PAGE_TABLE_RELOCATION r{};
  r.compatibility_mask = 1;
  r.gpa = gpa;
  r.size = 0x4000;
  r.used_size = 0x1000;
  return r;
}

struct Case {
  int32_t code;
  std::string rule;
  std::function<ByteVector()> build;
};

std::vector<Case> cases() {
  return {
      {IGVMAPI_INVALID_FIXED_HEADER, "fixed.size", [] { return ByteVector(16, std::byte{1}); }},
      {IGVMAPI_INVALID_FIXED_HEADER, "reference.no_file_data",
       [] {
         TestImage t;
         t.platform(PlatformType::kSevSnp, 1);
         return t.bytes();
       }},
      {IGVMAPI_UNSUPPORTED_PAGE_SIZE, "fixed.page_size",
       [] {
         TestImage t(2);
         t.page_size = 0x2000;
         t.platform(PlatformType::kSevSnp, 1);
         return sealed(t);
       }},
      {IGVMAPI_INVALID_CHECKSUM, "fixed.checksum",
       [] {
         TestImage t;
         t.platform(PlatformType::kSevSnp, 1);
         t.checksum = 1;
         return sealed(t);
       }},
      {IGVMAPI_NO_PLATFORM_HEADERS, "vh.no_platform",
       [] {
         TestImage t;
         return sealed(t);
       }},
      {IGVMAPI_INVALID_BINARY_VARIABLE_HEADER_SECTION, "vh.section_order",
       [] {
         TestImage t;
         t.platform(PlatformType::kSevSnp, 1);
         t.pageData(0, 1, page(1));
         t.platform(PlatformType::kTdx, 2);
         return t.bytes();
       }},
      {IGVMAPI_INVALID_BINARY_PLATFORM_HEADER, "platform.mask",
       [] {
         TestImage t;
         t.platform(PlatformType::kSevSnp, 3);
         return sealed(t);
       }},
      {IGVMAPI_INVALID_BINARY_INITIALIZATION_HEADER, "guest_policy.reserved",
       [] {
         TestImage t;
         t.platform(PlatformType::kSevSnp, 1);
         t.add(kVhtGuestPolicy, IGVM_VHS_GUEST_POLICY{0x30000, 1, 5});
         return sealed(t);
       }},
      {IGVMAPI_INVALID_BINARY_DIRECTIVE_HEADER, "page_data.gpa_alignment",
       [] {
         TestImage t;
         t.platform(PlatformType::kSevSnp, 1);
         t.pageData(0x1001, 1, page(1));
         return t.bytes();
       }},
      {IGVMAPI_MULTIPLE_PLATFORM_HEADERS_WITH_SAME_ISOLATION, "platform.duplicate_type",
       [] {
         TestImage t;
         t.platform(PlatformType::kSevSnp, 1);
         t.platform(PlatformType::kSevSnp, 2);
         return sealed(t);
       }},
      {IGVMAPI_INVALID_PARAMETER_AREA_INDEX, "parameter_insert.duplicate",
       [] {
         TestImage t;
         t.platform(PlatformType::kSevSnp, 1);
         t.parameterArea(0, 0x1000);
         t.parameterInsert(0x10000, 1, 0);
         t.parameterInsert(0x20000, 1, 0);
         return sealed(t);
       }},
      {IGVMAPI_MULTIPLE_PAGE_TABLE_RELOCATION_HEADERS, "page_table.duplicate",
       [] {
         TestImage t;
         t.platform(PlatformType::kVsmIsolation, 1);
         t.add(kVhtPageTableRelocationRegion, pageTable(0x800000));
         t.add(kVhtPageTableRelocationRegion, pageTable(0x900000));
         return sealed(t);
       }},
      {IGVMAPI_RELOCATION_REGIONS_OVERLAP, "relocation.overlap",
       [] {
         TestImage t;
         t.platform(PlatformType::kVsmIsolation, 1);
         t.add(kVhtRelocatableRegion, reloc());
         t.add(kVhtRelocatableRegion, reloc());
         t.vpContext(0, 1, 0, TestImage::vbsPayload({{kHvX64RegisterRip, 0x1000}}));
         return t.bytes();
       }},
      {IGVMAPI_PARAMETER_INSERT_INSIDE_PAGE_TABLE_REGION, "parameter_insert.page_table_region",
       [] {
         TestImage t;
         t.platform(PlatformType::kVsmIsolation, 1);
         t.add(kVhtPageTableRelocationRegion, pageTable(0x800000));
         t.parameterArea(0, 0x1000);
         t.parameterInsert(0x802000, 1, 0);
         t.vpContext(0, 1, 0, TestImage::vbsPayload({{kHvX64RegisterRip, 0x1000}}));
         return t.bytes();
       }},
      {IGVMAPI_NO_MATCHING_VP_CONTEXT, "relocation.no_vp_context",
       [] {
         TestImage t;
         t.platform(PlatformType::kVsmIsolation, 1);
         t.add(kVhtRelocatableRegion, reloc());
         return sealed(t);
       }},
      {IGVMAPI_PLATFORM_ARCH_UNSUPPORTED, "platform.arch",
       [] {
         TestImage t(2, kArchAArch64);
         t.platform(PlatformType::kSevSnp, 1);
         return sealed(t);
       }},
      {IGVMAPI_INVALID_HEADER_ARCH, "cca_policy.arch",
       [] {
         TestImage t(2, kArchX64);
         t.platform(PlatformType::kSevSnp, 1);
         IGVM_VHS_CCA_POLICY c{};
         c.compatibility_mask = 1;
         t.add(kVhtCcaPolicy, c);
         return sealed(t);
       }},
      {IGVMAPI_INVALID_CCA_POLICY_COMPATIBILITY_MASK, "cca_policy.mask",
       [] {
         TestImage t(2, kArchAArch64);
         t.platform(PlatformType::kVsmIsolation, 1);
         t.platform(PlatformType::kCca, 2);
         IGVM_VHS_CCA_POLICY c{};
         c.compatibility_mask = 1;
         t.add(kVhtCcaPolicy, c);
         return sealed(t);
       }},
  };
}

TEST(LibIgvm, EachFileFaultGivesTheReferenceCodeAndIgvmkitsDiagnostic) {
  for (const Case& c : cases()) {
    ByteVector bytes = c.build();
    EXPECT_EQ(load(bytes), c.code) << c.rule;
    IgvmkitDiagnostic d;
    ASSERT_EQ(igvmkit_last_error(&d), IGVMAPI_OK) << c.rule;
    EXPECT_EQ(d.result, c.code) << c.rule;
    EXPECT_STREQ(d.rule, c.rule.c_str()) << d.message;
    EXPECT_GT(std::strlen(d.message), 0u);
  }
}

// The one parameter-area limit (igvm/defs.h kMaxParameterAreaBytes: 1 GiB per area and for all
// areas together) holds in the C API as in check, measure and plan, which parse with the same
// File::parse: IGVMAPI_INVALID_BINARY_DIRECTIVE_HEADER (-13, the code of every other bad directive
// header) with rule parameter_area.limit; at the limit a file loads.
TEST(LibIgvm, ParameterAreaLimitIsTheOneEveryCommandApplies) {
  auto withAreas = [](const std::vector<uint64_t>& sizes) {
    TestImage t;
    t.platform(PlatformType::kSevSnp, 1);
    for (size_t i = 0; i < sizes.size(); ++i) {
      t.parameterArea(static_cast<uint32_t>(i), sizes[i]);
    }
    return sealed(t);
  };
  constexpr uint64_t kGiB = 1ull << 30, k4K = 0x1000;
  for (const std::vector<uint64_t>& ok :
       {std::vector<uint64_t>{kGiB}, std::vector<uint64_t>{kGiB / 2, kGiB / 2}}) {
    ByteVector bytes = withAreas(ok);
    IgvmHandle igvm = load(bytes);
    EXPECT_GT(igvm, 0) << ok.size() << " areas";
    igvm_free(igvm);
    EXPECT_TRUE(File::parse(bytes, {.conformance = Conformance::kReference}).ok());
  }
  // The 112-byte-header case (an area of 2^64 - 4 KiB), one area just over, two that
  // together are.
  for (const std::vector<uint64_t>& bad :
       {std::vector<uint64_t>{~uint64_t{0} - k4K + 1}, std::vector<uint64_t>{kGiB + k4K},
        std::vector<uint64_t>{kGiB / 2, kGiB / 2 + k4K}}) {
    ByteVector bytes = withAreas(bad);
    EXPECT_EQ(load(bytes), IGVMAPI_INVALID_BINARY_DIRECTIVE_HEADER) << bad.back();
    IgvmkitDiagnostic d;
    ASSERT_EQ(igvmkit_last_error(&d), IGVMAPI_OK);
    EXPECT_EQ(d.result, IGVMAPI_INVALID_BINARY_DIRECTIVE_HEADER);
    EXPECT_STREQ(d.rule, "parameter_area.limit") << d.message;
    // The same rule from the parser behind check, measure and plan, strict or lenient.
    for (Conformance c : {Conformance::kStrict, Conformance::kCompat, Conformance::kReference}) {
      Result<File> f = File::parse(bytes, {.conformance = c});
      ASSERT_FALSE(f.ok());
      EXPECT_THAT(f, HasRule("parameter_area.limit"));
    }
  }
}

TEST(LibIgvm, CallErrors) {
  TestImage t;
  t.platform(PlatformType::kSevSnp, 1);
  t.pageData(0, 1);  // a page of zeros: no data
  ByteVector bytes = sealed(t);
  IgvmHandle igvm = load(bytes);
  ASSERT_GT(igvm, 0);
  IgvmkitDiagnostic d;
  EXPECT_EQ(igvmkit_last_error(&d), IGVMAPI_NO_DATA);  // the last load succeeded
  EXPECT_EQ(igvmkit_last_error(nullptr), IGVMAPI_INVALID_PARAMETER);

  EXPECT_EQ(igvm_header_count(igvm + 1000, IGVM_HEADER_SECTION_PLATFORM), IGVMAPI_INVALID_HANDLE);
  EXPECT_EQ(igvm_get_header(igvm + 1000, IGVM_HEADER_SECTION_PLATFORM, 0), IGVMAPI_INVALID_HANDLE);
  EXPECT_EQ(igvm_get_buffer_size(igvm, 123456), IGVMAPI_INVALID_HANDLE);
  EXPECT_EQ(igvm_get_buffer(igvm, 123456), nullptr);
  igvm_free_buffer(igvm, 123456);  // ignored
  EXPECT_EQ(igvmkit_warning_count(igvm + 1000), IGVMAPI_INVALID_HANDLE);

  EXPECT_EQ(igvm_header_count(igvm, 7), IGVMAPI_INVALID_PARAMETER);
  EXPECT_EQ(igvm_get_header_type(igvm, IGVM_HEADER_SECTION_DIRECTIVE, 2),
            IGVMAPI_INVALID_PARAMETER);
  EXPECT_EQ(igvm_get_header(igvm, IGVM_HEADER_SECTION_PLATFORM, 1), IGVMAPI_INVALID_PARAMETER);
  EXPECT_EQ(igvm_get_header_data(igvm, IGVM_HEADER_SECTION_PLATFORM, 0), IGVMAPI_INVALID_PARAMETER);
  EXPECT_EQ(igvm_get_header_data(igvm, IGVM_HEADER_SECTION_DIRECTIVE, 0), IGVMAPI_NO_DATA);
  EXPECT_GT(igvm_get_header_data(igvm, IGVM_HEADER_SECTION_DIRECTIVE, 1), 0);
  EXPECT_EQ(igvmkit_get_warning(igvm, 0, &d), IGVMAPI_INVALID_PARAMETER);
  EXPECT_EQ(igvm_new_from_binary(nullptr, 5), IGVMAPI_INVALID_PARAMETER);
  igvm_free(igvm);
  EXPECT_EQ(igvm_header_count(igvm, IGVM_HEADER_SECTION_PLATFORM), IGVMAPI_INVALID_HANDLE);
  igvm_free(igvm);  // twice: ignored
}

// Headers come back as the reference re-serializes them: file offsets and reserved fields 0, a
// non-SNP VP context without gpa, flags reduced to the bits the reference models.
TEST(LibIgvm, HeadersAreNormalizedAsTheReferenceDoes) {
  TestImage t;
  t.platform(PlatformType::kNative, 1);
  IGVM_VHS_REQUIRED_MEMORY rm{};
  rm.gpa = 0x100000;
  rm.compatibility_mask = 1;
  rm.number_of_bytes = 0x1000;
  rm.flags = 0x3;  // vtl2_protectable + a reserved bit (a warning, not an error)
  t.add(kVhtRequiredMemory, rm);
  ByteVector ctx = testing::structBytes(testing::sampleNativeContext());
  ctx.resize(4096);
  t.vpContext(0x5000, 1, 0, ctx);
  IgvmHandle igvm = load(t.bytes());
  ASSERT_GT(igvm, 0);
  EXPECT_EQ(igvmkit_warning_count(igvm), 1);

  IgvmHandle h = igvm_get_header(igvm, IGVM_HEADER_SECTION_DIRECTIVE, 0);
  ASSERT_EQ(igvm_get_buffer_size(igvm, h), 8 + 24);
  IGVM_VHS_REQUIRED_MEMORY got{};
  std::memcpy(&got, igvm_get_buffer(igvm, h) + 8, sizeof(got));
  EXPECT_EQ(IGVM_UINT32_FLAGS_VALUE(got.flags), 1u);

  h = igvm_get_header(igvm, IGVM_HEADER_SECTION_DIRECTIVE, 1);
  ASSERT_EQ(igvm_get_buffer_size(igvm, h), 8 + 24);  // 20 bytes of content, padded to 8
  const auto* vh = reinterpret_cast<const IGVM_VHS_VARIABLE_HEADER*>(igvm_get_buffer(igvm, h));
  EXPECT_EQ(vh->typ, IGVM_VHT_VP_CONTEXT);
  EXPECT_EQ(vh->length, 20u);
  IGVM_VHS_VP_CONTEXT vp{};
  std::memcpy(&vp, igvm_get_buffer(igvm, h) + 8, 20);
  EXPECT_EQ(vp.gpa, 0u);
  EXPECT_EQ(vp.file_offset, 0u);
  EXPECT_EQ(vp.compatibility_mask, 1u);
  IgvmHandle data = igvm_get_header_data(igvm, IGVM_HEADER_SECTION_DIRECTIVE, 1);
  ASSERT_EQ(igvm_get_buffer_size(igvm, data), 4096);
  EXPECT_EQ(std::memcmp(igvm_get_buffer(igvm, data), ctx.data(), 4096), 0);
  igvm_free(igvm);
}

// Where the reference and igvmkit's defaults differ, libigvm follows the reference.
TEST(LibIgvm, RefusesWhatOnlyTheReferenceRefuses) {
  TestImage t;
  t.platform(PlatformType::kSevSnp, 1);
  t.addRaw(kVhtOptionalBit | 0x302, ByteVector(24));
  t.pageData(0, 1, page(1));
  EXPECT_EQ(load(t.bytes()), IGVMAPI_INVALID_BINARY_VARIABLE_HEADER_SECTION);
  ASSERT_TRUE(File::parse(t.bytes()).ok());  // igvmkit skips an unknown optional header
}

}  // namespace
}  // namespace igvmkit::igvm
