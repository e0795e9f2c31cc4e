// The sections after [platform]: [memory], the boot components ([linux], [firmware], [payload]),
// [[data]], [[parameter_area]], [[required_memory]] and [vp].
#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <toml++/toml.h>
#include <utility>

#include "builder/internal/manifest_sections.h"
#include "builder/internal/toml_reader.h"
#include "builder/layout.h"

namespace igvmkit::builder::internal {
namespace {

constexpr uint64_t kMaxDataBytes = layout::k4GiB;
// Parameter areas hold tables and maps the loader writes; 16 MiB is far beyond any of them.
constexpr uint64_t kMaxParameterAreaBytes = 0x100'0000;

Result<std::vector<MemoryRange>> rangeList(TableReader& r, std::string_view key) {
  return r.eachTable<MemoryRange>(key, [&](const toml::table& t) -> Result<MemoryRange> {
    TableReader er(t, r.keyPath(key));
    IGVMKIT_ASSIGN_OR_RETURN(auto base, er.optSize("base"));
    IGVMKIT_ASSIGN_OR_RETURN(auto size, er.optSize("size"));
    IGVMKIT_RETURN_IF_ERROR(er.finish());
    if (!base) {
      return er.missing("base");
    }
    if (!size) {
      return er.missing("size");
    }
    if (!aligned(*base, kPage) || !aligned(*size, kPage) || *size == 0) {
      return bad("alignment",
                 "range " + hex(*base) + " + " + hex(*size) + " in '" + r.keyPath(key) +
                     "' must be page aligned and not empty",
                 t.source());
    }
    if (*base > std::numeric_limits<uint64_t>::max() - *size) {
      return bad("value", "range " + hex(*base) + " + " + hex(*size) + " wraps", t.source());
    }
    return MemoryRange{*base, *size};
  });
}

// [<component>.relocatable] (igvm-format.md §2.6).
Result<Relocation> parseRelocation(const toml::table& t, const std::string& path) {
  TableReader r(t, path);
  Relocation rel;
  IGVMKIT_ASSIGN_OR_RETURN(auto alignment, r.optSize("alignment"));
  IGVMKIT_ASSIGN_OR_RETURN(auto minimum, r.optSize("minimum"));
  IGVMKIT_ASSIGN_OR_RETURN(auto maximum, r.optSize("maximum"));
  if (!alignment) {
    return r.missing("alignment");
  }
  if (!maximum) {
    return r.missing("maximum");
  }
  if (*alignment == 0 || !aligned(*alignment, kPage)) {
    return r.badKey("alignment", "alignment",
                    hex(*alignment) + " must be a nonzero multiple of 0x1000");
  }
  rel.alignment = *alignment;
  rel.minimum = minimum.value_or(0);
  rel.maximum = *maximum;
  for (auto [key, v] : {std::pair{"minimum", rel.minimum}, std::pair{"maximum", rel.maximum}}) {
    if (!aligned(v, rel.alignment)) {
      return r.badKey("alignment", key,
                      hex(v) + " is not a multiple of the alignment " + hex(rel.alignment));
    }
  }
  if (rel.maximum <= rel.minimum) {
    return r.badKey("value", "maximum",
                    hex(rel.maximum) + " must be above minimum " + hex(rel.minimum));
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto rip, r.optBool("apply_rip"));
  IGVMKIT_ASSIGN_OR_RETURN(auto gdtr, r.optBool("apply_gdtr"));
  rel.apply_rip = rip.value_or(true);
  rel.apply_gdtr = gdtr.value_or(false);
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  return rel;
}

Status checkPlatformsTargeted(const PlatformList& list, const Manifest& m,
                              const toml::source_region& where) {
  PlatformList targeted = m.platforms();
  for (Platform p : list) {
    if (std::find(targeted.begin(), targeted.end(), p) == targeted.end()) {
      return bad("value",
                 "platform \"" + std::string(platformName(p)) +
                     "\" is listed but has no [platform." + std::string(platformName(p)) +
                     "] table",
                 where);
    }
  }
  return okStatus();
}

}  // namespace

// ---- memory ----------------------------------------------------------------------------------

Status parseMemory(const toml::table& t, MemoryLayout& mem) {
  TableReader r(t, "memory");
  IGVMKIT_ASSIGN_OR_RETURN(auto size, r.optSize("size"));
  const bool has_ram = t.contains("ram");
  IGVMKIT_ASSIGN_OR_RETURN(mem.ram, rangeList(r, "ram"));
  const bool has_mmio = t.contains("mmio");
  IGVMKIT_ASSIGN_OR_RETURN(mem.mmio, rangeList(r, "mmio"));
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  if (size && has_ram) {
    return bad("conflict", "give either 'memory.size' or 'memory.ram', not both",
               t.get("ram")->source());
  }
  if (!size && !has_ram) {
    return bad("missing_key", "missing key 'memory.size' (or 'memory.ram')", t.source());
  }
  std::sort(mem.mmio.begin(), mem.mmio.end(),
            [](const MemoryRange& a, const MemoryRange& b) { return a.base < b.base; });
  for (size_t i = 1; i < mem.mmio.size(); ++i) {
    if (overlaps(mem.mmio[i - 1], mem.mmio[i])) {
      return bad("overlap", "mmio ranges at " + hex(mem.mmio[i - 1].base) + " and " +
                                hex(mem.mmio[i].base) + " overlap",
                 t.get("mmio")->source());
    }
  }
  if (size) {
    if (*size == 0 || !aligned(*size, kPage)) {
      return r.badKey("alignment", "size", hex(*size) + " must be a nonzero page multiple");
    }
    if (!has_mmio) {
      mem.mmio.push_back(
          {layout::kDefaultMmioGapStart, layout::k4GiB - layout::kDefaultMmioGapStart});
    }
    // Fill RAM from 0 upwards around the MMIO gaps.
    uint64_t left = *size;
    uint64_t cursor = 0;
    for (const MemoryRange& gap : mem.mmio) {
      if (left == 0) {
        break;
      }
      if (gap.base > cursor) {
        uint64_t n = std::min(left, gap.base - cursor);
        mem.ram.push_back({cursor, n});
        left -= n;
      }
      cursor = std::max(cursor, gap.end());
    }
    if (left != 0) {
      mem.ram.push_back({cursor, left});
    }
    return okStatus();
  }
  std::sort(mem.ram.begin(), mem.ram.end(),
            [](const MemoryRange& a, const MemoryRange& b) { return a.base < b.base; });
  for (size_t i = 1; i < mem.ram.size(); ++i) {
    if (overlaps(mem.ram[i - 1], mem.ram[i])) {
      return bad("overlap", "ram ranges at " + hex(mem.ram[i - 1].base) + " and " +
                                hex(mem.ram[i].base) + " overlap",
                 t.get("ram")->source());
    }
  }
  for (const MemoryRange& ram : mem.ram) {
    for (const MemoryRange& gap : mem.mmio) {
      if (overlaps(ram, gap)) {
        return bad("overlap", "ram range at " + hex(ram.base) + " overlaps mmio range at " +
                                  hex(gap.base),
                   t.get("mmio")->source());
      }
    }
  }
  return okStatus();
}

// ---- components ------------------------------------------------------------------------------

Result<LinuxComponent> parseLinux(const toml::table& t, std::string_view base_dir) {
  TableReader r(t, "linux");
  LinuxComponent c;
  IGVMKIT_ASSIGN_OR_RETURN(c.kernel, requiredPath(r, "kernel", base_dir));
  if (t.contains("initrd")) {
    IGVMKIT_ASSIGN_OR_RETURN(c.initrd, requiredPath(r, "initrd", base_dir));
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto cmdline, r.optString("cmdline"));
  c.cmdline = cmdline.value_or("");
  if (c.cmdline.find('\0') != std::string::npos) {
    return r.badKey("value", "cmdline", "contains a NUL character");
  }
  if (c.cmdline.size() + 1 > layout::kCommandLineMaxBytes) {
    return r.badKey("value", "cmdline",
                    "is " + std::to_string(c.cmdline.size()) + " bytes; at most " +
                        std::to_string(layout::kCommandLineMaxBytes - 1) + " fit");
  }
  IGVMKIT_ASSIGN_OR_RETURN(c.load_address, r.optSize("load_address"));
  if (c.load_address &&
      (!aligned(*c.load_address, kPage) || *c.load_address < layout::kHighMemoryStart)) {
    return r.badKey("value", "load_address",
                    hex(*c.load_address) + " must be page aligned and at least " +
                        hex(layout::kHighMemoryStart));
  }
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  return c;
}

Result<FirmwareComponent> parseFirmware(const toml::table& t, std::string_view base_dir) {
  TableReader r(t, "firmware");
  FirmwareComponent c;
  IGVMKIT_ASSIGN_OR_RETURN(c.image, requiredPath(r, "image", base_dir));
  if (t.contains("vars")) {
    IGVMKIT_ASSIGN_OR_RETURN(c.vars, requiredPath(r, "vars", base_dir));
  }
  IGVMKIT_ASSIGN_OR_RETURN(c.gpa, r.optSize("gpa"));
  IGVMKIT_RETURN_IF_ERROR(r.checkPageAligned("gpa", c.gpa));
  if (t.contains("kernel")) {
    IGVMKIT_ASSIGN_OR_RETURN(c.kernel, requiredPath(r, "kernel", base_dir));
  }
  if (t.contains("initrd")) {
    IGVMKIT_ASSIGN_OR_RETURN(c.initrd, requiredPath(r, "initrd", base_dir));
  }
  IGVMKIT_ASSIGN_OR_RETURN(c.cmdline, r.optString("cmdline"));
  if ((c.initrd || c.cmdline) && !c.kernel) {
    // QEMU hashes initrd and command line only for a -kernel launch (kernel-hashes=on).
    return bad("missing_key", "'firmware.initrd' and 'firmware.cmdline' need 'firmware.kernel'",
               t.source());
  }
  if (c.cmdline && c.cmdline->find('\0') != std::string::npos) {
    return r.badKey("value", "cmdline", "contains a NUL character");
  }
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  return c;
}

Result<PayloadComponent> parsePayload(const toml::table& t, std::string_view base_dir) {
  TableReader r(t, "payload");
  PayloadComponent c;
  IGVMKIT_ASSIGN_OR_RETURN(c.elf, requiredPath(r, "elf", base_dir));
  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* rel, r.optTable("relocatable"));
  if (rel != nullptr) {
    IGVMKIT_ASSIGN_OR_RETURN(c.relocatable, parseRelocation(*rel, "payload.relocatable"));
  }
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  return c;
}

