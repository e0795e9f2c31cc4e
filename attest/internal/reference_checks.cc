#include "attest/internal/reference_checks.h"

#include <algorithm>

namespace igvmkit::attest::internal {

const measure::ReferenceDigest* checkMeasurement(const std::string& platform, Bytes digest,
                                                 const measure::ReferenceValues& ref, Verdict& v) {
  if (ref.measurements.empty()) {
    return nullptr;
  }
  std::vector<const measure::ReferenceDigest*> entries = ref.forPlatform(platform);
  std::string actual = hexBytes(digest);
  if (entries.empty()) {
    v.add("ref.measurement", false, actual, "a \"" + platform + "\" measurement",
          "the reference values list " + std::to_string(ref.measurements.size()) +
              " measurement(s), none for platform " + platform);
    return nullptr;
  }
  std::string expected;
  for (size_t i = 0; i < entries.size(); ++i) {
    const measure::ReferenceDigest& d = *entries[i];
    expected += (i == 0 ? "" : " or ") + hexBytes(d.digest) + " [" + d.label() + "]";
  }
  for (const measure::ReferenceDigest* d : entries) {
    if (std::equal(d->digest.begin(), d->digest.end(), digest.begin(), digest.end())) {
      v.add("ref.measurement", true, actual, expected, "matches " + d->label());
      return d;
    }
  }
  v.add("ref.measurement", false, actual, expected,
        "no match among " + std::to_string(entries.size()) + " " + platform + " measurement(s)");
  return nullptr;
}

void checkExact(const std::string& name, Bytes actual, const std::optional<ByteVector>& expected,
                Verdict& v) {
  if (!expected) {
    return;
  }
  bool ok = std::equal(expected->begin(), expected->end(), actual.begin(), actual.end());
  v.add(name, ok, hexBytes(actual), hexBytes(*expected));
}

void checkReportData(Bytes actual, const std::optional<ByteVector>& expected, Verdict& v) {
  if (!expected) {
    return;
  }
  bool ok = expected->size() <= actual.size() &&
            std::equal(expected->begin(), expected->end(), actual.begin()) &&
            allZero(actual.subspan(expected->size()));
  std::string want = hexBytes(*expected);
  if (expected->size() < actual.size()) {
    want += " then zeros";
  }
  v.add("ref.report_data", ok, hexBytes(actual), want);
}

}  // namespace igvmkit::attest::internal
