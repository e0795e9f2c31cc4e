#include "base/testing/matchers.h"
#include "measure/parallel.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace igvmkit::measure {
namespace {

using ::igvmkit::testing::HasRule;

constexpr size_t kPages = 3000;

// One buffer standing in for a memory-mapped file: page i's bytes are at i * 4096. Contents are
// views into it, as the IGVM front end passes them. Pattern as in derive_vectors.py: the page
// index as u64 LE, then (i * 7) & 0xff; lengths cycle 4096, 4096, 100, 0, 4096; types cycle
// N N N U N V Z S C N.
struct Image {
  std::vector<std::byte> mapping;
  std::vector<SnpPageOp> ops;
};

Image makeImage() {
  static const SnpPageType kTypes[] = {
      SnpPageType::kNormal, SnpPageType::kNormal, SnpPageType::kNormal, SnpPageType::kUnmeasured,
      SnpPageType::kNormal, SnpPageType::kVmsa,   SnpPageType::kZero,   SnpPageType::kSecrets,
      SnpPageType::kCpuid,  SnpPageType::kNormal};
  static const size_t kLengths[] = {4096, 4096, 100, 0, 4096};
  Image image;
  image.mapping.resize(kPages * 4096);
  for (size_t i = 0; i < kPages; ++i) {
    std::byte* page = image.mapping.data() + i * 4096;
    std::memset(page, static_cast<int>((i * 7) & 0xff), 4096);
    uint64_t index = i;
    std::memcpy(page, &index, 8);
  }
  for (size_t i = 0; i < kPages; ++i) {
    Bytes contents(image.mapping.data() + i * 4096, kLengths[i % 5]);
    image.ops.push_back({i * 4096, kTypes[i % 10], contents});
  }
  return image;
}

// Derived independently by measure/testdata/derive_vectors.py (Python hashlib, run once).
constexpr const char* kExpected =
    "8dda7ff081b1d7a2d8bf503a35c153bbd5d8d645f60df4ceaefbaf2f298e37bf9ae6833cf3342b212ca17a9b4c5dba"
    "5b";

std::string runSerial(const Image& image, std::vector<std::string>* trace) {
  SnpLaunchDigest ld;
  if (trace != nullptr) {
    ld.setTrace([trace](const SnpTraceRecord& r) { trace->push_back(formatSnpTrace(r)); });
  }
  for (const SnpPageOp& op : image.ops) {
    Status s = ld.addPage(op.gpa, op.type, op.contents);
    EXPECT_TRUE(s.ok());
  }
  return hexDigest(ld.digest());
}

TEST(ParallelSnp, SerialMatchesDerivedVector) {
  Image image = makeImage();
  EXPECT_EQ(runSerial(image, nullptr), kExpected);
}

TEST(ParallelSnp, AnyThreadCountAndBatchGivesTheSameDigestAndTrace) {
  Image image = makeImage();
  std::vector<std::string> serial_trace;
  ASSERT_EQ(runSerial(image, &serial_trace), kExpected);
  for (unsigned threads : {0u, 1u, 2u, 4u}) {
    for (size_t batch : {size_t{1}, size_t{7}, size_t{1024}, size_t{5000}}) {
      std::vector<std::string> trace;
      SnpLaunchDigest ld;
      ld.setTrace([&trace](const SnpTraceRecord& r) { trace.push_back(formatSnpTrace(r)); });
      Status s = measureSnpPages(ld, image.ops, {.threads = threads, .batch_pages = batch});
      ASSERT_TRUE(s.ok()) << s.error().message;
      EXPECT_EQ(hexDigest(ld.digest()), kExpected) << threads << " threads, batch " << batch;
      EXPECT_EQ(ld.pageCount(), kPages);
      EXPECT_EQ(trace, serial_trace) << threads << " threads, batch " << batch;
    }
  }
}

// With ParallelOptions::source, contents that are views into a mapped file are read with pread in
// runs of contiguous pages; the digest and trace are those of hashing the views themselves. Every
// seventh page's view is replaced by an equal copy outside the mapping (read from memory).
TEST(ParallelSnp, ReadingThroughTheMappedFileGivesTheSameDigestAndTrace) {
  Image image = makeImage();
  std::vector<std::string> serial_trace;
  ASSERT_EQ(runSerial(image, &serial_trace), kExpected);
  const std::string path = ::testing::TempDir() + "/parallel_source.bin";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(image.mapping.data(), 1, image.mapping.size(), f), image.mapping.size());
    ASSERT_EQ(std::fclose(f), 0);
  }
  Result<MappedFile> mapped = MappedFile::open(path);
  ASSERT_TRUE(mapped.ok());
  std::vector<ByteVector> copies;
  copies.reserve(kPages);
  std::vector<SnpPageOp> ops = image.ops;
  for (size_t i = 0; i < ops.size(); ++i) {
    const size_t offset = static_cast<size_t>(ops[i].contents.data() - image.mapping.data());
    ops[i].contents = mapped->bytes().subspan(offset, ops[i].contents.size());
    if (i % 7 == 0) {
      ops[i].contents = copies.emplace_back(ops[i].contents.begin(), ops[i].contents.end());
    }
  }
  for (unsigned threads : {1u, 2u, 4u}) {
    for (size_t batch : {size_t{1}, size_t{7}, size_t{1024}}) {
      std::vector<std::string> trace;
      SnpLaunchDigest ld;
      ld.setTrace([&trace](const SnpTraceRecord& r) { trace.push_back(formatSnpTrace(r)); });
      Status s = measureSnpPages(
          ld, ops, {.threads = threads, .batch_pages = batch, .source = &*mapped});
      ASSERT_TRUE(s.ok()) << s.error().message;
      EXPECT_EQ(hexDigest(ld.digest()), kExpected) << threads << " threads, batch " << batch;
      EXPECT_EQ(trace, serial_trace) << threads << " threads, batch " << batch;
    }
  }
}

