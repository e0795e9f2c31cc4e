#include "builder/image.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "base/file.h"
#include "builder/bzimage.h"
#include "builder/elf.h"
#include "builder/internal/bytes_io.h"
#include "builder/layout.h"
#include "builder/linux_boot.h"
#include "builder/tdx_reset.h"
#include "builder/x86.h"
#include "measure/ovmf_launch.h"
#include "ovmf/ovmf.h"

namespace igvmkit::builder {
namespace {

using internal::alignUp;
constexpr uint64_t kPage = layout::kPageSize;

Error placement(std::string message) { return invalid("image.placement", std::move(message)); }

class Layouter {
 public:
  Layouter(const Manifest& m, const FileReader& read, const LayoutOptions& options)
      : m_(m), read_(read), options_(options), all_(m.platforms()) {}

  Result<Image> run();

 private:
  // Claims [gpa, gpa+size) on each platform in `platforms` (empty = all), so that two things
  // visible to one platform never overlap; things for disjoint platforms may share addresses.
  Status claim(const PlatformList& platforms, uint64_t gpa, uint64_t size, const std::string& what) {
    for (Platform p : platforms.empty() ? all_ : platforms) {
      IGVMKIT_RETURN_IF_ERROR(claims_[p].reserve(gpa, size, what));
    }
    return okStatus();
  }
  // Content every platform sees.
  Status common(uint64_t gpa, Bytes data, const std::string& what) {
    IGVMKIT_RETURN_IF_ERROR(claim({}, gpa, data.size(), what));
    return common_.write(gpa, data, what);
  }
  // Content for some platforms only, as its own region.
  Status specific(const PlatformList& platforms, uint64_t gpa, Bytes data, const std::string& what,
                  PageDataType type = PageDataType::kNormal) {
    IGVMKIT_RETURN_IF_ERROR(claim(platforms, gpa, alignUp(data.size(), kPage), what));
    PageSet set;
    IGVMKIT_RETURN_IF_ERROR(set.write(gpa, data, what));
    Region r;
    r.what = what;
    r.platforms = platforms == all_ ? PlatformList{} : platforms;
    r.pages = set.pages();
    r.type = type;
    specific_.push_back(std::move(r));
    return okStatus();
  }
  Status zeroPage(const PlatformList& platforms, uint64_t gpa, const std::string& what,
                  PageDataType type) {
    ByteVector zeros;
    IGVMKIT_RETURN_IF_ERROR(claim(platforms, gpa, kPage, what));
    Region r;
    r.what = what;
    r.platforms = platforms == all_ ? PlatformList{} : platforms;
    r.pages.push_back(Page{gpa, {}});
    r.type = type;
    specific_.push_back(std::move(r));
    return okStatus();
  }

  uint64_t identityMapEnd() const {
    if (m_.vp.identity_map_size != 0) {
      return m_.vp.identity_map_size;
    }
    uint64_t top = m_.memory.ram.empty() ? 0 : m_.memory.ram.back().end();
    return std::max(layout::k4GiB, alignUp(top, layout::kGiB));
  }

  PlatformList without(Platform p) const {
    PlatformList out;
    for (Platform q : all_) {
      if (q != p) {
        out.push_back(q);
      }
    }
    return out;
  }

  Status layoutLinux();
  Status layoutVmlinux(Bytes kernel_file);
  Status layoutBootData(const BzImage& img, uint64_t load, uint64_t entry);
  Status layoutPayload();
  Status layoutFirmware();
  Status layoutTdvf(Bytes fw);
  Status layoutSnpFirmware(Bytes fw, uint64_t gpa);
  Status layoutData();
  Status streamedData(const DataBlob& d, const std::string& what);
  Status layoutVp();

