// make_test_file OUT: writes vector A of shared/reference/igvm-format.md §10.3, the file
// microsoft/igvm's C-API test data generator produces (igvm_c/test_data): one VSM_ISOLATION
// platform (mask 0x1), GUEST_POLICY for masks 0x1 and 0x2, eight pages with four distinct
// contents, a parameter area with VP_COUNT and its insert. igvm/file_test.cc checks these bytes
// against the reference's size, CRC-32 and SHA-256.
#include <cstdio>

#include "base/file.h"
#include "igvm/testing/models.h"
#include "igvm/writer.h"

int main(int argc, char** argv) {
  using namespace igvmkit;
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_test_file OUT\n");
    return 2;
  }
  igvm::WriteOptions opts;
  opts.version = 1;
  opts.allow_undeclared_mask_bits = true;
  Result<ByteVector> bytes = igvm::write(igvm::testing::vectorA(), opts);
  if (!bytes.ok()) {
    std::fprintf(stderr, "error: %s\n", bytes.error().describe().c_str());
    return 1;
  }
  Status s = writeFile(argv[1], *bytes);
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.error().describe().c_str());
    return 1;
  }
  return 0;
}
