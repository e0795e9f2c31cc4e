// measure/vmsa.h: SEV-SNP VMSA pages as the host models measure them (measurement.md §1.4, §1.5).
//
// Two host models exist, and they measure VMSAs differently:
//   * KVM (with a QEMU-style IGVM loader) measures the VMSAs itself inside
//     KVM_SEV_SNP_LAUNCH_FINISH: after every other page, for every vCPU in vCPU-index order, at
//     the fixed GPA kKvmVmsaGpa, from its own register state. The IGVM VMSA only reaches the
//     digest through the fields QEMU copies into KVM; every other field must be zero. vCPU i
//     uses the file's VMSA with vp_index i, or the one with vp_index 0 when there is none for i
//     (cli-contract.md). The page bytes are measured as the file holds them: nothing in the
//     reference says a field differs between vCPUs for an IGVM launch, so no per-vCPU rewrite is
//     done (see measure/README.md for the KVM normalisations this assumes away).
//   * MSHV / Hyper-V measures each VMSA page where its directive stands, at the GPA it names, and
//     only the VP contexts present; nothing here is needed beyond SnpLaunchDigest::addPage.
//
//   IGVMKIT_ASSIGN_OR_RETURN(auto plan, kvmVmsaPlan(vp_indexes_in_file, vcpus));
//   for (uint32_t vp : plan.source_vp_index) {
//     IGVMKIT_RETURN_IF_ERROR(ld.addPage(kKvmVmsaGpa, SnpPageType::kVmsa, vmsa_of[vp]));
//   }
//   for (const std::string& w : kvmVmsaIssues(vmsa_of[0], gpa_of[0])) { warn(w); }
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "x86/arch.h"

namespace igvmkit::measure {

// KVM's INITIAL_VMSA_GPA: where KVM puts (and measures) every VMSA (§1.4).
using x86::kKvmVmsaGpa;

// Why KVM would not measure this VMSA page (at `gpa`) as the file holds it, one lowercase line per
// problem, empty when it would: the GPA is not kKvmVmsaGpa; CR0 is not 0x31 or 0x30
// (igvmmeasure --check-kvm); sev_features is not exactly SNP_ACTIVE; bytes outside the fields
// QEMU copies into KVM are nonzero (QEMU's check_vmsa_supported). `measure` warns with these.
std::vector<std::string> kvmVmsaIssues(Bytes page, uint64_t gpa);

// Which of the file's VMSAs KVM measures for each vCPU.
struct KvmVmsaPlan {
  std::vector<uint32_t> source_vp_index;    // element i: the vp_index whose VMSA vCPU i uses
  std::vector<uint32_t> unused_vp_indexes;  // VMSAs in the file for vp_index >= vcpus
};

// One VMSA page of the file and the VP it belongs to (from an SNP VP_CONTEXT directive).
struct VpVmsa {
  uint32_t vp_index = 0;
  Bytes page;  // 4096 bytes
};

// The VMSA pages KVM measures, one per vCPU in vCPU order (kvmVmsaPlan applied to `vmsas`); the
// caller adds each at kKvmVmsaGpa after every other page.
Result<std::vector<Bytes>> kvmVmsaPages(std::span<const VpVmsa> vmsas, uint32_t vcpus);

// What a vCPU count that does not fit the file's VMSAs means, as QEMU's IGVM loader behaves (it
// hands VP context i to vCPU i: backends/igvm.c qigvm_directive_vp_context ->
// target/i386/sev.c sev_set_cpu_context), one warning line each:
//   * VMSAs for vp_index >= vcpus: QEMU refuses the launch ("out of bounds CPU index"; the loader's
//     kvm-snp backend too, `kvm_snp.vp_count`); the digest is of a launch that cannot happen;
//   * a file with VMSAs beyond vp_index 0 and vCPUs without one of their own: they are measured
//     with vp_index 0's (the plan), but QEMU applies no VP context to them and KVM measures its
//     own reset state. A file with vp_index 0's VMSA alone gives no warning (cli-contract.md).
std::vector<std::string> kvmVcpuCountWarnings(const KvmVmsaPlan& plan, uint32_t vcpus);

// vCPU i uses vp_index i if the file has it, else vp_index 0. Errors: a kUsage error for zero
// vCPUs, "snp.kvm_vmsa_missing" when a vCPU has neither, "snp.duplicate_vp_index" when the file
// lists a vp_index twice.
Result<KvmVmsaPlan> kvmVmsaPlan(std::span<const uint32_t> file_vp_indexes, uint32_t vcpus);

}  // namespace igvmkit::measure
