// measure/internal/snp_feed.h: the SNP directive walk of measure.cc, shared with snp_tail.cc so a
// search over launch parameters feeds an IGVM file exactly as `measure` does. Only measure/*.cc
// include this.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/file.h"
#include "measure/measure.h"
#include "measure/snp_host.h"
#include "measure/vmsa.h"

namespace igvmkit::measure {

// What the walk saw besides pages: the VMSAs (short payloads zero padded, owned here) and facts
// for the assumptions block.
struct SnpFeedState {
  std::deque<ByteVector> padded;  // VMSA payloads shorter than a page, zero padded
  std::vector<VpVmsa> vmsas;      // every SNP VP context in file order (views into the file or
                                  // `padded`)
  std::vector<uint64_t> sev_features;
  std::vector<uint64_t> vmsa_gpas;
  uint64_t shared_pages = 0;
  bool page_after_vmsa = false;  // a PAGE_DATA or PARAMETER_INSERT follows a VMSA in the file
};

// The compatibility-mask bit of `platform` in `file` ("measure.no_platform" when absent), once
// every directive for it lies in the platform's GPA width (igvm::checkPlatformGpas: "gpa.width",
// "gpa.wrap"; no launch, so no measurement, exists otherwise).
Result<uint32_t> platformBit(const igvm::File& file, Platform platform);

// `requested`, or the hardware concurrency for 0.
unsigned threadCount(unsigned requested);

// Feeds every SNP directive of `file` that has `bit` into `m`, in file order (README.md
// "Front-end mapping"); errors carry the header's location.
Status feedSnpDirectives(const igvm::File& file, const MeasureOptions& options, uint32_t bit,
                         SnpHostMeasurement& m, SnpFeedState& state);

}  // namespace igvmkit::measure
