// make_test_images DIR: writes testing::imageSpecs() as DIR/<name>.igvm (for cli/plan_cli_test.sh).
#include <fstream>
#include <iostream>

#include "loader/testing/igvm_images.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_test_images DIR\n";
    return 2;
  }
  for (const auto& spec : igvmkit::loader::testing::imageSpecs()) {
    auto bytes = igvmkit::loader::testing::makeImage(spec);
    if (!bytes.ok()) {
      std::cerr << "error: " << spec.name << ": " << bytes.error().describe() << "\n";
      return 1;
    }
    std::ofstream out(std::string(argv[1]) + "/" + spec.name + ".igvm", std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes->data()), static_cast<std::streamsize>(bytes->size()));
    if (!out) {
      std::cerr << "error: cannot write " << spec.name << "\n";
      return 1;
    }
  }
  return 0;
}
