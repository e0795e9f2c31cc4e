// igvmkit run FILE: parses the flags and calls vmm::launchAndRun() (vmm/launch.h), which plans the
// file, loads it with the loader's kvm (or mshv) backend and runs it with the VMM. The guest's
// COM1 output goes to stdout; the exit status is the guest's (cli-contract.md "run details").
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/file.h"
#include "cli/command.h"
#include "cli/compat.h"
#include "cli/vm_options.h"
#include "igvm/file.h"
#include "vmm/launch.h"
#include "vmm/vmm.h"

namespace igvmkit::cli {
namespace {

struct RunOptions {
  std::string path;
  vmm::LaunchOptions launch;
};

int runFile(const RunOptions& o) {
  Result<vmm::Launch> launch = vmm::parseLaunch(o.launch, vmm::hostDevices());
  if (!launch.ok()) {
    return fail("", launch.error());
  }
  Result<MappedFile> mapped = MappedFile::open(o.path);
  if (!mapped.ok()) {
    return fail("", mapped.error());
  }
  Result<igvm::File> file = parseForUse(o.path, mapped->bytes());  // cli/compat.h
  if (!file.ok()) {
    return fail(o.path, file.error());
  }
  vmm::RunConfig config;
  std::cout.flush();
  config.serial = vmm::serialToFd(STDOUT_FILENO);
  Result<vmm::RunOutcome> outcome =
      vmm::launchAndRun(*file, *launch, config, [](std::string_view w) { warn(std::string(w)); });
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
  addVmOptions(*cmd, o->launch.vm, "guest command line");
  cmd->add_option("--timeout", o->launch.timeout_seconds,
                  "seconds before the run is stopped (status 125)");
  cmd->add_option("--hypervisor", o->launch.hypervisor,
                  "kvm|mshv (default: whichever of /dev/kvm and /dev/mshv exists, kvm if both)");
  cmd->add_option("--platform", o->launch.platform,
                  "native|snp: which of the file's platforms to run (snp: kvm only)");
  cmd->add_flag("--insecure", o->launch.insecure,
                "with --platform snp: run the snp image as a plain, unprotected kvm guest");
  cmd->footer(
      "The guest ends the run with a byte V to port 0xf4 (exit status V); a reset (0xfe to port "
      "0x64) or hlt with interrupts off ends it with 0; a triple fault, an unhandled exit or the "
      "timeout with 125. On mshv, port i/o (not string i/o) is emulated; mmio outside ram ends "
      "the run with 125 (no instruction emulator). See vmm/README.md.");
  return [o] { return runFile(*o); };
}

}  // namespace igvmkit::cli