  const Manifest& m_;
  const FileReader& read_;
  LayoutOptions options_;
  PlatformList all_;
  std::map<Platform, PageSet> claims_;
  PageSet common_;
  std::vector<Region> specific_;
  std::vector<Region> data_;
  std::vector<ParameterArea> builder_areas_;  // after the manifest's (index = position)
  Image image_;
  uint64_t rsi_ = 0;
  uint64_t cr3_plain_ = 0;
  uint64_t cr3_snp_ = 0;
  uint64_t map_end_ = 0;
  std::vector<VpContext> firmware_vmsas_;  // SNP [firmware] launch: QEMU's reset VMSAs
};

// A kernel file is an uncompressed ELF vmlinux when it starts with the ELF magic, else a bzImage.
bool isElf(Bytes file) {
  return file.size() >= 4 && file[0] == std::byte{0x7F} && file[1] == std::byte{'E'} &&
         file[2] == std::byte{'L'} && file[3] == std::byte{'F'};
}

Status Layouter::layoutLinux() {
  const LinuxComponent& lc = *m_.linux_boot;
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector kernel_file, read_(lc.kernel));
  if (isElf(kernel_file)) {
    return layoutVmlinux(kernel_file);
  }
  IGVMKIT_ASSIGN_OR_RETURN(BzImage img, parseBzImage(kernel_file));
  IGVMKIT_ASSIGN_OR_RETURN(uint64_t load, chooseLoadAddress(img, lc.load_address));
  IGVMKIT_RETURN_IF_ERROR(checkKernelPlacement(img, load, m_.memory));
  IGVMKIT_RETURN_IF_ERROR(common(load, img.kernel, "kernel"));
  // The kernel decompresses into [load, load + init_size): nothing else may go there.
  IGVMKIT_RETURN_IF_ERROR(claim({}, load + img.kernel.size(), img.init_size - img.kernel.size(),
                                "kernel init_size area"));
  return layoutBootData(img, load, load + kBzImage64BitEntryOffset);
}

// An uncompressed vmlinux: its PT_LOAD segments at p_paddr, entered at e_entry (startup_64, the
// entry the bzImage's decompressor jumps to), with a synthesized setup header. It skips the
// decompressor, which matters where guest code is slow (an emulating host, vmm/README.md).
Status Layouter::layoutVmlinux(Bytes kernel_file) {
  const LinuxComponent& lc = *m_.linux_boot;
  IGVMKIT_ASSIGN_OR_RETURN(ElfImage elf, parseElf(kernel_file, {.physical = true}));
  const uint64_t load = elf.segments.front().gpa;
  const uint64_t end = elf.segments.back().gpa + elf.segments.back().mem_size;
  if (lc.load_address && *lc.load_address != load) {
    return placement("an ELF kernel loads at its p_paddr " + hex(load) + ", not at load_address " +
                     hex(*lc.load_address));
  }
  if (end - load > 0xFFFF'FFFF) {
    return placement("ELF kernel spans " + hex(end - load) + " bytes (init_size is 32 bits)");
  }
  ElfKernelHeader h = makeElfKernelHeader(load, end - load);
  IGVMKIT_RETURN_IF_ERROR(checkKernelPlacement(h.image, load, m_.memory));
  for (size_t i = 0; i < elf.segments.size(); ++i) {
    const ElfSegment& s = elf.segments[i];
    const std::string what = "kernel segment " + std::to_string(i);
    IGVMKIT_RETURN_IF_ERROR(common(s.gpa, s.data, what));
    const uint64_t bss = s.mem_size - s.data.size();
    IGVMKIT_RETURN_IF_ERROR(claim({}, s.gpa + s.data.size(), bss, what + " bss"));
    IGVMKIT_RETURN_IF_ERROR(common_.zero(s.gpa + s.data.size(), bss, what + " bss"));
  }
  return layoutBootData(h.image, load, elf.entry);
}

// The initrd, the command line, the zero page(s) and the SNP pages, for a kernel at `load`.
Status Layouter::layoutBootData(const BzImage& img, uint64_t load, uint64_t entry) {
  const LinuxComponent& lc = *m_.linux_boot;
  BootParamsInput in;
  in.load_address = load;
  if (lc.initrd) {
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector initrd, read_(*lc.initrd));
    IGVMKIT_ASSIGN_OR_RETURN(in.initrd_gpa, placeInitrd(img, load, initrd.size(), m_.memory));
    in.initrd_size = initrd.size();
    IGVMKIT_RETURN_IF_ERROR(common(in.initrd_gpa, initrd, "initrd"));
  }
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector cmdline, makeCommandLine(img, lc.cmdline));
  IGVMKIT_RETURN_IF_ERROR(common(layout::kCommandLineGpa, cmdline, "command line"));
  IGVMKIT_ASSIGN_OR_RETURN(in.e820, e820FromLayout(m_.memory));
  PlatformList others = without(Platform::kSnp);
  if (m_.native) {
    // Native Linux finds its vCPUs through ACPI: the loader's MADT, reached from an RSDP + XSDT
    // (linux_boot.h makeAcpiRootPage). The confidential platforms keep their zero page as it was.
    const PlatformList native = {Platform::kNative};
    std::erase(others, Platform::kNative);
    IGVMKIT_RETURN_IF_ERROR(specific(native, layout::kAcpiRootGpa,
                                     makeAcpiRootPage(layout::kAcpiRootGpa, layout::kAcpiMadtGpa),
                                     "acpi rsdp + xsdt"));
    ParameterArea madt;
    madt.gpa = layout::kAcpiMadtGpa;
    madt.size = kPage;
    madt.parameters = {Parameter{ParameterKind::kMadt, 0}};
    madt.platforms = native;
    IGVMKIT_RETURN_IF_ERROR(claim(native, madt.gpa, madt.size, "acpi madt parameter area"));
    builder_areas_.push_back(std::move(madt));
    BootParamsInput with_acpi = in;
    with_acpi.acpi_rsdp_gpa = layout::kAcpiRootGpa;
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector zp, makeBootParams(img, with_acpi));
    IGVMKIT_RETURN_IF_ERROR(specific(native, layout::kBootParamsGpa, zp, "zero page"));
  }
  if (!others.empty()) {
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector zp, makeBootParams(img, in));
    IGVMKIT_RETURN_IF_ERROR(specific(others, layout::kBootParamsGpa, zp,
                                     m_.native ? "zero page (tdx, vbs)" : "zero page"));
  }
  if (m_.snp) {
    // SNP Linux finds its secrets and CPUID pages through cc_blob_sev_info (loader-vmm.md §3.6).
    in.cc_blob_gpa = layout::kSnpCcBlobGpa;
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector zp, makeBootParams(img, in));
    const PlatformList snp = {Platform::kSnp};
    IGVMKIT_RETURN_IF_ERROR(specific(snp, layout::kBootParamsGpa, zp, "zero page (snp)"));
    IGVMKIT_RETURN_IF_ERROR(
        zeroPage(snp, layout::kSnpSecretsGpa, "snp secrets page", PageDataType::kSecrets));
    IGVMKIT_RETURN_IF_ERROR(zeroPage(snp, layout::kSnpCpuidGpa, "snp cpuid page", PageDataType::kCpuid));
    ByteVector blob = makeCcBlobPage(layout::kSnpSecretsGpa, layout::kSnpCpuidGpa);
    IGVMKIT_RETURN_IF_ERROR(specific(snp, layout::kSnpCcBlobGpa, blob, "snp cc_blob"));
  }
  image_.entry = entry;
  rsi_ = layout::kBootParamsGpa;
  return okStatus();
}

