// make_test_files OUTDIR: writes the example images libigvm's tests read, from the models of
// igvm/testing/models.h:
//   vector_a.igvm          vector A of shared/reference/igvm-format.md §10.3, the file
//                          microsoft/igvm's C-API test data generator writes (igvm_c/test_data):
//                          VSM_ISOLATION mask 0x1, GUEST_POLICY for masks 0x1 and 0x2, eight pages
//                          with four contents, a parameter area with VP_COUNT and its insert
//   vector_b.igvm, vector_c.igvm, every_header_{x64,aarch64}.igvm
//   every_header_x64_reference.igvm: the same without its CoRIM headers and its header of an
//                          unknown optional type, which the reference's C library refuses (it is
//                          built without `corim`, and it refuses every type with the optional bit)
#include <cstdio>
#include <string>

#include "base/file.h"
#include "igvm/testing/models.h"
#include "igvm/writer.h"

namespace {

using namespace igvmkit;

bool writeModel(const std::string& path, const igvm::Model& model, uint32_t version,
                bool allow_undeclared) {
  igvm::WriteOptions opts;
  opts.version = version;
  opts.allow_undeclared_mask_bits = allow_undeclared;
  Result<ByteVector> bytes = igvm::write(model, opts);
  if (!bytes.ok()) {
    std::fprintf(stderr, "error: %s: %s\n", path.c_str(), bytes.error().describe().c_str());
    return false;
  }
  Status s = writeFile(path, *bytes);
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.error().describe().c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_test_files OUTDIR\n");
    return 2;
  }
  std::string dir = argv[1];
  for (const igvm::testing::GoldenModel& g : igvm::testing::goldenModels()) {
    if (!writeModel(dir + "/" + g.name + ".igvm", g.model, g.version,
                    g.allow_undeclared_mask_bits)) {
      return 1;
    }
    auto refused = [](const igvm::Entry& e) {
      return e.type == igvm::kVhtCorimDocument || e.type == igvm::kVhtCorimSignature ||
             (e.type & igvm::kVhtOptionalBit) != 0;
    };
    igvm::Model without = g.model;
    size_t removed = std::erase_if(without.initialization, refused) +
                     std::erase_if(without.directives, refused);
    if (removed != 0 &&
        !writeModel(dir + "/" + g.name + "_reference.igvm", without, g.version,
                    g.allow_undeclared_mask_bits)) {
      return 1;
    }
  }
  return 0;
}
