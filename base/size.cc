#include "base/size.h"

#include <cctype>
#include <limits>
#include <string>

namespace igvmkit {

Result<uint64_t> parseSize(std::string_view text) {
  std::string s;
  for (char c : text) {
    if (c != '_' && c != ' ') {
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (s.empty()) {
    return invalid("size.syntax", "empty size");
  }
  uint64_t value = 0;
  size_t i = 0;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x') {
    base = 16;
    i = 2;
  }
  size_t digits = 0;
  for (; i < s.size(); ++i, ++digits) {
    char c = s[i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      break;
    }
    if (value > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(d)) /
                    static_cast<uint64_t>(base)) {
      return invalid("size.range", "size \"" + std::string(text) + "\" is too large");
    }
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  if (digits == 0) {
    return invalid("size.syntax", "\"" + std::string(text) + "\" is not a size");
  }
  std::string_view suffix = std::string_view(s).substr(i);
  int shift = 0;
  if (!suffix.empty()) {
    const Error unknown_suffix{Code::kInvalidInput, "size.syntax",
                               "\"" + std::string(text) +
                                   "\" has an unknown suffix (use K, M, G or T)",
                               std::nullopt};
    if (base == 16) {
      return invalid("size.syntax", "\"" + std::string(text) + "\" is not a size");
    }
    switch (suffix[0]) {
      case 'k':
        shift = 10;
        break;
      case 'm':
        shift = 20;
        break;
      case 'g':
        shift = 30;
        break;
      case 't':
        shift = 40;
        break;
      default:
        return unknown_suffix;
    }
    std::string_view rest = suffix.substr(1);
    if (!rest.empty() && rest != "b" && rest != "ib") {
      return unknown_suffix;
    }
  }
  if (shift != 0 && value > (std::numeric_limits<uint64_t>::max() >> shift)) {
    return invalid("size.range", "size \"" + std::string(text) + "\" is too large");
  }
  return value << shift;
}

}  // namespace igvmkit