Status Layouter::layoutPayload() {
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector file, read_(m_.payload->elf));
  IGVMKIT_ASSIGN_OR_RETURN(ElfImage elf, parseElf(file));
  for (size_t i = 0; i < elf.segments.size(); ++i) {
    const ElfSegment& s = elf.segments[i];
    const std::string what = "payload segment " + std::to_string(i);
    if (s.gpa < layout::kLowAreaEnd) {
      return placement(what + " at " + hex(s.gpa) + " lies in the builder's boot area below " +
                       hex(layout::kLowAreaEnd));
    }
    if (!m_.memory.isRam(s.gpa, s.mem_size)) {
      return placement(what + " at [" + hex(s.gpa) + ", " + hex(s.gpa + s.mem_size) +
                       ") is not inside RAM");
    }
    IGVMKIT_RETURN_IF_ERROR(common(s.gpa, s.data, what));
    const uint64_t bss = s.mem_size - s.data.size();
    IGVMKIT_RETURN_IF_ERROR(claim({}, s.gpa + s.data.size(), bss, what + " bss"));
    IGVMKIT_RETURN_IF_ERROR(common_.zero(s.gpa + s.data.size(), bss, what + " bss"));
  }
  image_.entry = elf.entry;
  if (m_.payload->relocatable && !elf.segments.empty()) {
    // The region is the payload's pages; it must start on the alignment (igvm-format.md §2.6).
    const Relocation& rel = *m_.payload->relocatable;
    uint64_t lo = ~uint64_t{0}, hi = 0;
    for (const ElfSegment& s : elf.segments) {
      lo = std::min(lo, s.gpa / kPage * kPage);
      hi = std::max(hi, alignUp(s.gpa + s.mem_size, kPage));
    }
    if (lo % rel.alignment != 0) {
      return placement("the relocatable payload starts at " + hex(lo) +
                       ", not a multiple of its alignment " + hex(rel.alignment));
    }
    if (lo < rel.minimum || hi - lo > rel.maximum - rel.minimum ||
        lo - rel.minimum > rel.maximum - rel.minimum - (hi - lo)) {
      return placement("the relocatable payload [" + hex(lo) + ", " + hex(hi) +
                       ") lies outside its own range [" + hex(rel.minimum) + ", " +
                       hex(rel.maximum) + ")");
    }
    image_.relocatable.push_back(RelocatableRange{"payload", lo, hi - lo, rel});
  }
  return okStatus();
}

