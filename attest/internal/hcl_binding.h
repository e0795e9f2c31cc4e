// attest/internal/hcl_binding.h: the HCL report's runtime data bound to its SNP report.
#pragma once

#include "attest/snp.h"
#include "attest/verdict.h"

namespace igvmkit::attest::internal {

// Checks "hcl.report_data" (the runtime data's digest, in the request's hash, is REPORT_DATA,
// the rest zero) and "hcl.runtime_claims" (the runtime data is strict JSON with an RSA
// "HCLAkPub" key), and reports the claims and the key in the verdict's "hcl" field.
void checkHclBinding(const HclReport& hcl, const ATTESTATION_REPORT& report, Verdict& v);

}  // namespace igvmkit::attest::internal
