// parseManifest(): the TOML text checked (internal/toml_reader.h), each section read
// (internal/manifest_sections.h), then the rules across sections (checkLayout).
#include "builder/manifest.h"

#include <toml++/toml.h>
#include <utility>

#include "base/size.h"
#include "builder/internal/manifest_sections.h"
#include "builder/internal/toml_reader.h"

namespace igvmkit::builder {

using internal::bad;
using internal::TableReader;

std::string_view parameterName(ParameterKind k) {
  for (const internal::ParamSpec& s : internal::kParams) {
    if (s.kind == k) {
      return s.key;
    }
  }
  return "?";
}

std::string_view registerName(Register r) {
  return internal::kRegisterNames[static_cast<size_t>(r)];
}

uint64_t TdxSettings::policy() const {
  return (debug ? 1u : 0u) | (sept_ve_disable ? 2u : 0u) | (migratable ? 4u : 0u);
}

uint64_t MemoryLayout::ramBytes() const {
  uint64_t total = 0;
  for (const MemoryRange& r : ram) {
    total += r.size;
  }
  return total;
}

bool MemoryLayout::isRam(uint64_t gpa, uint64_t size) const {
  for (const MemoryRange& r : ram) {
    if (gpa >= r.base && gpa < r.end() && size <= r.end() - gpa) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> Manifest::inputFiles() const {
  std::vector<std::string> out;
  if (snp && snp->id_block) {
    out.push_back(snp->id_block->id_key);
    if (snp->id_block->author_key) {
      out.push_back(*snp->id_block->author_key);
    }
  }
  if (linux_boot) {
    out.push_back(linux_boot->kernel);
    if (linux_boot->initrd) {
      out.push_back(*linux_boot->initrd);
    }
  }
  if (firmware) {
    out.push_back(firmware->image);
  }
  if (payload) {
    out.push_back(payload->elf);
  }
  for (const DataBlob& blob : data) {
    if (blob.file) {
      out.push_back(*blob.file);
    }
  }
  return out;
}

PlatformList Manifest::platforms() const {
  PlatformList out;
  if (native) {
    out.push_back(Platform::kNative);
  }
  if (snp) {
    out.push_back(Platform::kSnp);
  }
  if (tdx) {
    out.push_back(Platform::kTdx);
  }
  if (vbs) {
    out.push_back(Platform::kVbs);
  }
  return out;
}

Result<uint64_t> parseSize(std::string_view text) { return igvmkit::parseSize(text); }

Result<Manifest> parseManifest(std::string_view text, std::string_view source_name,
                               std::string_view base_dir) {
  IGVMKIT_RETURN_IF_ERROR(internal::checkText(text));
  toml::parse_result parsed = toml::parse(text, std::string(source_name));
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    return bad("syntax", std::string(e.description()), e.source());
  }
  const toml::table& root = parsed.table();
  Manifest m;
  m.source_name = std::string(source_name);
  TableReader r(root, "");

  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* platform, r.optTable("platform"));
  if (platform != nullptr) {
    IGVMKIT_RETURN_IF_ERROR(internal::parsePlatforms(*platform, base_dir, m));
  }
  if (m.platforms().empty()) {
    return bad("no_platform",
               "no target platform: add at least one of [platform.native], [platform.snp], "
               "[platform.tdx], [platform.vbs]",
               platform != nullptr ? platform->source() : root.source());
  }
  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* memory, r.optTable("memory"));
  if (memory == nullptr) {
    return r.missing("memory");
  }
  IGVMKIT_RETURN_IF_ERROR(internal::parseMemory(*memory, m.memory));

  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* lin, r.optTable("linux"));
  if (lin != nullptr) {
    IGVMKIT_ASSIGN_OR_RETURN(m.linux_boot, internal::parseLinux(*lin, base_dir));
  }
  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* fw, r.optTable("firmware"));
  if (fw != nullptr) {
    IGVMKIT_ASSIGN_OR_RETURN(m.firmware, internal::parseFirmware(*fw, base_dir));
  }
  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* pl, r.optTable("payload"));
  if (pl != nullptr) {
    IGVMKIT_ASSIGN_OR_RETURN(m.payload, internal::parsePayload(*pl, base_dir));
  }
  // Each list reads the manifest as far as it is known (platforms, memory), not its siblings.
  auto data = [&](const toml::table& t) { return internal::parseData(t, base_dir, m); };
  IGVMKIT_ASSIGN_OR_RETURN(m.data, r.eachTable<DataBlob>("data", data));
  auto area = [&](const toml::table& t) { return internal::parseParameterArea(t, m); };
  IGVMKIT_ASSIGN_OR_RETURN(m.parameter_areas, r.eachTable<ParameterArea>("parameter_area", area));
  auto required = [&](const toml::table& t) { return internal::parseRequiredMemory(t, m.memory); };
  IGVMKIT_ASSIGN_OR_RETURN(m.required_memory,
                           r.eachTable<RequiredMemory>("required_memory", required));
  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* vp, r.optTable("vp"));
  if (vp != nullptr) {
    IGVMKIT_RETURN_IF_ERROR(internal::parseVp(*vp, m));
  }
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  IGVMKIT_RETURN_IF_ERROR(internal::checkLayout(m, root));
  return m;
}

}  // namespace igvmkit::builder