Status Layouter::layoutFirmware() {
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector fw, read_(m_.firmware->image));
  if (m_.firmware->vars) {
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector vars, read_(*m_.firmware->vars));
    fw.insert(fw.begin(), vars.begin(), vars.end());
  }
  if (fw.empty()) {
    return placement("firmware image " + m_.firmware->image + " is empty");
  }
  const uint64_t size = alignUp(fw.size(), kPage);
  if (size > layout::kFirmwareEnd) {
    return placement("firmware image of " + hex(fw.size()) + " bytes is larger than 4 GiB");
  }
  const uint64_t gpa = m_.firmware->gpa.value_or(layout::kFirmwareEnd - size);
  // SNP after the image: the firmware's metadata pages follow it in the launch.
  const bool snp_launch = m_.snp && m_.vp.mode == EntryMode::kReset;
  if (!m_.tdx) {
    ByteVector padded = fw;
    padded.resize(size, std::byte{0});
    IGVMKIT_RETURN_IF_ERROR(common(gpa, padded, "firmware"));
    return snp_launch ? layoutSnpFirmware(fw, gpa) : okStatus();
  }
  // TDX: the pages QEMU gives a TDVF (measure/ovmf_launch.h), so the MRTD is the TDVF's.
  IGVMKIT_RETURN_IF_ERROR(layoutTdvf(fw));
  const PlatformList others = without(Platform::kTdx);
  if (others.empty()) {
    return okStatus();
  }
  ByteVector padded = fw;
  padded.resize(size, std::byte{0});
  IGVMKIT_RETURN_IF_ERROR(specific(others, gpa, padded, "firmware"));
  return snp_launch ? layoutSnpFirmware(fw, gpa) : okStatus();
}

