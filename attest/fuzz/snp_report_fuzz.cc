// libFuzzer target: SEV-SNP report decoding, parsing and verification (no certificates, then
// with reference values) must never crash, whatever the bytes.
#include <cstddef>
#include <cstdint>

#include "attest/snp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace igvmkit;
  Bytes input(reinterpret_cast<const std::byte*>(data), size);
  Result<ByteVector> decoded = attest::decodeEvidence(input);
  if (!decoded.ok()) {
    return 0;
  }
  Result<Bytes> report = attest::extractSnpReport(*decoded);
  if (!report.ok()) {
    return 0;
  }
  Result<attest::ATTESTATION_REPORT> parsed = attest::parseSnpReport(*report);
  if (!parsed.ok()) {
    return 0;
  }
  static const measure::ReferenceValues kRef = [] {
    measure::ReferenceValues ref;
    ref.measurements.push_back(measure::ReferenceDigest{
        .platform = "snp", .host = "kvm", .vcpus = 1, .digest = ByteVector(48),
        .pages_measured = 1, .id_block = std::nullopt,
        .extra = nlohmann::ordered_json::object()});
    ref.policy = measure::ReferencePolicy{};
    ref.policy->min_tcb = measure::MinimumTcb{.boot_loader = 1, .tee = 0, .snp = 1, .microcode = 1,
                                              .fmc = 1};
    ref.policy->report_data = ByteVector(4);
    return ref;
  }();
  Result<attest::Verdict> v = attest::verifySnpReport(
      {.report = *report, .certificates = {}, .at = 1700000000}, &kRef);
  if (v.ok() && v->passed()) {
    __builtin_trap();  // without certificates nothing may verify
  }
  return 0;
}