Result<DataBlob> parseData(const toml::table& t, std::string_view base_dir, const Manifest& m) {
  TableReader r(t, "data");
  DataBlob d;
  if (t.contains("file")) {
    IGVMKIT_ASSIGN_OR_RETURN(d.file, requiredPath(r, "file", base_dir));
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto gpa, r.optSize("gpa"));
  IGVMKIT_ASSIGN_OR_RETURN(d.size, r.optSize("size"));
  IGVMKIT_ASSIGN_OR_RETURN(auto unmeasured, r.optBool("unmeasured"));
  IGVMKIT_ASSIGN_OR_RETURN(auto shared, r.optBool("shared"));
  constexpr std::array<std::string_view, 4> kTypes = {"normal", "secrets", "cpuid", "cpuid_xf"};
  IGVMKIT_ASSIGN_OR_RETURN(auto type, r.optWord("type", kTypes));
  IGVMKIT_ASSIGN_OR_RETURN(d.platforms, platformList(r, "platforms"));
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  if (!gpa) {
    return r.missing("gpa");
  }
  d.gpa = *gpa;
  IGVMKIT_RETURN_IF_ERROR(r.checkPageAligned("gpa", d.gpa));
  if (!d.file && !d.size) {
    return bad("missing_key", "a [[data]] without 'file' needs 'size'", t.source());
  }
  // Every page of a blob becomes a directive; 4 GiB is already a million of them.
  if (d.size && (*d.size == 0 || *d.size > kMaxDataBytes ||
                 d.gpa > std::numeric_limits<uint64_t>::max() - *d.size)) {
    return r.badKey("value", "size",
                    hex(*d.size) + " must be in 1.." + hex(kMaxDataBytes) + " and not wrap");
  }
  d.unmeasured = unmeasured.value_or(false);
  d.shared = shared.value_or(false);
  if (d.unmeasured && d.shared) {
    return bad("conflict", "a [[data]] is either 'unmeasured' or 'shared', not both",
               t.get("shared")->source());
  }
  d.type = static_cast<PageDataType>(type.value_or(0));
  IGVMKIT_RETURN_IF_ERROR(checkPlatformsTargeted(d.platforms, m, r.sourceOf("platforms")));
  if (d.type != PageDataType::kNormal) {
    // SECRETS and CPUID pages are SEV-SNP page types (igvm-format.md §3).
    PlatformList applies = d.platforms.empty() ? m.platforms() : d.platforms;
    if (applies != PlatformList{Platform::kSnp}) {
      return bad("conflict",
                 "type \"" + std::string(kTypes[static_cast<size_t>(d.type)]) +
                     "\" pages exist only on snp; set platforms = [\"snp\"]",
                 t.get("type")->source());
    }
    if (d.unmeasured || d.shared) {
      return bad("conflict", "type \"" + std::string(kTypes[static_cast<size_t>(d.type)]) +
                                 "\" pages cannot be unmeasured or shared",
                 t.get("type")->source());
    }
  }
  return d;
}

