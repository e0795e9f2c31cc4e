// igvmkit run FILE: parses the flags and calls vmm::launchAndRun() (vmm/launch.h), which plans the
// file, loads it with the loader's kvm (or mshv) backend and runs it with the VMM. The guest's
// COM1 output goes to stdout (to stderr with --json, whose document is then stdout's only
// content); the exit status is the guest's (cli-contract.md "run details").
#include <unistd.h>

#include <chrono>
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
  bool json = false;
};

// `run --json`'s document (cli/README.md "JSON documents").
nlohmann::ordered_json outcomeJson(const RunOptions& o, const vmm::Launch& launch,
                                   const vmm::RunOutcome& outcome, double seconds) {
  nlohmann::ordered_json doc;
  doc["file"] = o.path;
  doc["hypervisor"] = launch.hypervisor == vmm::Hypervisor::kKvm ? "kvm" : "mshv";
  doc["platform"] = o.launch.platform;
  doc["vcpus"] = launch.vm.vcpus;
  doc["memory_size"] = launch.vm.memory_size;
  doc["exit_status"] = outcome.exit_status;
  doc["cause"] = outcome.cause;
  doc["vcpu"] = outcome.vcpu;
  doc["rip"] = outcome.rip;
  doc["stats"] = {{"unhandled_pio", outcome.stats.unhandled_pio},
                  {"unmapped_mmio", outcome.stats.unmapped_mmio},
                  {"wrong_width", outcome.stats.wrong_width},
                  {"serial_bytes", outcome.stats.serial_bytes}};
  doc["seconds"] = seconds;
  return doc;
}

// An error before or instead of a run: the one-line error on stderr as always and, with --json,
// {"file", "error"} on stdout.
int failRun(const RunOptions& o, const std::string& path, const Error& error) {
  if (o.json) {
    printJson({{"file", o.path}, {"error", errorJson(error)}});
  }
  return fail(path, error);
}

int runFile(const RunOptions& o) {
  Result<vmm::Launch> launch = vmm::parseLaunch(o.launch, vmm::hostDevices());
  if (!launch.ok()) {
    return failRun(o, "", launch.error());
  }
  Result<MappedFile> mapped = MappedFile::open(o.path);
  if (!mapped.ok()) {
    return failRun(o, "", mapped.error());
  }
  Result<igvm::File> file = parseForUse(o.path, mapped->bytes());  // cli/compat.h
  if (!file.ok()) {
    return failRun(o, o.path, file.error());
  }
  vmm::RunConfig config;
  std::cout.flush();
  config.serial = vmm::serialToFd(o.json ? STDERR_FILENO : STDOUT_FILENO);
  const auto start = std::chrono::steady_clock::now();
  Result<vmm::RunOutcome> outcome =
      vmm::launchAndRun(*file, *launch, config, [](std::string_view w) { warn(std::string(w)); });
  if (!outcome.ok()) {
    return failRun(o, o.path, outcome.error());
  }
  if (o.json) {
    printJson(outcomeJson(
        o, *launch, *outcome,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()));
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
  cmd->add_flag("--json", o->json,
                "print how the run ended as JSON on stdout (the guest's console goes to stderr)");
  cmd->footer(
      "The guest ends the run with a byte V to port 0xf4 (exit status V); a reset (0xfe to port "
      "0x64) or hlt with interrupts off ends it with 0; a triple fault, an unhandled exit or the "
      "timeout with 125. On mshv, port i/o (not string i/o) is emulated; mmio outside ram ends "
      "the run with 125 (no instruction emulator). See vmm/README.md.");
  return [o] { return runFile(*o); };
}

}  // namespace igvmkit::cli
