#include "measure/vmsa.h"

#include <algorithm>
#include <set>

#include "igvm/defs.h"

namespace igvmkit::measure {
namespace {

using igvm::SevVmsa;

// The page without the fields QEMU copies from an IGVM VMSA into KVM's vCPU state
// (measurement.md §1.5 (b)): any nonzero byte left makes QEMU refuse the file.
SevVmsa withoutKvmFields(SevVmsa v) {
  v.es = v.cs = v.ss = v.ds = v.fs = v.gs = v.gdtr = v.ldtr = v.idtr = v.tr = {};
  v.efer = v.cr4 = v.cr3 = v.cr0 = v.dr7 = v.dr6 = v.rflags = v.rip = 0;
  v.rsp = v.rax = v.pat = 0;
  v.rcx = v.rdx = v.rbx = 0;
  v.rbp = v.rsi = v.rdi = v.r8 = v.r9 = v.r10 = v.r11 = v.r12 = v.r13 = v.r14 = v.r15 = 0;
  v.sev_features = v.xcr0 = 0;
  v.mxcsr = 0;
  v.x87_fcw = 0;
  return v;
}

Result<SevVmsa> readVmsa(Bytes page) {
  if (page.size() != sizeof(SevVmsa)) {
    return invalid("vmsa.size", "vmsa is " + hex(page.size()) + " bytes, not a 4 KiB page");
  }
  return readStruct<SevVmsa>(page, 0);
}

}  // namespace

std::vector<std::string> kvmVmsaIssues(Bytes page, uint64_t gpa) {
  std::vector<std::string> issues;
  if (gpa != kKvmVmsaGpa) {
    issues.push_back("vmsa gpa " + hex(gpa) + " is not " + hex(kKvmVmsaGpa) +
                     ", where kvm measures it");
  }
  Result<SevVmsa> v = readVmsa(page);
  if (!v.ok()) {
    issues.push_back(v.error().message);
    return issues;
  }
  if (v->cr0 != 0x31 && v->cr0 != 0x30) {
    issues.push_back("vmsa cr0 " + hex(v->cr0) + " is neither 0x31 nor 0x30");
  }
  if (v->sev_features != igvm::kSevFeatureSnp) {
    issues.push_back("vmsa sev_features " + hex(v->sev_features) +
                     " is not exactly snp_active (0x1)");
  }
  // Report nonzero bytes outside the copied fields as runs, so one message names one field.
  const SevVmsa rest = withoutKvmFields(*v);
  const Bytes left = asBytes(rest);
  size_t off = 0;
  while (off < left.size()) {
    if (left[off] == std::byte{0}) {
      ++off;
      continue;
    }
    size_t end = off;
    while (end + 1 < left.size() && left[end + 1] != std::byte{0}) {
      ++end;
    }
    issues.push_back("vmsa bytes " + hex(off) + ".." + hex(end) +
                     " are nonzero but qemu does not pass them to kvm");
    off = end + 1;
  }
  return issues;
}

Result<KvmVmsaPlan> kvmVmsaPlan(std::span<const uint32_t> file_vp_indexes, uint32_t vcpus) {
  if (vcpus == 0) {
    return usage("the vcpu count must be at least 1");
  }
  std::set<uint32_t> present;
  for (uint32_t vp : file_vp_indexes) {
    // Two VMSAs for one VP cannot both be that VP's initial state.
    if (!present.insert(vp).second) {
      return invalid("snp.duplicate_vp_index",
                     "the file has more than one vmsa for vp_index " + std::to_string(vp));
    }
  }
  KvmVmsaPlan plan;
  for (uint32_t i = 0; i < vcpus; ++i) {
    if (present.count(i) != 0) {
      plan.source_vp_index.push_back(i);
    } else if (present.count(0) != 0) {
      plan.source_vp_index.push_back(0);
    } else {
      return invalid("snp.kvm_vmsa_missing", "vcpu " + std::to_string(i) +
                                                 " has no vmsa and the file has none for "
                                                 "vp_index 0");
    }
  }
  for (uint32_t vp : present) {
    if (vp >= vcpus) {
      plan.unused_vp_indexes.push_back(vp);
    }
  }
  return plan;
}

std::vector<std::string> kvmVcpuCountWarnings(const KvmVmsaPlan& plan, uint32_t vcpus) {
  std::vector<std::string> warnings;
  auto list = [](const std::vector<uint32_t>& v) {
    std::string s;
    for (uint32_t x : v) {
      s += (s.empty() ? "" : ", ") + std::to_string(x);
    }
    return s;
  };
  if (!plan.unused_vp_indexes.empty()) {
    warnings.push_back("the vmsa for vp_index " + list(plan.unused_vp_indexes) +
                       " is not measured with " + std::to_string(vcpus) +
                       " vcpus, and qemu refuses a vp context for a vcpu the vm does not have: "
                       "this launch needs at least " +
                       std::to_string(plan.unused_vp_indexes.back() + 1) + " vcpus");
  }
  bool per_vcpu = !plan.unused_vp_indexes.empty();
  std::vector<uint32_t> borrowed;
  for (uint32_t i = 1; i < plan.source_vp_index.size(); ++i) {
    if (plan.source_vp_index[i] == i) {
      per_vcpu = true;
    } else {
      borrowed.push_back(i);
    }
  }
  if (per_vcpu && !borrowed.empty()) {
    warnings.push_back("vcpu " + list(borrowed) +
                       " has no vmsa of its own and is measured with vp_index 0's, but qemu "
                       "applies no vp context to it (kvm measures its own reset state)");
  }
  return warnings;
}

Result<std::vector<Bytes>> kvmVmsaPages(std::span<const VpVmsa> vmsas, uint32_t vcpus) {
  std::vector<uint32_t> indexes;
  for (const VpVmsa& v : vmsas) {
    indexes.push_back(v.vp_index);
  }
  IGVMKIT_ASSIGN_OR_RETURN(KvmVmsaPlan plan, kvmVmsaPlan(indexes, vcpus));
  std::vector<Bytes> pages;
  for (uint32_t vp : plan.source_vp_index) {
    for (const VpVmsa& v : vmsas) {
      if (v.vp_index == vp) {
        pages.push_back(v.page);
        break;
      }
    }
  }
  return pages;
}

}  // namespace igvmkit::measure
