#include "base/status.h"

#include <cstdio>
#include <cstdlib>

#include "base/bytes.h"

namespace igvmkit {

namespace detail {
void statusMisuse(const char* what) {
  std::fprintf(stderr, "igvmkit: internal error: %s\n", what);
  std::abort();
}
}  // namespace detail

std::string Location::describe() const {
  std::string out;
  auto append = [&out](const std::string& part) {
    if (!out.empty()) {
      out += ' ';
    }
    out += part;
  };
  if (header_index) {
    std::string h = "header #" + std::to_string(*header_index);
    if (header_type) {
      h += " (" + (header_name.empty() ? std::string("type") : header_name) + " " +
           hex(*header_type) + ")";
    }
    append(h);
  }
  if (offset) {
    append("at offset " + hex(*offset));
  }
  if (line) {
    std::string l = "line " + std::to_string(*line);
    if (column) {
      l += ", column " + std::to_string(*column);
    }
    append(l);
  }
  return out;
}

std::string Error::describe() const {
  if (!location) {
    return message;
  }
  std::string where = location->describe();
  return where.empty() ? message : where + ": " + message;
}

Status Status::at(const Location& where) && {
  if (error_ && !error_->location) {
    error_->location = where;
  }
  return std::move(*this);
}

Error invalid(std::string rule, std::string message, std::optional<Location> where) {
  return Error{Code::kInvalidInput, std::move(rule), std::move(message), std::move(where)};
}

Error unsupported(std::string rule, std::string message, std::optional<Location> where) {
  return Error{Code::kUnsupported, std::move(rule), std::move(message), std::move(where)};
}

Error unreadable(std::string message) {
  return Error{Code::kUnreadable, "io.unreadable", std::move(message), std::nullopt};
}

Error usage(std::string message) { return usage("usage", std::move(message)); }

Error usage(std::string rule, std::string message) {
  return Error{Code::kUsage, std::move(rule), std::move(message), std::nullopt};
}

Error internal(std::string message) {
  return Error{Code::kInternal, "internal", std::move(message), std::nullopt};
}

}  // namespace igvmkit
