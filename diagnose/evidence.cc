// The launch digest inside attestation evidence, read with attest's own parsers.
#include "attest/snp.h"
#include "attest/tdx.h"
#include "attest/verdict.h"
#include "diagnose/diagnose.h"

namespace igvmkit::diagnose {

Result<ByteVector> snpReportMeasurement(Bytes evidence) {
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector bytes, attest::decodeEvidence(evidence));
  IGVMKIT_ASSIGN_OR_RETURN(Bytes report, attest::extractSnpReport(bytes));
  IGVMKIT_ASSIGN_OR_RETURN(attest::ATTESTATION_REPORT r, attest::parseSnpReport(report));
  const Bytes m = bytesAt(r.measurement, sizeof(r.measurement));
  return ByteVector(m.begin(), m.end());
}

Result<ByteVector> tdxQuoteMrtd(Bytes evidence) {
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector bytes, attest::decodeEvidence(evidence));
  IGVMKIT_ASSIGN_OR_RETURN(attest::TdxQuote q, attest::parseTdxQuote(bytes));
  const Bytes m = bytesAt(q.body.mr_td, sizeof(q.body.mr_td));
  return ByteVector(m.begin(), m.end());
}

}  // namespace igvmkit::diagnose
