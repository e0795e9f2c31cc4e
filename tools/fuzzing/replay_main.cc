// A main for fuzz targets without libFuzzer: runs LLVMFuzzerTestOneInput on every file named
// on the command line (files, or directories walked recursively). Fails when it ran none.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int runFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "error: %s: cannot read\n", p.c_str());
    return 1;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> roots;
  for (int i = 1; i < argc; ++i) {
    roots.emplace_back(argv[i]);
  }
  int files = 0;
  int failures = 0;
  for (const auto& root : roots) {
    if (std::filesystem::is_directory(root)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(
               root, std::filesystem::directory_options::follow_directory_symlink)) {
        if (!std::filesystem::is_directory(e.path())) {
          failures += runFile(e.path());
          ++files;
        }
      }
    } else {
      failures += runFile(root);
      ++files;
    }
  }
  std::printf("replayed %d inputs\n", files);
  return files == 0 || failures != 0 ? 1 : 0;
}
