// cli/command.h: the one shared place for the CLI's conventions (cli-contract.md "Conventions").
//
// Each subcommand lives in its own .cc file and exposes one function that adds it to the app and
// returns what to run when it is chosen. Options bind to state the subcommand file owns:
//
//   RunFn addCheck(CLI::App& app) {
//     auto* cmd = app.add_subcommand("check", "validate an IGVM file");
//     auto path = std::make_shared<std::string>();
//     cmd->add_option("FILE", *path)->required();
//     return [path] { ... return kExitOk; };
//   }
//
// Only this package prints. Errors are one line on stderr, "error: <file>: <where>: <what>", and
// exitStatus() is the only mapping from an error Code to an exit status.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/file.h"
#include "base/status.h"

namespace igvmkit::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitBad = 1;    // input judged bad: invalid file, failed verification
inline constexpr int kExitUsage = 2;  // usage error or unreadable input

using RunFn = std::function<int()>;

// The exit status for an error (cli-contract.md): kUsage and kUnreadable -> 2, the rest -> 1.
int exitStatus(Code code);

// Prints "error: <subject>: <error with location>" (subject omitted when empty) and returns the
// error's exit status.
int fail(const std::string& subject, const Error& error);

// For a command that read `input`: the "changed while read" error when the file changed under
// it (then nothing computed from it may be reported), OK otherwise. Call before reporting a
// verdict, good or bad.
Status settled(const MappedFile& input);

// The error fail() printed last, if any: a --json document that reports it after the fact
// (`build --json`).
const std::optional<Error>& lastFailure();

// Declares stdout as taken by what the command prints there (`what`: "the digest", "--json's
// document"), after the command's outputs were added: an output that names stdout ("-",
// /dev/stdout) is then a usage error (output.same_file) before any work, not a mixed stream.
Status reserveStdout(OutputFiles& outputs, const std::string& what);

// Prints a warning line "warning: ..." on stderr.
void warn(const std::string& message);

// {"code": "invalid_input", "rule": ..., "message": ..., "location": {"offset": N, ...}} for a
// --json document that reports an error (the error line still goes to stderr).
nlohmann::ordered_json errorJson(const Error& error);

// Prints exactly one JSON document (and a newline) on stdout.
void printJson(const nlohmann::ordered_json& doc);

// What main() does after the chosen command returned `status`: stdout must have been written
// (a failed write is an error, exit 2) and no input may have changed while it was read.
int finish(int status);

RunFn addDump(CLI::App& app);
RunFn addCheck(CLI::App& app);
RunFn addBuild(CLI::App& app);
RunFn addMeasure(CLI::App& app);
RunFn addSign(CLI::App& app);
RunFn addVerify(CLI::App& app);
RunFn addPlan(CLI::App& app);
RunFn addRun(CLI::App& app);
RunFn addDiagnose(CLI::App& app);

}  // namespace igvmkit::cli
