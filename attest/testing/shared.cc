#include "attest/testing/shared.h"

#include <cstdlib>
#include <filesystem>

#include "base/file.h"

namespace igvmkit::attest::testing {

std::optional<std::string> sharedAttestDir() {
  const char* root = std::getenv("IGVMKIT_SHARED");
  if (root == nullptr || *root == '\0') {
    return std::nullopt;
  }
  std::filesystem::path dir = std::filesystem::path(root) / "testdata" / "attest";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return std::nullopt;
  }
  return dir.string();
}

ByteVector readShared(const std::string& dir, const std::string& relative) {
  Result<ByteVector> bytes = readFile(dir + "/" + relative);
  if (!bytes.ok()) {
    ADD_FAILURE() << "cannot read " << relative << ": " << bytes.error().message;
    return {};
  }
  return std::move(bytes).value();
}

}  // namespace igvmkit::attest::testing
