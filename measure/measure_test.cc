// measure() over files the igvm writer produces. Expected values come from a deliberately tiny,
// serial reimplementation of the SNP PAGE_INFO chain written here against OpenSSL's one-shot
// SHA384() (measurement.md §1.1-§1.2), independent of measure/snp.cc and parallel.cc, and from
// SnpHostMeasurement fed by hand.
#include "measure/measure.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/testing/matchers.h"
#include "igvm/testing/test_image.h"
#include "igvm/writer.h"
#include "measure/tdx.h"

namespace igvmkit::measure {
namespace {

using ::igvmkit::testing::HasRule;

using igvm::Blob;
using igvm::Model;

// --- the naive model (SNP) ---
struct Naive {
  unsigned char ld[48] = {};
  void add(uint64_t gpa, uint8_t type, const ByteVector* page) {
    unsigned char info[0x70] = {};
    std::memcpy(info, ld, 48);
    if (page != nullptr) {
      unsigned char buf[4096] = {};
      if (!page->empty()) {
        std::memcpy(buf, page->data(), page->size());
      }
      SHA384(buf, 4096, info + 0x30);
    }
    info[0x60] = 0x70;
    info[0x62] = type;
    for (int i = 0; i < 8; ++i) {
      info[0x68 + i] = static_cast<unsigned char>(gpa >> (8 * i));
    }
    SHA384(info, sizeof(info), ld);
  }
  std::string hexld() const {
    return hexBytes(Bytes(reinterpret_cast<const std::byte*>(ld), 48));
  }
};

ByteVector pattern(size_t n, uint32_t seed) {
  ByteVector v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = static_cast<std::byte>((i * 131 + seed * 17 + (i >> 8)) & 0xFF);
  }
  return v;
}

ByteVector vmsaPage(uint8_t tag) {
  ByteVector v(4096, std::byte{0});
  v[0x3B0] = std::byte{1};  // sev_features = SNP_ACTIVE
  v[0x100] = std::byte{tag};
  return v;
}

constexpr uint64_t kVmsaGpaOther = 0x7000;

// An SNP (mask 1) + TDX (mask 2) + VBS (mask 4) file: 6 data pages (one 2 MiB-free), a zero page,
// an unmeasured page, a shared page, a secrets and a CPUID page, a 2-page parameter area, a
// page for TDX only, and VMSAs for vp 0 and 1.
struct Fixture {
  Model model;
  ByteVector bytes;
  std::vector<ByteVector> pages;
  Fixture() {
    model.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1, 0, 0));
    model.add(igvm::platformEntry(igvm::PlatformType::kTdx, 0x2, 0, 0));
    model.add(igvm::platformEntry(igvm::PlatformType::kVsmIsolation, 0x4));
    for (uint32_t i = 0; i < 6; ++i) {
      pages.push_back(pattern(i == 5 ? 1000 : 4096, i));  // the last one short (zero padded)
      model.add(igvm::pageDataEntry(0x100000 + i * 0x1000, 0x7, Blob(pages.back())));
    }
    model.add(igvm::pageDataEntry(0x200000, 0x7));  // no data: a page of zeros
    model.add(igvm::pageDataEntry(0x201000, 0x7, Blob(pattern(4096, 9)),
                                  igvm::kPageDataFlagUnmeasured));
    model.add(igvm::pageDataEntry(0x202000, 0x3, Blob(pattern(4096, 10)),
                                  igvm::kPageDataFlagShared));
    model.add(igvm::pageDataEntry(0x203000, 0x1, {}, 0, igvm::PageDataType::kSecrets));
    model.add(igvm::pageDataEntry(0x204000, 0x1, Blob(pattern(4096, 11)), 0,
                                  igvm::PageDataType::kCpuidData));
    model.add(igvm::parameterAreaEntry(0, 0x2000));
    model.add(igvm::makeEntry(igvm::kVhtVpCountParameter, igvm::IGVM_VHS_PARAMETER{0, 0}));
    model.add(igvm::parameterInsertEntry(0x300000, 0x7, 0));
    model.add(igvm::pageDataEntry(0x400000, 0x2, Blob(pattern(4096, 12))));
    model.add(igvm::vpContextEntry(kVmsaGpaOther, 0x1, 0, Blob(vmsaPage(0xA0))));
    model.add(igvm::vpContextEntry(0xFFFFFFFFF000, 0x1, 1, Blob(vmsaPage(0xA1))));
    Result<ByteVector> w = igvm::write(model, {.version = 2});
    EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().message);
    if (w.ok()) {
      bytes = std::move(*w);
    }
  }
  // The SNP chain up to (not including) VMSAs; `shared` says whether the shared page counts.
  void naivePages(Naive& n, bool shared) const {
    for (uint32_t i = 0; i < 6; ++i) {
      n.add(0x100000 + i * 0x1000, 1, &pages[i]);
    }
    ByteVector zero;
    n.add(0x200000, 1, &zero);
    n.add(0x201000, 4, nullptr);
    if (shared) {
      ByteVector p = pattern(4096, 10);
      n.add(0x202000, 1, &p);
    }
    n.add(0x203000, 5, nullptr);
    n.add(0x204000, 6, nullptr);
    n.add(0x300000, 4, nullptr);
    n.add(0x301000, 4, nullptr);
  }
};

