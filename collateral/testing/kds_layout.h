// collateral/testing/kds_layout.h: the real evidence of $IGVMKIT_SHARED/testdata/attest served by
// a LoopbackServer in AMD KDS layout. A VCEK's request target is built from the certificate's
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

}  // namespace igvmkit::collateral::testing
