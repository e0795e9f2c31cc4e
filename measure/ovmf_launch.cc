#include "measure/ovmf_launch.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <thread>
#include <vector>

#include "measure/internal/hash.h"
#include "measure/parallel.h"
#include "measure/sev.h"
#include "measure/snp.h"
#include "measure/tdx.h"
#include "measure/vmsa.h"
#include "ovmf/defs.h"

namespace igvmkit::measure {
namespace {

constexpr uint64_t kFourGiB = uint64_t{1} << 32;
constexpr uint32_t kBspEip = 0xFFFF'FFF0;  // x86 reset vector
// RDX at reset on EC2 and GCE: family 6 signature of their own VMM (sev-snp-measure vmsa.py).
constexpr uint32_t kCloudRdx = 0x600;
constexpr uint64_t kResetPat = 0x0007'0406'0007'0406;  // APM vol. 2 §A.3
constexpr uint64_t kGcePat = 0x0007'0106;             // GCE overwrites the default PAT

// The QEMU CPU models sev-snp-measure lists (vcpu_types.py CPU_SIGS, from QEMU's
// builtin_x86_defs): family, model, stepping.
struct CpuModel {
  std::string_view name;
  uint32_t family, model, stepping;
};
constexpr CpuModel kCpuModels[] = {
    {"EPYC", 23, 1, 2},          {"EPYC-v1", 23, 1, 2},       {"EPYC-v2", 23, 1, 2},
    {"EPYC-IBPB", 23, 1, 2},     {"EPYC-v3", 23, 1, 2},       {"EPYC-v4", 23, 1, 2},
    {"EPYC-Rome", 23, 49, 0},    {"EPYC-Rome-v1", 23, 49, 0}, {"EPYC-Rome-v2", 23, 49, 0},
    {"EPYC-Rome-v3", 23, 49, 0}, {"EPYC-Milan", 25, 1, 1},    {"EPYC-Milan-v1", 25, 1, 1},
    {"EPYC-Milan-v2", 25, 1, 1}, {"EPYC-Genoa", 25, 17, 0},   {"EPYC-Genoa-v1", 25, 17, 0},
    {"EPYC-Turin", 26, 0, 0},
};
constexpr auto kCpuModelNames = [] {
  std::array<std::string_view, std::size(kCpuModels)> names{};
  for (size_t i = 0; i < names.size(); ++i) {
    names[i] = kCpuModels[i].name;
  }
  return names;
}();

igvm::SevVmsaSegment segment(uint16_t selector, uint16_t attrib, uint32_t limit, uint64_t base) {
  return igvm::SevVmsaSegment{selector, attrib, limit, base};
}

Bytes vmsaBytes(const igvm::SevVmsa& vmsa) { return asBytes(vmsa); }

Error launchError(std::string rule, std::string message) {
  return invalid(std::move(rule), std::move(message));
}

std::string traceLine(uint64_t index, const char* op, uint64_t gpa) {
  return std::to_string(index) + " " + op + " gpa=" + hex(gpa);
}

Result<Sha256Digest> sha256Of(Bytes data) {
  impl::Hasher h(impl::sha256Md());
  IGVMKIT_RETURN_IF_ERROR(h.init());
  IGVMKIT_RETURN_IF_ERROR(h.update(data));
  Sha256Digest out;
  IGVMKIT_RETURN_IF_ERROR(h.finish(out.data()));
  return out;
}

// Where an image ending at `end` starts; whole pages only (gctx.py update_normal_pages asserts it).
Result<uint64_t> imageGpa(const char* what, Bytes image, uint64_t end) {
  if (image.empty() || image.size() % kPageSize != 0 || image.size() > end) {
    return launchError("ovmf_launch.size",
                       std::string(what) + " is " + hex(image.size()) +
                           " bytes: it must be whole 4 KiB pages and fit below " + hex(end));
  }
  return end - image.size();
}

nlohmann::ordered_json hashesJson(const SevKernelHashes& h) {
  return {{"kernel_sha256", hexDigest(h.kernel)},
          {"initrd_sha256", hexDigest(h.initrd)},
          {"cmdline_sha256", hexDigest(h.cmdline)}};
}

// --- SEV-SNP ----------------------------------------------------------------------------------

class SnpLaunch {
 public:
  SnpLaunch(const OvmfLaunchOptions& o)
      : o_(o), stream_(ld_, {.threads = std::max(1u, std::thread::hardware_concurrency())}) {
    if (o.trace) {
      ld_.setTrace([this](const SnpTraceRecord& r) { o_.trace(formatSnpTrace(r)); });
    }
  }

