#include <iostream>
#include <memory>

#include "base/file.h"
#include "cli/command.h"
#include "cli/compat.h"
#include "diagnose/diagnose.h"
#include "igvm/file.h"
#include "igvm/gpa.h"

namespace igvmkit::cli {

RunFn addCheck(CLI::App& app) {
  auto* cmd = app.add_subcommand("check", "validate an IGVM file against every rule of the format");
  auto path = std::make_shared<std::string>();
  cmd->add_option("FILE", *path, "IGVM file")->required();
  auto compat = std::make_shared<bool>(false);
  cmd->add_flag("--compat", *compat,
                "say whether microsoft/igvm's parser accepts the file; igvmkit's stricter "
                "rules become warnings");
  auto json_flag = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json_flag, "one JSON document on stdout");
  return [path, compat, json_flag] {
    Result<MappedFile> mapped = MappedFile::open(*path);
    if (!mapped.ok()) {
      return fail("", mapped.error());  // the message names the path
    }
    igvm::ParseOptions opts;
    if (*compat) {
      opts.conformance = igvm::Conformance::kReference;
    }
    Result<igvm::File> file = igvm::File::parse(mapped->bytes(), opts);
    if (Status s = settled(*mapped); !s.ok()) {
      return fail("", s.error());
    }
    if (!file.ok()) {
      if (*json_flag) {
        printJson({{"file", *path}, {"valid", false}, {"error", errorJson(file.error())}});
      }
      return fail(*path, file.error());
    }
    // Valid, but no platform can launch it: a page past the guest's GPA width or 2^64.
    const std::vector<Error> gpa_warnings = igvm::gpaWarnings(*file);
    if (*json_flag) {
      nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
      for (const Error& w : file->warnings()) {
        warnings.push_back(errorJson(w));
      }
      for (const Error& w : gpa_warnings) {
        warnings.push_back(errorJson(w));
      }
      printJson({{"file", *path},
                 {"valid", true},
                 {"conformance", *compat ? "reference" : "strict"},
                 {"warnings", std::move(warnings)}});
    } else {
      printWarnings(*path, *file);
      for (const Error& w : gpa_warnings) {
        warn(*path + ": " + w.describe() + " [" + w.rule + "]");
      }
      // An SNP ID block no launch of the file produces (diagnose/README.md "ID-block lint").
      if (Result<std::optional<std::string>> issue =
              diagnose::idBlockLaunchIssue(*file, std::nullopt);
          issue.ok() && issue->has_value()) {
        warn(*path + ": " + **issue);
      }
      std::cout << (*compat ? "ok: accepted by the reference parser\n" : "ok\n");
    }
    return kExitOk;
  };
}

}  // namespace igvmkit::cli
