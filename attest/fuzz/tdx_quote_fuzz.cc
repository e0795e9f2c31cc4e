// libFuzzer target: TDX quote parsing and verification must never crash, whatever the bytes.
#include <cstddef>
#include <cstdint>

#include "attest/tdx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace igvmkit;
  Bytes input(reinterpret_cast<const std::byte*>(data), size);
  Result<attest::TdxQuote> quote = attest::parseTdxQuote(input);
  if (!quote.ok()) {
    return 0;
  }
  // Every view stays inside the input.
  if (quote->size > size || quote->signed_region.size() > size) {
    __builtin_trap();
  }
  Result<attest::Verdict> v = attest::verifyTdxQuote(attest::TdxEvidence{
      .quote = input, .root = {}, .collateral = {}, .tcb_signing_chain = {}, .crls = {},
      .at = 1700000000});
  (void)v;
  return 0;
}