Result<Measurement> run(const Fixture& f, MeasureOptions o) {
  IGVMKIT_ASSIGN_OR_RETURN(igvm::File file, igvm::File::parse(f.bytes));
  return measure(file, o);
}

TEST(MeasureTest, SnpKvmMatchesNaiveChainForEveryVcpuCountAndThreadCount) {
  Fixture f;
  for (uint32_t vcpus : {1u, 2u, 3u}) {
    Naive n;
    f.naivePages(n, /*shared=*/true);
    ByteVector v0 = vmsaPage(0xA0), v1 = vmsaPage(0xA1);
    for (uint32_t i = 0; i < vcpus; ++i) {
      n.add(0xFFFFFFFFF000, 2, i == 1 ? &v1 : &v0);
    }
    for (unsigned threads : {1u, 2u, 4u}) {
      Result<Measurement> m = run(f, {.vcpus = vcpus, .threads = threads});
      ASSERT_TRUE(m.ok()) << m.error().message;
      EXPECT_EQ(hexBytes(m->digest), n.hexld()) << vcpus << " vcpus, " << threads << " threads";
      EXPECT_EQ(m->pages_measured, 13u + vcpus);
      EXPECT_EQ(m->host, "kvm");
      EXPECT_EQ(m->vcpus, vcpus);
    }
  }
}

TEST(MeasureTest, SnpKvmWarnsAboutTheVmsaAtAnotherGpa) {
  Fixture f;
  Result<Measurement> m = run(f, {.vcpus = 1});
  ASSERT_TRUE(m.ok());
  bool found = false;
  for (const std::string& w : m->warnings) {
    found = found || w.find("0x7000") != std::string::npos;
  }
  EXPECT_TRUE(found);
}

TEST(MeasureTest, SnpMshvMatchesNaiveChain) {
  Fixture f;
  Naive n;
  f.naivePages(n, /*shared=*/false);
  ByteVector v0 = vmsaPage(0xA0), v1 = vmsaPage(0xA1);
  n.add(kVmsaGpaOther, 2, &v0);
  n.add(0xFFFFFFFFF000, 2, &v1);
  Result<Measurement> m = run(f, {.host = HostModel::kMshv, .vcpus = 7});
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(hexBytes(m->digest), n.hexld());
  EXPECT_FALSE(m->vcpus.has_value());
  EXPECT_EQ(m->assumptions["shared_pages"], "skipped");
}

