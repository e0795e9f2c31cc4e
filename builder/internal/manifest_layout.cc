// checkLayout(): the manifest's rules that span sections.
#include <string>
#include <toml++/toml.h>
#include <vector>

#include "builder/internal/manifest_sections.h"
#include "builder/internal/toml_reader.h"
#include "builder/layout.h"

namespace igvmkit::builder::internal {

Status checkLayout(Manifest& m, const toml::table& root) {
  const int boot_components = (m.linux_boot ? 1 : 0) + (m.firmware ? 1 : 0) + (m.payload ? 1 : 0);
  if (boot_components > 1) {
    return bad("boot_component", "give at most one of [linux], [firmware] and [payload]",
               root.source());
  }
  const toml::node* vp_node = root.get("vp");
  const toml::source_region vp_where = vp_node != nullptr ? vp_node->source() : root.source();
  const bool mode_given = vp_node != nullptr && vp_node->as_table() != nullptr &&
                          vp_node->as_table()->contains("mode");
  if (!mode_given) {
    m.vp.mode = m.firmware ? EntryMode::kReset : m.vp.registers.empty() || m.linux_boot || m.payload
                                                     ? EntryMode::kLongMode
                                                     : EntryMode::kRegisters;
  }
  if (boot_components == 0 && m.vp.mode != EntryMode::kRegisters) {
    return bad("boot_component",
               "give one of [linux], [firmware] or [payload], or vp.mode = \"registers\"",
               root.source());
  }
  if (m.vp.mode == EntryMode::kReset && (m.linux_boot || m.payload)) {
    return bad("conflict", "vp.mode = \"reset\" cannot enter a [linux] or [payload] component",
               vp_where);
  }
  if (m.vp.mode != EntryMode::kLongMode && m.linux_boot) {
    return bad("conflict", "[linux] boots only with vp.mode = \"long\"", vp_where);
  }
  if (m.vp.mode == EntryMode::kReset && !m.vp.registers.empty()) {
    return bad("conflict", "vp.mode = \"reset\" takes no [vp.registers]", vp_where);
  }
  if (m.vp.mode == EntryMode::kRegisters && m.vp.registers.count(Register::kRip) == 0) {
    return bad("missing_key", "vp.mode = \"registers\" needs 'vp.registers.rip'", vp_where);
  }
  if (m.vp.mode == EntryMode::kLongMode && m.firmware &&
      m.vp.registers.count(Register::kRip) == 0) {
    return bad("missing_key", "[firmware] entered in long mode needs 'vp.registers.rip'", vp_where);
  }
  const bool relocatable = m.payload && m.payload->relocatable;
  if (relocatable || m.vp.page_table_relocation) {
    // The parser accepts relocation headers only with a later VBS VP context of the same VTL
    // (igvm-format.md §2.6), and the loader relocates VTL 0 guests only.
    if (!m.vbs || m.vbs->vtl != 0) {
      return bad("conflict",
                 "relocation needs [platform.vbs] with vtl = 0 (IGVM relocation headers must be "
                 "followed by a VBS VP context)",
                 root.source());
    }
  }
  if (m.vp.page_table_relocation && m.vp.mode != EntryMode::kLongMode) {
    return bad("conflict", "vp.page_table_relocation needs vp.mode = \"long\" (generated tables)",
               vp_where);
  }
  if (m.vp.mode == EntryMode::kReset && (m.vbs || (m.snp && !m.firmware))) {
    // SNP and VBS start from an initial VP context the file must carry (igvm-format.md §5); for
    // [firmware] on SNP the builder writes the reset VMSAs QEMU would create.
    return bad("conflict", "snp and vbs guests need a VP context; vp.mode = \"reset\" has none",
               vp_where);
  }
  if (m.firmware && m.firmware->kernel && (!m.snp || m.vp.mode != EntryMode::kReset)) {
    return bad("conflict",
               "'firmware.kernel' goes into the SNP_KERNEL_HASHES page of an SNP firmware launch: "
               "it needs [platform.snp] and vp.mode = \"reset\"",
               root.source());
  }
  if (m.firmware && m.snp && m.vp.mode == EntryMode::kReset) {
    // The VMSAs are the ones QEMU + KVM create for a plain OVMF launch (measure/ovmf_launch.h).
    const toml::node* snp_node = root.at_path("platform.snp").node();
    const toml::source_region where = snp_node != nullptr ? snp_node->source() : root.source();
    if (m.snp->host != HostModel::kKvm) {
      return bad("conflict",
                 "an SNP [firmware] launch is QEMU's on KVM: 'platform.snp.host' must be \"kvm\"",
                 where);
    }
    if (m.snp->vmm == measure::VmmType::kQemu && !m.snp->vcpu_sig) {
      // QEMU puts the vCPU signature in RDX (sev-snp-measure requires it the same way).
      return bad("missing_key",
                 "an SNP [firmware] launch under QEMU needs 'platform.snp.vcpu_type' or "
                 "'platform.snp.vcpu_sig'",
                 where);
    }
  }
  if (m.vp.mode == EntryMode::kLongMode) {
    // The builder's GDT, zero page, command line, stack and page tables live in low RAM.
    if (!m.memory.isRam(0, layout::kLowAreaEnd)) {
      return bad("value",
                 "vp.mode = \"long\" needs RAM at [0x0, " + hex(layout::kLowAreaEnd) +
                     ") for the boot structures",
                 root.get("memory") != nullptr ? root.get("memory")->source() : root.source());
    }
    const MemoryRange low{layout::kGdtGpa, layout::kLowAreaEnd - layout::kGdtGpa};
    for (size_t i = 0; i < m.data.size(); ++i) {
      const DataBlob& d = m.data[i];
      if (d.size && overlaps({d.gpa, *d.size}, low)) {
        return bad("overlap",
                   "[[data]] at " + hex(d.gpa) + " overlaps the boot structures at [" +
                       hex(low.base) + ", " + hex(low.end()) + ")",
                   root.get("data")->as_array()->get(i)->source());
      }
    }
    for (size_t i = 0; i < m.parameter_areas.size(); ++i) {
      const ParameterArea& a = m.parameter_areas[i];
      if (overlaps({a.gpa, a.size}, low)) {
        return bad("overlap",
                   "[[parameter_area]] at " + hex(a.gpa) + " overlaps the boot structures at [" +
                       hex(low.base) + ", " + hex(low.end()) + ")",
                   root.get("parameter_area")->as_array()->get(i)->source());
      }
    }
  }
  // Blobs and parameter areas with known sizes must not overlap each other.
  struct Placed {
    MemoryRange range;
    std::string what;
    toml::source_region where;
  };
  std::vector<Placed> placed;
  for (size_t i = 0; i < m.data.size(); ++i) {
    if (m.data[i].size) {
      placed.push_back({{m.data[i].gpa, *m.data[i].size}, "[[data]]",
                        root.get("data")->as_array()->get(i)->source()});
    }
  }
  for (size_t i = 0; i < m.parameter_areas.size(); ++i) {
    placed.push_back({{m.parameter_areas[i].gpa, m.parameter_areas[i].size}, "[[parameter_area]]",
                      root.get("parameter_area")->as_array()->get(i)->source()});
  }
  for (size_t i = 0; i < placed.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (overlaps(placed[i].range, placed[j].range)) {
        return bad("overlap",
                   placed[i].what + " at " + hex(placed[i].range.base) + " overlaps " +
                       placed[j].what + " at " + hex(placed[j].range.base),
                   placed[i].where);
      }
    }
  }
  return okStatus();
}

}  // namespace igvmkit::builder::internal
