// libFuzzer target: Azure HCL reports through verifySnpReport (issue 12).
// Whatever the bytes, no crash, and without certificates nothing verifies.
// Inputs that do not start with the HCL magic get it, so the fuzzer spends its
// time past the first check.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "attest/snp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace igvmkit;
  const auto* bytes_in = reinterpret_cast<const std::byte*>(data);
  ByteVector input = {std::byte{'H'}, std::byte{'C'}, std::byte{'L'}, std::byte{'A'}};
  input.insert(input.end(), bytes_in, bytes_in + size);
  Bytes bytes(input);
  if (size >= 4 && std::memcmp(data, "HCLA", 4) == 0) {
    bytes = bytes.subspan(4);
  }
  Result<attest::HclReport> hcl = attest::parseHclReport(bytes);
  Result<Bytes> inner = attest::extractSnpReport(bytes);
  // One parser decides what an HCL report is; a 0x4A0-byte input is a raw report by its size
  // (an HCL report is always longer), whatever its first bytes say.
  if (bytes.size() != attest::kSnpReportSize && hcl.ok() != inner.ok()) {
    __builtin_trap();
  }
  Result<attest::Verdict> v =
      attest::verifySnpReport({.report = bytes, .certificates = {}, .at = 1700000000});
  if (v.ok() && v->passed()) {
    __builtin_trap();
  }
  return 0;
}
