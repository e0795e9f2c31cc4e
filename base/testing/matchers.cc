#include "base/testing/matchers.h"

namespace igvmkit {

void PrintTo(Code code, std::ostream* os) {
  switch (code) {
    case Code::kInvalidInput: *os << "kInvalidInput"; return;
    case Code::kVerifyFailed: *os << "kVerifyFailed"; return;
    case Code::kGuestFailed: *os << "kGuestFailed"; return;
    case Code::kUnsupported: *os << "kUnsupported"; return;
    case Code::kUnreadable: *os << "kUnreadable"; return;
    case Code::kUsage: *os << "kUsage"; return;
    case Code::kInternal: *os << "kInternal"; return;
  }
  *os << "Code(" << static_cast<int>(code) << ")";
}

void PrintTo(const Error& error, std::ostream* os) {
  PrintTo(error.code, os);
  *os << " [" << error.rule << "] " << error.describe();
}

void PrintTo(const Status& status, std::ostream* os) {
  if (status.ok()) {
    *os << "OK";
  } else {
    PrintTo(status.error(), os);
  }
}

}  // namespace igvmkit
