// loader/vm_options.h: the VM options `igvmkit plan` and `igvmkit run` share (--memory, --cpus,
// --cmdline, --relocate), parsed into a VmConfig in one place, with one size grammar
// (base/size.h) and one vCPU limit (igvm::kMaxVcpus).
//
//   loader::VmOptions o{.memory = "1GiB", .cpus = 4, .cmdline = "console=ttyS0"};
//   IGVMKIT_ASSIGN_OR_RETURN(loader::VmConfig config, loader::parseVmOptions(o));
//
// Every refusal is a usage error (exit 2): "config.memory" (not a size, not a nonzero multiple of
// 4 KiB, or RAM that would end above the guest physical address width of `backend`'s platform,
// igvm/gpa.h: 2^52 for kvm and mshv, 2^51 below the SNP C-bit / TDX shared bit), "config.vcpus"
// (outside 1..igvm::kMaxVcpus), and the relocation specs' (parseRelocateOption(), relocation.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "loader/plan.h"

namespace igvmkit::loader {

struct VmOptions {
  std::string memory;                 // base/size.h grammar; empty = VmConfig's default (512M)
  uint64_t cpus = 1;                  // 1..igvm::kMaxVcpus
  std::string cmdline;                // the COMMAND_LINE parameter's value
  std::vector<std::string> relocate;  // --relocate specs, in order
};

// `backend` bounds --memory only; `igvmkit run` runs kvm or mshv (52 bits).
Result<VmConfig> parseVmOptions(const VmOptions& options, BackendKind backend = BackendKind::kKvm);

}  // namespace igvmkit::loader
