#include "attest/internal/der.h"

namespace igvmkit::attest::internal {
namespace {

Error bad(const std::string& message) { return invalid("der", message); }

}  // namespace

Result<Tlv> readTlv(Bytes in) {
  if (in.size() < 2) {
    return bad("truncated DER header (" + hex(in.size()) + " bytes)");
  }
  Tlv t;
  t.tag = static_cast<uint8_t>(in[0]);
  if ((t.tag & 0x1F) == 0x1F) {
    return bad("multi-byte DER tag " + hex(t.tag) + " is not supported");
  }
  auto first = static_cast<uint8_t>(in[1]);
  size_t header = 2;
  uint64_t length = first;
  if (first & 0x80) {
    size_t n = first & 0x7F;
    if (n == 0 || n > 4) {
      return bad("unsupported DER length form " + hex(first));
    }
    if (in.size() - 2 < n) {
      return bad("truncated DER length");
    }
    length = 0;
    for (size_t i = 0; i < n; ++i) {
      length = (length << 8) | static_cast<uint8_t>(in[2 + i]);
    }
    header += n;
  }
  if (length > in.size() - header) {
    return bad("DER length " + hex(length) + " exceeds the " + hex(in.size() - header) +
               " bytes that remain");
  }
  t.value = in.subspan(header, length);
  t.size = header + length;
  return t;
}

Result<Tlv> readOnly(Bytes in, uint8_t tag) {
  IGVMKIT_ASSIGN_OR_RETURN(Tlv t, readTlv(in));
  if (t.tag != tag) {
    return bad("DER tag " + hex(t.tag) + ", expected " + hex(tag));
  }
  if (t.size != in.size()) {
    return bad("trailing bytes after a DER value");
  }
  return t;
}

Result<std::vector<Tlv>> readAll(Bytes in) {
  std::vector<Tlv> out;
  while (!in.empty()) {
    IGVMKIT_ASSIGN_OR_RETURN(Tlv t, readTlv(in));
    in = in.subspan(t.size);
    out.push_back(t);
  }
  return out;
}

Result<uint64_t> integerValue(Bytes contents) {
  if (contents.empty()) {
    return bad("empty DER INTEGER");
  }
  if (static_cast<uint8_t>(contents[0]) & 0x80) {
    return bad("negative DER INTEGER");
  }
  // A leading zero only makes room for a high bit; at most 8 value bytes remain.
  while (contents.size() > 1 && contents[0] == std::byte{0}) {
    contents = contents.subspan(1);
  }
  if (contents.size() > 8) {
    return bad("DER INTEGER wider than 64 bits");
  }
  uint64_t v = 0;
  for (std::byte b : contents) {
    v = (v << 8) | static_cast<uint8_t>(b);
  }
  return v;
}

Result<std::string> oidText(Bytes contents) {
  if (contents.empty()) {
    return bad("empty OID");
  }
  std::string out;
  uint64_t value = 0;
  bool first = true;
  for (size_t i = 0; i < contents.size(); ++i) {
    auto b = static_cast<uint8_t>(contents[i]);
    if (value > (UINT64_MAX >> 7)) {
      return bad("OID arc too large");
    }
    value = (value << 7) | (b & 0x7F);
    if (b & 0x80) {
      if (i + 1 == contents.size()) {
        return bad("truncated OID arc");
      }
      continue;
    }
    if (first) {
      uint64_t top = value < 40 ? 0 : (value < 80 ? 1 : 2);
      out = std::to_string(top) + "." + std::to_string(value - 40 * top);
      first = false;
    } else {
      out += "." + std::to_string(value);
    }
    value = 0;
  }
  return out;
}

}  // namespace igvmkit::attest::internal
