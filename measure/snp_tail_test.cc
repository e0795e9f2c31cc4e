// snpKvmPrefix + extendKvmVmsas against measure() itself: the split chain must give, for every
// vCPU count, exactly the digest a whole measurement gives (with and without native zero pages,
// with VMSAs for vp 0 and 1, one of them shorter than a page).
#include "base/testing/matchers.h"
#include "measure/snp_tail.h"

#include <gtest/gtest.h>

#include "igvm/writer.h"

namespace igvmkit::measure {
namespace {

using ::igvmkit::testing::HasRule;

ByteVector pattern(size_t n, uint32_t seed) {
  ByteVector v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = static_cast<std::byte>((i * 131 + seed * 17 + (i >> 8)) & 0xFF);
  }
  return v;
}

ByteVector vmsaPage(uint8_t tag, size_t size) {
  ByteVector v(size, std::byte{0});
  v[0x3B0] = std::byte{1};  // sev_features = SNP_ACTIVE
  v[0x100] = std::byte{tag};
  return v;
}

ByteVector testFile() {
  igvm::Model model;
  model.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1, 0, 0));
  for (uint32_t i = 0; i < 5; ++i) {
    model.add(igvm::pageDataEntry(0x100000 + i * 0x1000, 0x1, igvm::Blob(pattern(4096, i))));
  }
  model.add(igvm::pageDataEntry(0x200000, 0x1));  // no data: differs under native_zero
  model.add(igvm::vpContextEntry(0x7000, 0x1, 0, igvm::Blob(vmsaPage(0xA0, 4096))));
  model.add(igvm::vpContextEntry(0xFFFFFFFFF000, 0x1, 1, igvm::Blob(vmsaPage(0xA1, 2048))));
  Result<ByteVector> w = igvm::write(model, {.version = 2});
  EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().message);
  return w.ok() ? *w : ByteVector{};
}

TEST(SnpTailTest, PrefixPlusTailEqualsMeasureForEveryVcpuCount) {
  const ByteVector bytes = testFile();
  Result<igvm::File> file = igvm::File::parse(bytes);
  ASSERT_TRUE(file.ok()) << file.error().message;
  for (bool native_zero : {false, true}) {
    Result<SnpKvmPrefix> prefix = snpKvmPrefix(*file, {.native_zero = native_zero});
    ASSERT_TRUE(prefix.ok()) << prefix.error().message;
    EXPECT_EQ(prefix->pages, 6u);
    ASSERT_EQ(prefix->vmsas.size(), 2u);
    constexpr uint32_t kMax = 5;
    Result<std::vector<Bytes>> pages = kvmVmsaPages(prefix->vmsas, kMax);
    ASSERT_TRUE(pages.ok());
    std::vector<Sha384Digest> hashes;
    for (Bytes p : *pages) {
      Result<Sha384Digest> h = sha384Page(p);
      ASSERT_TRUE(h.ok());
      hashes.push_back(*h);
    }
    Result<std::vector<Sha384Digest>> by_count = extendKvmVmsas(prefix->digest, hashes);
    ASSERT_TRUE(by_count.ok());
    ASSERT_EQ(by_count->size(), kMax);
    for (uint32_t n = 1; n <= kMax; ++n) {
      Result<Measurement> m =
          measure(*file, {.host = HostModel::kKvm, .vcpus = n, .native_zero = native_zero});
      ASSERT_TRUE(m.ok()) << m.error().message;
      EXPECT_EQ(hexDigest((*by_count)[n - 1]), hexBytes(m->digest)) << n << " vcpus";
    }
    ASSERT_TRUE(prefix->mshv_shares_prefix);
    Result<Sha384Digest> mshv = mshvDigestFromPrefix(*prefix);
    ASSERT_TRUE(mshv.ok());
    Result<Measurement> m =
        measure(*file, {.host = HostModel::kMshv, .native_zero = native_zero});
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(hexDigest(*mshv), hexBytes(m->digest));
  }
}

