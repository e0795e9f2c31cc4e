// The VMM's public entry points: the device choice, the serial sinks, the hypervisor choice and
// the BSP state a plan carries. The KVM machine is vmm/internal/kvm_machine.cc, the MSHV one
// vmm/internal/mshv_vcpu.cc; both run on RunLoop (vmm/internal/run_loop.cc).
#include "vmm/vmm.h"

#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <ostream>

#include "vmm/internal/kvm_machine.h"

namespace igvmkit::vmm {

bool hostEmulatesGuestKernel() { return ::access("/sys/module/kvm_pvm", F_OK) == 0; }

SerialSink serialToFd(int fd) {
  return [fd](std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return;  // the reader went away: drop the output, the run goes on
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  };
}

SerialSink serialToStream(std::ostream& out) {
  return [&out](std::string_view bytes) {
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
  };
}

SerialSink serialToString(std::string& out) {
  return [&out](std::string_view bytes) { out.append(bytes); };
}

Result<RunOutcome> run(const loader::LoadedVm& vm, const x86::VpState& bsp,
                       const RunConfig& config) {
  std::unique_ptr<hv::Device> real;
  hv::Device& sys = config.device != nullptr ? *config.device : *(real = hv::systemDevice());
  return runKvm(sys, vm, bsp, config);
}

Result<Hypervisor> chooseHypervisor(std::string_view name, bool kvm_present, bool mshv_present) {
  if (name == "kvm") {
    return Hypervisor::kKvm;
  }
  if (name == "mshv") {
    if (!mshv_present) {
      return Error{Code::kUsage, "run.no_mshv",
                   "--hypervisor mshv needs /dev/mshv, which is absent or not accessible on this "
                   "host",
                   std::nullopt};
    }
    return Hypervisor::kMshv;
  }
  if (!name.empty()) {
    return Error{Code::kUsage, "run.hypervisor",
                 "--hypervisor must be kvm or mshv, not '" + std::string(name) + "'",
                 std::nullopt};
  }
  if (kvm_present) {
    return Hypervisor::kKvm;
  }
  if (mshv_present) {
    return Hypervisor::kMshv;
  }
  return Error{Code::kUnsupported, "run.no_hypervisor",
               "neither /dev/kvm nor /dev/mshv is present: igvmkit run needs kvm or the microsoft "
               "hypervisor (mshv)",
               std::nullopt};
}

Result<x86::VpState> takeBspState(loader::Plan& plan, bool allow_vmsa) {
  std::optional<x86::VpState> bsp;
  std::vector<loader::LaunchOp> kept;
  kept.reserve(plan.ops.size());
  for (loader::LaunchOp& op : plan.ops) {
    const auto* s = std::get_if<loader::SetVpState>(&op);
    if (s == nullptr) {
      kept.push_back(std::move(op));
      continue;
    }
    if (s->vp_index != 0) {
      continue;  // APs start by INIT/SIPI from the guest
    }
    if (const auto* regs = std::get_if<x86::VpState>(&s->state)) {
      bsp = *regs;
      continue;
    }
    const auto& vmsa = std::get<loader::SnpVmsa>(s->state);
    if (!allow_vmsa) {
      return Error{Code::kUnsupported, "run.snp_vmsa",
                   "vcpu 0 starts from an snp vmsa; plain kvm can run it only with --insecure",
                   std::nullopt};
    }
    IGVMKIT_ASSIGN_OR_RETURN(x86::VpState regs,
                             loader::registersFromVmsa(vmsa.page, plan.setup.sev_features));
    // What --insecure has always loaded from a VMSA, kept exactly: a PAT of 0 meant "not given"
    // (the loader's old register type used 0 for that) and keeps the reset PAT; the FPU control
    // words stay at their reset values. XCR0 cannot be 0 here (decodeKvmVmsa refuses it).
    const x86::VpState reset;
    if (regs.pat == 0) {
      regs.pat = reset.pat;
    }
    regs.mxcsr = reset.mxcsr;
    regs.fcw = reset.fcw;
    bsp = std::move(regs);
  }
  plan.ops = std::move(kept);
  if (!bsp) {
    return Error{Code::kInvalidInput, "run.no_vp_context", "the file sets no state for vcpu 0",
                 std::nullopt};
  }
  return *bsp;
}

}  // namespace igvmkit::vmm
