#include "vmm/launch.h"

#include <unistd.h>

#include <cmath>
#include <memory>
#include <utility>
#include <variant>

#include "hv/device.h"
#include "loader/backend.h"

namespace igvmkit::vmm {
namespace {

Error usageError(std::string rule, std::string message) {
  return Error{Code::kUsage, std::move(rule), std::move(message), std::nullopt};
}

}  // namespace

HostDevices hostDevices() {
  return HostDevices{.kvm = ::access("/dev/kvm", F_OK) == 0,
                     .mshv = ::access("/dev/mshv", R_OK | W_OK) == 0};
}

Result<Launch> parseLaunch(const LaunchOptions& o, const HostDevices& host) {
  IGVMKIT_ASSIGN_OR_RETURN(Hypervisor hypervisor,
                           chooseHypervisor(o.hypervisor, host.kvm, host.mshv));
  if (o.platform != "native" && o.platform != "snp") {
    return usageError("run.platform",
                      "--platform must be native or snp (tdx guests cannot run without a tdx "
                      "host), not '" + o.platform + "'");
  }
  if (o.platform == "snp" && !o.insecure) {
    return usageError("run.insecure_required",
                      "running an snp image on plain kvm drops all of snp's protection; pass "
                      "--insecure to do it anyway");
  }
  if (hypervisor == Hypervisor::kMshv && o.platform != "native") {
    return usageError("run.platform",
                      "--hypervisor mshv runs the file's native platform only (the --insecure "
                      "snp path is kvm's)");
  }
  if (!std::isfinite(o.timeout_seconds) || o.timeout_seconds < 0 ||
      o.timeout_seconds > 1e9) {
    return usageError("run.timeout", "--timeout must be a number of seconds >= 0");
  }
  Launch launch;
  launch.hypervisor = hypervisor;
  launch.insecure_snp = o.platform == "snp";
  IGVMKIT_ASSIGN_OR_RETURN(launch.vm, loader::parseVmOptions(o.vm));
  launch.timeout =
      std::chrono::milliseconds(static_cast<int64_t>(std::llround(o.timeout_seconds * 1000)));
  return launch;
}

void stripSnp(loader::Plan& plan) {
  plan.backend = loader::BackendKind::kKvm;
  for (loader::LaunchOp& op : plan.ops) {
    if (auto* m = std::get_if<loader::MapMemory>(&op)) {
      m->is_private = false;
    } else if (auto* p = std::get_if<loader::ImportPages>(&op)) {
      p->type = loader::PageType::kNormal;
      p->flags = 0;
    } else if (auto* f = std::get_if<loader::Finalize>(&op)) {
      *f = loader::Finalize{};
    }
  }
}

Result<RunOutcome> launchAndRun(const igvm::File& file, const Launch& launch, RunConfig config,
                                const std::function<void(std::string_view)>& warn) {
  const bool mshv = launch.hypervisor == Hypervisor::kMshv;
  const loader::BackendKind kind = mshv                 ? loader::BackendKind::kMshv
                                   : launch.insecure_snp ? loader::BackendKind::kKvmSnp
                                                         : loader::BackendKind::kKvm;
  IGVMKIT_ASSIGN_OR_RETURN(loader::Plan plan, loader::plan(file, kind, launch.vm));
  // On KVM the VMM sets vCPU 0's registers; on MSHV the loader's backend does (SetVpState stays).
  x86::VpState bsp;
  if (!mshv) {
    IGVMKIT_ASSIGN_OR_RETURN(bsp, takeBspState(plan, launch.insecure_snp));
  }
  if (launch.insecure_snp) {
    if (warn) {
      warn("--insecure: running the snp image on plain kvm: the vmsa becomes ordinary registers, "
           "memory is not encrypted, nothing is measured and the guest has no protection");
    }
    stripSnp(plan);
  }
  std::unique_ptr<hv::Device> owned;
  hv::Device& device = config.device != nullptr ? *config.device : *(owned = hv::systemDevice());
  config.device = &device;  // the fds belong to the device the backend used
  config.timeout = launch.timeout;
  std::unique_ptr<loader::Backend> backend =
      loader::makeBackend(mshv ? loader::BackendKind::kMshv : loader::BackendKind::kKvm, device);
  IGVMKIT_RETURN_IF_ERROR(loader::launch(*backend, plan));
  return mshv ? runMshv(backend->vm(), config) : run(backend->vm(), bsp, config);
}

}  // namespace igvmkit::vmm
