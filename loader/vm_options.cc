#include "loader/vm_options.h"

#include "base/size.h"
#include "igvm/defs.h"
#include "igvm/gpa.h"
#include "loader/relocation.h"

namespace igvmkit::loader {

Result<VmConfig> parseVmOptions(const VmOptions& options, BackendKind backend) {
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
    // RAM is laid out from GPA 0 around the MMIO gaps; its end must lie inside the guest's
    // physical address space (igvm/gpa.h), or no map of it could be made.
    const igvm::GpaWidth width = igvm::gpaWidth(platformFor(backend));
    Result<std::vector<GpaRange>> ram = config.ramLayout();
    if (!ram.ok() || ram->back().end() > (uint64_t{1} << width.bits)) {
      return Error{Code::kUsage, "config.memory",
                   "--memory " + options.memory + " does not fit the " +
                       std::to_string(width.bits) + "-bit guest physical address space of " +
                       std::string(backendName(backend)) + " guests (" + std::string(width.reason) +
                       ")",
                   std::nullopt};
    }
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