  Status pages(uint64_t gpa, SnpPageType type, uint64_t size, Bytes contents = {}) {
    for (uint64_t off = 0; off < size; off += kPageSize) {
      Bytes page = contents.empty() ? Bytes() : contents.subspan(off, kPageSize);
      IGVMKIT_RETURN_IF_ERROR(stream_.add({gpa + off, type, page}));
    }
    return okStatus();
  }

  // The "ASEV" sections of `fw` (guest.py snp_update_metadata_pages). The pages must outlive
  // the stream's batches, hence `updates` is owned by the caller.
  Status metadata(const std::vector<SnpMetadataUpdate>& updates) {
    for (const SnpMetadataUpdate& u : updates) {
      IGVMKIT_RETURN_IF_ERROR(pages(u.gpa, u.type, u.size, u.contents));
    }
    return okStatus();
  }

  // VMSAs come after every page (KVM measures them in LAUNCH_FINISH), so the stream is flushed
  // first; the pages must outlive the stream's batches, hence `vmsas` is owned by the caller.
  Status vmsas(std::span<const igvm::SevVmsa> per_vcpu) {
    for (const igvm::SevVmsa& v : per_vcpu) {
      IGVMKIT_RETURN_IF_ERROR(stream_.add({kKvmVmsaGpa, SnpPageType::kVmsa, vmsaBytes(v)}));
    }
    return stream_.finish();
  }

  const SnpLaunchDigest& ld() const { return ld_; }

