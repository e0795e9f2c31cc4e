// collateral/testing/layout.h: the real evidence of $IGVMKIT_SHARED/testdata/attest served by a
// LoopbackServer in AMD KDS and Intel PCS layout. A VCEK's request target is built from the certificate's
// own AMD extensions (hwID, SPLs), not from the report, so a fetcher that names the wrong
// VCEK for a report asks for a target nobody serves.
#pragma once

#include <string>


#include "attest/snp.h"
#include "base/bytes.h"
#include "collateral/testing/loopback_server.h"

namespace igvmkit::collateral::testing {

// "/vcek/v1/<product>/<hwid>?[fmcSPL=..&]blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=.." for a VCEK
// (DER), SPLs zero-padded to two digits as snpguest writes them.
std::string vcekTarget(attest::SnpProduct product, const ByteVector& vcek_der);

// The first VCEK or VLEK (DER) in a DER or PEM file's certificates.
ByteVector endorsementKey(const ByteVector& file);

// Serves `vcek_der` at its vcekTarget() and `chain_pem` at /{vcek|vlek}/v1/<product>/cert_chain.
void serveKds(LoopbackServer& server, attest::SnpProduct product, const ByteVector& vcek_der,
              attest::SnpSigningKey signer, const ByteVector& chain_pem);

// A PCS JSON response (application/json) with its issuer chain in `chain_header`, URL-encoded
// as PCS sends it.
CannedResponse pcsJson(const std::string& body, const std::string& chain_header,
                       const std::string& chain_pem);
// A DER CRL (application/pkix-crl), with SGX-PCK-CRL-Issuer-Chain when `chain_pem` is not empty.
CannedResponse pcsCrl(const ByteVector& der, const std::string& chain_pem);

// A dcap-qvl collateral bundle (JSON text) taken apart into the four PCS v4 responses it was
// made of: TCB info for `fmspc` and the TD QE identity (signed JSON with issuer-chain headers),
// the platform CA's PCK CRL, and the root CA CRL at `root_crl_target`.
void servePcsBundle(LoopbackServer& server, const std::string& bundle, const std::string& fmspc,
                    const std::string& root_crl_target);

}  // namespace igvmkit::collateral::testing
