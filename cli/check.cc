#include <iostream>
#include <memory>

#include "base/file.h"
#include "cli/command.h"
#include "igvm/file.h"

namespace igvmkit::cli {

RunFn addCheck(CLI::App& app) {
  auto* cmd = app.add_subcommand("check", "validate an IGVM file against every rule of the format");
  auto path = std::make_shared<std::string>();
  cmd->add_option("FILE", *path, "IGVM file")->required();
  auto json_flag = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json_flag, "one JSON document on stdout");
  return [path, json_flag] {
    Result<MappedFile> mapped = MappedFile::open(*path);
    if (!mapped.ok()) {
      return fail("", mapped.error());  // the message names the path
    }
    Result<igvm::File> file = igvm::File::parse(mapped->bytes());
    if (Status s = settled(*mapped); !s.ok()) {
      return fail("", s.error());
    }
    if (!file.ok()) {
      if (*json_flag) {
        printJson({{"file", *path}, {"valid", false}, {"error", errorJson(file.error())}});
      }
      return fail(*path, file.error());
    }
    if (*json_flag) {
      printJson({{"file", *path}, {"valid", true}});
    } else {
      std::cout << "ok\n";
    }
    return kExitOk;
  };
}

}  // namespace igvmkit::cli
