#include "measure/vmsa.h"

#include <algorithm>
#include <set>

namespace igvmkit::measure {
namespace {

constexpr size_t kVmsaPageSize = 4096;

template <class T>
T readAt(Bytes page, size_t off) {
  T v;
  std::memcpy(&v, page.data() + off, sizeof(T));
  return v;
}

// The VMSA fields QEMU copies from an IGVM VMSA into KVM's vCPU state (measurement.md §1.5 (b)).
// Any other nonzero byte makes QEMU refuse the file.
struct Field {
  size_t offset;
  size_t size;
};
// clang-format off
constexpr Field kKvmFields[] = {
    {0x000, 0xA0},             // es cs ss ds fs gs gdtr ldtr idtr tr
    {vmsa::kEfer, 8},
    {vmsa::kCr4, 8},
    {vmsa::kCr3, 8},
    {vmsa::kCr0, 8},
    {0x160, 8},                // dr7
    {0x168, 8},                // dr6
    {vmsa::kRflags, 8},
    {vmsa::kRip, 8},
    {0x1D8, 8},                // rsp
    {0x1F8, 8},                // rax
    {vmsa::kPat, 8},
    {0x308, 0x18},             // rcx rdx rbx
    {0x328, 0x58},             // rbp rsi rdi r8..r15
    {vmsa::kSevFeatures, 8},
    {vmsa::kXcr0, 8},
    {vmsa::kMxcsr, 4},
    {vmsa::kX87Fcw, 2},
};
// clang-format on

bool copiedByQemu(size_t off) {
  for (const Field& f : kKvmFields) {
    if (off >= f.offset && off < f.offset + f.size) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<VmsaRegisters> readVmsaRegisters(Bytes page) {
  if (page.size() != kVmsaPageSize) {
    return invalid("vmsa.size", "vmsa is " + hex(page.size()) + " bytes, not a 4 KiB page");
  }
  VmsaRegisters r;
  r.efer = readAt<uint64_t>(page, vmsa::kEfer);
  r.cr0 = readAt<uint64_t>(page, vmsa::kCr0);
  r.cr3 = readAt<uint64_t>(page, vmsa::kCr3);
  r.cr4 = readAt<uint64_t>(page, vmsa::kCr4);
  r.rflags = readAt<uint64_t>(page, vmsa::kRflags);
  r.rip = readAt<uint64_t>(page, vmsa::kRip);
  r.pat = readAt<uint64_t>(page, vmsa::kPat);
  r.sev_features = readAt<uint64_t>(page, vmsa::kSevFeatures);
  r.xcr0 = readAt<uint64_t>(page, vmsa::kXcr0);
  r.mxcsr = readAt<uint32_t>(page, vmsa::kMxcsr);
  r.x87_fcw = readAt<uint16_t>(page, vmsa::kX87Fcw);
  return r;
}

std::vector<std::string> kvmVmsaIssues(Bytes page, uint64_t gpa) {
  std::vector<std::string> issues;
  if (gpa != kKvmVmsaGpa) {
    issues.push_back("vmsa gpa " + hex(gpa) + " is not " + hex(kKvmVmsaGpa) +
                     ", where kvm measures it");
  }
  Result<VmsaRegisters> regs = readVmsaRegisters(page);
  if (!regs.ok()) {
    issues.push_back(regs.error().message);
    return issues;
  }
  if (regs->cr0 != 0x31 && regs->cr0 != 0x30) {
    issues.push_back("vmsa cr0 " + hex(regs->cr0) + " is neither 0x31 nor 0x30");
  }
  if (regs->sev_features != vmsa::kSevFeatureSnpActive) {
    issues.push_back("vmsa sev_features " + hex(regs->sev_features) +
                     " is not exactly snp_active (0x1)");
  }
  // Report nonzero bytes outside the copied fields as runs, so one message names one field.
  size_t off = 0;
  while (off < page.size()) {
    if (page[off] == std::byte{0} || copiedByQemu(off)) {
      ++off;
      continue;
    }
    size_t end = off;
    while (end + 1 < page.size() && page[end + 1] != std::byte{0} && !copiedByQemu(end + 1)) {
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
