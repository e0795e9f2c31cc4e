#include "cli/command.h"

#include <iostream>

namespace igvmkit::cli {

int exitStatus(Code code) {
  switch (code) {
    case Code::kUsage:
    case Code::kUnreadable:
      return kExitUsage;
    case Code::kInvalidInput:
    case Code::kVerifyFailed:
    case Code::kGuestFailed:
    case Code::kUnsupported:
    case Code::kInternal:
      return kExitBad;
  }
  return kExitBad;
}

namespace {
// The rule of the last error printed, so finish() does not print the same fault twice.
std::string g_reported_rule;
}  // namespace

int fail(const std::string& subject, const Error& error) {
  g_reported_rule = error.rule;
  std::string line = "error: ";
  if (!subject.empty()) {
    line += subject + ": ";
  }
  line += error.describe();
  std::cerr << line << '\n';
  return exitStatus(error.code);
}

Status settled(const MappedFile& input) { return input.unchanged(); }

int finish(int status) {
  if (Status flushed = flushStdout(); !flushed.ok()) {
    const int s = fail("", flushed.error());
    return status == kExitOk ? s : status;
  }
  if (Status inputs = inputsUnchanged(); !inputs.ok() && g_reported_rule != inputs.error().rule) {
    const int s = fail("", inputs.error());
    return status == kExitOk ? s : status;
  }
  return status;
}

void warn(const std::string& message) { std::cerr << "warning: " << message << '\n'; }

nlohmann::ordered_json errorJson(const Error& error) {
  static constexpr const char* kCodeNames[] = {"invalid_input", "verify_failed", "guest_failed",
                                               "unsupported",   "unreadable",    "usage",
                                               "internal"};
  nlohmann::ordered_json out;
  out["code"] = kCodeNames[static_cast<int>(error.code)];
  out["rule"] = error.rule;
  out["message"] = error.message;
  if (error.location) {
    const Location& l = *error.location;
    nlohmann::ordered_json loc = nlohmann::ordered_json::object();
    if (l.offset) loc["offset"] = *l.offset;
    if (l.header_index) loc["header_index"] = *l.header_index;
    if (l.header_type) loc["header_type"] = *l.header_type;
    if (!l.header_name.empty()) loc["header_name"] = l.header_name;
    if (l.line) loc["line"] = *l.line;
    if (l.column) loc["column"] = *l.column;
    out["location"] = loc;
  }
  return out;
}

void printJson(const nlohmann::ordered_json& doc) { std::cout << doc.dump(2) << '\n'; }

}  // namespace igvmkit::cli
