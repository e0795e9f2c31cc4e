// builder/internal/manifest_sections.h: parseManifest()'s steps, one per manifest section, and
// the checks across sections that run after all of them (checkLayout).
//
// Each section parser reads its table with a TableReader (toml_reader.h) and checks what the
// section alone can tell: types, ranges, alignment, keys that exclude each other. Parsers that need
// an earlier section take it as an argument ([[data]] and [[parameter_area]] the targeted
// platforms, [[required_memory]] the RAM layout).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <toml++/toml.h>

#include "base/status.h"
#include "builder/layout.h"
#include "builder/manifest.h"

namespace igvmkit::builder::internal {

inline constexpr uint64_t kPage = layout::kPageSize;

inline bool aligned(uint64_t v, uint64_t a) { return v % a == 0; }

inline bool overlaps(const MemoryRange& a, const MemoryRange& b) {
  return a.base < b.end() && b.base < a.end();
}

// [[parameter_area]] keys, their ParameterKind and the bytes the loader writes at the least.
struct ParamSpec {
  ParameterKind kind;
  std::string_view key;
  uint64_t min_bytes;  // what the loader writes at the least
};
inline constexpr std::array<ParamSpec, 10> kParams = {{
    {ParameterKind::kVpCount, "vp_count", 4},
    {ParameterKind::kSrat, "srat", 1},
    {ParameterKind::kMadt, "madt", 1},
    {ParameterKind::kMmioRanges, "mmio_ranges", 32},
    {ParameterKind::kMemoryMap, "memory_map", 24},
    {ParameterKind::kCommandLine, "command_line", 1},
    {ParameterKind::kSlit, "slit", 1},
    {ParameterKind::kPptt, "pptt", 1},
    {ParameterKind::kDeviceTree, "device_tree", 1},
    {ParameterKind::kEnvironmentInfo, "environment_info", 4},
}};

// [vp.registers] keys, in Register order.
inline constexpr std::array<std::string_view, 30> kRegisterNames = {
    "rax",       "rcx",        "rdx",       "rbx",        "rsp",           "rbp",
    "rsi",       "rdi",        "r8",        "r9",         "r10",           "r11",
    "r12",       "r13",        "r14",       "r15",        "rip",           "rflags",
    "cr0",       "cr3",        "cr4",       "efer",       "gdtr_base",     "gdtr_limit",
    "idtr_base", "idtr_limit", "code_selector", "code_attributes", "data_selector",
    "data_attributes"};

// [platform] and its [platform.native|snp|tdx|vbs] tables (manifest_platforms.cc).
Status parsePlatforms(const toml::table& t, std::string_view base_dir, Manifest& m);

// [memory]: size (RAM filled from 0 around the MMIO gaps) or explicit ram / mmio ranges.
Status parseMemory(const toml::table& t, MemoryLayout& mem);

// The boot components; paths are resolved against `base_dir`.
Result<LinuxComponent> parseLinux(const toml::table& t, std::string_view base_dir);
Result<FirmwareComponent> parseFirmware(const toml::table& t, std::string_view base_dir);
Result<PayloadComponent> parsePayload(const toml::table& t, std::string_view base_dir);

// One [[data]], [[parameter_area]] or [[required_memory]] entry.
Result<DataBlob> parseData(const toml::table& t, std::string_view base_dir, const Manifest& m);
Result<ParameterArea> parseParameterArea(const toml::table& t, const Manifest& m);
Result<RequiredMemory> parseRequiredMemory(const toml::table& t, const MemoryLayout& mem);

// [vp] and [vp.registers].
Status parseVp(const toml::table& t, Manifest& m);

// The checks across sections, after every section is read: one boot component (or registers
// mode), the entry mode against the components and platforms, the low boot structures in RAM and
// clear of [[data]] / [[parameter_area]], and those not overlapping each other. Resolves the
// default vp.mode.
Status checkLayout(Manifest& m, const toml::table& root);

}  // namespace igvmkit::builder::internal
