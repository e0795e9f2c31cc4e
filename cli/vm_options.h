// cli/vm_options.h: the VM flags `plan` and `run` share, bound to a loader::VmOptions that
// loader::parseVmOptions() checks (one size grammar, one vCPU limit).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "loader/vm_options.h"

namespace igvmkit::cli {

// Adds --memory, --cpus, --cmdline and --relocate to `cmd`.
void addVmOptions(CLI::App& cmd, loader::VmOptions& options, const std::string& cmdline_help);

}  // namespace igvmkit::cli
