// cli/verify_batch.h: `igvmkit verify --batch DIR|-`, many reports and quotes against one
// reference and one certificate cache, in parallel, one JSON line per verdict in input order
// (attest/README.md "Bulk verification").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "measure/reference.h"

namespace igvmkit::cli {

struct BatchOptions {
  std::string source;    // a directory of evidence files, or "-" for JSON lines on stdin
  unsigned jobs = 0;     // worker threads; 0 = one per hardware thread
  int64_t at = 0;        // verification time (Unix seconds)
  // SEV-SNP: certificates every report may use (--vcek/--vlek/--chain), the KDS-layout cache
  // looked up per report, and KDS CRLs.
  std::vector<ByteVector> snp_certificates;
  std::string cert_cache;
  std::vector<ByteVector> crls;
  // TDX: --root, --collateral (JSON text), --tcb-signing-chain.
  std::optional<ByteVector> root;
  std::string collateral;
  std::vector<ByteVector> tcb_signing_chain;
};

// Verifies every entry and prints its line; returns 0 when every entry verified, 1 when any
// failed or could not be read (its line says why), 2 when the batch itself cannot be read.
int runVerifyBatch(const BatchOptions& options, const measure::ReferenceValues* reference);

}  // namespace igvmkit::cli
