// bazel run //igvm:update_golden: rewrites igvm/testdata/golden/*.json from the test models.
#include <cstdlib>
#include <iostream>

#include "base/file.h"
#include "igvm/dump.h"
#include "igvm/testing/models.h"
#include "igvm/writer.h"

int main() {
  using namespace igvmkit;
  const char* root = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (root == nullptr) {
    std::cerr << "error: run with bazel run //igvm:update_golden\n";
    return 2;
  }
  for (const igvm::testing::GoldenModel& g : igvm::testing::goldenModels()) {
    igvm::WriteOptions wo;
    wo.version = g.version;
    wo.allow_undeclared_mask_bits = g.allow_undeclared_mask_bits;
    Result<ByteVector> bytes = igvm::write(g.model, wo);
    if (!bytes.ok()) {
      std::cerr << "error: " << g.name << ": " << bytes.error().describe() << '\n';
      return 1;
    }
    igvm::ParseOptions po;
    po.allow_undeclared_mask_bits = g.allow_undeclared_mask_bits;
    Result<igvm::File> file = igvm::File::parse(*bytes, po);
    if (!file.ok()) {
      std::cerr << "error: " << g.name << ": " << file.error().describe() << '\n';
      return 1;
    }
    std::string json = igvm::dumpJson(*file).dump(2) + "\n";
    std::string path = std::string(root) + "/igvm/testdata/golden/" + g.name + ".json";
    if (Status s = writeFile(path, toBytes(json)); !s.ok()) {
      std::cerr << "error: " << path << ": " << s.error().describe() << '\n';
      return 1;
    }
    std::cout << path << '\n';
  }
  return 0;
}
