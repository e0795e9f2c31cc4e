// measure/ovmf_launch.h: the launch measurement of OVMF as QEMU launches it without IGVM (the
// firmware given with -bios), for SEV, SEV-ES, SEV-SNP (optionally with COCONUT-SVSM) and TDX.
// It computes what sev-snp-measure (SEV family) and tdx-measure / dstack-mr (TDX MRTD) compute,
// flag for flag, from the firmware's own metadata (ovmf/ovmf.h).
//
//   IGVMKIT_ASSIGN_OR_RETURN(ovmf::Firmware fw, ovmf::Firmware::parse(mapped.bytes()));
//   measure::OvmfLaunchOptions o;
//   o.platform = measure::Platform::kSnp;
//   o.vcpus = 4;
//   IGVMKIT_ASSIGN_OR_RETURN(o.vcpu_sig, measure::vcpuSignatureOf("EPYC-Milan"));
//   IGVMKIT_ASSIGN_OR_RETURN(measure::Measurement m, measure::measureOvmfLaunch(fw, o));
//
// SEV-SNP (sev-snp-measure guest.py snp_calc_launch_digest; measurement.md §1.6 "Plain-OVMF"):
//   1. the whole image as NORMAL pages ending at 4 GiB;
//   2. the "ASEV" sections in table order: SNP_SEC_MEM ZERO (UNMEASURED under gce), SNP_SECRETS
//      one SECRETS page, CPUID one CPUID page (under ec2: after all other sections),
//      SVSM_CAA ZERO, SNP_KERNEL_HASHES one NORMAL page holding QEMU's SEV hash table at the hash
//      table GUID's offset in the page when a kernel is given, else ZERO;
//   3. one VMSA per vCPU at 0xFFFFFFFFF000: the BSP starts at 0xFFFFFFF0, the APs at the SEV-ES
//      reset block's address; RDX holds the vCPU signature (QEMU) or 0x600 (ec2, gce).
// With an SVSM: OVMF, then the SVSM image as NORMAL pages ending where the OVMF vars begin
// (OVMF start - vars size), the SVSM's own "ASEV" sections, and every vCPU starting at the SVSM
// entry (SVSM info GUID) in 32-bit protected mode (sev-snp-measure guest.py
// svsm_calc_launch_digest, vmsa.py VMSA_SVSM).
// SEV / SEV-ES: SHA-256 of the image, then QEMU's padded SEV hash table when a kernel is given,
// then (SEV-ES) the VMSAs with SEV_FEATURES 0.
// TDX (QEMU target/i386/kvm/tdx.c tdx_finalize_vm; tdx-measure src/tdvf.rs): every "TDVF" section
// in table order, page by page, TDH.MEM.PAGE.ADD then 16 TDH.MR.EXTENDs when the section has
// MR.EXTEND; the image must be the unified one (vars + code) QEMU gets as -bios.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/defs.h"
#include "measure/digest.h"
#include "measure/measure.h"
#include "measure/snp.h"
#include "ovmf/ovmf.h"

