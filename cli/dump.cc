#include <memory>
#include <tuple>

#include "cli/command.h"

namespace igvmkit::cli {

RunFn addDump(CLI::App& app) {
  auto* cmd = app.add_subcommand("dump", "print every header of an IGVM file, decoded");
  auto path = std::make_shared<std::string>();
  cmd->add_option("FILE", *path, "IGVM file")->required();
  auto json_flag = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json_flag, "one JSON document on stdout");
  auto hex_flag = std::make_shared<bool>(false);
  cmd->add_flag("--hex", *hex_flag, "include page contents as hex");
  return notImplemented("dump", std::make_shared<std::tuple<decltype(path), decltype(json_flag), decltype(hex_flag)>>(path, json_flag, hex_flag));
}

}  // namespace igvmkit::cli
