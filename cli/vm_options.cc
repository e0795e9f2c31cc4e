#include "cli/vm_options.h"

#include "igvm/defs.h"

namespace igvmkit::cli {

void addVmOptions(CLI::App& cmd, loader::VmOptions& options, const std::string& cmdline_help) {
  cmd.add_option("--memory", options.memory,
                 "guest memory size: bytes, 0x hex, or K/M/G/T (KiB..TiB); default 512M");
  cmd.add_option("--cpus", options.cpus,
                 "vCPU count, 1.." + std::to_string(igvm::kMaxVcpus) + " (default 1)");
  cmd.add_option("--cmdline", options.cmdline, cmdline_help);
  cmd.add_option("--relocate", options.relocate,
                 "relocatable regions: highest (default) | lowest | keep | BASE | "
                 "REGION_GPA=BASE | page-tables=BASE (repeatable)");
}

}  // namespace igvmkit::cli
