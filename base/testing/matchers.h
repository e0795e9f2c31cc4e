// base/testing/matchers.h: gtest matchers for Status and Result (testonly).
//
//   EXPECT_THAT(igvm::File::parse(bytes), HasRule("page_data.gpa_alignment"));
//   EXPECT_THAT(readFile(fifo), StatusIs(Code::kUsage, "input.not_regular"));
//   EXPECT_THAT(verifyTdxQuote(evidence), HasRulePrefix("quote."));
//   EXPECT_THAT(measure(file, opts), IsOk());
//
// Each takes a Status or any Result<T>; a failure prints the error's code, rule and message.
#pragma once

#include <gmock/gmock.h>

#include <optional>
#include <ostream>
#include <string>

#include "base/status.h"

namespace igvmkit {

// gtest prints these when a matcher fails.
void PrintTo(Code code, std::ostream* os);
void PrintTo(const Error& error, std::ostream* os);
void PrintTo(const Status& status, std::ostream* os);
template <class T>
void PrintTo(const Result<T>& result, std::ostream* os) {
  PrintTo(result.status(), os);
}

namespace testing {
namespace internal {

inline Status statusOf(const Status& s) { return s; }
template <class T>
Status statusOf(const Result<T>& r) {
  return r.status();
}

}  // namespace internal

// A failed Status/Result whose error has `code` (and `rule`, when given).
MATCHER_P2(StatusIsImpl, code, rule, "") {
  Status s = internal::statusOf(arg);
  if (s.ok()) {
    *result_listener << "which is OK";
    return false;
  }
  return s.error().code == code && (!rule.has_value() || s.error().rule == *rule);
}

inline auto StatusIs(Code code) { return StatusIsImpl(code, std::optional<std::string>()); }
inline auto StatusIs(Code code, std::string rule) {
  return StatusIsImpl(code, std::optional<std::string>(std::move(rule)));
}

// A failed Status/Result whose error has rule `rule` (any code).
MATCHER_P(HasRule, rule, "has rule " + ::testing::PrintToString(std::string(rule))) {
  Status s = internal::statusOf(arg);
  if (s.ok()) {
    *result_listener << "which is OK";
    return false;
  }
  return s.error().rule == std::string(rule);
}

// A failed Status/Result whose rule starts with `prefix` (a package's rules: "quote.").
MATCHER_P(HasRulePrefix, prefix,
          "has a rule starting with " + ::testing::PrintToString(std::string(prefix))) {
  Status s = internal::statusOf(arg);
  if (s.ok()) {
    *result_listener << "which is OK";
    return false;
  }
  return s.error().rule.starts_with(std::string(prefix));
}

// A failed Status/Result whose message contains `text`.
MATCHER_P(HasMessage, text, "has a message containing " + ::testing::PrintToString(std::string(text))) {
  Status s = internal::statusOf(arg);
  if (s.ok()) {
    *result_listener << "which is OK";
    return false;
  }
  return s.error().message.find(std::string(text)) != std::string::npos;
}

// A successful Status/Result.
MATCHER(IsOk, "is OK") { return internal::statusOf(arg).ok(); }

}  // namespace testing
}  // namespace igvmkit
