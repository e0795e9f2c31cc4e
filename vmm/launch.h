// vmm/launch.h: `igvmkit run` as a library call. It owns what a caller should not have to know:
// which hypervisor runs the guest, what `--insecure` does to an SNP image, and where the boot
// vCPU's state goes (the VMM sets it on KVM, the loader's backend on MSHV).
//
//   loader::VmOptions vm{.memory = "64M", .cpus = 2};
//   IGVMKIT_ASSIGN_OR_RETURN(vmm::Launch launch,
//                            vmm::parseLaunch({.vm = vm, .hypervisor = "kvm"}, vmm::hostDevices()));
//   IGVMKIT_ASSIGN_OR_RETURN(vmm::RunOutcome outcome, vmm::launchAndRun(file, launch, config));
//
// Data flow: igvm::File --loader::plan()--> Plan --[insecure: stripSnp]--> takeBspState (KVM)
//            --> loader backend (hv::Device) --> vmm::run / vmm::runMshv --> RunOutcome.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "igvm/file.h"
#include "loader/plan.h"
#include "loader/vm_options.h"
#include "vmm/vmm.h"

namespace igvmkit::vmm {

// `igvmkit run`'s options as the user gave them.
struct LaunchOptions {
  loader::VmOptions vm;
  std::string hypervisor;           // "kvm", "mshv", or "" for whichever device is present
  std::string platform = "native";  // "native" or "snp" (snp: plain kvm, needs insecure)
  bool insecure = false;
  double timeout_seconds = 0;  // 0 = no limit
};

// Which hypervisor devices this host offers (hostDevices() looks at /dev/kvm and /dev/mshv).
struct HostDevices {
  bool kvm = false;
  bool mshv = false;
};
HostDevices hostDevices();

// A checked request.
struct Launch {
  Hypervisor hypervisor = Hypervisor::kKvm;
  bool insecure_snp = false;  // run the file's SEV_SNP platform as an unprotected kvm guest
  loader::VmConfig vm;
  std::chrono::milliseconds timeout{0};
};

// Checks the options alone, before any file is read. Usage errors (exit 2): "run.hypervisor",
// "run.no_mshv", "run.platform", "run.insecure_required", "run.timeout", and
// loader::parseVmOptions()'s; "run.no_hypervisor" (kUnsupported) when neither device exists.
Result<Launch> parseLaunch(const LaunchOptions& options, const HostDevices& host);

// Plans `file` for the launch, loads it through the loader's kvm or mshv backend on
// `config.device` (nullptr = the real devices) and runs it to its end with the VMM. `warn`
// receives the one-line warning an insecure launch deserves. config.timeout is the launch's.
// Errors concern the file (plan refusals, "run.snp_vmsa", "run.no_vp_context") or the host.
Result<RunOutcome> launchAndRun(const igvm::File& file, const Launch& launch, RunConfig config,
                                const std::function<void(std::string_view)>& warn = {});

// An SNP plan (its SetVpState ops already taken by takeBspState) made runnable on plain KVM:
// ordinary memory, every page an ordinary page, no ID block. Nothing of SNP's protection remains.
void stripSnp(loader::Plan& plan);

}  // namespace igvmkit::vmm
