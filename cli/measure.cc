#include <memory>
#include <tuple>

#include "cli/command.h"

namespace igvmkit::cli {

RunFn addMeasure(CLI::App& app) {
  auto* cmd = app.add_subcommand("measure", "the launch measurement the hardware will report");
  auto path = std::make_shared<std::string>();
  auto platform = std::make_shared<std::string>();
  auto host = std::make_shared<std::string>("kvm");
  auto vcpus = std::make_shared<std::string>("1");
  cmd->add_option("FILE", *path, "IGVM file")->required();
  cmd->add_option("--platform", *platform, "snp|tdx|vbs|sev|sev-es")->required();
  cmd->add_option("--host", *host, "kvm|mshv (SNP host model)");
  cmd->add_option("--vcpus", *vcpus, "vCPU count, or a range such as 1-8");
  auto json_flag = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json_flag, "one JSON document on stdout");
  auto trace_flag = std::make_shared<bool>(false);
  cmd->add_flag("--trace", *trace_flag, "one line per measured operation");
  return notImplemented("measure", std::make_shared<std::tuple<decltype(path), decltype(platform), decltype(host), decltype(vcpus), decltype(json_flag), decltype(trace_flag)>>(path, platform, host, vcpus, json_flag, trace_flag));
}

}  // namespace igvmkit::cli
