// attest/internal/reference_checks.h: comparisons against reference values that SNP and TDX
// share (launch digest against every listed measurement, exact byte fields, REPORT_DATA).
#pragma once

#include <optional>
#include <string>

#include "attest/verdict.h"
#include "base/bytes.h"
#include "measure/reference.h"

namespace igvmkit::attest::internal {

// "ref.measurement": passes when `digest` equals any measurement listed for `platform`, and
// says which one. Skipped when the reference values list no measurement at all (policy only).
// Returns the entry that matched, or nullptr.
const measure::ReferenceDigest* checkMeasurement(const std::string& platform, Bytes digest,
                                                 const measure::ReferenceValues& ref, Verdict& v);

// `name`: evidence bytes equal the expected bytes exactly (skipped when nothing is expected).
void checkExact(const std::string& name, Bytes actual, const std::optional<ByteVector>& expected,
                Verdict& v);

// "ref.report_data": the expected bytes are a prefix of REPORT_DATA and the rest is zero.
void checkReportData(Bytes actual, const std::optional<ByteVector>& expected, Verdict& v);

}  // namespace igvmkit::attest::internal
