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
  return out;
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
