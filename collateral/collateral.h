// collateral/collateral.h: the certificates and collateral a verifier needs, from a local cache
// first and, unless offline, from AMD KDS and Intel PCS (collateral/README.md).
//
// Everything fetched is checked for shape (a certificate, a CRL, signed JSON) before it is kept,
// and kept in the cache directory (`verify --cert-cache`, laid out like the services' URLs) only
// as whole files (temp file + rename): a failed or interrupted fetch never leaves a partial
// file. Offline, nothing opens a socket: what the cache lacks stays missing. Trust is not
// decided here; attest::verifySnpReport / verifyTdxQuote judge what this returns.
//
//   collateral::FetchOptions opts{.cache_dir = "certs", .offline = false};
//   IGVMKIT_ASSIGN_OR_RETURN(std::vector<ByteVector> more,
//                            collateral::fetchSnpCertificates(report, have, opts));
//   have.insert(have.end(), more.begin(), more.end());
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "attest/snp.h"
#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit::collateral {

// How one HTTP GET behaves. A request is retried (up to max_attempts in all) after HTTP 429,
// 5xx, a timeout, a refused or dropped connection or a truncated body; it waits what the
// server's Retry-After says (seconds or an HTTP-date), else initial_backoff doubled per attempt,
// never more than max_delay (a Retry-After beyond it ends the request at once with the error).
struct HttpOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{20000};  // per attempt, the whole transfer
  int max_attempts = 4;
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_delay{30000};
  size_t max_body = 4 << 20;  // bytes; KDS and PCS objects are a few KiB, CRLs a few hundred
};

struct FetchOptions {
  std::string kds_url = "https://kdsintf.amd.com";
  std::string pcs_url = "https://api.trustedservices.intel.com";
  // Intel SGX Root CA CRL: the root certificate's CRL distribution point. A PCS proxy (PCCS)
  // serves it as <pcs_url>/sgx/certification/v4/rootcacrl.
  std::string root_ca_crl_url = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";
  std::string cache_dir;  // "" keeps fetched objects in memory only
  bool offline = false;   // never touch the network; use only the cache
  HttpOptions http;
};

// The certificates `report` needs that `have` lacks: the VCEK for its CHIP_ID and REPORTED_TCB
// (KDS /vcek/v1/{product}/{hwid}?..SPL=..) and the ASK+ARK (/vcek/v1/{product}/cert_chain), or
// for a VLEK-signed report the ASVK+ARK (/vlek/v1/{product}/cert_chain; VLEKs themselves are not
// published by KDS). Reports before version 3 do not name their product: each product is tried
// in turn (404 moves on). Missing objects that cannot be had (offline, not cached) are simply
// not returned; errors are for fetches that failed (rules "fetch.*", code kUnreadable).
Result<std::vector<ByteVector>> fetchSnpCertificates(const attest::ATTESTATION_REPORT& report,
                                                     const std::vector<ByteVector>& have,
                                                     const FetchOptions& options);

// The KDS CRL (DER, signed by the ARK) of the report's product for its signing key kind
// (/{vcek|vlek}/v1/{product}/crl; the product from the report, or for reports before version 3
// from the VCEK/VLEK issuer in `certs`). A cached CRL is used while its nextUpdate is in the
// future (any copy, offline); a stale one is fetched again. nullopt offline without a cached
// CRL, or when the product cannot be told.
Result<std::optional<ByteVector>> fetchSnpCrl(const attest::ATTESTATION_REPORT& report,
                                              const std::vector<ByteVector>& certs,
                                              const FetchOptions& options);

// Intel PCS v4 collateral for a TDX quote, as the dcap-qvl bundle JSON that
// attest::TdxEvidence::collateral takes: TCB info for the FMSPC of the quote's PCK certificate
// (/tdx/certification/v4/tcb?fmspc=, signed JSON + TCB-Info-Issuer-Chain header), the TD QE
// identity (/tdx/certification/v4/qe/identity + SGX-Enclave-Identity-Issuer-Chain), the CRL of
// the PCK's issuing CA (/sgx/certification/v4/pckcrl?ca=platform|processor&encoding=der +
// SGX-PCK-CRL-Issuer-Chain) and the root CA CRL (root_ca_crl_url). Cached under the same paths
// (an issuer chain beside its body as "<path>#issuer-chain", the root CA CRL as
// sgx/certification/v4/rootcacrl) and reused while its nextUpdate is in the future (any copy,
// offline). nullopt offline when the cache lacks a piece. Errors: the quote's (rules "quote.*",
// "pck.*") and fetch errors ("fetch.*").
Result<std::optional<std::string>> fetchTdxCollateral(Bytes quote, const FetchOptions& options);

}  // namespace igvmkit::collateral