// SNP: what QEMU + KVM measure for a plain OVMF launch after the image (measure/ovmf_launch.h,
// snpMetadataUpdates / ovmfLaunchVmsas), as IGVM page data and VP contexts, so the file measures
// like `measure --ovmf` of the same image. ZERO updates become PAGE_DATA without file data: a
// loader that measures those as native ZERO pages (igvmmeasure --native-zero, Vanadium,
// `igvmkit measure --native-zero`) reproduces the plain launch; QEMU's IGVM loader measures them
// as NORMAL pages of zeros (measure/README.md "QEMU launches of OVMF", builder/README.md).
Status Layouter::layoutSnpFirmware(Bytes fw, uint64_t gpa) {
  const std::string name = "firmware image " + m_.firmware->image;
  const SnpSettings& snp = *m_.snp;
  if (gpa + alignUp(fw.size(), kPage) != layout::kFirmwareEnd) {
    return placement(name + ": an SNP firmware launch needs the image to end at 4 GiB (reset "
                     "vector), not at " + hex(gpa + alignUp(fw.size(), kPage)));
  }
  IGVMKIT_ASSIGN_OR_RETURN(ovmf::Firmware ovmf, ovmf::Firmware::parse(fw));
  IGVMKIT_ASSIGN_OR_RETURN(
      ovmf::TableEntry meta,
      ovmf.requireEntry(ovmf::kSevMetadataGuid, "[platform.snp] (the SNP_SEC_MEM, secrets and "
                                                "CPUID pages OVMF expects)"));
  (void)meta;
  std::optional<measure::SevKernelHashes> hashes;
  if (m_.firmware->kernel) {
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector kernel, read_(*m_.firmware->kernel));
    ByteVector initrd;
    if (m_.firmware->initrd) {
      IGVMKIT_ASSIGN_OR_RETURN(initrd, read_(*m_.firmware->initrd));
    }
    IGVMKIT_ASSIGN_OR_RETURN(hashes,
                             measure::sevKernelHashes(kernel, initrd, m_.firmware->cmdline));
  }
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<measure::SnpMetadataUpdate> updates,
                           measure::snpMetadataUpdates(ovmf, hashes, snp.vmm));
  const PlatformList only_snp = {Platform::kSnp};
  for (measure::SnpMetadataUpdate& u : updates) {
    const std::string what = std::string("snp firmware ") + ovmf::sevSectionTypeName(u.section);
    if (!m_.memory.isRam(u.gpa, u.size)) {
      return placement(name + ": " + what + " [" + hex(u.gpa) + ", " + hex(u.gpa + u.size) +
                       ") is not inside RAM");
    }
    IGVMKIT_RETURN_IF_ERROR(claim(only_snp, u.gpa, u.size, what));
    Region r;
    r.what = what;
    r.platforms = all_ == only_snp ? PlatformList{} : only_snp;
    switch (u.type) {
      case measure::SnpPageType::kSecrets:
        r.type = PageDataType::kSecrets;
        break;
      case measure::SnpPageType::kCpuid:
        r.type = PageDataType::kCpuid;
        break;
      case measure::SnpPageType::kUnmeasured:
        r.unmeasured = true;
        break;
      default:  // kZero: no file data; kNormal: the kernel-hashes page
        break;
    }
    for (uint64_t off = 0; off < u.size; off += kPage) {
      r.pages.push_back(Page{u.gpa + off, {}});
    }
    if (!u.contents.empty()) {
      r.pages.front().bytes = std::move(u.contents);
    }
    specific_.push_back(std::move(r));
  }
  // One VMSA per vCPU, as QEMU gives a plain OVMF launch: the BSP at the reset vector, the APs at
  // the SEV-ES reset block's AP entry (a firmware without it is refused), each as the VP context
  // of its vp_index. All at vmsa_gpa: QEMU's IGVM loader applies VP context i to vCPU i and takes
  // a VMSA only at KVM's 0xFFFFFFFFF000 (target/i386/sev.c check_vmsa_supported), and KVM
  // measures them there in vCPU order, last (measure/README.md "VMSAs and host models").
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<igvm::SevVmsa> vmsas,
                           measure::ovmfLaunchVmsas(ovmf, snp.vcpus, snp.sev_features,
                                                    snp.vcpu_sig.value_or(0), snp.vmm));
  for (size_t i = 0; i < vmsas.size(); ++i) {
    const Bytes page = asBytes(vmsas[i]);
    firmware_vmsas_.push_back({Platform::kSnp, snp.vmsa_gpa, static_cast<uint16_t>(i),
                               ByteVector(page.begin(), page.end())});
  }
  return okStatus();
}

