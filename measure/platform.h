// The isolation platforms and host models, named once for every layer: manifests (builder),
// measurements (measure, diagnose), ID blocks (sign) and the CLI's --platform / --host. The IGVM
// file says the platform in its own wire enum, igvm::PlatformType; igvmPlatformType() converts
// where a file is written or looked up.
//
//   std::optional<measure::Platform> p = measure::platformNamed("sev-es");  // kSevEs
//   measure::platformName(*p);                                              // "sev-es"
//   measure::igvmPlatformType(*p);                          // igvm::PlatformType::kSevEs
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "igvm/defs.h"

namespace igvmkit::measure {

// In this order (a manifest's compatibility bits follow it: native, snp, tdx, vbs). Manifests
// target the first four; `igvmkit measure` measures all but kNative.
enum class Platform { kNative, kSnp, kTdx, kVbs, kSev, kSevEs };
inline constexpr std::array<Platform, 6> kPlatforms = {Platform::kNative, Platform::kSnp,
                                                       Platform::kTdx,    Platform::kVbs,
                                                       Platform::kSev,    Platform::kSevEs};

// "native", "snp", "tdx", "vbs", "sev", "sev-es": manifests, --platform and JSON use these.
constexpr const char* platformName(Platform platform) {
  constexpr std::array<const char*, kPlatforms.size()> kNames = {"native", "snp", "tdx",
                                                                 "vbs",    "sev", "sev-es"};
  return kNames[static_cast<size_t>(platform)];
}

// The inverse of platformName(); nullopt for any other name.
constexpr std::optional<Platform> platformNamed(std::string_view name) {
  for (Platform p : kPlatforms) {
    if (name == platformName(p)) {
      return p;
    }
  }
  return std::nullopt;
}

// The IGVM platform type (igvm-format.md §2.5) of a platform.
constexpr igvm::PlatformType igvmPlatformType(Platform platform) {
  constexpr std::array<igvm::PlatformType, kPlatforms.size()> kTypes = {
      igvm::PlatformType::kNative,       igvm::PlatformType::kSevSnp, igvm::PlatformType::kTdx,
      igvm::PlatformType::kVsmIsolation, igvm::PlatformType::kSev,    igvm::PlatformType::kSevEs};
  return kTypes[static_cast<size_t>(platform)];
}

// Which host the SNP launch digest is computed for (cli-contract.md "measure"): KVM measures the
// VMSAs last at a fixed GPA, MSHV where the file puts them.
enum class HostModel { kKvm, kMshv };
inline constexpr std::array<HostModel, 2> kHostModels = {HostModel::kKvm, HostModel::kMshv};

// "kvm" / "mshv": manifests (`host = ...`), --host and JSON use these.
constexpr const char* hostModelName(HostModel host) {
  return host == HostModel::kKvm ? "kvm" : "mshv";
}

// The inverse of hostModelName(); nullopt for any other name.
constexpr std::optional<HostModel> hostModelNamed(std::string_view name) {
  for (HostModel h : kHostModels) {
    if (name == hostModelName(h)) {
      return h;
    }
  }
  return std::nullopt;
}

}  // namespace igvmkit::measure
