// corim/internal/cbor.cc: libcbor plumbing for corim/ (cbor.h).
#include "corim/internal/cbor.h"

#include <cstdlib>

namespace igvmkit::corim::detail {

cbor_item_t* uint(uint64_t v) {
  if (v <= 0xFF) return cbor_build_uint8(static_cast<uint8_t>(v));
  if (v <= 0xFFFF) return cbor_build_uint16(static_cast<uint16_t>(v));
  if (v <= 0xFFFFFFFF) return cbor_build_uint32(static_cast<uint32_t>(v));
  return cbor_build_uint64(v);
}
cbor_item_t* sint(int64_t v) {
  if (v >= 0) return uint(static_cast<uint64_t>(v));
  const uint64_t n = static_cast<uint64_t>(-1 - v);
  if (n <= 0xFF) return cbor_build_negint8(static_cast<uint8_t>(n));
  if (n <= 0xFFFF) return cbor_build_negint16(static_cast<uint16_t>(n));
  if (n <= 0xFFFFFFFF) return cbor_build_negint32(static_cast<uint32_t>(n));
  return cbor_build_negint64(n);
}
cbor_item_t* bytes(Bytes b) {
  return cbor_build_bytestring(reinterpret_cast<cbor_data>(b.data()), b.size());
}
cbor_item_t* text(std::string_view s) { return cbor_build_stringn(s.data(), s.size()); }
cbor_item_t* tag(uint64_t t, cbor_item_t* inner) {
  cbor_item_t* out = cbor_build_tag(t, cbor_move(inner));
  return out;
}


cbor_item_t* array(std::initializer_list<cbor_item_t*> items) {
  cbor_item_t* a = cbor_new_definite_array(items.size());
  for (cbor_item_t* i : items) {
    cbor_array_push(a, cbor_move(i));
  }
  return a;
}

Result<ByteVector> serialize(cbor_item_t* raw) {
  Item item(raw);
  unsigned char* buffer = nullptr;
  size_t buffer_size = 0;
  const size_t n = cbor_serialize_alloc(item.get(), &buffer, &buffer_size);
  if (n == 0) {
    std::free(buffer);
    return internal("cbor encoding failed");
  }
  ByteVector out(reinterpret_cast<std::byte*>(buffer), reinterpret_cast<std::byte*>(buffer) + n);
  std::free(buffer);
  return out;
}

Result<Item> load(Bytes b, size_t* used) {
  std::vector<uint64_t> tags;
  size_t at = 0;
  while (at < b.size() && (static_cast<uint8_t>(b[at]) >> 5) == 6 && tags.size() < 16) {
    const uint8_t info = static_cast<uint8_t>(b[at]) & 0x1f;
    const size_t extra = info < 24 ? 0 : info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : 8;
    if (info > 27 || at + 1 + extra > b.size()) {
      return invalid("corim.cbor", "not well-formed cbor at byte " + hex(at));
    }
    uint64_t value = info < 24 ? info : 0;
    for (size_t k = 0; k < extra; ++k) {
      value = value << 8 | static_cast<uint8_t>(b[at + 1 + k]);
    }
    tags.push_back(value);
    at += 1 + extra;
  }
  Bytes rest = b.subspan(at);
  cbor_load_result result;
  cbor_item_t* raw = cbor_load(reinterpret_cast<cbor_data>(rest.data()), rest.size(), &result);
  if (raw == nullptr || result.error.code != CBOR_ERR_NONE) {
    Item discard(raw);
    return invalid("corim.cbor", "not well-formed cbor at byte " + hex(at + result.error.position));
  }
  if (used != nullptr) {
    *used = at + result.read;
  } else if (result.read != rest.size()) {
    Item discard(raw);
    return invalid("corim.cbor", hex(rest.size() - result.read) + " bytes follow the cbor item");
  }
  for (auto t = tags.rbegin(); t != tags.rend(); ++t) {
    raw = cbor_build_tag(*t, cbor_move(raw));
  }
  return Item(raw);
}

Bytes bytesOf(const cbor_item_t* i) {
  return Bytes(reinterpret_cast<const std::byte*>(cbor_bytestring_handle(i)),
               cbor_bytestring_length(i));
}

}  // namespace igvmkit::corim::detail
