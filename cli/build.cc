#include <filesystem>
#include <iostream>
#include <memory>

#include "base/file.h"
#include "builder/build.h"
#include "builder/manifest.h"
#include "cli/command.h"

namespace igvmkit::cli {
namespace {

struct BuildArgs {
  std::string manifest;
  std::string out;
  std::string measurements;
};

// Outputs are declared (and checked against every input) before the build starts; both are
// replaced only when both were written (cli-contract.md "Outputs").
int runBuild(const BuildArgs& args) {
  Result<std::string> text = readTextFile(args.manifest);
  if (!text.ok()) {
    return fail("", text.error());
  }
  const std::string dir = std::filesystem::path(args.manifest).parent_path().string();
  Result<builder::Manifest> m = builder::parseManifest(*text, args.manifest, dir);
  if (!m.ok()) {
    return fail(args.manifest, m.error());
  }
  OutputFiles outputs;
  std::vector<std::string> inputs = m->inputFiles();
  inputs.insert(inputs.begin(), args.manifest);
  for (const std::string& in : inputs) {
    if (Status s = outputs.addInput(in); !s.ok()) {
      return fail("", s.error());
    }
  }
  Result<OutputFile*> igvm_out = outputs.add(args.out);
  if (!igvm_out.ok()) {
    return fail("", igvm_out.error());
  }
  OutputFile* json_out = nullptr;
  if (!args.measurements.empty()) {
    Result<OutputFile*> added = outputs.add(args.measurements);
    if (!added.ok()) {
      return fail("", added.error());
    }
    json_out = *added;
  }

  Result<builder::BuildOutput> built = builder::build(*m);
  if (!built.ok()) {
    return fail(args.manifest, built.error());
  }
  if (Status s = (*igvm_out)->write(built->igvm); !s.ok()) {
    return fail("", s.error());
  }
  if (json_out != nullptr) {
    Result<measure::ReferenceValues> ref = builder::measureBuilt(*m, built->igvm);
    if (!ref.ok()) {
      return fail(args.out, ref.error());
    }
    nlohmann::ordered_json doc = ref->toJson();
    if (!doc.contains("measurements")) {  // toJson writes one measurement bare
      doc = nlohmann::ordered_json{{"measurements", nlohmann::ordered_json::array({doc})}};
    }
    if (Status s = json_out->write(doc.dump(2) + "\n"); !s.ok()) {
      return fail("", s.error());
    }
  }
  if (Status s = outputs.commit(); !s.ok()) {
    return fail("", s.error());
  }
  return kExitOk;
}

}  // namespace

RunFn addBuild(CLI::App& app) {
  auto* cmd = app.add_subcommand("build", "build an IGVM file from a TOML manifest");
  auto args = std::make_shared<BuildArgs>();
  cmd->add_option("MANIFEST", args->manifest,
                  "TOML manifest (relative paths in it resolve against its directory)")
      ->required();
  cmd->add_option("-o,--output", args->out, "output IGVM file ('-': stdout)")->required();
  cmd->add_option("--measurements", args->measurements,
                  "write the launch measurements of every platform in the file (JSON; '-': "
                  "stdout)");
  return [args] { return runBuild(*args); };
}

}  // namespace igvmkit::cli