TEST(MeasureTest, NativeZeroUsesZeroPageType) {
  Fixture f;
  Result<Measurement> normal = run(f, {.host = HostModel::kMshv});
  Result<Measurement> native = run(f, {.host = HostModel::kMshv, .native_zero = true});
  ASSERT_TRUE(normal.ok() && native.ok());
  EXPECT_NE(normal->digest, native->digest);
  EXPECT_EQ(native->assumptions["zero_pages"], "zero");
}

TEST(MeasureTest, FileDigestEqualsSnpHostMeasurementFedByHand) {
  Fixture f;
  SnpHostMeasurement h(HostModel::kKvm, 2);
  for (uint32_t i = 0; i < 6; ++i) {
    ASSERT_TRUE(h.pageData({.gpa = 0x100000 + i * 0x1000, .data = f.pages[i]}).ok());
  }
  ASSERT_TRUE(h.pageData({.gpa = 0x200000}).ok());
  ByteVector un = pattern(4096, 9), sh = pattern(4096, 10), cp = pattern(4096, 11);
  ASSERT_TRUE(h.pageData({.gpa = 0x201000, .unmeasured = true, .data = un}).ok());
  ASSERT_TRUE(h.pageData({.gpa = 0x202000, .shared = true, .data = sh}).ok());
  ASSERT_TRUE(h.pageData({.gpa = 0x203000, .kind = SnpDataKind::kSecrets}).ok());
  ASSERT_TRUE(h.pageData({.gpa = 0x204000, .kind = SnpDataKind::kCpuid, .data = cp}).ok());
  ASSERT_TRUE(h.parameterInsert(0x300000, 0x2000).ok());
  ByteVector v0 = vmsaPage(0xA0), v1 = vmsaPage(0xA1);
  ASSERT_TRUE(h.vpContext(0, kVmsaGpaOther, v0).ok());
  ASSERT_TRUE(h.vpContext(1, 0xFFFFFFFFF000, v1).ok());
  Result<SnpHostResult> r = h.finish();
  ASSERT_TRUE(r.ok());
  Result<Measurement> m = run(f, {.vcpus = 2});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(hexBytes(m->digest), hexDigest(r->digest));
}

TEST(MeasureTest, TraceLinesFollowTheChain) {
  Fixture f;
  std::vector<std::string> lines;
  Result<Measurement> m =
      run(f, {.vcpus = 1, .trace = [&](const std::string& l) { lines.push_back(l); }});
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(lines.size(), m->pages_measured);
  EXPECT_EQ(lines[0].rfind("0 normal gpa=0x100000 contents=", 0), 0u) << lines[0];
  EXPECT_NE(lines.back().find("digest=" + hexBytes(m->digest)), std::string::npos);
}

TEST(MeasureTest, TdxMatchesMrtdFedByHand) {
  Fixture f;
  TdxMrtd t;
  for (uint32_t i = 0; i < 6; ++i) {
    ASSERT_TRUE(t.addPage(0x100000 + i * 0x1000, f.pages[i], true).ok());
  }
  ASSERT_TRUE(t.addPage(0x200000, {}, true).ok());
  ASSERT_TRUE(t.addPage(0x201000, {}, false).ok());
  // 0x202000 is shared: skipped; secrets/cpuid pages are SNP only (mask 1).
  ASSERT_TRUE(t.pageAddRange(0x300000, 0x2000).ok());
  ByteVector p = pattern(4096, 12);
  ASSERT_TRUE(t.addPage(0x400000, p, true).ok());
  Result<Sha384Digest> want = t.result();
  ASSERT_TRUE(want.ok());
  Result<Measurement> m = run(f, {.platform = Platform::kTdx});
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(hexBytes(m->digest), hexDigest(*want));
  EXPECT_EQ(m->pages_measured, 11u);
}

TEST(MeasureTest, MissingPlatformIsAnError) {
  Fixture f;
  Result<Measurement> m = run(f, {.platform = Platform::kSev});
  ASSERT_THAT(m, HasRule("measure.no_platform"));
}

