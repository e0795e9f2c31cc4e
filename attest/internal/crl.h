// attest/internal/crl.h: one CRL judged as a Verdict check, for AMD's
// ARK-signed KDS CRLs and Intel's PCK / root CA CRLs alike.
#pragma once

#include <openssl/x509.h>

#include <string>
#include <vector>

#include "attest/verdict.h"
#include "base/bytes.h"

namespace igvmkit::attest::internal {

// Check `check`: the DER CRL is signed by the certificate in `issuers` that its
// issuer name names, current at `at` (lastUpdate <= at <= nextUpdate), and
// revokes none of `subjects`.
void checkCrl(const std::string& check, Bytes der, const std::vector<X509*>& issuers,
              const std::vector<X509*>& subjects, int64_t at, Verdict& v);

}  // namespace igvmkit::attest::internal
