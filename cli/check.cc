#include <memory>
#include <tuple>

#include "cli/command.h"

namespace igvmkit::cli {

RunFn addCheck(CLI::App& app) {
  auto* cmd = app.add_subcommand("check", "validate an IGVM file against every rule of the format");
  auto path = std::make_shared<std::string>();
  cmd->add_option("FILE", *path, "IGVM file")->required();
  return notImplemented("check", std::make_shared<std::tuple<decltype(path)>>(path));
}

}  // namespace igvmkit::cli
