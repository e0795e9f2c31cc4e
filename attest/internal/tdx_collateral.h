// attest/internal/tdx_collateral.h: Intel PCS collateral (TCB Info, QE
// Identity, CRLs) judged against a parsed quote: signatures over the exact JSON
// text, signing chains, freshness, FMSPC, the QE identity, and the TCB levels
// the platform and the QE reach.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attest/internal/crypto.h"
#include "attest/tdx.h"
#include "attest/verdict.h"

namespace igvmkit::attest::internal {

struct PckChain {
  std::vector<X509Ptr> certs;  // leaf first, as carried in the quote
};

// Adds the collateral.* checks for `ev.collateral` (a dcap-qvl bundle or a PCS
// body). The TCB levels must have a status in `allowed_tcb_status`
// ({"UpToDate"} when empty). Errors only for collateral that cannot be read
// (rule "collateral.*").
Status checkCollateral(const TdxEvidence& ev, const TdxQuote& q, const PckChain& pck,
                       const std::optional<PckExtensions>& ext, X509* anchor, int64_t at,
                       const std::vector<std::string>& allowed_tcb_status, Verdict& v);

}  // namespace igvmkit::attest::internal
