#include "loader/vm_options.h"

#include "base/size.h"
#include "igvm/defs.h"
#include "loader/relocation.h"

namespace igvmkit::loader {

Result<VmConfig> parseVmOptions(const VmOptions& options) {
  VmConfig config;
  if (!options.memory.empty()) {
    Result<uint64_t> size = parseSize(options.memory);
    if (!size.ok()) {
      return Error{Code::kUsage, "config.memory", "--memory: " + size.error().message,
                   std::nullopt};
    }
    if (*size == 0 || *size % igvm::kPageSize4K != 0) {
      return Error{Code::kUsage, "config.memory",
                   "--memory " + options.memory + " is not a nonzero multiple of 4 KiB",
                   std::nullopt};
    }
    config.memory_size = *size;
  }
  if (options.cpus < 1 || options.cpus > igvm::kMaxVcpus) {
    return Error{Code::kUsage, "config.vcpus",
                 "--cpus must be between 1 and " + std::to_string(igvm::kMaxVcpus) + ", not " +
                     std::to_string(options.cpus),
                 std::nullopt};
  }
  config.vcpus = static_cast<uint32_t>(options.cpus);
  config.cmdline = options.cmdline;
  for (const std::string& spec : options.relocate) {
    IGVMKIT_RETURN_IF_ERROR(parseRelocateOption(spec, config));
  }
  return config;
}

}  // namespace igvmkit::loader
