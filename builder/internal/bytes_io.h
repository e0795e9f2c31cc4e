// builder/internal/bytes_io.h: little-endian stores into and loads from byte buffers the builder
// owns (pages it generates). Input files are read with readStruct/slice from base/bytes.h.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "base/bytes.h"

namespace igvmkit::builder::internal {

// Stores `value` at `off`; the caller guarantees off + sizeof(T) <= buf.size() (own buffers).
template <class T>
void put(ByteVector& buf, size_t off, T value) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::memcpy(buf.data() + off, &value, sizeof(T));
}

template <class T>
T get(Bytes buf, size_t off) {
  static_assert(std::is_trivially_copyable_v<T>);
  T out;
  std::memcpy(&out, buf.data() + off, sizeof(T));
  return out;
}

inline uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace igvmkit::builder::internal