TEST(MeasureTest, KvmWithoutVmsaIsAnError) {
  Model model;
  model.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1, 0, 0));
  model.add(igvm::pageDataEntry(0x1000, 0x1));
  Result<ByteVector> bytes = igvm::write(model);
  ASSERT_TRUE(bytes.ok());
  Result<igvm::File> file = igvm::File::parse(*bytes);
  ASSERT_TRUE(file.ok());
  Result<Measurement> m = measure(*file, {});
  ASSERT_THAT(m, HasRule("measure.no_vmsa"));
  // mshv measures such a file.
  EXPECT_TRUE(measure(*file, {.host = HostModel::kMshv}).ok());
}

// One page at `gpa` (4 KiB, or 2 MiB when `big`) plus, for SNP, a VMSA at KVM's GPA; parsed
// leniently as `igvmkit measure` does, so a 2 MiB page need only be 4 KiB aligned.
Result<Measurement> measureOnePage(Platform platform, uint64_t gpa, bool big = false,
                                   HostModel host = HostModel::kKvm) {
  igvm::testing::TestImage t;
  t.platform(igvmPlatformType(platform), 0x1);
  t.pageData(gpa, 0x1, {}, big ? igvm::kPageDataFlagIs2MbPage : 0);
  if (platform == Platform::kSnp) {
    t.vpContext(0xFFFFFFFFF000, 0x1, 0, vmsaPage(0xA0));
  }
  ByteVector bytes = t.bytes();
  IGVMKIT_ASSIGN_OR_RETURN(igvm::File file,
                           igvm::File::parse(bytes, {.conformance = igvm::Conformance::kCompat}));
  return measure(file, {.platform = platform, .host = host});
}