// Every TDVF section as its own TDX region, in metadata order, as QEMU's tdx_finalize_vm adds
// them: BFV / CFV pages from the image at DataOffset (measured when MR.EXTEND, else added only),
// TD_HOB and TempMem pages of zeros added only (QEMU writes the HOB at run time).
Status Layouter::layoutTdvf(Bytes fw) {
  const std::string name = "firmware image " + m_.firmware->image;
  IGVMKIT_ASSIGN_OR_RETURN(ovmf::Firmware tdvf, ovmf::Firmware::parse(fw));
  if (!tdvf.hasTdxMetadata()) {
    return placement(name + " has no TDX metadata (GUID " + ovmf::kTdxMetadataGuid.toString() +
                     "): [platform.tdx] needs a TDVF");
  }
  const auto& sections = tdvf.tdvfSections();
  for (size_t i = 0; i < sections.size(); ++i) {
    const ovmf::TdvfSection& s = sections[i];
    const std::string what = "tdvf section #" + std::to_string(i) + " (" +
                             ovmf::tdvfSectionTypeName(s.type) + ")";
    const bool from_image = s.type == ovmf::TdvfSectionType::kBfv ||
                            s.type == ovmf::TdvfSectionType::kCfv;
    if (!from_image && s.type != ovmf::TdvfSectionType::kTdHob &&
        s.type != ovmf::TdvfSectionType::kTempMem) {
      return placement(name + ": " + what + " is not a section QEMU launches");
    }
    if (from_image && uint64_t{s.data_offset} + s.memory_data_size > fw.size()) {
      return placement(name + ": " + what + " data " + hex(s.data_offset) + " + " +
                       hex(s.memory_data_size) + " is not inside the image (size " +
                       hex(fw.size()) + "): give the vars file too ('firmware.vars')");
    }
    if (!from_image && s.mrExtend()) {
      return placement(name + ": " + what + " asks for MR.EXTEND of pages QEMU fills itself");
    }
    IGVMKIT_RETURN_IF_ERROR(claim({Platform::kTdx}, s.memory_address, s.memory_data_size, what));
    Region r;
    r.what = what;
    r.platforms = all_ == PlatformList{Platform::kTdx} ? PlatformList{}
                                                        : PlatformList{Platform::kTdx};
    r.unmeasured = !s.mrExtend();
    if (from_image) {
      PageSet set;
      IGVMKIT_RETURN_IF_ERROR(
          set.write(s.memory_address, fw.subspan(s.data_offset, s.memory_data_size), what));
      r.pages = set.pages();
    } else {
      for (uint64_t off = 0; off < s.memory_data_size; off += kPage) {
        r.pages.push_back(Page{s.memory_address + off, {}});
      }
    }
    specific_.push_back(std::move(r));
  }
  return okStatus();
}

// A [[data]] file left unread: the same claims and pages as below, with a PageSource.
Status Layouter::streamedData(const DataBlob& d, const std::string& what) {
  IGVMKIT_ASSIGN_OR_RETURN(InputFile in, InputFile::open(*d.file));
  const uint64_t file_size = in.size();
  const uint64_t size = d.size.value_or(file_size);
  if (size == 0) {
    return placement(what + ": file " + *d.file + " is empty");
  }
  if (file_size > size) {
    return placement(what + ": file of " + hex(file_size) + " bytes exceeds size " + hex(size));
  }
  IGVMKIT_RETURN_IF_ERROR(claim(d.platforms, d.gpa, alignUp(size, kPage), what));
  Region r;
  r.what = what;
  r.platforms = d.platforms;
  r.pages.reserve(alignUp(size, kPage) / kPage);
  for (uint64_t off = 0; off < alignUp(size, kPage); off += kPage) {
    r.pages.push_back(Page{d.gpa + off, {}});
  }
  r.unmeasured = d.unmeasured;
  r.shared = d.shared;
  r.type = d.type;
  r.source = PageSource{std::make_shared<const InputFile>(std::move(in))};
  data_.push_back(std::move(r));
  return okStatus();
}

