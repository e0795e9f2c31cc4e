// make_test_images DIR: writes testing::imageSpecs() as DIR/<name>.igvm and the address-width
// images (gpaWidthSpecs(), and a 2 MiB TDX page at 0xFFFFFFFFFFFFF000 that wraps past 2^64, which
// only a lenient parse accepts) as DIR/gpa/<name>.igvm (for cli/plan_cli_test.sh).
#include <filesystem>
#include <fstream>
#include <iostream>

#include "igvm/testing/test_image.h"
#include "loader/testing/igvm_images.h"

namespace {

bool save(const std::string& path, const igvmkit::ByteVector& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::cerr << "error: cannot write " << path << "\n";
  }
  return static_cast<bool>(out);
}

bool saveAll(const std::string& dir,
             const std::vector<igvmkit::loader::testing::ImageSpec>& specs) {
  for (const auto& spec : specs) {
    auto bytes = igvmkit::loader::testing::makeImage(spec);
    if (!bytes.ok()) {
      std::cerr << "error: " << spec.name << ": " << bytes.error().describe() << "\n";
      return false;
    }
    if (!save(dir + "/" + spec.name + ".igvm", *bytes)) {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_test_images DIR\n";
    return 2;
  }
  namespace t = igvmkit::loader::testing;
  const std::string dir = argv[1];
  std::filesystem::create_directories(dir + "/gpa");
  if (!saveAll(dir, t::imageSpecs()) || !saveAll(dir + "/gpa", t::gpaWidthSpecs())) {
    return 1;
  }
  igvmkit::igvm::testing::TestImage wrap;
  wrap.platform(igvmkit::igvm::PlatformType::kTdx, 0x1);
  wrap.pageData(0x100000, 0x1, t::patternPage(0));
  wrap.pageData(0xFFFF'FFFF'FFFF'F000, 0x1, {}, igvmkit::igvm::kPageDataFlagIs2MbPage);
  return save(dir + "/gpa/page2m_wraps.igvm", wrap.bytes()) ? 0 : 1;
}
