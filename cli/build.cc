#include <filesystem>
#include <iostream>
#include <memory>

#include "base/file.h"
#include "builder/build.h"
#include "builder/manifest.h"
#include "cli/command.h"

namespace igvmkit::cli {

RunFn addBuild(CLI::App& app) {
  auto* cmd = app.add_subcommand("build", "build an IGVM file from a TOML manifest");
  auto manifest = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto measurements = std::make_shared<std::string>();
  cmd->add_option("MANIFEST", *manifest, "TOML manifest (relative paths in it resolve against its directory)")
      ->required();
  cmd->add_option("-o,--output", *out, "output IGVM file")->required();
  cmd->add_option("--measurements", *measurements,
                  "write the launch measurements of every platform in the file (JSON)");
  return [manifest, out, measurements]() -> int {
    Result<std::string> text = readTextFile(*manifest);
    if (!text.ok()) {
      return fail("", text.error());
    }
    const std::string dir = std::filesystem::path(*manifest).parent_path().string();
    Result<builder::Manifest> m = builder::parseManifest(*text, *manifest, dir);
    if (!m.ok()) {
      return fail(*manifest, m.error());
    }
    Result<builder::BuildOutput> built = builder::build(*m);
    if (!built.ok()) {
      return fail(*manifest, built.error());
    }
    Status written = writeFile(*out, built->igvm);
    if (!written.ok()) {
      return fail("", written.error());
    }
    return kExitOk;
  };
}

}  // namespace igvmkit::cli