Status Layouter::layoutData() {
  for (size_t i = 0; i < m_.data.size(); ++i) {
    const DataBlob& d = m_.data[i];
    const std::string what = "data #" + std::to_string(i);
    if (d.file && options_.stream_data && d.gpa % kPage == 0) {
      IGVMKIT_RETURN_IF_ERROR(streamedData(d, what));
      continue;
    }
    ByteVector bytes;
    if (d.file) {
      IGVMKIT_ASSIGN_OR_RETURN(bytes, read_(*d.file));
    }
    const uint64_t size = d.size.value_or(bytes.size());
    if (size == 0) {
      return placement(what + ": file " + d.file.value_or("") + " is empty");
    }
    if (bytes.size() > size) {
      return placement(what + ": file of " + hex(bytes.size()) + " bytes exceeds size " + hex(size));
    }
    IGVMKIT_RETURN_IF_ERROR(claim(d.platforms, d.gpa, alignUp(size, kPage), what));
    PageSet set;
    IGVMKIT_RETURN_IF_ERROR(set.write(d.gpa, bytes, what));
    IGVMKIT_RETURN_IF_ERROR(set.zero(d.gpa + bytes.size(), alignUp(size, kPage) - bytes.size(), what));
    Region r;
    r.what = what;
    r.platforms = d.platforms;
    r.pages = set.pages();
    r.unmeasured = d.unmeasured;
    r.shared = d.shared;
    r.type = d.type;
    data_.push_back(std::move(r));
  }
  for (size_t i = 0; i < m_.parameter_areas.size(); ++i) {
    const ParameterArea& a = m_.parameter_areas[i];
    IGVMKIT_RETURN_IF_ERROR(claim(a.platforms, a.gpa, a.size, "parameter area #" + std::to_string(i)));
  }
  return okStatus();
}

Status Layouter::layoutVp() {
  if (m_.vp.mode == EntryMode::kReset) {
    // Only an SNP [firmware] launch has VP contexts here: the VMSAs QEMU would create.
    for (VpContext& v : firmware_vmsas_) {
      image_.vp_contexts.push_back(std::move(v));
    }
    return okStatus();
  }
  auto stateFor = [&](uint64_t cr3) {
    x86::VpState s;
    if (m_.vp.mode == EntryMode::kLongMode) {
      s = longModeState({.rip = image_.entry, .rsp = layout::kStackTop, .rsi = rsi_, .cr3 = cr3,
                         .gdt_gpa = layout::kGdtGpa});
    } else {
      s = registersBaseState();
    }
    applyRegisters(s, m_.vp.registers);
    return s;
  };
  const x86::VpState plain = stateFor(cr3_plain_);
  image_.entry = plain.rip;
  for (const RelocatableRange& r : image_.relocatable) {
    // The loader adds the delta to RIP / GDTR.base: they must point into the moving region.
    auto inside = [&](uint64_t a) { return a >= r.gpa && a - r.gpa < r.size; };
    if (r.relocation.apply_rip && !inside(plain.rip)) {
      return placement("apply_rip: the entry " + hex(plain.rip) + " is outside the relocatable " +
                       r.what + " [" + hex(r.gpa) + ", " + hex(r.gpa + r.size) + ")");
    }
    if (r.relocation.apply_gdtr && !inside(plain.gdtr.base)) {
      return placement("apply_gdtr: the gdt at " + hex(plain.gdtr.base) +
                       " is outside the relocatable " + r.what + " [" + hex(r.gpa) + ", " +
                       hex(r.gpa + r.size) + ")");
    }
  }
  if (m_.native) {
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector ctx, nativeVpContext(plain));
    image_.vp_contexts.push_back({Platform::kNative, 0, 0, std::move(ctx)});
  }
  if (m_.vbs) {
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector ctx, vbsVpContext(plain, m_.vbs->vtl));
    image_.vp_contexts.push_back({Platform::kVbs, 0, 0, std::move(ctx)});
  }
  if (m_.tdx) {
    // Generated tables end at map_end_; with explicit registers the manifest owns the tables.
    const uint64_t mapped = m_.vp.mode == EntryMode::kLongMode ? map_end_ : ~uint64_t{0};
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector page, tdxResetPage(plain, mapped));
    IGVMKIT_RETURN_IF_ERROR(
        specific({Platform::kTdx}, layout::kTdxResetPageGpa, page, "tdx reset trampoline"));
  }
  if (m_.snp) {
    const SnpSettings& snp = *m_.snp;
    const x86::VpState s = stateFor(cr3_snp_);
    VmsaOptions o;
    o.sev_features = snp.sev_features;
    o.virtual_tom = (snp.sev_features & kSevFeatureVtom) != 0 ? snp.shared_gpa_boundary : 0;
    o.kvm = snp.host == HostModel::kKvm;
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector vmsa, snpVmsa(s, o));
    image_.vp_contexts.push_back({Platform::kSnp, snp.vmsa_gpa, 0, std::move(vmsa)});
  }
  return okStatus();
}

