// measure/digest.h: the digest values every measurement in this package produces, and the
// page-content hash they share.
//
// A launch digest is a fixed-size byte array: SHA-384 (48 bytes) for SEV-SNP and TDX, SHA-256
// (32 bytes) for VBS and SEV/SEV-ES. hexBytes() from base/bytes.h formats either.
//
//   IGVMKIT_ASSIGN_OR_RETURN(measure::Sha384Digest d, measure::sha384Page(page_bytes));
//   std::string text = hexBytes(d);  // 96 lowercase hex digits
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "x86/arch.h"

namespace igvmkit::measure {

using Sha384Digest = std::array<std::byte, 48>;
using Sha256Digest = std::array<std::byte, 32>;

// Every measured unit is one 4 KiB page: 2 MiB IGVM pages are split by the caller.
using x86::kPageSize;

// SHA-384 of `data` (any length).
Result<Sha384Digest> sha384(Bytes data);

// SHA-384 of the 4 KiB page whose first bytes are `contents` and whose rest is zero: how every
// tool measures IGVM page data shorter than a page (empty contents = the zero page). More than
// 4096 bytes is an error ("page.too_large").
Result<Sha384Digest> sha384Page(Bytes contents);

// Hex of a digest (96 or 64 lowercase digits).
template <size_t N>
std::string hexDigest(const std::array<std::byte, N>& d) {
  return hexBytes(Bytes(d));
}

// Parses 2*N hex digits into a digest; anything else is an invalid-input error with `rule`.
template <size_t N>
Result<std::array<std::byte, N>> parseDigest(std::string_view text, std::string rule) {
  Result<ByteVector> bytes = parseHexBytes(text);
  if (!bytes.ok() || bytes->size() != N) {
    return invalid(std::move(rule), "expected " + std::to_string(2 * N) + " hex digits");
  }
  std::array<std::byte, N> out;
  std::memcpy(out.data(), bytes->data(), N);
  return out;
}

}  // namespace igvmkit::measure