TEST(SnpTailTest, MshvDoesNotShareThePrefixWithSharedPagesOrPagesAfterAVmsa) {
  for (bool shared : {true, false}) {
    igvm::Model model;
    model.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1, 0, 0));
    model.add(igvm::pageDataEntry(0x1000, 0x1, igvm::Blob(pattern(4096, 1)),
                                  shared ? igvm::kPageDataFlagShared : 0));
    model.add(igvm::vpContextEntry(0x7000, 0x1, 0, igvm::Blob(vmsaPage(0xA0, 4096))));
    if (!shared) {
      model.add(igvm::pageDataEntry(0x2000, 0x1, igvm::Blob(pattern(4096, 2))));
    }
    Result<ByteVector> w = igvm::write(model, {.version = 2});
    ASSERT_TRUE(w.ok());
    Result<igvm::File> file = igvm::File::parse(*w);
    ASSERT_TRUE(file.ok());
    Result<SnpKvmPrefix> prefix = snpKvmPrefix(*file, {});
    ASSERT_TRUE(prefix.ok());
    EXPECT_FALSE(prefix->mshv_shares_prefix);
    Result<Sha384Digest> mshv = mshvDigestFromPrefix(*prefix);
    ASSERT_FALSE(mshv.ok());
    EXPECT_THAT(mshv, HasRule("snp_tail.mshv"));
  }
}

TEST(SnpTailTest, FileWithoutVmsaIsRefusedAsMeasureRefusesIt) {
  igvm::Model model;
  model.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1, 0, 0));
  model.add(igvm::pageDataEntry(0x1000, 0x1, igvm::Blob(pattern(4096, 1))));
  Result<ByteVector> w = igvm::write(model, {.version = 2});
  ASSERT_TRUE(w.ok());
  Result<igvm::File> file = igvm::File::parse(*w);
  ASSERT_TRUE(file.ok());
  Result<SnpKvmPrefix> prefix = snpKvmPrefix(*file, {});
  ASSERT_FALSE(prefix.ok());
  EXPECT_THAT(prefix, HasRule("measure.no_vmsa"));
}

}  // namespace
}  // namespace igvmkit::measure

namespace igvmkit::measure {
namespace {

// measureVcpuRange == one measure() per count: digest, pages, warnings (which depend on the count
// here: vp_index 1's VMSA is unused with 1 vCPU) and assumptions, over the whole vCPU range.
TEST(SnpTailTest, VcpuRangeEqualsOneMeasurePerCount) {
  const ByteVector bytes = testFile();
  Result<igvm::File> file = igvm::File::parse(bytes);
  ASSERT_TRUE(file.ok()) << file.error().message;
  struct Range {
    uint32_t first, last;
  };
  for (bool native_zero : {false, true}) {
    for (Range r : {Range{1, igvm::kMaxVcpus}, Range{2, 4}, Range{7, 7}}) {
      MeasureOptions o{.host = HostModel::kKvm, .native_zero = native_zero};
      Result<std::vector<Measurement>> range = measureVcpuRange(*file, o, r.first, r.last);
      ASSERT_TRUE(range.ok()) << range.error().message;
      ASSERT_EQ(range->size(), r.last - r.first + 1);
      for (uint32_t n = r.first; n <= r.last; ++n) {
        o.vcpus = n;
        Result<Measurement> one = measure(*file, o);
        ASSERT_TRUE(one.ok());
        const Measurement& got = (*range)[n - r.first];
        EXPECT_EQ(got.toReference().toJson().dump(), one->toReference().toJson().dump())
            << n << " vcpus";
        EXPECT_EQ(got.warnings, one->warnings) << n << " vcpus";
      }
    }
  }
  // The warnings do change with the count in this file.
  Result<std::vector<Measurement>> two = measureVcpuRange(*file, {}, 1, 2);
  ASSERT_TRUE(two.ok());
  EXPECT_NE((*two)[0].warnings, (*two)[1].warnings);
}

// Models that do not depend on the count measure once; an empty range is refused.
TEST(SnpTailTest, VcpuRangeOfACountFreeModelIsOneMeasurement) {
  const ByteVector bytes = testFile();
  Result<igvm::File> file = igvm::File::parse(bytes);
  ASSERT_TRUE(file.ok());
  Result<std::vector<Measurement>> mshv = measureVcpuRange(*file, {.host = HostModel::kMshv}, 1, 8);
  ASSERT_TRUE(mshv.ok());
  ASSERT_EQ(mshv->size(), 1u);
  EXPECT_EQ(hexBytes((*mshv)[0].digest),
            hexBytes(measure(*file, {.host = HostModel::kMshv})->digest));
  EXPECT_FALSE(measureVcpuRange(*file, {}, 3, 2).ok());
  EXPECT_FALSE(measureVcpuRange(*file, {}, 0, 2).ok());
}

}  // namespace
}  // namespace igvmkit::measure
