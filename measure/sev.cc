#include "measure/sev.h"

#include "measure/internal/hash.h"

namespace igvmkit::measure {

SevDigest::SevDigest(SevMode mode)
    : mode_(mode), data_hash_(std::make_unique<impl::Hasher>(impl::sha256Md())) {
  data_status_ = data_hash_->init();
}
SevDigest::~SevDigest() = default;
SevDigest::SevDigest(SevDigest&&) noexcept = default;
SevDigest& SevDigest::operator=(SevDigest&&) noexcept = default;

Status SevDigest::addData(Bytes data) {
  if (data.size() > kPageSize) {
    return invalid("page.too_large",
                   "page contents of " + hex(data.size()) + " bytes exceed the 0x1000-byte page");
  }
  if (data_status_.ok()) {
    data_status_ = data_hash_->update(data);
  }
  data_bytes_ += data.size();
  return data_status_;
}

Status SevDigest::addVmsa(Bytes page) {
  // Plain SEV does not encrypt register state, so there is no VMSA to measure.
  if (mode_ == SevMode::kSev) {
    return unsupported("sev.vmsa_on_sev", "plain sev has no vmsa to measure");
  }
  if (page.size() != kPageSize) {
    return invalid("vmsa.size", "vmsa is " + hex(page.size()) + " bytes, not a 4 KiB page");
  }
  vmsas_.insert(vmsas_.end(), page.begin(), page.end());
  return okStatus();
}

Result<Sha256Digest> SevDigest::digest() const {
  IGVMKIT_RETURN_IF_ERROR(Status(data_status_));
  // A copy of the running state, so digest() leaves the stream open and can be asked twice.
  impl::Hasher h(impl::sha256Md());
  IGVMKIT_RETURN_IF_ERROR(h.copyFrom(*data_hash_));
  IGVMKIT_RETURN_IF_ERROR(h.update(Bytes(vmsas_)));
  Sha256Digest out;
  IGVMKIT_RETURN_IF_ERROR(h.finish(out.data()));
  return out;
}

}  // namespace igvmkit::measure
