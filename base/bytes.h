// base/bytes.h: bounds-checked views of untrusted bytes, and hex formatting.
//
// Every read of input data goes through slice() or readStruct<T>(), whose checks cannot overflow
// (offset and length are compared against the remaining size, never added first):
//   IGVMKIT_ASSIGN_OR_RETURN(auto page, slice(file_bytes, pd.file_offset, 4096));
//   IGVMKIT_ASSIGN_OR_RETURN(auto fixed, readStruct<IGVM_FIXED_HEADER>(file_bytes, 0));
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/status.h"

namespace igvmkit {

using Bytes = std::span<const std::byte>;
using ByteVector = std::vector<std::byte>;

// The n bytes at offset off, or an "out of bounds" error naming offset, length and size.
Result<Bytes> slice(Bytes bytes, uint64_t off, uint64_t n);

// A copy of the T stored (unaligned, little endian) at offset off.
template <class T>
Result<T> readStruct(Bytes bytes, uint64_t off) {
  static_assert(std::is_trivially_copyable_v<T>);
  Result<Bytes> view = slice(bytes, off, sizeof(T));
  if (!view.ok()) {
    return std::move(view).error();
  }
  T out;
  std::memcpy(&out, view->data(), sizeof(T));
  return out;
}

// The object representation of a trivially copyable value, e.g. to append a header to a file.
template <class T>
Bytes asBytes(const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  return Bytes(reinterpret_cast<const std::byte*>(&value), sizeof(T));
}

template <class T, class Allocator>
void appendStruct(std::vector<std::byte, Allocator>& out, const T& value) {
  Bytes b = asBytes(value);
  out.insert(out.end(), b.begin(), b.end());
}

// "0x1a8": lowercase, no padding.
std::string hex(uint64_t value);

// Lowercase hex of every byte, two digits each ("00ff10").
std::string hexBytes(Bytes bytes);
inline std::string hexBytes(const ByteVector& bytes) { return hexBytes(Bytes(bytes)); }
// The same for a byte-array field of a wire struct (a digest, an ID): hexBytes(report.chip_id).
template <size_t N>
std::string hexBytes(const uint8_t (&field)[N]) {
  return hexBytes(asBytes(field));
}

// `n` bytes of a wire struct from `field` on, e.g. the used part of a zero-padded array.
inline Bytes bytesAt(const uint8_t* field, size_t n) {
  return Bytes(reinterpret_cast<const std::byte*>(field), n);
}

// Parses hexBytes()'s output (either case, even length, no prefix); nullopt-style error otherwise.
Result<ByteVector> parseHexBytes(std::string_view text);

// True when every byte is zero.
bool allZero(Bytes bytes);

inline Bytes toBytes(std::string_view s) {
  return Bytes(reinterpret_cast<const std::byte*>(s.data()), s.size());
}

}  // namespace igvmkit
