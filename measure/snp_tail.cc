#include "measure/snp_tail.h"

#include "measure/internal/snp_feed.h"
#include "measure/snp.h"

namespace igvmkit::measure {

Result<SnpKvmPrefix> snpKvmPrefix(const igvm::File& file, const MeasureOptions& options) {
  IGVMKIT_ASSIGN_OR_RETURN(uint32_t bit, platformBit(file, Platform::kSnp));
  // One vCPU: finish() then adds exactly one VMSA after the prefix, which the trace lets us skip.
  SnpHostMeasurement m(HostModel::kKvm, 1, {.threads = threadCount(options.threads)});
  SnpKvmPrefix out;
  m.setTrace([&out](const SnpTraceRecord& r) {
    if (r.type != SnpPageType::kVmsa) {
      out.digest = r.digest;
      out.pages = r.index + 1;
    }
  });
  SnpFeedState st;
  IGVMKIT_RETURN_IF_ERROR(feedSnpDirectives(file, options, bit, m, st));
  if (st.vmsas.empty()) {
    return invalid("measure.no_vmsa",
                   "the file has no snp vp context; the kvm host model measures one vmsa per "
                   "vcpu from it");
  }
  IGVMKIT_ASSIGN_OR_RETURN(SnpHostResult r, m.finish());
  (void)r;
  out.vmsas = std::move(st.vmsas);
  out.padded = std::move(st.padded);
  out.vmsa_gpas = std::move(st.vmsa_gpas);
  out.mshv_shares_prefix = st.shared_pages == 0 && !st.page_after_vmsa;
  return out;
}

Result<Sha384Digest> mshvDigestFromPrefix(const SnpKvmPrefix& prefix) {
  if (!prefix.mshv_shares_prefix) {
    return invalid("snp_tail.mshv",
                   "the mshv launch has other pages before its vmsas than the kvm launch");
  }
  SnpLaunchDigest ld(prefix.digest);
  for (size_t i = 0; i < prefix.vmsas.size(); ++i) {
    IGVMKIT_RETURN_IF_ERROR(ld.addPage(prefix.vmsa_gpas[i], SnpPageType::kVmsa,
                                       prefix.vmsas[i].page));
  }
  return ld.digest();
}

Result<std::vector<Sha384Digest>> extendKvmVmsas(const Sha384Digest& prefix,
                                                 std::span<const Sha384Digest> vmsa_digests) {
  SnpLaunchDigest ld(prefix);
  std::vector<Sha384Digest> out;
  out.reserve(vmsa_digests.size());
  for (const Sha384Digest& d : vmsa_digests) {
    IGVMKIT_RETURN_IF_ERROR(ld.addPageWithContentsDigest(kKvmVmsaGpa, SnpPageType::kVmsa, d));
    out.push_back(ld.digest());
  }
  return out;
}

}  // namespace igvmkit::measure
