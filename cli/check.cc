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
  return [path] {
    Result<MappedFile> mapped = MappedFile::open(*path);
    if (!mapped.ok()) {
      return fail("", mapped.error());  // the message names the path
    }
    Result<igvm::File> file = igvm::File::parse(mapped->bytes());
    if (Status s = settled(*mapped); !s.ok()) {
      return fail("", s.error());
    }
    if (!file.ok()) {
      return fail(*path, file.error());
    }
    std::cout << "ok\n";
    return kExitOk;
  };
}

}  // namespace igvmkit::cli
