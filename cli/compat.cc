#include "cli/compat.h"

#include "cli/command.h"

namespace igvmkit::cli {

void printWarnings(const std::string& path, const igvm::File& file) {
  for (const Error& w : file.warnings()) {
    warn(path + ": " + w.describe() + " [" + w.rule + "]");
  }
}

Result<igvm::File> parseForUse(const std::string& path, Bytes bytes) {
  igvm::ParseOptions opts;
  opts.conformance = igvm::Conformance::kCompat;
  Result<igvm::File> file = igvm::File::parse(bytes, opts);
  if (file.ok()) {
    printWarnings(path, *file);
  }
  return file;
}

}  // namespace igvmkit::cli
