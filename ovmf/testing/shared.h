// ovmf/testing/shared.h: where tests find the firmware fixtures of ../shared
// ($IGVMKIT_SHARED/testdata/firmware, see its MANIFEST.md) and Debian's /usr/share/OVMF.
//
//   IGVMKIT_FIRMWARE_OR_SKIP(dir);   // std::string dir, or the test is skipped with a message
//   auto bytes = readFile(dir + "/ovmf_AmdSev_suffix.bin");
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

#include <sys/stat.h>

namespace igvmkit::ovmf::testing {

inline bool isDirectory(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

inline std::optional<std::string> sharedFirmwareDir() {
  const char* shared = std::getenv("IGVMKIT_SHARED");
  if (shared == nullptr) {
    return std::nullopt;
  }
  std::string dir = std::string(shared) + "/testdata/firmware";
  return isDirectory(dir) ? std::optional(dir) : std::nullopt;
}

// Debian's ovmf package (tools/setup installs it).
inline constexpr const char* kDebianOvmfDir = "/usr/share/OVMF";

}  // namespace igvmkit::ovmf::testing

#define IGVMKIT_FIRMWARE_OR_SKIP(var)                                                    \
  std::string var;                                                                       \
  if (auto fw_dir_ = ::igvmkit::ovmf::testing::sharedFirmwareDir()) {                    \
    var = *fw_dir_;                                                                      \
  } else {                                                                               \
    GTEST_SKIP() << "IGVMKIT_SHARED is unset or has no testdata/firmware: the OVMF and " \
                    "COCONUT-SVSM fixtures are not available";                           \
  }

#define IGVMKIT_DEBIAN_OVMF_OR_SKIP(file)                                                  \
  if (access((std::string(::igvmkit::ovmf::testing::kDebianOvmfDir) + "/" + file).c_str(), \
             R_OK) != 0) {                                                                 \
    GTEST_SKIP() << ::igvmkit::ovmf::testing::kDebianOvmfDir << "/" << file                 \
                 << " is missing: install Debian's ovmf package (tools/setup)";             \
  }
