// The streaming build (buildTo) against the in-memory one (build + measureBuilt): the same bytes
// and the same measurements, on synthetic [[data]] manifests that exercise what the stream must
// reproduce (zero pages, repeated pages, a short last page, a size past the file, per-platform
// blobs, every platform) and on the example manifests of testdata/manifests. The two paths share
// the layout and the igvm writer's layout rules, but measure independently: measureBuilt() runs
// measure() over the parsed file, buildTo() a MeasureStream over the pages as it writes them.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/file.h"
#include "base/testing/matchers.h"
#include "builder/build.h"
#include "builder/manifest.h"

namespace igvmkit::builder {
namespace {

namespace fs = std::filesystem;
using ::igvmkit::testing::HasRule;

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = fs::path(tmp != nullptr ? tmp : "/tmp") / ("stream_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void writeBytes(const fs::path& p, const ByteVector& bytes) {
    ASSERT_TRUE(writeFile(p.string(), bytes).ok());
  }

  // Builds `text` (a manifest in `base`) both ways and compares.
  void expectSame(const std::string& text, const fs::path& base, const std::string& name) {
    SCOPED_TRACE(name);
    Result<Manifest> m = parseManifest(text, (base / (name + ".toml")).string(), base.string());
    ASSERT_TRUE(m.ok()) << m.error().describe();
    Result<BuildOutput> memory = build(*m);
    ASSERT_TRUE(memory.ok()) << memory.error().describe();
    Result<measure::ReferenceValues> memory_ref = measureBuilt(*m, memory->igvm);
    ASSERT_TRUE(memory_ref.ok()) << memory_ref.error().describe();

    const std::string out_path = (dir_ / (name + ".igvm")).string();
    ByteVector streamed_bytes;
    std::optional<measure::ReferenceValues> streamed_ref;
    for (unsigned threads : {1u, 2u}) {
      OutputFiles outputs;
      Result<OutputFile*> out = outputs.add(out_path);
      ASSERT_TRUE(out.ok());
      Result<StreamedBuild> streamed = buildTo(*m, **out, {.measure = true, .threads = threads});
      ASSERT_TRUE(streamed.ok()) << streamed.error().describe();
      ASSERT_TRUE(outputs.commit().ok());
      Result<ByteVector> bytes = readFile(out_path);
      ASSERT_TRUE(bytes.ok());
      EXPECT_EQ(streamed->size, bytes->size());
      EXPECT_EQ(streamed->summary.page_data_directives, memory->page_data_directives);
      EXPECT_EQ(streamed->summary.masks, memory->masks);
      streamed_bytes = *bytes;
      streamed_ref = streamed->measurements;
      ASSERT_TRUE(streamed_ref.has_value());
      EXPECT_TRUE(streamed_bytes == memory->igvm) << "the streamed file differs (threads "
                                                  << threads << ")";
      EXPECT_EQ(streamed_ref->toJson().dump(2), memory_ref->toJson().dump(2))
          << "the streamed measurements differ (threads " << threads << ")";
    }
  }

  fs::path dir_;
};

ByteVector pattern(size_t size, uint8_t seed) {
  ByteVector out(size);
  for (size_t i = 0; i < size; ++i) {
    out[i] = std::byte(static_cast<uint8_t>(seed + i * 7 + (i >> 12)));
  }
  return out;
}

TEST_F(StreamTest, DataBlobsEveryPlatform) {
  // 1300 pages: five 256-page chunks of the stream, so each of its two buffers is refilled while
  // the other's pages may still be hashing.
  ByteVector blob = pattern(1300 * 4096 + 123, 3);  // a short last page
  std::fill(blob.begin() + 4096 * 5, blob.begin() + 4096 * 9, std::byte{0});  // zero pages
  std::copy(blob.begin() + 4096 * 20, blob.begin() + 4096 * 21, blob.begin() + 4096 * 30);  // repeat
  std::copy(blob.begin() + 4096 * 20, blob.begin() + 4096 * 21, blob.begin() + 4096 * 1100);
  writeBytes(dir_ / "blob.bin", blob);
  writeBytes(dir_ / "small.bin", pattern(100, 9));
  writeBytes(dir_ / "zeros.bin", ByteVector(3 * 4096, std::byte{0}));
  fs::copy_file("testdata/guests/probe.elf", dir_ / "probe.elf");
  const std::string text = R"(
[platform.native]
[platform.snp]
vcpus = 3
[platform.tdx]
[platform.vbs]
[memory]
size = "64M"
[payload]
elf = "probe.elf"
[[data]]
file = "blob.bin"
gpa = 0x1000000
[[data]]
file = "small.bin"
gpa = 0x2000000
size = "12K"
platforms = ["snp", "tdx"]
[[data]]
file = "zeros.bin"
gpa = 0x2100000
unmeasured = true
[[data]]
file = "blob.bin"
gpa = 0x3000000
platforms = ["native", "vbs"]
shared = true
[[data]]
gpa = 0x2200000
size = "8K"
)";
  expectSame(text, dir_, "all");
}

