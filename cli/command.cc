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

int fail(const std::string& subject, const Error& error) {
  std::string line = "error: ";
  if (!subject.empty()) {
    line += subject + ": ";
  }
  line += error.describe();
  std::cerr << line << '\n';
  return exitStatus(error.code);
}

void warn(const std::string& message) { std::cerr << "warning: " << message << '\n'; }

void printJson(const nlohmann::ordered_json& doc) { std::cout << doc.dump(2) << '\n'; }

RunFn notImplemented(const std::string& name, std::shared_ptr<void> options) {
  return [name, options] {
    std::cerr << "error: " << name << " is not implemented yet\n";
    return kExitUsage;
  };
}

}  // namespace igvmkit::cli
