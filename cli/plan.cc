#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/file.h"
#include "cli/command.h"
#include "cli/compat.h"
#include "igvm/file.h"
#include "loader/plan.h"
#include "loader/relocation.h"

namespace igvmkit::cli {

RunFn addPlan(CLI::App& app) {
  auto* cmd = app.add_subcommand("plan", "the launch operations the loader would issue");
  struct Options {
    std::string path;
    std::string backend;
    std::string memory;
    unsigned cpus = 1;
    std::string cmdline;
    std::vector<std::string> relocate;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("FILE", o->path, "IGVM file")->required();
  cmd->add_option("--backend", o->backend, "kvm|kvm-snp|kvm-tdx|mshv|mshv-snp")->required();
  cmd->add_option("--memory", o->memory, "guest memory size, e.g. 512M (default 512M)");
  cmd->add_option("--cpus", o->cpus, "vCPU count (default 1)");
  cmd->add_option("--cmdline", o->cmdline, "the COMMAND_LINE parameter's value");
  cmd->add_option("--relocate", o->relocate,
                  "relocatable regions: highest (default) | lowest | keep | BASE | "
                  "REGION_GPA=BASE | page-tables=BASE (repeatable)");
  cmd->add_flag("--json", o->json, "one JSON document on stdout");
  return [o] {
    Result<loader::BackendKind> backend = loader::parseBackend(o->backend);
    if (!backend.ok()) {
      return fail("", backend.error());
    }
    loader::VmConfig config;
    if (!o->memory.empty()) {
      Result<uint64_t> size = loader::parseMemorySize(o->memory);
      if (!size.ok()) {
        return fail("", size.error());
      }
      config.memory_size = *size;
    }
    config.vcpus = o->cpus;
    config.cmdline = o->cmdline;
    for (const std::string& r : o->relocate) {
      if (Status s = loader::parseRelocateOption(r, config); !s.ok()) {
        return fail("", s.error());
      }
    }
    Result<MappedFile> mapped = MappedFile::open(o->path);
    if (!mapped.ok()) {
      return fail("", mapped.error());
    }
    Result<igvm::File> file = parseForUse(o->path, mapped->bytes());  // cli/compat.h
    if (!file.ok()) {
      return fail(o->path, file.error());
    }
    Result<loader::Plan> plan = loader::plan(*file, *backend, config);
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
