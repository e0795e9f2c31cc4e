#include "attest/internal/crl.h"

#include <ctime>

#include "attest/internal/crypto.h"

namespace igvmkit::attest::internal {

void checkCrl(const std::string& check, Bytes der, const std::vector<X509*>& issuers,
              const std::vector<X509*>& subjects, int64_t at, Verdict& v) {
  Result<CrlPtr> crl = parseCrl(der);
  if (!crl.ok()) {
    v.add(check, false, crl.error().message);
    return;
  }
  X509* issuer = nullptr;
  for (X509* c : issuers) {
    if (X509_NAME_cmp(X509_get_subject_name(c), X509_CRL_get_issuer(crl->get())) == 0) {
      issuer = c;
    }
  }
  std::string issuer_cn = commonName(X509_CRL_get_issuer(crl->get()));
  if (issuer == nullptr) {
    v.add(check, false, "issued by " + issuer_cn + ", which is not in the chain");
    return;
  }
  if (X509_CRL_verify(crl->get(), X509_get0_pubkey(issuer)) != 1) {
    opensslError();
    v.add(check, false, "signature by " + issuer_cn + " does not verify");
    return;
  }
  std::vector<std::string> revoked;
  for (X509* s : subjects) {
    X509_REVOKED* entry = nullptr;
    if (X509_NAME_cmp(X509_get_issuer_name(s), X509_CRL_get_issuer(crl->get())) == 0 &&
        X509_CRL_get0_by_serial(crl->get(), &entry, X509_get0_serialNumber(s)) == 1) {
      revoked.push_back(subjectCn(s));
    }
  }
  time_t t = static_cast<time_t>(at);
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl->get());
  bool current = X509_cmp_time(X509_CRL_get0_lastUpdate(crl->get()), &t) <= 0 &&
                 (next == nullptr || X509_cmp_time(next, &t) >= 0);
  std::string list;
  for (const std::string& r : revoked) {
    list += (list.empty() ? "" : ", ") + r;
  }
  v.add(check, revoked.empty() && current,
        "signed by " + issuer_cn +
            (revoked.empty() ? ", no chain certificate revoked" : ", revokes " + list) +
            (current ? "" : ", not current"),
        "valid at " + formatUtcTime(at));
}

}  // namespace igvmkit::attest::internal
