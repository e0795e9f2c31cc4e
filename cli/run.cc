#include <memory>
#include <tuple>

#include "cli/command.h"

namespace igvmkit::cli {

RunFn addRun(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "load an IGVM file and run the guest on KVM or MSHV");
  auto path = std::make_shared<std::string>();
  auto memory = std::make_shared<std::string>();
  auto cpus = std::make_shared<unsigned>(1);
  auto cmdline = std::make_shared<std::string>();
  auto timeout = std::make_shared<double>(0);
  auto hypervisor = std::make_shared<std::string>();
  cmd->add_option("FILE", *path, "IGVM file")->required();
  cmd->add_option("--memory", *memory, "guest memory size, e.g. 512M");
  cmd->add_option("--cpus", *cpus, "vCPU count");
  cmd->add_option("--cmdline", *cmdline, "guest command line");
  cmd->add_option("--timeout", *timeout, "seconds before the run is stopped (status 125)");
  cmd->add_option("--hypervisor", *hypervisor, "kvm|mshv");
  return notImplemented("run", std::make_shared<std::tuple<decltype(path), decltype(memory), decltype(cpus), decltype(cmdline), decltype(timeout), decltype(hypervisor)>>(path, memory, cpus, cmdline, timeout, hypervisor));
}

}  // namespace igvmkit::cli
