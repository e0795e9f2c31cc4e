// igvmkit run FILE: plan the file for plain KVM (or MSHV), let the loader's kvm (or mshv) backend
// create and load the VM, and run it with the VMM (vmm/vmm.h). The guest's COM1 output goes to
// stdout; the exit status is the guest's (cli-contract.md "run details").
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>
#include <tuple>
#include <variant>

#include "base/bytes.h"
#include "base/file.h"
#include "cli/command.h"
#include "cli/compat.h"
#include "igvm/file.h"
#include "loader/backend.h"
#include "hv/device.h"
#include "loader/plan.h"
#include "loader/relocation.h"
#include "vmm/vmm.h"

namespace igvmkit::cli {
namespace {

struct RunOptions {
  std::string path;
  std::string memory;
  unsigned cpus = 1;
  std::string cmdline;
  std::vector<std::string> relocate;
  double timeout = 0;
  std::string hypervisor;  // "" = whichever of /dev/kvm and /dev/mshv exists
  std::string platform = "native";
  bool insecure = false;
};

Error usageError(std::string rule, std::string message) {
  return Error{Code::kUsage, std::move(rule), std::move(message), std::nullopt};
}

// An SNP plan made runnable on plain KVM: the memory is ordinary, every page an ordinary page, and
// the launch has no ID block. Nothing of SNP's protection remains.
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

int runFile(const RunOptions& o) {
  Result<vmm::Hypervisor> hypervisor = vmm::chooseHypervisor(
      o.hypervisor, ::access("/dev/kvm", F_OK) == 0, ::access("/dev/mshv", R_OK | W_OK) == 0);
  if (!hypervisor.ok()) {
    return fail("", hypervisor.error());
  }
  const bool mshv = *hypervisor == vmm::Hypervisor::kMshv;
  if (o.platform != "native" && o.platform != "snp") {
    return fail("", usageError("run.platform",
                               "--platform must be native or snp (tdx guests cannot run "
                               "without a tdx host), not '" + o.platform + "'"));
  }
  if (o.platform == "snp" && !o.insecure) {
    return fail("", usageError("run.insecure_required",
                               "running an snp image on plain kvm drops all of snp's "
                               "protection; pass --insecure to do it anyway"));
  }
  if (mshv && o.platform != "native") {
    return fail("", usageError("run.platform",
                               "--hypervisor mshv runs the file's native platform only (the "
                               "--insecure snp path is kvm's)"));
  }
  if (!std::isfinite(o.timeout) || o.timeout < 0) {
    return fail("", usageError("run.timeout", "--timeout must be a number of seconds >= 0"));
  }
  loader::VmConfig config;
  if (!o.memory.empty()) {
    Result<uint64_t> size = loader::parseMemorySize(o.memory);
    if (!size.ok()) {
      return fail("", size.error());
    }
    config.memory_size = *size;
  }
  if (o.cpus < 1 || o.cpus > vmm::kMaxVcpus) {
    return fail("", usageError("run.cpus", "--cpus must be between 1 and " +
                                               std::to_string(vmm::kMaxVcpus)));
  }
  config.vcpus = o.cpus;
  config.cmdline = o.cmdline;
  for (const std::string& r : o.relocate) {
    if (Status s = loader::parseRelocateOption(r, config); !s.ok()) {
      return fail("", s.error());
    }
  }

  Result<MappedFile> mapped = MappedFile::open(o.path);
  if (!mapped.ok()) {
    return fail("", mapped.error());
  }
  Result<igvm::File> file = parseForUse(o.path, mapped->bytes());  // cli/compat.h
  if (!file.ok()) {
    return fail(o.path, file.error());
  }
  const bool snp = o.platform == "snp";
  const loader::BackendKind kind = mshv  ? loader::BackendKind::kMshv
                                   : snp ? loader::BackendKind::kKvmSnp
                                         : loader::BackendKind::kKvm;
  Result<loader::Plan> plan = loader::plan(*file, kind, config);
  if (!plan.ok()) {
    return fail(o.path, plan.error());
  }
  // On KVM the VMM sets vCPU 0's registers; on MSHV the loader's backend does (SetVpState stays).
  Result<vmm::VpState> bsp = vmm::VpState{};
  if (!mshv) {
    bsp = vmm::takeBspState(*plan, snp);
    if (!bsp.ok()) {
      return fail(o.path, bsp.error());
    }
  }
  if (snp) {
    warn("--insecure: running the snp image on plain kvm: the vmsa becomes ordinary registers, "
         "memory is not encrypted, nothing is measured and the guest has no protection");
    stripSnp(*plan);
  }
  std::unique_ptr<hv::Device> device = hv::systemDevice();
  std::unique_ptr<loader::Backend> backend =
      loader::makeBackend(mshv ? loader::BackendKind::kMshv : loader::BackendKind::kKvm, *device);
  if (Status s = loader::launch(*backend, *plan); !s.ok()) {
    return fail(o.path, s.error());
  }
  vmm::RunConfig run_config;
  run_config.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::llround(o.timeout * 1000)));
  std::cout.flush();
  run_config.serial = vmm::serialToFd(STDOUT_FILENO);
  run_config.device = device.get();  // the fds belong to the device the backend used
  Result<vmm::RunOutcome> outcome = mshv ? vmm::runMshv(backend->vm(), run_config)
                                         : vmm::run(backend->vm(), *bsp, run_config);
  if (!outcome.ok()) {
    return fail(o.path, outcome.error());
  }
  if (outcome->exit_status == vmm::kFailureStatus) {
    // Causes such as "triple fault on vcpu 0 at rip 0x100000" already say where.
    std::string where = outcome->cause.find(" at rip ") != std::string::npos
                            ? ""
                            : " on vcpu " + std::to_string(outcome->vcpu) + " at rip " +
                                  hex(outcome->rip);
    std::fprintf(stderr, "error: %s: %s%s\n", o.path.c_str(), outcome->cause.c_str(),
                 where.c_str());
  }
  return outcome->exit_status;
}

}  // namespace

RunFn addRun(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "load an IGVM file and run the guest on KVM or MSHV");
  auto o = std::make_shared<RunOptions>();
  cmd->add_option("FILE", o->path, "IGVM file")->required();
  cmd->add_option("--memory", o->memory, "guest memory size, e.g. 512M (default 512M)");
  cmd->add_option("--cpus", o->cpus, "vCPU count (default 1)");
  cmd->add_option("--cmdline", o->cmdline, "guest command line");
  cmd->add_option("--relocate", o->relocate,
                  "relocatable regions: highest (default) | lowest | keep | BASE | "
                  "REGION_GPA=BASE | page-tables=BASE (repeatable)");
  cmd->add_option("--timeout", o->timeout, "seconds before the run is stopped (status 125)");
  cmd->add_option("--hypervisor", o->hypervisor,
                  "kvm|mshv (default: whichever of /dev/kvm and /dev/mshv exists, kvm if both)");
  cmd->add_option("--platform", o->platform,
                  "native|snp: which of the file's platforms to run (snp: kvm only)");
  cmd->add_flag("--insecure", o->insecure,
                "with --platform snp: run the snp image as a plain, unprotected kvm guest");
  cmd->footer(
      "The guest ends the run with a byte V to port 0xf4 (exit status V); a reset (0xfe to port "
      "0x64) or hlt with interrupts off ends it with 0; a triple fault, an unhandled exit or the "
      "timeout with 125. On mshv, port i/o (not string i/o) is emulated; mmio outside ram ends "
      "the run with 125 (no instruction emulator). See vmm/README.md.");
  return [o] { return runFile(*o); };
}

}  // namespace igvmkit::cli
