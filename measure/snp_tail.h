// measure/snp_tail.h: SNP launch digests of many launches that differ only in their VMSAs, for
// searches over launch parameters (`igvmkit diagnose`).
//
// Under KVM every VMSA is measured after all other pages (vmsa.h), so the chain up to the first
// VMSA, the prefix, does not depend on the vCPU count or on what the VMSAs hold. The prefix is the
// expensive part (every page of the image hashed); the tail is one PAGE_INFO hash per vCPU. And
// the VMSA of vCPU i does not depend on how many vCPUs follow, so one extension by N VMSAs gives
// the digests for 1..N vCPUs at once.
//
//   IGVMKIT_ASSIGN_OR_RETURN(measure::SnpKvmPrefix p, measure::snpKvmPrefix(file, {}));
//   IGVMKIT_ASSIGN_OR_RETURN(auto pages, measure::kvmVmsaPages(p.vmsas, 64));
//   std::vector<measure::Sha384Digest> vmsa_hashes = ...;  // sha384Page() of each
//   IGVMKIT_ASSIGN_OR_RETURN(auto by_count, measure::extendKvmVmsas(p.digest, vmsa_hashes));
//   // by_count[n - 1] == measure(file, {.host = kKvm, .vcpus = n}).digest
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/file.h"
#include "measure/digest.h"
#include "measure/measure.h"
#include "measure/vmsa.h"

namespace igvmkit::measure {

// An IGVM file's SNP launch under the kvm host model, up to (not including) the VMSAs.
struct SnpKvmPrefix {
  Sha384Digest digest{};          // LD after every page that is not a VMSA
  uint64_t pages = 0;             // pages in the prefix
  std::vector<VpVmsa> vmsas;      // the file's SNP VMSA pages in file order (views into the
                                  // file, or into `padded` for payloads shorter than a page)
  std::deque<ByteVector> padded;  // owns the zero-padded short VMSA payloads
  std::vector<uint64_t> vmsa_gpas;  // the GPA each of `vmsas` names
  // True when the mshv host model measures the same pages before the VMSAs: no SHARED page (mshv
  // skips them) and no page after a VMSA in the file (mshv measures VMSAs where they stand).
  bool mshv_shares_prefix = false;
};

// The prefix as measure() computes it for `options` (platform snp; host and vcpus are ignored,
// native_zero and threads apply). Errors are measure()'s; a file without an SNP VMSA is
// "measure.no_vmsa" as for measure() under kvm. Not copyable: `vmsas` may view `padded`.
Result<SnpKvmPrefix> snpKvmPrefix(const igvm::File& file, const MeasureOptions& options);

// The mshv launch digest from the kvm prefix: the file's VMSAs at their own GPAs, in file order.
// "snp_tail.mshv" when !prefix.mshv_shares_prefix (measure() under mshv is then the way).
Result<Sha384Digest> mshvDigestFromPrefix(const SnpKvmPrefix& prefix);

// Extends `prefix` by one VMSA page per vCPU at kKvmVmsaGpa, vCPU i's page having the SHA-384
// `vmsa_digests[i]`: element n - 1 of the result is the launch digest with n vCPUs.
Result<std::vector<Sha384Digest>> extendKvmVmsas(const Sha384Digest& prefix,
                                                 std::span<const Sha384Digest> vmsa_digests);

// measure() for every vCPU count in [first, last] (`options.vcpus` is ignored; counts are checked
// by the caller, at most igvm::kMaxVcpus): element i is what measure() gives for first + i vCPUs,
// digest, pages, warnings and assumptions alike. Under the kvm SNP model the image is hashed once
// (the prefix) and the VMSAs extend it once for all counts (extendKvmVmsas), so a range costs about
// what one measurement does, not one per count; each count's warnings come from the same host
// model fed the file's VMSAs alone. Other models do not depend on the count: one Measurement, for
// `first`. With options.trace every count is measured in full (the trace is per launch).
Result<std::vector<Measurement>> measureVcpuRange(const igvm::File& file, MeasureOptions options,
                                                  uint32_t first, uint32_t last);

}  // namespace igvmkit::measure
