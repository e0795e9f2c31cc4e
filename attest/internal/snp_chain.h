// attest/internal/snp_chain.h: the AMD certificate chain behind an SNP report, for snp.cc's
// verifySnpReport(): classify what the caller gave, check the path to a pinned ARK, the CRLs, the
// VCEK/VLEK's binding to the report, and the report's signature. Each check adds its named lines
// to the Verdict.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attest/internal/crypto.h"
#include "attest/snp.h"
#include "attest/verdict.h"
#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit::attest::internal {

struct Cert {
  X509Ptr x509;
  std::string subject_cn;
  std::string issuer_cn;
  bool self_issued = false;
};

// The certificates the verifier uses, picked from what the caller gave by their
// names.
struct Chain {
  std::vector<Cert> all;
  Cert* vek = nullptr;
  Cert* ask = nullptr;
  Cert* ark = nullptr;
  std::vector<std::string> ignored;
};

// "Milan" from "SEV-Milan", "SEV-VLEK-Milan", "ARK-Milan" or "Milan-B0".
std::optional<SnpProduct> productFromName(std::string name);

// Picks the VCEK/VLEK (the kind `key` names first), its ASK/ASVK and the ARK from `certificates`
// by their names; duplicates are dropped, anything else is listed in `ignored`.
Result<Chain> classifyChain(const std::vector<ByteVector>& certificates, SnpSigningKey key);

// "ark.*", "ask.signed_by_ark", "vek.signed_by_ask", "chain.path", "vek.validity", "vek.kind":
// the ARK is the pinned root of `product` (any pinned root when unknown), each certificate is
// signed by the next, the VEK is valid at `at` and of the kind the report's KEY_INFO names.
void checkChain(const ATTESTATION_REPORT& r, const Chain& chain, std::optional<SnpProduct> product,
                int64_t at, Verdict& v);

// "crl" (or "crl.N" for several): each CRL judged against the chain.
void checkCrls(const std::vector<ByteVector>& crls, const Chain& chain, int64_t at, Verdict& v);

// Everything checkChain() and checkCrls() depend on, hashed: the ChainCache key.
std::string chainKey(const ATTESTATION_REPORT& r, const Chain& chain,
                     std::optional<SnpProduct> product, int64_t at,
                     const std::vector<ByteVector>& crls);

// "vek.tcb", "vek.hwid": the VCEK/VLEK against the report: its SPLs equal REPORTED_TCB and a
// VCEK's hwID equals CHIP_ID (`layout` decides the TCB and hwID forms).
void checkVekBinding(const ATTESTATION_REPORT& r, SnpProduct layout, X509* vek, bool is_vlek,
                     Verdict& v);

// "report.signature": ECDSA P-384/SHA-384 over the report's signed bytes by the chain's VEK.
void checkSignature(Bytes report, const ATTESTATION_REPORT& r, const Chain& chain, Verdict& v);

}  // namespace igvmkit::attest::internal
