#include "base/bytes.h"

#include <algorithm>

namespace igvmkit {

Result<Bytes> slice(Bytes bytes, uint64_t off, uint64_t n) {
  if (off > bytes.size() || n > bytes.size() - off) {
    return invalid("bounds", "range " + hex(off) + " + " + hex(n) + " exceeds size " +
                                 hex(bytes.size()));
  }
  return bytes.subspan(off, n);
}

std::string hex(uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char buf[2 + 16];
  char* end = buf + sizeof(buf);
  char* p = end;
  do {
    *--p = kDigits[value & 0xF];
    value >>= 4;
  } while (value != 0);
  *--p = 'x';
  *--p = '0';
  return std::string(p, end);
}

std::string hexBytes(Bytes bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<uint8_t>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0xF];
  }
  return out;
}

Result<ByteVector> parseHexBytes(std::string_view text) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() % 2 != 0) {
    return invalid("hex", "hex string has an odd number of digits");
  }
  ByteVector out(text.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(text[2 * i]);
    int lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return invalid("hex", "character at position " + std::to_string(hi < 0 ? 2 * i : 2 * i + 1) +
                                " is not a hex digit");
    }
    out[i] = static_cast<std::byte>(hi << 4 | lo);
  }
  return out;
}

bool allZero(Bytes bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

}  // namespace igvmkit
