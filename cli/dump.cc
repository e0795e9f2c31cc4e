#include <iostream>
#include <memory>

#include "base/file.h"
#include "cli/command.h"
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
    Result<igvm::File> file = igvm::File::parse(mapped->bytes());
    if (!file.ok()) {
      if (Status s = settled(*mapped); !s.ok()) {
        return fail("", s.error());
      }
      return fail(*path, file.error());
    }
    igvm::DumpOptions opts;
    opts.hex = *hex_flag;
    // Rendered first, printed once the file is known not to have changed under the dump.
    std::string text = *json_flag ? igvm::dumpJson(*file, opts).dump(2) + "\n"
                                  : igvm::dumpText(*file, opts);
    if (Status s = settled(*mapped); !s.ok()) {
      return fail("", s.error());
    }
    std::cout << text;
    return kExitOk;
  };
}

}  // namespace igvmkit::cli
