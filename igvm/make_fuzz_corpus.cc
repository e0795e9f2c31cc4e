// bazel run //igvm:make_fuzz_corpus: writes the seed corpus igvm/testdata/fuzz/ from the test
// models (valid files) plus a few hand-made corrupt variants.
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "base/file.h"
#include "igvm/testing/models.h"
#include "igvm/testing/test_image.h"
#include "igvm/writer.h"

int main() {
  using namespace igvmkit;
  const char* root = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (root == nullptr) {
    std::cerr << "error: run with bazel run //igvm:make_fuzz_corpus\n";
    return 2;
  }
  std::string dir = std::string(root) + "/igvm/testdata/fuzz/";
  auto save = [&dir](const std::string& name, const ByteVector& bytes) {
    if (Status s = writeFile(dir + name, bytes); !s.ok()) {
      std::cerr << "error: " << name << ": " << s.error().describe() << '\n';
      std::exit(1);
    }
    std::cout << dir + name << '\n';
  };
  for (const igvm::testing::GoldenModel& g : igvm::testing::goldenModels()) {
    igvm::WriteOptions wo;
    wo.version = g.version;
    wo.allow_undeclared_mask_bits = g.allow_undeclared_mask_bits;
    Result<ByteVector> bytes = igvm::write(g.model, wo);
    if (!bytes.ok()) {
      std::cerr << "error: " << g.name << ": " << bytes.error().describe() << '\n';
      return 1;
    }
    save(std::string("seed_") + g.name + ".igvm", *bytes);
    if (std::string(g.name) == "vector_b") {
      ByteVector truncated(bytes->begin(), bytes->begin() + 0x100);
      save("corrupt_truncated.igvm", truncated);
      ByteVector flipped = *bytes;
      flipped[0x40] ^= std::byte{1};
      save("corrupt_checksum.igvm", flipped);
      ByteVector long_entry = *bytes;
      uint32_t huge = 0xFFFFFFF0;
      std::memcpy(long_entry.data() + 0x18 + 4, &huge, 4);
      igvm::testing::TestImage::reseal(long_entry, 24);
      save("corrupt_entry_length.igvm", long_entry);
    }
  }
  igvm::testing::TestImage t;
  t.platform(igvm::PlatformType::kSevSnp, 1);
  t.pageData(0x1001, 1);
  save("corrupt_gpa_alignment.igvm", t.bytes());
  save("corrupt_fixed_only.igvm", ByteVector(t.bytes().begin(), t.bytes().begin() + 24));
  return 0;
}