Result<Image> Layouter::run() {
  if (m_.vp.mode == EntryMode::kLongMode) {
    map_end_ = identityMapEnd();
    Page gdt = makeGdtPage();
    IGVMKIT_RETURN_IF_ERROR(common(gdt.gpa, gdt.bytes, "gdt"));
    IGVMKIT_RETURN_IF_ERROR(claim({}, layout::kStackGpa, kPage, "boot stack"));
    IGVMKIT_RETURN_IF_ERROR(common_.zero(layout::kStackGpa, kPage, "boot stack"));
    const PlatformList others = without(Platform::kSnp);
    if (!others.empty()) {
      IGVMKIT_ASSIGN_OR_RETURN(PageTables pt, identityMap({.map_end = map_end_}));
      cr3_plain_ = pt.cr3;
      for (const Page& p : pt.pages) {
        IGVMKIT_RETURN_IF_ERROR(specific(others, p.gpa, p.bytes, "page tables"));
      }
      if (m_.vp.page_table_relocation) {
        // Free pages after the tables for the loader's new tables (igvm-format.md §2.6).
        const uint64_t free = uint64_t{m_.vp.page_table_free_pages} * kPage;
        if (pt.end() + free > layout::kLowAreaEnd) {
          return placement("the page tables and " + std::to_string(m_.vp.page_table_free_pages) +
                           " free pages end at " + hex(pt.end() + free) + ", past " +
                           hex(layout::kLowAreaEnd));
        }
        IGVMKIT_RETURN_IF_ERROR(claim(others, pt.end(), free, "page-table free pages"));
        const uint64_t first = pt.pages.front().gpa;
        image_.page_table_region = PageTableRange{first, pt.end() + free - first, pt.end() - first};
      }
    }
    if (m_.snp) {
      PageTableOptions o;
      o.map_end = map_end_;
      o.encryption_mask = 1ull << m_.snp->c_bit;
      IGVMKIT_ASSIGN_OR_RETURN(PageTables pt, identityMap(o));
      cr3_snp_ = pt.cr3;
      for (const Page& p : pt.pages) {
        IGVMKIT_RETURN_IF_ERROR(specific({Platform::kSnp}, p.gpa, p.bytes, "page tables (snp)"));
      }
    }
  }
  if (m_.linux_boot) {
    IGVMKIT_RETURN_IF_ERROR(layoutLinux());
  }
  if (m_.payload) {
    IGVMKIT_RETURN_IF_ERROR(layoutPayload());
  }
  if (m_.firmware) {
    IGVMKIT_RETURN_IF_ERROR(layoutFirmware());
  }
  IGVMKIT_RETURN_IF_ERROR(layoutData());
  IGVMKIT_RETURN_IF_ERROR(layoutVp());
  if (common_.pageCount() != 0) {
    Region r;
    r.what = "image";
    r.pages = common_.pages();
    image_.regions.push_back(std::move(r));
  }
  // Merge consecutive single-page regions of the same kind (page tables) for readability.
  for (Region& r : specific_) {
    if (!image_.regions.empty()) {
      Region& last = image_.regions.back();
      if (last.what == r.what && last.platforms == r.platforms && last.type == r.type &&
          !last.pages.empty() && !r.pages.empty() &&
          last.pages.back().gpa + kPage == r.pages.front().gpa) {
        last.pages.insert(last.pages.end(), r.pages.begin(), r.pages.end());
        continue;
      }
    }
    image_.regions.push_back(std::move(r));
  }
  for (Region& r : data_) {
    image_.regions.push_back(std::move(r));
  }
  image_.parameter_areas = m_.parameter_areas;
  image_.parameter_areas.insert(image_.parameter_areas.end(), builder_areas_.begin(),
                                builder_areas_.end());
  image_.required_memory = m_.required_memory;
  return std::move(image_);
}

}  // namespace

FileReader diskReader() {
  return [](const std::string& path) { return readFile(path); };
}

Result<Image> layoutImage(const Manifest& manifest, const FileReader& read,
                          const LayoutOptions& options) {
  Layouter l(manifest, read, options);
  return l.run();
}

}  // namespace igvmkit::builder
