#include "measure/sev.h"

#include "measure/internal/hash.h"

namespace igvmkit::measure {

Status SevDigest::addData(Bytes data) {
  if (data.size() > kPageSize) {
    return invalid("page.too_large",
                   "page contents of " + hex(data.size()) + " bytes exceed the 0x1000-byte page");
  }
  data_.insert(data_.end(), data.begin(), data.end());
  return okStatus();
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
  impl::Hasher h(impl::sha256Md());
  Sha256Digest out;
  IGVMKIT_RETURN_IF_ERROR(h.init());
  IGVMKIT_RETURN_IF_ERROR(h.update(Bytes(data_)));
  IGVMKIT_RETURN_IF_ERROR(h.update(Bytes(vmsas_)));
  IGVMKIT_RETURN_IF_ERROR(h.finish(out.data()));
  return out;
}

}  // namespace igvmkit::measure
