// attest/verdict.h: what verifying attestation evidence produces, and the input
// decoding that the SNP and TDX verifiers share.
//
// A Verdict is an ordered list of named checks, each with pass/fail and the
// values it compared, plus the decoded evidence fields. Verification never
// stops at the first failed check: every check that can still run does, so a
// report shows all of its problems at once. A Result error (instead of a
// Verdict) means the evidence could not be read at all (wrong size, bad
// encoding).
//
//   IGVMKIT_ASSIGN_OR_RETURN(ByteVector report,
//   attest::decodeEvidence(file_bytes));
//   IGVMKIT_ASSIGN_OR_RETURN(attest::Verdict v,
//   attest::verifySnpReport({.report = report, ...})); for (const
//   attest::Check& c : v.checks) { std::cout << attest::describe(c) << "\n"; }
//   return v.passed() ? 0 : 1;
//
// Check names are stable identifiers (tests and scripts key on them);
// attest/README.md lists every one.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit::attest {

struct Check {
  std::string name;  // stable id, e.g. "report.signature", "ref.measurement"
  bool passed = false;
  std::string actual;    // what the evidence shows
  std::string expected;  // what was required ("" when the check is a yes/no property)
  std::string detail;    // why it failed, or which reference entry matched
};

// One decoded evidence field for display, e.g. {"measurement", "7a1e..."}.
struct Field {
  std::string name;
  nlohmann::ordered_json value;
};

// The version of the JSON toJson() writes (attest/README.md "JSON output"); it
// changes when a key is removed or changes meaning, never when one is added.
inline constexpr int kVerdictSchemaVersion = 1;

struct Verdict {
  std::string platform;  // "snp" or "tdx"
  std::vector<Field> fields;
  std::vector<Check> checks;

  // True when there is at least one check and every check passed.
  bool passed() const;
  // The check named `name`, or nullptr.
  const Check* find(std::string_view name) const;
  // Names of the failed checks, in order.
  std::vector<std::string> failedChecks() const;

  Check& add(std::string name, bool passed, std::string actual, std::string expected = "",
             std::string detail = "");
  void field(std::string name, nlohmann::ordered_json value);

  // {"schema_version":1,"platform":..,"verified":..,"fields":{..},
  //  "checks":[{name,passed,actual,expected,detail}]}
  nlohmann::ordered_json toJson() const;
};

// One line: "pass  report.signature: <actual> (expected <expected>) -
// <detail>".
std::string describe(const Check& check);

// Evidence as given on disk: raw binary, hex text (optionally "0x"-prefixed,
// whitespace allowed) or base64 / base64url text. Returns the binary bytes.
Result<ByteVector> decodeEvidence(Bytes input);

// Certificates from a PEM bundle (any number of CERTIFICATE blocks) or a single
// DER certificate, as DER. Errors name the bad block (rule
// "certificate.parse").
Result<std::vector<ByteVector>> splitCertificates(Bytes input);

// ISO 8601 UTC "2026-11-01T00:00:00Z" as Unix seconds; a date that does not
// exist (2026-02-30) is an error, never normalised.
Result<int64_t> parseUtcTime(std::string_view text);

// Unix seconds as "2026-11-01T00:00:00Z".
std::string formatUtcTime(int64_t seconds);

}  // namespace igvmkit::attest
