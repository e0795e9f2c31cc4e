#include "attest/internal/json_span.h"

#include <string>

namespace igvmkit::attest::internal {
namespace {

Error bad(const std::string& message) { return invalid("collateral.json", message); }

void skipSpace(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) {
    ++i;
  }
}

// Skips a string starting at s[i] == '"'; returns its raw contents (escapes kept).
Result<std::string_view> skipString(std::string_view s, size_t& i) {
  size_t start = ++i;
  while (i < s.size()) {
    if (s[i] == '\\') {
      i += 2;
      continue;
    }
    if (s[i] == '"') {
      std::string_view out = s.substr(start, i - start);
      ++i;
      return out;
    }
    ++i;
  }
  return bad("unterminated string");
}

// Skips one value; nesting depth is bounded so hostile input cannot exhaust the stack.
Status skipValue(std::string_view s, size_t& i, int depth) {
  if (depth > 64) {
    return bad("nesting deeper than 64");
  }
  skipSpace(s, i);
  if (i >= s.size()) {
    return bad("value expected at offset " + std::to_string(i));
  }
  char c = s[i];
  if (c == '"') {
    return skipString(s, i).status();
  }
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    ++i;
    skipSpace(s, i);
    if (i < s.size() && s[i] == close) {
      ++i;
      return okStatus();
    }
    while (true) {
      if (c == '{') {
        skipSpace(s, i);
        if (i >= s.size() || s[i] != '"') {
          return bad("member name expected at offset " + std::to_string(i));
        }
        IGVMKIT_RETURN_IF_ERROR(skipString(s, i).status());
        skipSpace(s, i);
        if (i >= s.size() || s[i] != ':') {
          return bad("':' expected at offset " + std::to_string(i));
        }
        ++i;
      }
      IGVMKIT_RETURN_IF_ERROR(skipValue(s, i, depth + 1));
      skipSpace(s, i);
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == close) {
        ++i;
        return okStatus();
      }
      return bad("',' or closing bracket expected at offset " + std::to_string(i));
    }
  }
  size_t start = i;
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
         s[i] != '\n' && s[i] != '\r' && s[i] != '\t') {
    ++i;
  }
  if (i == start) {
    return bad("value expected at offset " + std::to_string(i));
  }
  return okStatus();
}

}  // namespace

Result<std::string_view> rawJsonMember(std::string_view json, std::string_view key) {
  size_t i = 0;
  skipSpace(json, i);
  if (i >= json.size() || json[i] != '{') {
    return bad("not a JSON object");
  }
  ++i;
  while (true) {
    skipSpace(json, i);
    if (i >= json.size() || json[i] != '"') {
      return bad("member \"" + std::string(key) + "\" not found");
    }
    IGVMKIT_ASSIGN_OR_RETURN(std::string_view name, skipString(json, i));
    skipSpace(json, i);
    if (i >= json.size() || json[i] != ':') {
      return bad("':' expected at offset " + std::to_string(i));
    }
    ++i;
    skipSpace(json, i);
    size_t start = i;
    IGVMKIT_RETURN_IF_ERROR(skipValue(json, i, 0));
    if (name == key) {
      return json.substr(start, i - start);
    }
    skipSpace(json, i);
    if (i < json.size() && json[i] == ',') {
      ++i;
      continue;
    }
    return bad("member \"" + std::string(key) + "\" not found");
  }
}

}  // namespace igvmkit::attest::internal
