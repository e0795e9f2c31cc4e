// base/status.h: how every igvmkit library reports failure. No exception leaves a library;
// functions return a Status (success or an Error) or a Result<T> (a value or an Error).
//
//   Result<igvm::File> file = igvm::File::parse(bytes);
//   if (!file.ok()) { return file.error(); }
//   IGVMKIT_ASSIGN_OR_RETURN(auto digest, measure::snpDigest(*file, options));
//
// An Error carries a Code (which the CLI maps to an exit status, cli/command.cc), a one-line
// message that states the fault (lowercase, no trailing period), a stable rule identifier that
// tests key on (prefixed by the package or part that raises it: "manifest.", "snp.", "io."), and
// an optional Location that says where in the input the fault is.
//
// Misuse is checked, never undefined: error() of a successful Status or Result, value() of a
// failed Result, or a Result made from a successful Status, ends the process with a message
// naming the misuse (a bug in the caller, not an input problem).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace igvmkit {

namespace detail {
// Prints "igvmkit: internal error: <what>" on stderr and aborts.
[[noreturn]] void statusMisuse(const char* what);
}  // namespace detail

// Few codes, each with one meaning; exit statuses follow from them (cli-contract.md).
enum class Code {
  kInvalidInput,  // the input was read and judged bad (malformed file, manifest, report): exit 1
  kVerifyFailed,  // a check of evidence or reference values failed: exit 1
  kGuestFailed,   // the guest crashed, timed out or the VMM could not continue: exit 1 unless run
  kUnsupported,   // well-formed input asking for something this tool or backend cannot do: exit 1
  kUnreadable,    // the input could not be read at all (missing file, I/O error): exit 2
  kUsage,         // the caller asked for something contradictory or malformed: exit 2
  kInternal,      // a bug or a failing system call we did not expect: exit 1
};

// Where in an input a fault lies. Every field is optional; the CLI prints those that are set.
struct Location {
  std::optional<uint64_t> offset;        // byte offset in a binary input
  std::optional<uint32_t> header_index;  // index of the header in its file (igvm: 0-based)
  std::optional<uint32_t> header_type;   // raw type code of that header
  std::string header_name;               // its spec name, e.g. "PAGE_DATA"
  std::optional<uint32_t> line;          // 1-based line in a text input
  std::optional<uint32_t> column;        // 1-based column in a text input

  // "header #7 (PAGE_DATA 0x302) at offset 0x1a8", "line 3, column 5", or "" when nothing is set.
  std::string describe() const;
};

struct Error {
  Code code = Code::kInternal;
  std::string rule;     // stable identifier of the violated rule, e.g. "page_data.gpa_alignment"
  std::string message;  // what is wrong, without location
  std::optional<Location> location;

  // The message with its location, as the CLI prints it after "error: <file>: ".
  std::string describe() const;
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // success
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit so `return err;` works

  bool ok() const { return !error_.has_value(); }
  const Error& error() const& {
    if (!error_) {
      detail::statusMisuse("error() of an OK Status");
    }
    return *error_;
  }
  Error&& error() && {
    if (!error_) {
      detail::statusMisuse("error() of an OK Status");
    }
    return std::move(*error_);
  }

  // Attaches a location unless one is already there (the innermost location wins).
  Status at(const Location& where) &&;

 private:
  std::optional<Error> error_;
};

inline Status okStatus() { return Status(); }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit so `return value;` works
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  // Only from a failed Status (a successful one has no value to give).
  Result(Status status) : v_(errorOf(std::move(status))) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Error& error() const& {
    checkFailed();
    return *std::get_if<Error>(&v_);
  }
  Error&& error() && {
    checkFailed();
    return std::move(*std::get_if<Error>(&v_));
  }
  Status status() const { return ok() ? Status() : Status(error()); }

  const T& value() const& {
    checkOk();
    return *std::get_if<T>(&v_);
  }
  T& value() & {
    checkOk();
    return *std::get_if<T>(&v_);
  }
  T&& value() && {
    checkOk();
    return std::move(*std::get_if<T>(&v_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  static Error errorOf(Status status) {
    if (status.ok()) {
      detail::statusMisuse("a Result made from an OK Status");
    }
    return std::move(status).error();
  }
  void checkOk() const {
    if (!ok()) {
      detail::statusMisuse("value() of a failed Result");
    }
  }
  void checkFailed() const {
    if (ok()) {
      detail::statusMisuse("error() of a successful Result");
    }
  }

  std::variant<T, Error> v_;
};

// Builders for the common cases; `rule` is the stable identifier tests match on.
Error invalid(std::string rule, std::string message, std::optional<Location> where = {});
Error unsupported(std::string rule, std::string message, std::optional<Location> where = {});
Error unreadable(std::string message);
Error usage(std::string message);  // rule "usage"
Error usage(std::string rule, std::string message);
Error internal(std::string message);

}  // namespace igvmkit

#define IGVMKIT_CONCAT_INNER_(a, b) a##b
#define IGVMKIT_CONCAT_(a, b) IGVMKIT_CONCAT_INNER_(a, b)

// Returns the error of a failed Status or Result from the enclosing function.
#define IGVMKIT_RETURN_IF_ERROR(expr)                      \
  do {                                                     \
    if (auto igvmkit_status_ = (expr); !igvmkit_status_.ok()) { \
      return std::move(igvmkit_status_).error();           \
    }                                                      \
  } while (false)

// Declares `lhs` from a Result's value, or returns its error.
#define IGVMKIT_ASSIGN_OR_RETURN(lhs, expr) \
  IGVMKIT_ASSIGN_OR_RETURN_IMPL_(IGVMKIT_CONCAT_(igvmkit_result_, __LINE__), lhs, expr)
#define IGVMKIT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) {                                     \
    return std::move(tmp).error();                     \
  }                                                    \
  lhs = std::move(tmp).value()
