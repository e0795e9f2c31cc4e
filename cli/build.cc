#include <chrono>
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
  auto reuse = std::make_shared<std::string>();
  auto signer_timeout = std::make_shared<double>(60);
  cmd->add_option("MANIFEST", *manifest, "TOML manifest (relative paths in it resolve against its directory)")
      ->required();
  cmd->add_option("-o,--output", *out, "output IGVM file")->required();
  cmd->add_option("--measurements", *measurements,
                  "write the launch measurements of every platform in the file (JSON)");
  cmd->add_option("--reuse-signature", *reuse,
                  "keep OLD.igvm's ID-block signatures when the signed bytes and keys are unchanged");
  cmd->add_option("--signer-timeout", *signer_timeout,
                  "seconds an exec: signer may take before it is killed (default 60)");
  return [manifest, out, measurements, reuse, signer_timeout]() -> int {
    builder::SigningOptions signing;
    if (*signer_timeout <= 0 || *signer_timeout > 86400) {
      return fail("", usage("--signer-timeout takes 0 < SECONDS <= 86400"));
    }
    signing.signer_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(*signer_timeout * 1000));
    if (!reuse->empty()) {
      Result<ByteVector> old = readFile(*reuse);
      if (!old.ok()) {
        return fail(*reuse, old.error());
      }
      signing.reuse_from = std::move(old).value();
    }
    Result<std::string> text = readTextFile(*manifest);
    if (!text.ok()) {
      return fail("", text.error());
    }
    const std::string dir = std::filesystem::path(*manifest).parent_path().string();
    Result<builder::Manifest> m = builder::parseManifest(*text, *manifest, dir);
    if (!m.ok()) {
      return fail(*manifest, m.error());
    }
    Result<builder::BuildOutput> built = builder::build(*m, builder::diskReader(), signing);
    if (!built.ok()) {
      return fail(*manifest, built.error());
    }
    Status written = writeFile(*out, built->igvm);
    if (!written.ok()) {
      return fail("", written.error());
    }
    if (!measurements->empty()) {
      Result<measure::ReferenceValues> ref = builder::measureBuilt(*m, built->igvm);
      if (!ref.ok()) {
        return fail(*out, ref.error());
      }
      nlohmann::ordered_json doc = ref->toJson();
      if (!doc.contains("measurements")) {  // toJson writes one measurement bare
        doc = nlohmann::ordered_json{{"measurements", nlohmann::ordered_json::array({doc})}};
      }
      const std::string text = doc.dump(2) + "\n";
      Status w = writeFile(*measurements, toBytes(text));
      if (!w.ok()) {
        return fail("", w.error());
      }
    }
    return kExitOk;
  };
}

}  // namespace igvmkit::cli