// Measure refuses what plan refuses (igvm/gpa.h): a page past the platform's GPA width has no
// launch, so no digest; a 4 KiB page at 0xFFFFFFFFFFFFF000 ends at 2^64 (past the width, no
// wrap), a 2 MiB page there wraps.
TEST(MeasureTest, PagesBeyondTheGpaWidthOrWrappingAreRefusedOnEveryPlatform) {
  struct Case {
    Platform platform;
    uint8_t bits;
  };
  for (Case c : {Case{Platform::kTdx, 51}, Case{Platform::kSnp, 51}, Case{Platform::kVbs, 52}}) {
    SCOPED_TRACE(platformName(c.platform));
    const uint64_t limit = uint64_t{1} << c.bits;
    EXPECT_TRUE(measureOnePage(c.platform, limit - 0x1000).ok());
    EXPECT_TRUE(measureOnePage(c.platform, limit - 0x200000, true).ok());
    EXPECT_THAT(measureOnePage(c.platform, limit), HasRule("gpa.width"));
    EXPECT_THAT(measureOnePage(c.platform, uint64_t{1} << 52), HasRule("gpa.width"));
    EXPECT_THAT(measureOnePage(c.platform, 0xFFFF'FFFF'FFFF'F000), HasRule("gpa.width"));
    EXPECT_THAT(measureOnePage(c.platform, 0xFFFF'FFFF'FFFF'F000, true), HasRule("gpa.wrap"));
  }
  EXPECT_THAT(measureOnePage(Platform::kSnp, uint64_t{1} << 51, false, HostModel::kMshv),
              HasRule("gpa.width"));
  Result<Measurement> top = measureOnePage(Platform::kTdx, 0xFFFF'FFFF'FFFF'F000);
  ASSERT_FALSE(top.ok());
  ASSERT_TRUE(top.error().location.has_value());
  EXPECT_EQ(top.error().location->header_name, "PAGE_DATA");
  EXPECT_EQ(top.error().message,
            "page data at 0xfffffffffffff000 (0x1000 bytes) lies beyond the 51-bit guest physical "
            "address space of TDX guests (gpa below 0x8000000000000: gpa.shared is bit 51 (gpaw "
            "52))");
}

TEST(MeasureTest, VbsRejectsNonNormalPages) {
  Model model;
  model.add(igvm::platformEntry(igvm::PlatformType::kVsmIsolation, 0x1));
  model.add(igvm::pageDataEntry(0x1000, 0x1, {}, 0, igvm::PageDataType::kSecrets));
  Result<ByteVector> bytes = igvm::write(model);
  ASSERT_TRUE(bytes.ok());
  Result<igvm::File> file = igvm::File::parse(*bytes);
  ASSERT_TRUE(file.ok());
  Result<Measurement> m = measure(*file, {.platform = Platform::kVbs});
  ASSERT_THAT(m, HasRule("measure.unsupported"));
}

TEST(MeasureTest, ReferenceDocumentRoundTrips) {
  Fixture f;
  std::vector<Measurement> ms;
  for (uint32_t v : {1u, 2u}) {
    Result<Measurement> m = run(f, {.vcpus = v});
    ASSERT_TRUE(m.ok());
    ms.push_back(*m);
  }
  nlohmann::ordered_json one = ms[0].toReference().toJson();
  EXPECT_EQ(one["platform"], "snp");
  EXPECT_EQ(one["digest"], hexBytes(ms[0].digest));
  nlohmann::ordered_json all = toReference(ms).toJson();
  ASSERT_TRUE(all.contains("measurements"));
  Result<ReferenceValues> back = ReferenceValues::fromJson(all.dump());
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->measurements.size(), 2u);
  EXPECT_EQ(back->measurements[1].vcpus, 2u);
  EXPECT_EQ(back->measurements[1].digest, ms[1].digest);
}

// The threaded path (background hashing, batches folded while the next hashes) against one thread
// and the naive chain, on images from none to several batches of pages: zero pages (no data),
// unmeasured, shared and short pages scattered through them, and tiny files (a lone VMSA, one page).
TEST(MeasureTest, ThreadedAndSingleThreadedAgreeOnImagesOfEverySize) {
  for (size_t count : {size_t{0}, size_t{1}, size_t{3}, size_t{1023}, size_t{1024},
                       size_t{3 * 1024 + 37}}) {
    Model model;
    model.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1, 0, 0));
    Naive kvm, mshv;
    std::vector<ByteVector> data;
    data.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      const uint64_t gpa = 0x100000 + i * 0x1000;
      switch (i % 7) {
        case 2: {  // no data: a page of zeros
          model.add(igvm::pageDataEntry(gpa, 0x1));
          ByteVector zero;
          kvm.add(gpa, 1, &zero);
          mshv.add(gpa, 1, &zero);
          break;
        }
        case 4:  // unmeasured
          model.add(igvm::pageDataEntry(gpa, 0x1, Blob(pattern(4096, 77)),
                                        igvm::kPageDataFlagUnmeasured));
          kvm.add(gpa, 4, nullptr);
          mshv.add(gpa, 4, nullptr);
          break;
        case 5:  // shared: kvm measures it, mshv skips it
          data.push_back(pattern(4096, static_cast<uint32_t>(i)));
          model.add(igvm::pageDataEntry(gpa, 0x1, Blob(data.back()), igvm::kPageDataFlagShared));
          kvm.add(gpa, 1, &data.back());
          break;
        default:  // data, every third one short (zero padded)
          data.push_back(pattern(i % 3 == 0 ? 100 + i % 4000 : 4096, static_cast<uint32_t>(i)));
          model.add(igvm::pageDataEntry(gpa, 0x1, Blob(data.back())));
          kvm.add(gpa, 1, &data.back());
          mshv.add(gpa, 1, &data.back());
      }
    }
    ByteVector vmsa = vmsaPage(0xB0);
    model.add(igvm::vpContextEntry(0xFFFFFFFFF000, 0x1, 0, Blob(vmsa)));
    kvm.add(0xFFFFFFFFF000, 2, &vmsa);
    mshv.add(0xFFFFFFFFF000, 2, &vmsa);
    Result<ByteVector> bytes = igvm::write(model);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    Result<igvm::File> file = igvm::File::parse(*bytes);
    ASSERT_TRUE(file.ok()) << file.error().message;
    for (HostModel host : {HostModel::kKvm, HostModel::kMshv}) {
      const std::string naive = host == HostModel::kKvm ? kvm.hexld() : mshv.hexld();
      std::string single;
      for (unsigned threads : {1u, 2u, 4u}) {
        uint64_t walked = 0, total = 0;
        Result<Measurement> m =
            measure(*file, {.host = host,
                            .threads = threads,
                            .progress = [&](uint64_t done, uint64_t of) {
                              EXPECT_GT(done, walked);
                              walked = done;
                              total = of;
                            }});
        ASSERT_TRUE(m.ok()) << m.error().message;
        EXPECT_EQ(hexBytes(m->digest), naive)
            << count << " pages, " << hostModelName(host) << ", " << threads << " threads";
        if (threads == 1) {
          single = hexBytes(m->digest);
        }
        EXPECT_EQ(hexBytes(m->digest), single) << count << " pages, " << threads << " threads";
        EXPECT_EQ(walked, file->headers().size());  // the last call reports every header
        EXPECT_EQ(total, file->headers().size());
      }
    }
  }
}

// With MeasureOptions::source (the mapped file the pages are views into), SNP, TDX and VBS read
// the pages with pread (parallel hashing runs; 256 KiB windows for the serial ones) and give the
// digests of reading the mapping: 200 pages of varied lengths over several windows, a zero page,
// unmeasured and shared pages, and the file's own end inside the last window.
TEST(MeasureTest, ReadingPagesThroughTheFileGivesTheSameDigests) {
  Model model;
  model.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1, 0, 0));
  model.add(igvm::platformEntry(igvm::PlatformType::kTdx, 0x2, 0, 0));
  model.add(igvm::platformEntry(igvm::PlatformType::kVsmIsolation, 0x4));
  for (uint32_t i = 0; i < 200; ++i) {
    const uint64_t gpa = 0x100000 + uint64_t{i} * 0x1000;
    if (i % 17 == 3) {
      model.add(igvm::pageDataEntry(gpa, 0x7));  // a page of zeros
    } else if (i % 23 == 5) {
      model.add(
          igvm::pageDataEntry(gpa, 0x7, Blob(pattern(4096, i)), igvm::kPageDataFlagUnmeasured));
    } else if (i % 29 == 7) {
      model.add(igvm::pageDataEntry(gpa, 0x3, Blob(pattern(4096, i)), igvm::kPageDataFlagShared));
    } else {
      model.add(igvm::pageDataEntry(gpa, 0x7, Blob(pattern(i % 5 == 0 ? 300 + i : 4096, i))));
    }
  }
  model.add(igvm::vpContextEntry(0xFFFFFFFFF000, 0x1, 0, Blob(vmsaPage(0xC0))));
  Result<ByteVector> bytes = igvm::write(model);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  const std::string path = ::testing::TempDir() + "/measure_source.igvm";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(bytes->data(), 1, bytes->size(), f), bytes->size());
    ASSERT_EQ(std::fclose(f), 0);
  }
  Result<MappedFile> mapped = MappedFile::open(path);
  ASSERT_TRUE(mapped.ok());
  Result<igvm::File> file = igvm::File::parse(mapped->bytes());
  ASSERT_TRUE(file.ok()) << file.error().message;
  for (Platform platform : {Platform::kSnp, Platform::kTdx, Platform::kVbs}) {
    for (unsigned threads : {1u, 2u}) {
      Result<Measurement> direct = measure(*file, {.platform = platform, .threads = threads});
      Result<Measurement> read =
          measure(*file, {.platform = platform, .threads = threads, .source = &*mapped});
      ASSERT_TRUE(direct.ok()) << direct.error().message;
      ASSERT_TRUE(read.ok()) << read.error().message;
      EXPECT_EQ(hexBytes(read->digest), hexBytes(direct->digest))
          << platformName(platform) << ", " << threads << " threads";
      EXPECT_EQ(read->pages_measured, direct->pages_measured);
    }
  }
}

}  // namespace
}  // namespace igvmkit::measure