Result<ParameterArea> parseParameterArea(const toml::table& t, const Manifest& m) {
  TableReader r(t, "parameter_area");
  ParameterArea a;
  IGVMKIT_ASSIGN_OR_RETURN(auto gpa, r.optSize("gpa"));
  IGVMKIT_ASSIGN_OR_RETURN(auto size, r.optSize("size"));
  a.size = size.value_or(kPage);
  std::map<uint64_t, std::string_view> at_offset;  // parameter offset -> its key
  for (const ParamSpec& spec : kParams) {
    IGVMKIT_ASSIGN_OR_RETURN(auto off, r.optU64(spec.key, 0xFFFF'FFFF));
    if (!off) {
      continue;
    }
    if (*off > a.size || a.size - *off < spec.min_bytes) {
      return r.badKey("value", spec.key,
                      "offset " + hex(*off) + " leaves less than " +
                          std::to_string(spec.min_bytes) + " bytes in an area of " + hex(a.size));
    }
    // Two values at one offset: the later would silently replace the earlier.
    if (auto [it, fresh] = at_offset.emplace(*off, spec.key); !fresh) {
      return r.badKey("overlap", spec.key,
                      "offset " + hex(*off) + " is already '" + r.keyPath(it->second) + "''s");
    }
    a.parameters.push_back({spec.kind, static_cast<uint32_t>(*off)});
  }
  IGVMKIT_ASSIGN_OR_RETURN(a.platforms, platformList(r, "platforms"));
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  if (!gpa) {
    return r.missing("gpa");
  }
  a.gpa = *gpa;
  IGVMKIT_RETURN_IF_ERROR(r.checkPageAligned("gpa", a.gpa));
  if (a.size == 0 || !aligned(a.size, kPage) ||
      a.gpa > std::numeric_limits<uint64_t>::max() - a.size) {
    return r.badKey("alignment", "size", hex(a.size) + " must be a nonzero page multiple");
  }
  if (a.size > kMaxParameterAreaBytes) {
    return r.badKey("value", "size", hex(a.size) + " exceeds " + hex(kMaxParameterAreaBytes));
  }
  if (a.parameters.empty()) {
    return bad("missing_key",
               "a [[parameter_area]] needs at least one parameter (vp_count, memory_map, "
               "command_line, device_tree, madt, srat, slit, pptt, mmio_ranges, environment_info)",
               t.source());
  }
  IGVMKIT_RETURN_IF_ERROR(checkPlatformsTargeted(a.platforms, m, r.sourceOf("platforms")));
  return a;
}

Result<RequiredMemory> parseRequiredMemory(const toml::table& t, const MemoryLayout& mem) {
  TableReader r(t, "required_memory");
  RequiredMemory q;
  IGVMKIT_ASSIGN_OR_RETURN(auto gpa, r.optSize("gpa"));
  IGVMKIT_ASSIGN_OR_RETURN(auto size, r.optSize("size"));
  IGVMKIT_ASSIGN_OR_RETURN(auto vtl2, r.optBool("vtl2_protectable"));
  IGVMKIT_RETURN_IF_ERROR(r.finish());
  if (!gpa) {
    return r.missing("gpa");
  }
  if (!size) {
    return r.missing("size");
  }
  // number_of_bytes is a u32 in IGVM_VHS_REQUIRED_MEMORY (igvm-format.md §2.7).
  if (!aligned(*gpa, kPage) || !aligned(*size, kPage) || *size == 0 || *size > 0xFFFF'F000) {
    return bad("alignment",
               "required memory " + hex(*gpa) + " + " + hex(*size) +
                   " must be page aligned, not empty and below 4 GiB in size",
               t.source());
  }
  if (!mem.isRam(*gpa, *size)) {
    return bad("value", "required memory " + hex(*gpa) + " + " + hex(*size) + " is not RAM",
               t.source());
  }
  q.gpa = *gpa;
  q.size = static_cast<uint32_t>(*size);
  q.vtl2_protectable = vtl2.value_or(false);
  return q;
}

Status parseVp(const toml::table& t, Manifest& m) {
  TableReader r(t, "vp");
  constexpr std::array<std::string_view, 3> kModes = {"long", "registers", "reset"};
  IGVMKIT_ASSIGN_OR_RETURN(auto mode, r.optWord("mode", kModes));
  if (mode) {
    m.vp.mode = static_cast<EntryMode>(*mode);
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto map, r.optSize("identity_map_size"));
  if (map) {
    if (*map == 0 || !aligned(*map, layout::kLargePageSize)) {
      return r.badKey("alignment", "identity_map_size",
                      hex(*map) + " must be a nonzero 2 MiB multiple");
    }
    // One PML4 + one PDPT + one PD per GiB must fit the page-table area (layout.h).
    uint64_t pages = 2 + (*map + layout::kGiB - 1) / layout::kGiB;
    if (pages * kPage > layout::kPageTablesMaxBytes || *map > 512 * layout::kGiB) {
      return r.badKey("value", "identity_map_size", hex(*map) + " needs more page tables than fit");
    }
    m.vp.identity_map_size = *map;
  }
  IGVMKIT_ASSIGN_OR_RETURN(auto pt_reloc, r.optBool("page_table_relocation"));
  m.vp.page_table_relocation = pt_reloc.value_or(false);
  IGVMKIT_ASSIGN_OR_RETURN(auto free_pages, r.optU64("page_table_free_pages", 64));
  if (free_pages) {
    m.vp.page_table_free_pages = static_cast<uint32_t>(*free_pages);
  }
  IGVMKIT_ASSIGN_OR_RETURN(const toml::table* regs, r.optTable("registers"));
  if (regs != nullptr) {
    TableReader rr(*regs, "vp.registers");
    for (size_t i = 0; i < kRegisterNames.size(); ++i) {
      auto reg = static_cast<Register>(i);
      bool is16 = reg == Register::kGdtrLimit || reg == Register::kIdtrLimit ||
                  reg == Register::kCodeSelector || reg == Register::kCodeAttributes ||
                  reg == Register::kDataSelector || reg == Register::kDataAttributes;
      IGVMKIT_ASSIGN_OR_RETURN(
          auto v,
          rr.optU64(kRegisterNames[i], is16 ? 0xFFFF : std::numeric_limits<int64_t>::max()));
      if (!v) {
        continue;
      }
      // Attributes use the 16-bit descriptor form; bits 11:8 must be zero (igvm-format.md §5.4).
      if ((reg == Register::kCodeAttributes || reg == Register::kDataAttributes) &&
          (*v & 0x0F00) != 0) {
        return rr.badKey("value", kRegisterNames[i], hex(*v) + " sets bits 11:8");
      }
      m.vp.registers[reg] = *v;
    }
    IGVMKIT_RETURN_IF_ERROR(rr.finish());
  }
  return r.finish();
}

}  // namespace igvmkit::builder::internal
