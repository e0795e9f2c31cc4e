// attest/internal/der.h: a minimal, bounds-checked DER reader for the few certificate extension
// values the verifiers read (AMD VCEK/VLEK SPLs and hwID, the Intel PCK SGX extension). Only
// definite lengths; every read is checked against what remains, so crafted input cannot overflow.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit::attest::internal {

inline constexpr uint8_t kDerInteger = 0x02;
inline constexpr uint8_t kDerOctetString = 0x04;
inline constexpr uint8_t kDerOid = 0x06;
inline constexpr uint8_t kDerEnumerated = 0x0A;
inline constexpr uint8_t kDerIa5String = 0x16;
inline constexpr uint8_t kDerSequence = 0x30;

struct Tlv {
  uint8_t tag = 0;
  Bytes value;   // the contents
  size_t size = 0;  // header + contents
};

// The TLV at the start of `in` (single-byte tags only, definite lengths up to 4 length bytes).
Result<Tlv> readTlv(Bytes in);

// Exactly one TLV of tag `tag` spanning all of `in`.
Result<Tlv> readOnly(Bytes in, uint8_t tag);

// Every TLV in `in`, in order (the contents of a SEQUENCE).
Result<std::vector<Tlv>> readAll(Bytes in);

// A non-negative INTEGER's value (contents of an INTEGER TLV) if it fits in 64 bits.
Result<uint64_t> integerValue(Bytes contents);

// An OID's contents in dotted form ("1.2.840.113741.1.13.1").
Result<std::string> oidText(Bytes contents);

}  // namespace igvmkit::attest::internal
