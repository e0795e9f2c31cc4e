#include <memory>
#include <tuple>

#include "cli/command.h"

namespace igvmkit::cli {

RunFn addVerify(CLI::App& app) {
  auto* cmd = app.add_subcommand("verify", "verify an SEV-SNP report or a TDX quote");
  auto opts = std::make_shared<std::map<std::string, std::string>>();
  for (const char* name : {"--report", "--quote", "--vcek", "--vlek", "--chain", "--cert-cache",
                           "--root", "--collateral", "--expect", "--at"}) {
    cmd->add_option(name, (*opts)[name]);
  }
  auto json_flag = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json_flag, "one JSON document on stdout");
  return notImplemented("verify", std::make_shared<std::tuple<decltype(opts), decltype(json_flag)>>(opts, json_flag));
}

}  // namespace igvmkit::cli
