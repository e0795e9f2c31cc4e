#include "measure/snp_host.h"

#include <set>

namespace igvmkit::measure {

SnpHostMeasurement::SnpHostMeasurement(HostModel host, uint32_t vcpus, ParallelOptions parallel)
    : host_(host), vcpus_(vcpus), stream_(ld_, parallel) {}

Status SnpHostMeasurement::pageData(const SnpPageData& page) {
  // microsoft/igvm (and so MSHV) leaves shared pages out; QEMU measures them (§1.6).
  if (page.shared && host_ == HostModel::kMshv) {
    return okStatus();
  }
  // KVM measures VMSAs after every page, so a page after a VMSA in the file moves before it.
  if (host_ == HostModel::kKvm && !vmsas_.empty() && !page_after_vmsa_warned_) {
    warnings_.push_back("page data at gpa " + hex(page.gpa) +
                        " follows a vmsa in the file, but kvm measures vmsas last");
    page_after_vmsa_warned_ = true;
  }
  SnpPageType type = SnpPageType::kNormal;
  switch (page.kind) {
    case SnpDataKind::kNormal:
      type = page.unmeasured ? SnpPageType::kUnmeasured : SnpPageType::kNormal;
      if (type == SnpPageType::kNormal && page.native_zero && page.data.empty()) {
        type = SnpPageType::kZero;
      }
      break;
    case SnpDataKind::kSecrets:
      type = SnpPageType::kSecrets;
      break;
    case SnpDataKind::kCpuid:
      type = SnpPageType::kCpuid;
      break;
  }
  SnpPageOp op{page.gpa, type, page.data};
  if (page.contents_digest != nullptr) {
    op.contents_digest = snpPageTypeHasContents(type) ? *page.contents_digest : Sha384Digest{};
    op.contents = {};
  }
  return stream_.add(op);
}

Status SnpHostMeasurement::flush() { return stream_.finish(); }

Status SnpHostMeasurement::parameterInsert(uint64_t gpa, uint64_t size) {
  // Parameter areas are whole pages (igvm-format.md §4.1); a partial page has no SNP meaning.
  if (size % kPageSize != 0) {
    return invalid("snp.parameter_area_size",
                   "parameter area size " + hex(size) + " is not a multiple of 0x1000");
  }
  if (size != 0 && (size / kPageSize - 1) > (UINT64_MAX - gpa) / kPageSize) {
    return invalid("snp.parameter_area_size", "parameter area of " + hex(size) + " bytes at gpa " +
                                                  hex(gpa) + " wraps the address space");
  }
  for (uint64_t off = 0; off < size; off += kPageSize) {
    IGVMKIT_RETURN_IF_ERROR(stream_.add({gpa + off, SnpPageType::kUnmeasured, {}}));
  }
  return okStatus();
}

Status SnpHostMeasurement::vpContext(uint32_t vp_index, uint64_t gpa, Bytes vmsa) {
  if (vmsa.size() != kPageSize) {
    return invalid("vmsa.size", "vmsa is " + hex(vmsa.size()) + " bytes, not a 4 KiB page");
  }
  if (host_ == HostModel::kMshv) {
    return stream_.add({gpa, SnpPageType::kVmsa, vmsa});
  }
  vmsas_.push_back({vp_index, gpa, vmsa});
  return okStatus();
}

Result<SnpHostResult> SnpHostMeasurement::finish() {
  if (host_ == HostModel::kKvm) {
    if (vcpus_ == 0) {
      return usage("the vcpu count must be at least 1");
    }
    if (vmsas_.empty()) {
      warnings_.push_back(
          "the file has no snp vmsa; kvm would measure one from its own register state per vcpu, "
          "which this digest does not include");
    } else {
      std::vector<uint32_t> indexes;
      for (const FileVmsa& v : vmsas_) {
        indexes.push_back(v.vp_index);
      }
      IGVMKIT_ASSIGN_OR_RETURN(KvmVmsaPlan plan, kvmVmsaPlan(indexes, vcpus_));
      for (std::string& w : kvmVcpuCountWarnings(plan, vcpus_)) {
        warnings_.push_back(std::move(w));
      }
      std::set<uint32_t> checked;
      for (uint32_t vp : plan.source_vp_index) {
        for (const FileVmsa& v : vmsas_) {
          if (v.vp_index != vp) {
            continue;
          }
          if (checked.insert(vp).second) {
            for (const std::string& issue : kvmVmsaIssues(v.page, v.gpa)) {
              warnings_.push_back("vp_index " + std::to_string(vp) + ": " + issue);
            }
          }
          IGVMKIT_RETURN_IF_ERROR(stream_.add({kKvmVmsaGpa, SnpPageType::kVmsa, v.page}));
          break;
        }
      }
    }
  }
  IGVMKIT_RETURN_IF_ERROR(stream_.finish());
  SnpHostResult result;
  result.digest = ld_.digest();
  result.pages_measured = ld_.pageCount();
  result.warnings = std::move(warnings_);
  return result;
}

}  // namespace igvmkit::measure