namespace igvmkit::measure {

// Whose reset state the VMSAs carry (sev-snp-measure --vmm-type).
enum class VmmType { kQemu, kEc2, kGce };
// "qemu", "ec2", "gce" (sev-snp-measure's spellings "QEMU", "ec2", "gce" are accepted too).
Result<VmmType> parseVmmType(std::string_view name);
const char* vmmTypeName(VmmType vmm);

// CPUID Fn0000_0001_EAX from family, model and stepping (AMD pub. 25481; sev-snp-measure
// vcpu_types.py cpu_sig): extended family above 0xF, extended model, base fields.
uint32_t vcpuSignature(uint32_t family, uint32_t model, uint32_t stepping);
// The signature of a QEMU CPU model name sev-snp-measure knows (EPYC … EPYC-Turin); a usage
// error listing the names otherwise.
Result<uint32_t> vcpuSignatureOf(std::string_view model_name);
// Every name vcpuSignatureOf() accepts, in sev-snp-measure's order.
std::span<const std::string_view> knownVcpuTypes();

// SHA-256 of the kernel, the initrd (empty when none) and the command line with its NUL (just a
// NUL when none), as QEMU hashes them for kernel-hashes=on (sev_hashes.py SevHashes).
struct SevKernelHashes {
  Sha256Digest kernel{};
  Sha256Digest initrd{};
  Sha256Digest cmdline{};
};
Result<SevKernelHashes> sevKernelHashes(Bytes kernel, Bytes initrd,
                                        std::optional<std::string_view> append);
// QEMU's SEV hash table (ovmf/defs.h SEV_HASH_TABLE), zero-padded to 176 bytes.
ByteVector sevHashTable(const SevKernelHashes& hashes);

// The VMSA KVM measures for a vCPU of a plain OVMF launch, starting at `eip` (sev-snp-measure
// vmsa.py VMSA.build_save_area: real-mode reset state, EFER.SVME, CR4.MCE, PAT, XCR0 1, and for
// QEMU MXCSR 0x1F80 / FCW 0x37F (host kernel >= 6.9) and RDX = vcpu_sig).
igvm::SevVmsa ovmfResetVmsa(uint32_t eip, uint64_t sev_features, uint32_t vcpu_sig, VmmType vmm);
// The VMSA of every vCPU of a COCONUT-SVSM launch, starting at `eip` in flat 32-bit protected mode
// (VMSA_SVSM: SEV_FEATURES 1, CR0 0x11, FCW 0 as sev-snp-measure writes it).
igvm::SevVmsa svsmResetVmsa(uint32_t eip, uint32_t vcpu_sig);

// One SNP_LAUNCH_UPDATE step of a plain OVMF SNP launch after the image: `size` bytes of pages
// of `type` from `gpa`, in the order QEMU issues them (the "ASEV" sections in table order, CPUID
// last under ec2). Only the NORMAL kernel-hashes page carries `contents` (one page).
// measureOvmfLaunch() measures these; builder/ writes them as IGVM page data.
struct SnpMetadataUpdate {
  ovmf::SevSectionType section = ovmf::SevSectionType::kSnpSecMem;
  uint64_t gpa = 0;
  uint64_t size = 0;
  SnpPageType type = SnpPageType::kZero;
  ByteVector contents;
};
// Errors: ovmf_launch.kernel_hashes (a kernel without SNP_KERNEL_HASHES, with sev-snp-measure's
// message, or a hash table that does not fit its page), ovmf.missing (no hash-table GUID).
Result<std::vector<SnpMetadataUpdate>> snpMetadataUpdates(
    const ovmf::Firmware& firmware, const std::optional<SevKernelHashes>& kernel_hashes,
    VmmType vmm);

// The VMSAs KVM measures for `vcpus` vCPUs of a plain OVMF SNP or SEV-ES launch: the BSP at the
// reset vector, the APs at the SEV-ES reset block's address. Errors: ovmf.missing (no SEV-ES reset
// block), ovmf_launch.options (AP address 0 with more than one vCPU).
Result<std::vector<igvm::SevVmsa>> ovmfLaunchVmsas(const ovmf::Firmware& firmware, uint32_t vcpus,
                                                   uint64_t sev_features, uint32_t vcpu_sig,
                                                   VmmType vmm);

struct SvsmLaunch {
  Bytes image;             // the SVSM binary (svsm.bin), with its own footer table
  uint64_t vars_size = 0;  // size of the OVMF vars in front of OVMF_CODE (--vars-size/--vars-file)
};

struct OvmfLaunchOptions {
  Platform platform = Platform::kSnp;  // kSnp, kSev, kSevEs or kTdx
  uint32_t vcpus = 1;                  // SNP, SEV-ES: one VMSA per vCPU
  uint32_t vcpu_sig = 0;               // RDX of every VMSA under QEMU
  VmmType vmm = VmmType::kQemu;
  uint64_t guest_features = 0x1;  // SNP: SEV_FEATURES of every VMSA (ignored with an SVSM)
  std::optional<SevKernelHashes> kernel_hashes;  // --kernel/--initrd/--append
  std::optional<SvsmLaunch> svsm;                // SNP only
  TraceFn trace = nullptr;                       // one line per measured operation
};

// The launch measurement. Errors: "ovmf.missing" (a GUID the launch needs), "ovmf_launch.size"
// (an image that is not whole pages or does not fit below 4 GiB), "ovmf_launch.kernel_hashes"
// (a kernel given but no SNP_KERNEL_HASHES section / SEV hash table, with sev-snp-measure's
// message), "ovmf_launch.tdx" (a TDVF section QEMU would not launch, or data past the image),
// "ovmf_launch.options" (options the platform does not take), plus the digest classes' rules.
Result<Measurement> measureOvmfLaunch(const ovmf::Firmware& firmware,
                                      const OvmfLaunchOptions& options);

}  // namespace igvmkit::measure
