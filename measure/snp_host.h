// measure/snp_host.h: the SEV-SNP launch digest as a given host stack produces it from IGVM
// directive semantics (cli-contract.md "measure details", measurement.md §1.4-§1.6).
//
// The IGVM front end decodes each directive and calls the matching method here, in file order;
// this class applies the host model (which pages count, with what type, in which order, and where
// VMSAs go) and feeds SnpPageStream. It knows the meaning of directives, not their byte layout.
//
//   measure::SnpHostMeasurement m(HostModel::kKvm, /*vcpus=*/4, {.threads = 2});
//   m.setTrace(print_line);
//   IGVMKIT_RETURN_IF_ERROR(m.pageData({.gpa = 0x1000, .data = bytes}));    // PAGE_DATA
//   IGVMKIT_RETURN_IF_ERROR(m.parameterInsert(0x14000, 0x1000));             // PARAMETER_INSERT
//   IGVMKIT_RETURN_IF_ERROR(m.vpContext(0, 0xFFFFFFFFF000, vmsa_page));      // SNP VP_CONTEXT
//   IGVMKIT_ASSIGN_OR_RETURN(measure::SnpHostResult r, m.finish());
//   // r.digest, r.pages_measured, r.warnings (print each as "warning: ...")
//
// Host models:
//   kKvm  Linux KVM with a QEMU-style IGVM loader: PAGE_DATA with the SHARED flag is measured like
//         any page; every VMSA is measured last, one per vCPU in vCPU order, at 0xFFFFFFFFF000,
//         vCPU i using the VP_CONTEXT with vp_index i or else the one with vp_index 0.
//   kMshv The Microsoft hypervisor (and microsoft/igvm's generate_snp_measurement): SHARED pages
//         are not measured; each VMSA is measured where its directive stands, at the GPA it names;
//         the vCPU count does not matter.
// In both: PAGE_DATA without data is a NORMAL page of zeros; the UNMEASURED flag gives
// UNMEASURED; SECRETS and CPUID data types give those page types; PARAMETER_INSERT gives one
// UNMEASURED page per 4 KiB of the area.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "measure/digest.h"
#include "measure/parallel.h"
#include "measure/platform.h"
#include "measure/snp.h"
#include "measure/vmsa.h"

namespace igvmkit::measure {

// The IGVM page data types that SNP measures distinctly (IGVM_PAGE_DATA_TYPE 0, 1, 2 and 3).
enum class SnpDataKind { kNormal, kSecrets, kCpuid };

// One 4 KiB PAGE_DATA directive, decoded (2 MiB pages: the front end passes 512 of these).
struct SnpPageData {
  uint64_t gpa = 0;
  SnpDataKind kind = SnpDataKind::kNormal;
  bool unmeasured = false;  // IGVM_VHF_PAGE_DATA_FLAGS unmeasured (bit 1)
  bool shared = false;      // IGVM_VHF_PAGE_DATA_FLAGS shared (bit 2)
  Bytes data{};             // the file data (at most 4096 bytes), empty for file_offset 0
  bool native_zero = false; // empty data measured as ZERO (3) instead of a NORMAL zero page
  // SHA-384 of the zero-padded `data` when the caller computed it once for several chains; then
  // `data` need not outlive this call.
  const Sha384Digest* contents_digest = nullptr;
};

struct SnpHostResult {
  Sha384Digest digest{};
  uint64_t pages_measured = 0;        // LAUNCH_UPDATE pages, VMSAs included
  std::vector<std::string> warnings;  // why the host's loader might refuse or differ (lowercase)
};

class SnpHostMeasurement {
 public:
  // `vcpus` matters only for kKvm (at least 1; 0 is a usage error reported by finish()).
  SnpHostMeasurement(HostModel host, uint32_t vcpus, ParallelOptions parallel = {});

  // One record per measured page, in chain order (for `measure --trace`).
  void setTrace(SnpTraceFn trace) { ld_.setTrace(std::move(trace)); }

  Status pageData(const SnpPageData& page);

  // PARAMETER_INSERT of an area of `size` bytes (a multiple of 4096, "snp.parameter_area_size")
  // at `gpa`.
  Status parameterInsert(uint64_t gpa, uint64_t size);

  // An SNP VP_CONTEXT: the 4 KiB VMSA page for `vp_index` at `gpa`. The page must stay valid until
  // finish() returns.
  Status vpContext(uint32_t vp_index, uint64_t gpa, Bytes vmsa);

  // Folds the queued pages into the chain, so the page data passed so far may be released (page
  // data without contents_digest must otherwise stay valid until finish()).
  Status flush();

  // Folds in what is pending (for kKvm: the VMSAs) and returns the launch digest. Call once.
  Result<SnpHostResult> finish();

 private:
  struct FileVmsa {
    uint32_t vp_index;
    uint64_t gpa;
    Bytes page;
  };

  HostModel host_;
  uint32_t vcpus_;
  SnpLaunchDigest ld_;
  SnpPageStream stream_;
  std::vector<FileVmsa> vmsas_;
  std::vector<std::string> warnings_;
  bool page_after_vmsa_warned_ = false;
};

}  // namespace igvmkit::measure
