#include <iostream>
#include <memory>

#include "base/file.h"
#include "cli/command.h"
#include "cli/compat.h"
#include "igvm/file.h"

namespace igvmkit::cli {

RunFn addCheck(CLI::App& app) {
  auto* cmd = app.add_subcommand("check", "validate an IGVM file against every rule of the format");
  auto path = std::make_shared<std::string>();
  cmd->add_option("FILE", *path, "IGVM file")->required();
  auto compat = std::make_shared<bool>(false);
  cmd->add_flag("--compat", *compat,
                "say whether microsoft/igvm's parser accepts the file; igvmkit's stricter "
                "rules become warnings");
  return [path, compat] {
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
      return fail(*path, file.error());
    }
    printWarnings(*path, *file);
    std::cout << (*compat ? "ok: accepted by the reference parser\n" : "ok\n");
    return kExitOk;
  };
}

}  // namespace igvmkit::cli