TEST_F(StreamTest, SnpOnlyBlobWithSecretsAndCpuid) {
  writeBytes(dir_ / "blob.bin", pattern(64 * 4096, 1));
  const std::string text = R"(
[platform.snp]
host = "mshv"
[memory]
size = "64M"
[vp]
mode = "registers"
[vp.registers]
rip = 0x1000000
[[data]]
file = "blob.bin"
gpa = 0x1000000
[[data]]
gpa = 0x5000
size = 0x1000
type = "secrets"
[[data]]
gpa = 0x6000
size = 0x1000
type = "cpuid"
)";
  expectSame(text, dir_, "snp");
}

// The example manifests as shipped, in the repository layout they assume (as build_all_test).
TEST_F(StreamTest, ExampleManifests) {
  const fs::path root = dir_ / "repo";
  const fs::path manifests = root / "testdata/manifests";
  fs::create_directories(manifests / "keys");
  fs::create_directories(root / "bazel-bin/testdata/manifests");
  fs::create_directories(root / "bazel-bin/testdata/guests");
  for (const auto& e : fs::directory_iterator("testdata/manifests")) {
    const std::string ext = e.path().extension().string();
    if (ext == ".toml" || ext == ".bin") {
      fs::copy_file(e.path(), manifests / e.path().filename());
    }
  }
  for (const char* f : {"vmlinuz", "initrd.img"}) {
    fs::copy_file(fs::path("testdata/manifests") / f, root / "bazel-bin/testdata/manifests" / f);
  }
  fs::copy_file("testdata/guests/probe.elf", root / "bazel-bin/testdata/guests/probe.elf");
  int compared = 0;
  for (const auto& e : fs::directory_iterator(manifests)) {
    if (e.path().extension() != ".toml") {
      continue;
    }
    const std::string name = e.path().stem().string();
    if (name == "firmware" && !fs::exists("/usr/share/OVMF/OVMF_CODE.fd")) {
      std::printf("SKIPPED PART: %s needs /usr/share/OVMF (Debian's ovmf)\n", name.c_str());
      continue;
    }
    Result<std::string> text = readTextFile(e.path().string());
    ASSERT_TRUE(text.ok());
    Result<Manifest> m = parseManifest(*text, e.path().string(), manifests.string());
    ASSERT_TRUE(m.ok()) << name << ": " << m.error().describe();
    if (m->snp && m->snp->id_block) {
      // Signed over the finished file (randomised ECDSA): always built in memory.
      std::printf("not streamed (SNP ID block): %s\n", name.c_str());
      continue;
    }
    expectSame(*text, manifests, name);
    ++compared;
  }
  EXPECT_GE(compared, 3);
}

TEST_F(StreamTest, RefusesWhatItCannotStream) {
  const std::string text = "[platform.native]\n[memory]\nsize = \"64M\"\n[vp]\nmode = \"registers\"\n"
      "[vp.registers]\nrip = 0x1000000\n";
  Result<Manifest> m = parseManifest(text, "t.toml", dir_.string());
  ASSERT_TRUE(m.ok());
  OutputFiles outputs;
  Result<OutputFile*> out = outputs.add("-");
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(buildTo(*m, **out).ok());  // stdout cannot be patched
}

TEST_F(StreamTest, MissingDataFileIsUnreadable) {
  const std::string text =
      "[platform.native]\n[memory]\nsize = \"64M\"\n[vp]\nmode = \"registers\"\n"
      "[vp.registers]\nrip = 0x1000000\n[[data]]\nfile = \"absent.bin\"\ngpa = 0x1000000\n";
  Result<Manifest> m = parseManifest(text, (dir_ / "t.toml").string(), dir_.string());
  ASSERT_TRUE(m.ok());
  OutputFiles outputs;
  Result<OutputFile*> out = outputs.add((dir_ / "o.igvm").string());
  ASSERT_TRUE(out.ok());
  Result<StreamedBuild> r = buildTo(*m, **out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kUnreadable);
}

// A page beyond SNP's address width (below the C-bit, igvm/gpa.h): measure() refuses the file, so
// the streamed measurements must too, with the same error.
TEST_F(StreamTest, MeasurementsRefuseAPageBeyondTheAddressWidthAsMeasureDoes) {
  writeBytes(dir_ / "blob.bin", pattern(4096, 3));
  const std::string text =
      "[platform.snp]\n[memory]\nsize = \"64M\"\n[vp]\nmode = \"registers\"\n"
      "[vp.registers]\nrip = 0x1000\n[[data]]\nfile = \"blob.bin\"\ngpa = 0x8000000000000\n";
  Result<Manifest> m = parseManifest(text, (dir_ / "t.toml").string(), dir_.string());
  ASSERT_TRUE(m.ok()) << m.error().describe();
  Result<BuildOutput> memory = build(*m);
  ASSERT_TRUE(memory.ok()) << memory.error().describe();
  Result<measure::ReferenceValues> memory_ref = measureBuilt(*m, memory->igvm);
  ASSERT_THAT(memory_ref, HasRule("gpa.width"));
  OutputFiles outputs;
  Result<OutputFile*> out = outputs.add((dir_ / "o.igvm").string());
  ASSERT_TRUE(out.ok());
  Result<StreamedBuild> streamed = buildTo(*m, **out, {.measure = true});
  ASSERT_THAT(streamed, HasRule("gpa.width"));
  EXPECT_EQ(streamed.error().message, memory_ref.error().message);
}

}  // namespace
}  // namespace igvmkit::builder
