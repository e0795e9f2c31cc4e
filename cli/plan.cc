// igvmkit plan FILE --backend NAME: parses the flags, then prints loader::plan()'s launch plan.
#include <iostream>
#include <memory>
#include <string>

#include "base/file.h"
#include "cli/command.h"
#include "cli/compat.h"
#include "cli/vm_options.h"
#include "diagnose/diagnose.h"
#include "igvm/file.h"
#include "loader/plan.h"
#include "loader/vm_options.h"

namespace igvmkit::cli {

RunFn addPlan(CLI::App& app) {
  auto* cmd = app.add_subcommand("plan", "the launch operations the loader would issue");
  struct Options {
    std::string path;
    std::string backend;
    loader::VmOptions vm;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("FILE", o->path, "IGVM file")->required();
  cmd->add_option("--backend", o->backend, "kvm|kvm-snp|kvm-tdx|mshv|mshv-snp")->required();
  addVmOptions(*cmd, o->vm, "the COMMAND_LINE parameter's value");
  cmd->add_flag("--json", o->json, "one JSON document on stdout");
  return [o] {
    Result<loader::BackendKind> backend = loader::parseBackend(o->backend);
    if (!backend.ok()) {
      return fail("", backend.error());
    }
    Result<loader::VmConfig> config = loader::parseVmOptions(o->vm, *backend);
    if (!config.ok()) {
      return fail("", config.error());
    }
    Result<MappedFile> mapped = MappedFile::open(o->path);
    if (!mapped.ok()) {
      return fail("", mapped.error());
    }
    Result<igvm::File> file = parseForUse(o->path, mapped->bytes());  // cli/compat.h
    if (!file.ok()) {
      return fail(o->path, file.error());
    }
    // An SNP ID block signed for another launch plans cleanly; the firmware refuses it later.
    if (*backend == loader::BackendKind::kKvmSnp || *backend == loader::BackendKind::kMshvSnp) {
      const bool kvm = *backend == loader::BackendKind::kKvmSnp;
      Result<std::optional<std::string>> issue = diagnose::idBlockLaunchIssue(
          *file, measure::MeasureOptions{
                     .host = kvm ? measure::HostModel::kKvm : measure::HostModel::kMshv,
                     .vcpus = config->vcpus});
      if (issue.ok() && issue->has_value()) {
        warn(o->path + ": " + **issue);
      }
    }
    Result<loader::Plan> plan = loader::plan(*file, *backend, *config);
    if (!plan.ok()) {
      return fail(o->path, plan.error());
    }
    if (o->json) {
      printJson(loader::renderJson(*plan));
    } else {
      std::cout << loader::renderText(*plan);
    }
    return kExitOk;
  };
}

}  // namespace igvmkit::cli
