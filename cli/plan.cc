#include <memory>
#include <tuple>

#include "cli/command.h"

namespace igvmkit::cli {

RunFn addPlan(CLI::App& app) {
  auto* cmd = app.add_subcommand("plan", "the launch operations the loader would issue");
  auto path = std::make_shared<std::string>();
  auto backend = std::make_shared<std::string>();
  auto memory = std::make_shared<std::string>();
  auto cpus = std::make_shared<unsigned>(1);
  cmd->add_option("FILE", *path, "IGVM file")->required();
  cmd->add_option("--backend", *backend, "kvm|kvm-snp|kvm-tdx|mshv|mshv-snp")->required();
  cmd->add_option("--memory", *memory, "guest memory size, e.g. 512M");
  cmd->add_option("--cpus", *cpus, "vCPU count");
  auto json_flag = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json_flag, "one JSON document on stdout");
  return notImplemented("plan", std::make_shared<std::tuple<decltype(path), decltype(backend), decltype(memory), decltype(cpus), decltype(json_flag)>>(path, backend, memory, cpus, json_flag));
}

}  // namespace igvmkit::cli
