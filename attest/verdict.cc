#include "attest/verdict.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cctype>
#include <ctime>

#include "attest/internal/crypto.h"

namespace igvmkit::attest {

bool Verdict::passed() const {
  if (checks.empty()) {
    return false;
  }
  for (const Check& c : checks) {
    if (!c.passed) {
      return false;
    }
  }
  return true;
}

const Check* Verdict::find(std::string_view name) const {
  for (const Check& c : checks) {
    if (c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

std::vector<std::string> Verdict::failedChecks() const {
  std::vector<std::string> out;
  for (const Check& c : checks) {
    if (!c.passed) {
      out.push_back(c.name);
    }
  }
  return out;
}

namespace {

// Check texts can quote certificate names and collateral: keep them printable
// ASCII so text and JSON output never carry control bytes or invalid UTF-8.
std::string printable(std::string s) {
  for (char& c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7E) {
      c = '?';
    }
  }
  return s;
}

}  // namespace

Check& Verdict::add(std::string name, bool passed, std::string actual, std::string expected,
                    std::string detail) {
  checks.push_back(Check{std::move(name), passed, printable(std::move(actual)),
                         printable(std::move(expected)), printable(std::move(detail))});
  return checks.back();
}

void Verdict::field(std::string name, nlohmann::ordered_json value) {
  if (value.is_string()) {
    value = printable(value.get<std::string>());
  }
  fields.push_back(Field{std::move(name), std::move(value)});
}

nlohmann::ordered_json Verdict::toJson() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["schema_version"] = kVerdictSchemaVersion;
  out["platform"] = platform;
  out["verified"] = passed();
  nlohmann::ordered_json f = nlohmann::ordered_json::object();
  for (const Field& field : fields) {
    f[field.name] = field.value;
  }
  out["fields"] = f;
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Check& c : checks) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    j["name"] = c.name;
    j["passed"] = c.passed;
    j["actual"] = c.actual;
    if (!c.expected.empty()) {
      j["expected"] = c.expected;
    }
    if (!c.detail.empty()) {
      j["detail"] = c.detail;
    }
    list.push_back(j);
  }
  out["checks"] = list;
  return out;
}

std::string describe(const Check& check) {
  std::string line = (check.passed ? "pass  " : "FAIL  ") + check.name + ": " + check.actual;
  if (!check.expected.empty()) {
    line += " (expected " + check.expected + ")";
  }
  if (!check.detail.empty()) {
    line += " - " + check.detail;
  }
  return line;
}

namespace {

bool isHexDigit(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool isBase64Char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '/' || c == '-' ||
         c == '_';
}

std::string withoutSpace(Bytes input, bool* printable) {
  std::string out;
  out.reserve(input.size());
  *printable = true;
  for (std::byte b : input) {
    auto c = static_cast<char>(b);
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7E) {
      *printable = false;
      return "";
    }
    out.push_back(c);
  }
  return out;
}

Result<ByteVector> base64Decode(std::string text) {
  while (!text.empty() && text.back() == '=') {
    text.pop_back();
  }
  for (char& c : text) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  if (text.size() % 4 == 1) {
    return invalid("evidence.base64", "base64 text has an impossible length " + hex(text.size()));
  }
  size_t padding = (4 - text.size() % 4) % 4;
  text.append(padding, '=');
  ByteVector out(text.size() / 4 * 3);
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) {
    ERR_clear_error();
    return invalid("evidence.base64", "malformed base64 text");
  }
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

}  // namespace

Result<ByteVector> decodeEvidence(Bytes input) {
  bool printable = false;
  std::string text = withoutSpace(input, &printable);
  if (!printable || text.empty()) {
    return ByteVector(input.begin(), input.end());
  }
  std::string body = text;
  if (body.rfind("0x", 0) == 0 || body.rfind("0X", 0) == 0) {
    body = body.substr(2);
  }
  bool all_hex = !body.empty();
  for (char c : body) {
    all_hex = all_hex && isHexDigit(c);
  }
  if (all_hex && body.size() % 2 == 0) {
    return parseHexBytes(body);
  }
  std::string b64 = text;
  while (!b64.empty() && b64.back() == '=') {
    b64.pop_back();
  }
  bool all_b64 = !b64.empty();
  for (char c : b64) {
    all_b64 = all_b64 && isBase64Char(c);
  }
  if (all_b64) {
    return base64Decode(text);
  }
  // Printable but neither encoding: take it as binary and let the parser judge
  // the size.
  return ByteVector(input.begin(), input.end());
}

Result<std::vector<ByteVector>> splitCertificates(Bytes input) {
  std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  std::vector<ByteVector> out;
  if (text.find("-----BEGIN") == std::string_view::npos) {
    IGVMKIT_ASSIGN_OR_RETURN(internal::X509Ptr cert, internal::parseCertificate(input));
    out.push_back(internal::certificateDer(cert.get()));
    return out;
  }
  // Only the CERTIFICATE blocks count; other PEM blocks and text between blocks
  // are skipped.
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  size_t pos = 0;
  while ((pos = text.find(kBegin, pos)) != std::string_view::npos) {
    size_t end = text.find(kEnd, pos);
    if (end == std::string_view::npos) {
      return invalid("certificate.parse",
                     "PEM certificate " + std::to_string(out.size()) + " has no END line");
    }
    std::string_view block = text.substr(pos, end + kEnd.size() - pos);
    BIO* bio = BIO_new_mem_buf(block.data(), static_cast<int>(block.size()));
    X509* cert = bio != nullptr ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (cert == nullptr) {
      return invalid("certificate.parse", "PEM certificate " + std::to_string(out.size()) +
                                              " does not parse: " + internal::opensslError());
    }
    internal::X509Ptr owned(cert);
    out.push_back(internal::certificateDer(cert));
    pos = end + kEnd.size();
  }
  if (out.empty()) {
    return invalid("certificate.parse", "no CERTIFICATE block in PEM input");
  }
  return out;
}

Result<int64_t> parseUtcTime(std::string_view text) {
  int y, mo, d, h, mi, s;
  char z = 0;
  std::string copy(text);
  int n = std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z);
  if (n != 7 || z != 'Z' || copy.size() != 20 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
      mi > 59 || s > 60 || y < 1970 || h < 0 || mi < 0 || s < 0) {
    return usage("time \"" + copy + "\" is not ISO 8601 UTC like 2026-11-01T00:00:00Z");
  }
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  int64_t seconds = static_cast<int64_t>(timegm(&tm));
  // timegm normalises 2026-02-30 to March 2: a date that does not come back
  // unchanged does not exist. A leap second (:60) is not representable either.
  struct tm back {};
  time_t t = static_cast<time_t>(seconds);
  if (gmtime_r(&t, &back) == nullptr || back.tm_year != y - 1900 || back.tm_mon != mo - 1 ||
      back.tm_mday != d || back.tm_hour != h || back.tm_min != mi || back.tm_sec != s) {
    return usage("time \"" + copy + "\" is not a date and time that exists");
  }
  return seconds;
}

std::string formatUtcTime(int64_t seconds) {
  time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  return internal::formatTm(tm);
}

}  // namespace igvmkit::attest
