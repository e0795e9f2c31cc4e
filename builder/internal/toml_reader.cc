#include "builder/internal/toml_reader.h"

#include <algorithm>
#include <utility>

namespace igvmkit::builder::internal {
namespace {

Location at(const toml::source_region& region) {
  Location loc;
  if (region.begin) {
    loc.line = region.begin.line;
    loc.column = region.begin.column;
  }
  return loc;
}

}  // namespace

Error bad(std::string rule, std::string message, const toml::source_region& region) {
  return invalid("manifest." + std::move(rule), std::move(message), at(region));
}

std::string_view typeName(toml::node_type t) {
  switch (t) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "a value";
}

std::string resolvePath(std::string_view base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) {
    return path;
  }
  std::string out(base_dir);
  if (out.back() != '/') {
    out += '/';
  }
  return out + path;
}

Result<std::string> requiredPath(TableReader& r, std::string_view key, std::string_view base_dir) {
  IGVMKIT_ASSIGN_OR_RETURN(std::optional<std::string> s, r.optString(key));
  if (!s) {
    return r.missing(key);
  }
  if (s->empty()) {
    return r.badKey("value", key, "must not be empty");
  }
  // open() would stop at the NUL and read another file than the one named.
  if (s->find('\0') != std::string::npos) {
    return r.badKey("value", key, "contains a NUL character");
  }
  return resolvePath(base_dir, *s);
}

Result<PlatformList> platformList(TableReader& r, std::string_view key) {
  PlatformList out;
  const toml::node* n = r.get(key);
  if (n == nullptr) {
    return out;
  }
  const auto* a = n->as_array();
  if (a == nullptr) {
    return r.wrongType(key, *n, "an array of platform names");
  }
  for (const toml::node& e : *a) {
    const auto* s = e.as_string();
    if (s == nullptr) {
      return bad("type",
                 "elements of '" + r.keyPath(key) + "' must be strings, not " +
                     std::string(typeName(e.type())),
                 e.source());
    }
    std::optional<Platform> named = measure::platformNamed(s->get());
    if (!named || std::find(kManifestPlatforms.begin(), kManifestPlatforms.end(), *named) ==
                      kManifestPlatforms.end()) {
      return bad("value", "unknown platform \"" + s->get() + "\" in '" + r.keyPath(key) + "'",
                 e.source());
    }
    const Platform p = *named;
    if (std::find(out.begin(), out.end(), p) != out.end()) {
      return bad("value", "platform \"" + s->get() + "\" listed twice in '" + r.keyPath(key) + "'",
                 e.source());
    }
    out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The text must be well-formed UTF-8 (TOML requires it), checked here strictly (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF) because toml++ decodes malformed bytes
// into arbitrary code points. And toml++ 3.3's is_non_ascii_horizontal_whitespace() reaches
// TOML_UNREACHABLE (undefined behaviour) for every code point of three of its 64 lookup blocks
// but the one whitespace character each holds: U+00A1..U+0499, U+2C5E..U+3057 (except U+3000)
// and U+FB26..U+FEFE. It is called wherever whitespace may occur, so those characters are refused
// everywhere. Both found by //builder:manifest_fuzz.
Status checkText(std::string_view text) {
  uint32_t line = 1;
  uint32_t column = 1;
  auto fail = [&](std::string message) {
    Location loc;
    loc.line = line;
    loc.column = column;
    return invalid("manifest.syntax", std::move(message), loc);
  };
  size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<uint8_t>(text[i]);
    if (b0 == '\n') {
      ++line;
      column = 1;
      ++i;
      continue;
    }
    size_t n = 1;
    uint32_t cp = b0;
    uint32_t min = 0;
    if (b0 >= 0x80) {
      if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2, cp = b0 & 0x1Fu, min = 0x80;
      } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3, cp = b0 & 0x0Fu, min = 0x800;
      } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4, cp = b0 & 0x07u, min = 0x1'0000;
      } else {
        return fail("invalid UTF-8 byte " + hex(b0));
      }
      if (text.size() - i < n) {
        return fail("truncated UTF-8 sequence");
      }
      for (size_t k = 1; k < n; ++k) {
        const auto b = static_cast<uint8_t>(text[i + k]);
        if ((b & 0xC0) != 0x80) {
          return fail("invalid UTF-8 sequence");
        }
        cp = (cp << 6) | (b & 0x3Fu);
      }
      if (cp < min || cp > 0x10'FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return fail("invalid UTF-8 sequence");
      }
      if ((cp >= 0xA1 && cp <= 0x499) || (cp >= 0x2C5E && cp <= 0x3057 && cp != 0x3000) ||
          (cp >= 0xFB26 && cp <= 0xFEFE)) {
        return fail("unsupported character U+" + hex(cp).substr(2) +
                    " (toml++ 3.3 mishandles U+00A1..U+0499, U+2C5E..U+3057 and U+FB26..U+FEFE)");
      }
    }
    i += n;
    ++column;
  }
  return okStatus();
}

}  // namespace igvmkit::builder::internal
