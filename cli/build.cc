#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "base/file.h"
#include "base/progress.h"
#include "builder/build.h"
#include "builder/manifest.h"
#include "cli/command.h"
#include "cli/corim_flags.h"
#include "igvm/file.h"

namespace igvmkit::cli {
namespace {

struct BuildArgs {
  std::string manifest;
  std::string out;
  std::string measurements;
  std::string reuse;
  double signer_timeout = 60;
  CorimFlags corim;
  bool embed_corim = false;
};

// Outputs are declared (and checked against every input) before the build starts; all of them
// are replaced only when all were written (cli-contract.md "Outputs").
int runBuild(const BuildArgs& args) {
  builder::SigningOptions signing;
  if (args.signer_timeout <= 0 || args.signer_timeout > 86400) {
    return fail("", usage("--signer-timeout takes 0 < SECONDS <= 86400"));
  }
  signing.signer_timeout = std::chrono::milliseconds(static_cast<int64_t>(args.signer_timeout * 1000));
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
  if (!args.reuse.empty()) {
    inputs.push_back(args.reuse);
  }
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
  OutputFile* corim_out = nullptr;
  if (!args.corim.out.empty()) {
    Result<OutputFile*> added = outputs.add(args.corim.out);
    if (!added.ok()) {
      return fail("", added.error());
    }
    corim_out = *added;
  }
  if (!args.reuse.empty()) {
    Result<ByteVector> old = readFile(args.reuse);
    if (!old.ok()) {
      return fail(args.reuse, old.error());
    }
    signing.reuse_from = std::move(old).value();
  }

  // Into a regular file the build streams: pages flow from the inputs to the output and the
  // measurements in one pass (builder::buildTo). An ID block is signed over the finished file, a
  // CoRIM embedded into it, and stdout cannot be patched: those build in memory.
  const bool want_reference = json_out != nullptr || corim_out != nullptr || args.embed_corim;
  const bool streaming =
      (*igvm_out)->seekable() && !(m->snp && m->snp->id_block) && !args.embed_corim;
  std::optional<builder::BuildOutput> built;
  std::optional<measure::ReferenceValues> ref;
  if (streaming) {
    Progress progress("build " + args.out);  // stderr, when a terminal (base/progress.h)
    Result<builder::StreamedBuild> streamed = builder::buildTo(
        *m, **igvm_out,
        {.measure = want_reference,
         .progress = [&progress](uint64_t done, uint64_t total) { progress.update(done, total); }});
    progress.finish();
    if (!streamed.ok()) {
      return fail(args.manifest, streamed.error());
    }
    ref = std::move(streamed->measurements);
  } else {
    Result<builder::BuildOutput> in_memory = builder::build(*m, builder::diskReader(), signing);
    if (!in_memory.ok()) {
      return fail(args.manifest, in_memory.error());
    }
    built = std::move(in_memory).value();
    if (want_reference) {
      Result<measure::ReferenceValues> measured = builder::measureBuilt(*m, built->igvm);
      if (!measured.ok()) {
        return fail(args.manifest, measured.error());
      }
      ref = std::move(measured).value();
    }
  }
  if (corim_out != nullptr || args.embed_corim) {
    corim::CorimFiles files;
    if (auto bad = makeCorim(args.corim, *ref, std::filesystem::path(args.out).filename().string(),
                             signing.signer_timeout, files)) {
      return fail(bad->subject.empty() ? args.manifest : bad->subject, bad->error);
    }
    if (args.embed_corim) {
      // Each platform's CoRIM goes in the headers of that platform's compatibility mask.
      for (const corim::PlatformCorim& part : files.parts) {
        const builder::Platform platform = part.platform == "snp"   ? builder::Platform::kSnp
                                           : part.platform == "tdx" ? builder::Platform::kTdx
                                                                    : builder::Platform::kVbs;
        Result<igvm::File> file = igvm::File::parse(built->igvm);
        const uint32_t mask = builder::compatibilityBit(built->platforms, platform);
        Result<ByteVector> with =
            file.ok() ? corim::withCorim(*file, mask, part.document,
                                         part.detached ? std::optional<Bytes>(*part.detached)
                                                       : std::nullopt)
                      : Result<ByteVector>(file.error());
        if (!with.ok()) {
          return fail(args.manifest, with.error());
        }
        built->igvm = std::move(with).value();
      }
    }
    if (corim_out != nullptr) {
      if (Status s = corim_out->write(files.file); !s.ok()) {
        return fail("", s.error());
      }
    }
  }
  if (built) {
    if (Status s = (*igvm_out)->write(built->igvm); !s.ok()) {
      return fail("", s.error());
    }
  }
  if (json_out != nullptr) {
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
  cmd->add_option("--reuse-signature", args->reuse,
                  "keep OLD.igvm's ID-block signatures when the signed bytes and keys are unchanged");
  cmd->add_option("--signer-timeout", args->signer_timeout,
                  "seconds an exec: signer may take before it is killed (default 60)");
  addCorimFlags(cmd, args->corim);
  cmd->add_flag("--embed-corim", args->embed_corim,
                "also put the CoRIM in the file's CORIM_DOCUMENT / CORIM_SIGNATURE headers");
  return [args] { return runBuild(*args); };
}

}  // namespace igvmkit::cli