TEST(ParallelSnp, StreamingAddAndFinish) {
  Image image = makeImage();
  SnpLaunchDigest ld;
  SnpPageStream stream(ld, {.threads = 4, .batch_pages = 256});
  for (const SnpPageOp& op : image.ops) {
    ASSERT_TRUE(stream.add(op).ok());
  }
  EXPECT_LT(ld.pageCount(), kPages);  // the last partial batch waits for finish()
  ASSERT_TRUE(stream.finish().ok());
  EXPECT_EQ(hexDigest(ld.digest()), kExpected);
}

TEST(ParallelSnp, ErrorsStopAtTheFailingPageLikeSerial) {
  Image image = makeImage();
  std::vector<std::byte> big(4097);
  image.ops[10].contents = Bytes(big);  // type NORMAL: too large
  image.ops[20].gpa = 0x123;            // never reached
  for (unsigned threads : {1u, 4u}) {
    SnpLaunchDigest serial;
    for (size_t i = 0; i < 10; ++i) {
      ASSERT_TRUE(serial.addPage(image.ops[i].gpa, image.ops[i].type, image.ops[i].contents).ok());
    }
    SnpLaunchDigest ld;
    Status s = measureSnpPages(ld, image.ops, {.threads = threads, .batch_pages = 64});
    ASSERT_THAT(s, HasRule("page.too_large"));
    EXPECT_EQ(ld.pageCount(), 10u);
    EXPECT_EQ(ld.digest(), serial.digest());
  }
  // A misaligned GPA is reported by the chain for that page.
  Image other = makeImage();
  other.ops[5].gpa = 0x5001;
  SnpLaunchDigest ld;
  Status s = measureSnpPages(ld, other.ops, {.threads = 2, .batch_pages = 64});
  ASSERT_THAT(s, HasRule("snp.gpa_alignment"));
  EXPECT_EQ(ld.pageCount(), 5u);
}

}  // namespace
}  // namespace igvmkit::measure
