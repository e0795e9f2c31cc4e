#include <iostream>
#include <memory>

#include "base/file.h"
#include "cli/command.h"
#include "cli/compat.h"
#include "igvm/dump.h"
#include "igvm/file.h"

namespace igvmkit::cli {

RunFn addDump(CLI::App& app) {
  auto* cmd = app.add_subcommand("dump", "print every header of an IGVM file, decoded");
  auto path = std::make_shared<std::string>();
  cmd->add_option("FILE", *path, "IGVM file")->required();
  auto json_flag = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json_flag, "one JSON document on stdout");
  auto hex_flag = std::make_shared<bool>(false);
  cmd->add_flag("--hex", *hex_flag, "include page contents as hex");
  return [path, json_flag, hex_flag] {
    Result<MappedFile> mapped = MappedFile::open(*path);
    if (!mapped.ok()) {
      return fail("", mapped.error());  // the message names the path
    }
    Result<igvm::File> file = parseForUse(*path, mapped->bytes());  // cli/compat.h
    if (!file.ok()) {
      return fail(*path, file.error());
    }
    igvm::DumpOptions opts;
    opts.hex = *hex_flag;
    if (*json_flag) {
      printJson(igvm::dumpJson(*file, opts));
    } else {
      std::cout << igvm::dumpText(*file, opts);
    }
    return kExitOk;
  };
}

}  // namespace igvmkit::cli
