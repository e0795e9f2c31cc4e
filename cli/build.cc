#include <memory>
#include <tuple>

#include "cli/command.h"

namespace igvmkit::cli {

RunFn addBuild(CLI::App& app) {
  auto* cmd = app.add_subcommand("build", "build an IGVM file from a TOML manifest");
  auto manifest = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto measurements = std::make_shared<std::string>();
  cmd->add_option("MANIFEST", *manifest, "TOML manifest")->required();
  cmd->add_option("-o,--output", *out, "output IGVM file")->required();
  cmd->add_option("--measurements", *measurements, "write reference measurements (JSON)");
  return notImplemented("build", std::make_shared<std::tuple<decltype(manifest), decltype(out), decltype(measurements)>>(manifest, out, measurements));
}

}  // namespace igvmkit::cli
