// igvmkit: one binary, git-style subcommands (shared cli-contract.md).
#include <iostream>
#include <map>

#include "cli/command.h"

namespace igvmkit::cli {
namespace {

constexpr const char* kVersion = "igvmkit 0.1.0";

int runMain(int argc, char** argv) {
  // The name usage lines print: "igvmkit", not argv[0] (a Bazel or install path).
  CLI::App app("igvmkit: build, measure, load, run and attest IGVM confidential guests",
               "igvmkit");
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "error: " + std::string(e.what()) + "\n";
  });

  std::map<std::string, RunFn> commands;
  auto add = [&](RunFn (*adder)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    RunFn fn = adder(app);
    commands[app.get_subcommands({}).at(before)->get_name()] = std::move(fn);
  };
  add(addDump);
  add(addCheck);
  add(addBuild);
  add(addMeasure);
  add(addSign);
  add(addVerify);
  add(addPlan);
  add(addRun);
  add(addDiagnose);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  for (CLI::App* sub : app.get_subcommands()) {
    return finish(commands.at(sub->get_name())());
  }
  return kExitUsage;  // unreachable: require_subcommand(1)
}

}  // namespace
}  // namespace igvmkit::cli

int main(int argc, char** argv) {
  try {
    return igvmkit::cli::runMain(argc, argv);
  } catch (const std::exception& e) {
    // Libraries return errors; reaching here is a bug, but it still ends in one line.
    std::cerr << "error: internal: " << e.what() << '\n';
    return igvmkit::cli::kExitBad;
  }
}
