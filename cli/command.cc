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
// The last error printed, so finish() does not print the same fault twice.
std::optional<Error> g_reported;
}  // namespace

const std::optional<Error>& lastFailure() { return g_reported; }

int fail(const std::string& subject, const Error& error) {
  g_reported = error;
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
  if (Status inputs = inputsUnchanged();
      !inputs.ok() && (!g_reported || g_reported->rule != inputs.error().rule)) {
    const int s = fail("", inputs.error());
    return status == kExitOk ? s : status;
  }
  return status;
}

Status reserveStdout(OutputFiles& outputs, const std::string& what) {
  Result<OutputFile*> taken = outputs.add("-");
  if (!taken.ok()) {
    Error e = taken.error();
    if (e.rule == "output.same_file") {
      e.message = what + " goes to stdout, where another output goes already";
    }
    return e;
  }
  return okStatus();
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