 private:
  const OvmfLaunchOptions& o_;
  SnpLaunchDigest ld_;
  SnpPageStream stream_;
};

Result<Measurement> measureSnp(const ovmf::Firmware& fw, const OvmfLaunchOptions& o) {
  Measurement m;
  m.platform = platformName(Platform::kSnp);
  m.host = hostModelName(HostModel::kKvm);
  m.vcpus = o.vcpus;
  IGVMKIT_ASSIGN_OR_RETURN(uint64_t ovmf_gpa, imageGpa("the OVMF image", fw.image(), kFourGiB));
  SnpLaunch launch(o);
  std::vector<SnpMetadataUpdate> updates;
  std::vector<igvm::SevVmsa> vmsas;
  m.assumptions["source"] = "QEMU launch of OVMF without IGVM (sev-snp-measure model)";
  m.assumptions["ovmf_gpa"] = hex(ovmf_gpa);
  if (o.svsm) {
    if (o.vmm != VmmType::kQemu) {
      return launchError("ovmf_launch.options", "an SVSM launch is only modelled for QEMU");
    }
    if (o.kernel_hashes) {
      return launchError("ovmf_launch.options", "an SVSM launch takes no kernel hashes");
    }
    IGVMKIT_ASSIGN_OR_RETURN(ovmf::Firmware svsm, ovmf::Firmware::parse(o.svsm->image));
    if (o.svsm->vars_size > ovmf_gpa) {
      return launchError("ovmf_launch.size", "vars size " + hex(o.svsm->vars_size) +
                                                 " runs below guest address 0");
    }
    IGVMKIT_ASSIGN_OR_RETURN(uint64_t svsm_gpa,
                             imageGpa("the SVSM image", svsm.image(), ovmf_gpa - o.svsm->vars_size));
    IGVMKIT_ASSIGN_OR_RETURN(ovmf::TableEntry info,
                             svsm.requireEntry(ovmf::kSvsmInfoGuid, "the SVSM entry point"));
    (void)info;
    const uint64_t eip = svsm_gpa + *svsm.svsmEntryOffset();
    if (eip >= kFourGiB) {
      return launchError("ovmf_launch.size", "the SVSM entry " + hex(eip) + " is above 4 GiB");
    }
    IGVMKIT_RETURN_IF_ERROR(launch.pages(ovmf_gpa, SnpPageType::kNormal, fw.image().size(),
                                         fw.image()));
    IGVMKIT_RETURN_IF_ERROR(launch.pages(svsm_gpa, SnpPageType::kNormal, svsm.image().size(),
                                         svsm.image()));
    IGVMKIT_ASSIGN_OR_RETURN(updates, snpMetadataUpdates(svsm, std::nullopt, VmmType::kQemu));
    IGVMKIT_RETURN_IF_ERROR(launch.metadata(updates));
    vmsas.assign(o.vcpus, svsmResetVmsa(static_cast<uint32_t>(eip), o.vcpu_sig));
    m.assumptions["svsm_gpa"] = hex(svsm_gpa);
    m.assumptions["vars_size"] = o.svsm->vars_size;
    m.assumptions["svsm_entry"] = hex(eip);
    m.assumptions["sev_features"] = "0x1 (sev-snp-measure's SVSM mode ignores --guest-features)";
    m.assumptions["vmsa"] = "COCONUT-SVSM start state: 32-bit flat, CR0 0x11, MXCSR 0x1f80, "
                            "FCW 0 (sev-snp-measure VMSA_SVSM)";
  } else {
    IGVMKIT_ASSIGN_OR_RETURN(vmsas, ovmfLaunchVmsas(fw, o.vcpus, o.guest_features, o.vcpu_sig,
                                                    o.vmm));
    const uint32_t ap_eip = *fw.sevEsResetEip();
    IGVMKIT_RETURN_IF_ERROR(launch.pages(ovmf_gpa, SnpPageType::kNormal, fw.image().size(),
                                         fw.image()));
    IGVMKIT_ASSIGN_OR_RETURN(updates, snpMetadataUpdates(fw, o.kernel_hashes, o.vmm));
    IGVMKIT_RETURN_IF_ERROR(launch.metadata(updates));
    m.assumptions["ap_eip"] = hex(ap_eip);
    m.assumptions["sev_features"] = hex(o.guest_features);
    m.assumptions["vmsa"] = o.vmm == VmmType::kQemu
                                ? "KVM reset state, MXCSR 0x1f80 / FCW 0x37f (host kernel >= 6.9)"
                                : "the cloud VMM's reset state (sev-snp-measure)";
  }
  m.assumptions["vmm"] = vmmTypeName(o.vmm);
  m.assumptions["vcpu_sig"] = hex(o.vcpu_sig);
  m.assumptions["vmsa_gpa"] = hex(kKvmVmsaGpa);
  m.assumptions["kernel_hashes"] =
      o.kernel_hashes ? hashesJson(*o.kernel_hashes) : nlohmann::ordered_json(nullptr);
  IGVMKIT_RETURN_IF_ERROR(launch.vmsas(vmsas));
  m.digest.assign(launch.ld().digest().begin(), launch.ld().digest().end());
  m.pages_measured = launch.ld().pageCount();
  return m;
}

// --- SEV / SEV-ES -----------------------------------------------------------------------------

Result<Measurement> measureSev(const ovmf::Firmware& fw, const OvmfLaunchOptions& o) {
  const bool es = o.platform == Platform::kSevEs;
  if (o.svsm) {
    return launchError("ovmf_launch.options", "an SVSM launch is SEV-SNP only");
  }
  Measurement m;
  m.platform = platformName(o.platform);
  SevDigest d(es ? SevMode::kSevEs : SevMode::kSev);
  const uint64_t gpa = kFourGiB - std::min<uint64_t>(fw.image().size(), kFourGiB);
  uint64_t index = 0;
  for (uint64_t off = 0; off < fw.image().size(); off += kPageSize) {
    IGVMKIT_RETURN_IF_ERROR(
        d.addData(fw.image().subspan(off, std::min<uint64_t>(kPageSize, fw.image().size() - off))));
    if (o.trace) {
      o.trace(traceLine(index++, "data", gpa + off));
    }
  }
  if (o.kernel_hashes) {
    if (!fw.sevHashTable()) {
      return launchError(
          "ovmf_launch.kernel_hashes",
          "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement");
    }
    IGVMKIT_RETURN_IF_ERROR(d.addData(sevHashTable(*o.kernel_hashes)));
    if (o.trace) {
      o.trace(traceLine(index++, "sev_hash_table", fw.sevHashTable()->gpa));
    }
  }
  if (es) {
    // SEV-ES has no SEV_FEATURES; sev-snp-measure passes 0.
    IGVMKIT_ASSIGN_OR_RETURN(std::vector<igvm::SevVmsa> vmsas,
                             ovmfLaunchVmsas(fw, o.vcpus, 0, o.vcpu_sig, o.vmm));
    for (uint32_t i = 0; i < vmsas.size(); ++i) {
      IGVMKIT_RETURN_IF_ERROR(d.addVmsa(vmsaBytes(vmsas[i])));
      if (o.trace) {
        o.trace(std::to_string(index++) + " vmsa vcpu=" + std::to_string(i));
      }
    }
    m.vcpus = o.vcpus;
    m.assumptions["vmm"] = vmmTypeName(o.vmm);
    m.assumptions["vcpu_sig"] = hex(o.vcpu_sig);
    m.assumptions["ap_eip"] = hex(*fw.sevEsResetEip());
  }
  m.assumptions["source"] = "QEMU launch of OVMF without IGVM (sev-snp-measure model)";
  m.assumptions["kernel_hashes"] =
      o.kernel_hashes ? hashesJson(*o.kernel_hashes) : nlohmann::ordered_json(nullptr);
  IGVMKIT_ASSIGN_OR_RETURN(Sha256Digest digest, d.digest());
  m.digest.assign(digest.begin(), digest.end());
  m.pages_measured = index;
  return m;
}

// --- TDX --------------------------------------------------------------------------------------

Result<Measurement> measureTdx(const ovmf::Firmware& fw, const OvmfLaunchOptions& o) {
  using ovmf::TdvfSectionType;
  if (o.svsm || o.kernel_hashes) {
    return launchError("ovmf_launch.options",
                       "a TDX launch of OVMF takes no --kernel or --svsm (QEMU measures neither "
                       "into MRTD)");
  }
  IGVMKIT_ASSIGN_OR_RETURN(ovmf::TableEntry meta,
                           fw.requireEntry(ovmf::kTdxMetadataGuid, "a TDX launch (TDVF)"));
  (void)meta;
  Measurement m;
  m.platform = platformName(Platform::kTdx);
  TdxMrtd mrtd;
  uint64_t index = 0;
  bool page_aug = false;
  const Bytes image = fw.image();
  const auto& sections = fw.tdvfSections();
  for (size_t i = 0; i < sections.size(); ++i) {
    const ovmf::TdvfSection& s = sections[i];
    const std::string where = "TDVF section #" + std::to_string(i) + " (" +
                              ovmf::tdvfSectionTypeName(s.type) + ")";
    const bool from_image = s.type == TdvfSectionType::kBfv || s.type == TdvfSectionType::kCfv;
    // QEMU's tdvf_parse_and_check_section_entry and tdx_finalize_vm take these four types only.
    if (!from_image && s.type != TdvfSectionType::kTdHob && s.type != TdvfSectionType::kTempMem) {
      return unsupported("ovmf_launch.tdx", where + ": QEMU does not launch this section type");
    }
    if (from_image && (s.raw_data_size == 0 ||
                       uint64_t{s.data_offset} + s.memory_data_size > image.size())) {
      return launchError("ovmf_launch.tdx",
                         where + ": data " + hex(s.data_offset) + " + " +
                             hex(s.memory_data_size) + " is not inside the image (size " +
                             hex(image.size()) +
                             "): TDX launches the unified image, OVMF_VARS + OVMF_CODE");
    }
    if (!from_image && (s.raw_data_size != 0 || s.mrExtend())) {
      // QEMU fills these pages itself (the TD HOB, zeros); extending them would measure QEMU's
      // HOB, which depends on the RAM size: not a firmware-only digest.
      return unsupported("ovmf_launch.tdx",
                         where + ": raw data or MR.EXTEND on a section QEMU fills itself");
    }
    page_aug = page_aug || s.pageAug();
    for (uint64_t off = 0; off < s.memory_data_size; off += kPageSize) {
      const uint64_t gpa = s.memory_address + off;
      IGVMKIT_RETURN_IF_ERROR(mrtd.pageAdd(gpa));
      if (s.mrExtend()) {
        IGVMKIT_RETURN_IF_ERROR(mrtd.extendPage(gpa, image.subspan(s.data_offset + off, kPageSize)));
      }
      if (o.trace) {
        o.trace(traceLine(index, s.mrExtend() ? "page.add+extend" : "page.add", gpa));
      }
      ++index;
    }
  }
  if (page_aug) {
    m.warnings.push_back(
        "a TDVF section has the PAGE.AUG attribute: QEMU adds its pages with TDH.MEM.PAGE.ADD "
        "all the same (measured here), tdx-measure skips them");
  }
  IGVMKIT_ASSIGN_OR_RETURN(Sha384Digest digest, mrtd.result());
  m.digest.assign(digest.begin(), digest.end());
  m.pages_measured = mrtd.pagesAdded();
  m.assumptions["source"] = "QEMU launch of a TDVF (-bios, unified vars + code image)";
  m.assumptions["page_order"] = "per page: PAGE.ADD then 16 MR.EXTEND (KVM_TDX_INIT_MEM_REGION)";
  m.assumptions["sections"] = sections.size();
  return m;
}

}  // namespace

Result<VmmType> parseVmmType(std::string_view name) {
  if (name == "qemu" || name == "QEMU") {
    return VmmType::kQemu;
  }
  if (name == "ec2") {
    return VmmType::kEc2;
  }
  if (name == "gce") {
    return VmmType::kGce;
  }
  return usage("unknown VMM type '" + std::string(name) + "' (qemu, ec2, gce)");
}

const char* vmmTypeName(VmmType vmm) {
  switch (vmm) {
    case VmmType::kQemu:
      return "qemu";
    case VmmType::kEc2:
      return "ec2";
    case VmmType::kGce:
      return "gce";
  }
  return "?";
}

uint32_t vcpuSignature(uint32_t family, uint32_t model, uint32_t stepping) {
  const uint32_t family_low = family > 0xF ? 0xF : family;
  const uint32_t family_high = family > 0xF ? (family - 0xF) & 0xFF : 0;
  return (family_high << 20) | (((model >> 4) & 0xF) << 16) | (family_low << 8) |
         ((model & 0xF) << 4) | (stepping & 0xF);
}

Result<uint32_t> vcpuSignatureOf(std::string_view model_name) {
  for (const CpuModel& c : kCpuModels) {
    if (c.name == model_name) {
      return vcpuSignature(c.family, c.model, c.stepping);
    }
  }
  std::string names;
  for (std::string_view n : kCpuModelNames) {
    names += (names.empty() ? "" : ", ") + std::string(n);
  }
  return usage("unknown vCPU type '" + std::string(model_name) + "' (" + names + ")");
}

std::span<const std::string_view> knownVcpuTypes() { return kCpuModelNames; }

Result<SevKernelHashes> sevKernelHashes(Bytes kernel, Bytes initrd,
                                        std::optional<std::string_view> append) {
  SevKernelHashes h;
  // Two large inputs: hash the initrd on a second thread while the kernel hashes here.
  Result<Sha256Digest> initrd_digest = internal("initrd not hashed");
  std::thread worker([&] { initrd_digest = sha256Of(initrd); });
  Result<Sha256Digest> kernel_digest = sha256Of(kernel);
  worker.join();
  IGVMKIT_ASSIGN_OR_RETURN(h.kernel, std::move(kernel_digest));
  IGVMKIT_ASSIGN_OR_RETURN(h.initrd, std::move(initrd_digest));
  std::string cmdline = append ? std::string(*append) : std::string();
  cmdline.push_back('\0');
  IGVMKIT_ASSIGN_OR_RETURN(h.cmdline, sha256Of(toBytes(cmdline)));
  return h;
}

ByteVector sevHashTable(const SevKernelHashes& hashes) {
  auto entry = [](std::string_view guid, const Sha256Digest& hash) {
    ovmf::SEV_HASH_TABLE_ENTRY e{};
    std::memcpy(e.guid, ovmf::Guid::fromString(guid).bytes.data(), 16);
    e.length = sizeof(e);
    std::memcpy(e.hash, hash.data(), hash.size());
    return e;
  };
  // GUIDs from QEMU target/i386/sev.c (sev_hash_table_header_guid, sev_*_entry_guid).
  ovmf::SEV_HASH_TABLE t{};
  std::memcpy(t.guid, ovmf::Guid::fromString("9438d606-4f22-4cc9-b479-a793d411fd21").bytes.data(),
              16);
  t.length = sizeof(t);
  t.cmdline = entry("97d02dd8-bd20-4c94-aa78-e7714d36ab2a", hashes.cmdline);
  t.initrd = entry("44baf731-3a2f-4bd7-9af1-41e29169781d", hashes.initrd);
  t.kernel = entry("4de79437-abd2-427f-b835-d5b172d2045b", hashes.kernel);
  ByteVector out(ovmf::kPaddedSevHashTableSize);
  std::memcpy(out.data(), &t, sizeof(t));
  return out;
}

igvm::SevVmsa ovmfResetVmsa(uint32_t eip, uint64_t sev_features, uint32_t vcpu_sig, VmmType vmm) {
  // Segment attributes, RDX, PAT and the FPU control words differ by VMM (vmsa.py).
  uint16_t cs_attrib = 0x9B, ss_attrib = 0x93, tr_attrib = 0x8B;
  uint64_t rdx = vcpu_sig, pat = kResetPat;
  uint32_t mxcsr = 0x1F80;
  uint16_t fcw = 0x37F;
  if (vmm == VmmType::kEc2) {
    cs_attrib = eip == kBspEip ? 0x9A : 0x9B;
    ss_attrib = 0x92;
    tr_attrib = 0x83;
    rdx = kCloudRdx;
    mxcsr = 0;
    fcw = 0;
  } else if (vmm == VmmType::kGce) {
    pat = kGcePat;
    rdx = kCloudRdx;
    mxcsr = 0;
    fcw = 0;
  }
  igvm::SevVmsa v{};
  v.es = segment(0, 0x93, 0xFFFF, 0);
  v.cs = segment(0xF000, cs_attrib, 0xFFFF, eip & 0xFFFF'0000);
  v.ss = segment(0, ss_attrib, 0xFFFF, 0);
  v.ds = segment(0, 0x93, 0xFFFF, 0);
  v.fs = segment(0, 0x93, 0xFFFF, 0);
  v.gs = segment(0, 0x93, 0xFFFF, 0);
  v.gdtr = segment(0, 0, 0xFFFF, 0);
  v.idtr = segment(0, 0, 0xFFFF, 0);
  v.ldtr = segment(0, 0x82, 0xFFFF, 0);
  v.tr = segment(0, tr_attrib, 0xFFFF, 0);
  v.efer = 0x1000;  // KVM sets EFER.SVME
  v.cr4 = 0x40;     // KVM sets CR4.MCE
  v.cr0 = 0x10;
  v.dr7 = 0x400;
  v.dr6 = 0xFFFF'0FF0;
  v.rflags = 0x2;
  v.rip = eip & 0xFFFF;
  v.pat = pat;
  v.rdx = rdx;
  v.sev_features = sev_features;
  v.xcr0 = 0x1;
  v.mxcsr = mxcsr;
  v.x87_fcw = fcw;
  return v;
}

igvm::SevVmsa svsmResetVmsa(uint32_t eip, uint32_t vcpu_sig) {
  igvm::SevVmsa v{};
  v.es = segment(16, 0xC93, 0xFFFF'FFFF, 0);
  v.cs = segment(8, 0xC9B, 0xFFFF'FFFF, 0);
  v.ss = segment(16, 0xC93, 0xFFFF'FFFF, 0);
  v.ds = segment(16, 0xC93, 0xFFFF'FFFF, 0);
  v.fs = segment(16, 0xC93, 0xFFFF'FFFF, 0);
  v.gs = segment(0, 0x093, 0xFFFF, 0);
  v.gdtr = segment(0, 0, 0xFFFF, 0);
  v.idtr = segment(0, 0, 0xFFFF, 0);
  v.ldtr = segment(0, 0x82, 0xFFFF, 0);
  v.tr = segment(0, 0x8B, 0xFFFF, 0);
  v.efer = 0x1000;
  v.cr4 = 0x40;
  v.cr0 = 0x11;
  v.dr7 = 0x400;
  v.dr6 = 0xFFFF'0FF0;
  v.rflags = 0x2;
  v.rip = eip;
  v.pat = kResetPat;
  v.rdx = vcpu_sig;
  v.sev_features = 0x1;
  v.xcr0 = 0x1;
  v.mxcsr = 0x1F80;
  // sev-snp-measure's VMSA_SVSM passes `fcw=` (not a field), so FCW stays 0; the published
  // hardware digests were taken with that stack (measurement.md §1.5 "sev-snp-measure quirk").
  v.x87_fcw = 0;
  return v;
}

Result<std::vector<SnpMetadataUpdate>> snpMetadataUpdates(
    const ovmf::Firmware& fw, const std::optional<SevKernelHashes>& hashes, VmmType vmm) {
  using ovmf::SevSectionType;
  std::vector<SnpMetadataUpdate> out;
  auto add = [&](const ovmf::SevSection& s, uint64_t size, SnpPageType type) {
    out.push_back({s.type, s.gpa, size, type, {}});
  };
  for (const ovmf::SevSection& s : fw.sevSections()) {
    switch (s.type) {
      case SevSectionType::kSnpSecMem:
        add(s, s.size, vmm == VmmType::kGce ? SnpPageType::kUnmeasured : SnpPageType::kZero);
        break;
      case SevSectionType::kSnpSecrets:
        add(s, kPageSize, SnpPageType::kSecrets);
        break;
      case SevSectionType::kCpuid:
        if (vmm != VmmType::kEc2) {
          add(s, kPageSize, SnpPageType::kCpuid);
        }
        break;
      case SevSectionType::kSvsmCaa:
        add(s, s.size, SnpPageType::kZero);
        break;
      case SevSectionType::kSnpKernelHashes: {
        if (!hashes) {
          add(s, s.size, SnpPageType::kZero);
          break;
        }
        IGVMKIT_ASSIGN_OR_RETURN(ovmf::TableEntry entry,
                                 fw.requireEntry(ovmf::kSevHashTableGuid, "a kernel hash"));
        (void)entry;
        if (!fw.sevHashTable()) {
          return launchError("ovmf_launch.kernel_hashes",
                             "the SEV hash table entry (GUID " +
                                 ovmf::kSevHashTableGuid.toString() + ") has base 0");
        }
        if (s.size != kPageSize) {
          return launchError("ovmf_launch.kernel_hashes",
                             "the SNP_KERNEL_HASHES section is " + hex(s.size) +
                                 " bytes; QEMU fills exactly one page");
        }
        const uint64_t in_page = fw.sevHashTable()->gpa & (kPageSize - 1);
        const ByteVector table = sevHashTable(*hashes);
        if (in_page + table.size() > kPageSize) {
          return launchError("ovmf_launch.kernel_hashes",
                             "the SEV hash table at " + hex(fw.sevHashTable()->gpa) +
                                 " does not fit in its page");
        }
        SnpMetadataUpdate u{s.type, s.gpa, kPageSize, SnpPageType::kNormal, {}};
        u.contents.assign(kPageSize, std::byte{0});
        std::memcpy(u.contents.data() + in_page, table.data(), table.size());
        out.push_back(std::move(u));
        break;
      }
    }
  }
  // EC2 measures the CPUID page after every other metadata page.
  if (vmm == VmmType::kEc2) {
    for (const ovmf::SevSection& s : fw.sevSections()) {
      if (s.type == SevSectionType::kCpuid) {
        add(s, kPageSize, SnpPageType::kCpuid);
      }
    }
  }
  if (hashes && !fw.hasSevSection(SevSectionType::kSnpKernelHashes)) {
    return launchError(
        "ovmf_launch.kernel_hashes",
        "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section");
  }
  return out;
}

Result<std::vector<igvm::SevVmsa>> ovmfLaunchVmsas(const ovmf::Firmware& fw, uint32_t vcpus,
                                                   uint64_t sev_features, uint32_t vcpu_sig,
                                                   VmmType vmm) {
  IGVMKIT_ASSIGN_OR_RETURN(ovmf::TableEntry reset,
                           fw.requireEntry(ovmf::kSevEsResetBlockGuid, "an SEV-ES/SNP AP start"));
  (void)reset;
  const uint32_t ap_eip = *fw.sevEsResetEip();
  if (ap_eip == 0 && vcpus > 1) {
    return launchError("ovmf_launch.options",
                       "the SEV-ES reset block gives AP address 0: only 1 vCPU can start");
  }
  std::vector<igvm::SevVmsa> out;
  for (uint32_t i = 0; i < vcpus; ++i) {
    out.push_back(ovmfResetVmsa(i == 0 ? kBspEip : ap_eip, sev_features, vcpu_sig, vmm));
  }
  return out;
}

Result<Measurement> measureOvmfLaunch(const ovmf::Firmware& firmware,
                                      const OvmfLaunchOptions& options) {
  if (options.vcpus == 0) {
    return usage("--vcpus wants a count >= 1");
  }
  switch (options.platform) {
    case Platform::kSnp:
      return measureSnp(firmware, options);
    case Platform::kSev:
    case Platform::kSevEs:
      return measureSev(firmware, options);
    case Platform::kTdx:
      return measureTdx(firmware, options);
    case Platform::kNative:
    case Platform::kVbs:
      break;
  }
  return usage(std::string("--ovmf measures snp, sev, sev-es or tdx, not ") +
               platformName(options.platform));
}

}  // namespace igvmkit::measure
