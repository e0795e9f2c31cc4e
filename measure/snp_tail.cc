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

namespace {

// The warnings measure() adds after the pages for `vcpus` vCPUs under kvm: what the host model says
// about the VMSAs it picks (unused vp_indexes, VMSA fields KVM would not reproduce, ...).
Result<std::vector<std::string>> kvmTailWarnings(const SnpKvmPrefix& prefix, uint32_t vcpus) {
  SnpHostMeasurement tail(HostModel::kKvm, vcpus, {.threads = 1});
  for (size_t i = 0; i < prefix.vmsas.size(); ++i) {
    IGVMKIT_RETURN_IF_ERROR(
        tail.vpContext(prefix.vmsas[i].vp_index, prefix.vmsa_gpas[i], prefix.vmsas[i].page));
  }
  IGVMKIT_ASSIGN_OR_RETURN(SnpHostResult r, tail.finish());
  return std::move(r.warnings);
}

}  // namespace

Result<std::vector<Measurement>> measureVcpuRange(const igvm::File& file, MeasureOptions options,
                                                  uint32_t first, uint32_t last) {
  if (first == 0 || first > last) {
    return usage("the vcpu range must be a nonempty range of counts >= 1");
  }
  const bool per_count = options.platform == Platform::kSnp && options.host == HostModel::kKvm;
  std::vector<Measurement> out;
  if (!per_count || first == last || options.trace) {
    for (uint32_t n = first; n <= (per_count ? last : first); ++n) {
      options.vcpus = n;
      IGVMKIT_ASSIGN_OR_RETURN(Measurement m, measure(file, options));
      out.push_back(std::move(m));
    }
    return out;
  }
  // The first count in full gives the count-independent parts: assumptions, page warnings.
  options.vcpus = first;
  IGVMKIT_ASSIGN_OR_RETURN(Measurement base, measure(file, options));
  IGVMKIT_ASSIGN_OR_RETURN(SnpKvmPrefix prefix, snpKvmPrefix(file, options));
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<Bytes> pages, kvmVmsaPages(prefix.vmsas, last));
  std::vector<Sha384Digest> hashes;
  hashes.reserve(pages.size());
  for (Bytes page : pages) {
    IGVMKIT_ASSIGN_OR_RETURN(Sha384Digest d, sha384Page(page));
    hashes.push_back(d);
  }
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<Sha384Digest> by_count,
                           extendKvmVmsas(prefix.digest, hashes));
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<std::string> first_tail, kvmTailWarnings(prefix, first));
  const Sha384Digest& first_digest = by_count[first - 1];
  if (base.digest != ByteVector(first_digest.begin(), first_digest.end()) ||
      base.pages_measured != prefix.pages + first || base.warnings.size() < first_tail.size()) {
    return internal("measure: the incremental vcpu range disagrees with measure() at " +
                    std::to_string(first) + " vcpus");
  }
  const std::vector<std::string> page_warnings(base.warnings.begin(),
                                               base.warnings.end() - first_tail.size());
  for (uint32_t n = first; n <= last; ++n) {
    Measurement m = base;
    m.vcpus = n;
    m.digest.assign(by_count[n - 1].begin(), by_count[n - 1].end());
    m.pages_measured = prefix.pages + n;
    IGVMKIT_ASSIGN_OR_RETURN(std::vector<std::string> tail, kvmTailWarnings(prefix, n));
    m.warnings = page_warnings;
    m.warnings.insert(m.warnings.end(), tail.begin(), tail.end());
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace igvmkit::measure
