// measure/sev.h: SEV and SEV-ES launch digests (measurement.md §1.7, igvm-format.md §9.4).
//
// UNCONFIRMED: this follows COCONUT's igvmmeasure (--platform sev|sev-es), the only IGVM tool that
// computes these, and has not been checked against hardware or the AMD SEV API spec. The digest
// is SHA-256 over the raw bytes of every measured page's data, in order, then (SEV-ES only) each
// 4 KiB VMSA page. Pages without data contribute nothing; data is NOT padded to a page.
//
//   measure::SevDigest d(measure::SevMode::kSevEs);
//   IGVMKIT_RETURN_IF_ERROR(d.addData(page_bytes));
//   IGVMKIT_RETURN_IF_ERROR(d.addVmsa(vmsa_page));
//   IGVMKIT_ASSIGN_OR_RETURN(measure::Sha256Digest launch, d.digest());
#pragma once

#include <cstdint>
#include <memory>

#include "base/bytes.h"
#include "base/status.h"
#include "measure/digest.h"

namespace igvmkit::measure {

namespace impl {
class Hasher;
}

enum class SevMode { kSev, kSevEs };

class SevDigest {
 public:
  explicit SevDigest(SevMode mode);
  ~SevDigest();
  SevDigest(SevDigest&&) noexcept;
  SevDigest& operator=(SevDigest&&) noexcept;

  // The data of one measured page as the file holds it (empty data adds nothing; more than 4096
  // bytes is "page.too_large").
  Status addData(Bytes data);

  // A VMSA page (exactly 4096 bytes, "vmsa.size"), measured after all page data the way
  // LAUNCH_UPDATE_VMSA follows LAUNCH_UPDATE_DATA. Plain SEV has no VMSA ("sev.vmsa_on_sev").
  Status addVmsa(Bytes page);

  // SHA-256 of all data, then all VMSAs.
  Result<Sha256Digest> digest() const;

  uint64_t bytesMeasured() const { return data_bytes_; }

 private:
  SevMode mode_;
  // Page data streams into the running hash (an image of any size costs no memory); the first
  // error, if any, is kept for digest(). VMSAs are hashed after all data, so they wait in vmsas_.
  std::unique_ptr<impl::Hasher> data_hash_;
  Status data_status_;
  uint64_t data_bytes_ = 0;
  ByteVector vmsas_;  // the concatenated VMSA pages
};

}  // namespace igvmkit::measure
