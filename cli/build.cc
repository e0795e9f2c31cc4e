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

// The {"measurements": [...]} document --measurements writes (`verify --expect` reads it).
nlohmann::ordered_json referenceDocument(const measure::ReferenceValues& ref) {
  nlohmann::ordered_json doc = ref.toJson();
  if (!doc.contains("measurements")) {  // toJson writes one measurement bare
    doc = nlohmann::ordered_json{{"measurements", nlohmann::ordered_json::array({doc})}};
  }
  return doc;
}

struct BuildArgs {
  std::string manifest;
  std::string out;
  std::string measurements;
  std::string reuse;
  double signer_timeout = 60;
  CorimFlags corim;
  bool embed_corim = false;
  bool json = false;
};

// `build --json`'s document (cli/README.md "JSON documents"): the file written and the reference
// values that travel with it: the keys of the document --measurements writes.
nlohmann::ordered_json buildJson(const BuildArgs& args, const builder::Manifest& manifest,
                                 const builder::BuildOutput& summary, uint64_t size,
                                 const measure::ReferenceValues& ref) {
  nlohmann::ordered_json doc;
  doc["manifest"] = args.manifest;
  doc["file"] = args.out;
  doc["size"] = size;
  nlohmann::ordered_json platforms = nlohmann::ordered_json::array();
  for (size_t i = 0; i < summary.platforms.size(); ++i) {
    platforms.push_back({{"platform", builder::platformName(summary.platforms[i])},
                         {"compatibility_mask", summary.masks[i]}});
  }
  doc["platforms"] = std::move(platforms);
  doc["page_data_directives"] = summary.page_data_directives;
  if (manifest.snp && manifest.snp->id_block) {
    doc["id_block"] = {{"signed", true}, {"reused_signature", summary.reused_signature}};
  }
  if (!args.measurements.empty()) {
    doc["measurements_file"] = args.measurements;
  }
  if (!args.corim.out.empty()) {
    doc["corim_file"] = args.corim.out;
  }
  const nlohmann::ordered_json reference = referenceDocument(ref);
  for (const auto& [key, value] : reference.items()) {
    doc[key] = value;
  }
  return doc;
}

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

  // --json: stdout holds the document alone, and the document carries the reference values.
  if (args.json) {
    if (Status s = reserveStdout(outputs, "--json's document"); !s.ok()) {
      return fail("", s.error());
    }
  }
  // Into a regular file the build streams: pages flow from the inputs to the output and the
  // measurements in one pass (builder::buildTo). An ID block is signed over the finished file, a
  // CoRIM embedded into it, and stdout cannot be patched: those build in memory.
  const bool want_reference =
      json_out != nullptr || corim_out != nullptr || args.embed_corim || args.json;
  const bool streaming =
      (*igvm_out)->seekable() && !(m->snp && m->snp->id_block) && !args.embed_corim;
  std::optional<builder::BuildOutput> built;
  std::optional<measure::ReferenceValues> ref;
  builder::BuildOutput summary;
  uint64_t size = 0;
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
    summary = std::move(streamed->summary);
    size = streamed->size;
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
        // CoRIM parts are named by measure::platformName().
        const measure::Platform platform =
            measure::platformNamed(part.platform).value_or(measure::Platform::kVbs);
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
    size = built->igvm.size();
    summary = std::move(*built);
    summary.igvm.clear();
  }
  if (json_out != nullptr) {
    if (Status s = json_out->write(referenceDocument(*ref).dump(2) + "\n"); !s.ok()) {
      return fail("", s.error());
    }
  }
  if (Status s = outputs.commit(); !s.ok()) {
    return fail("", s.error());
  }
  if (args.json) {
    printJson(buildJson(args, *m, summary, size, *ref));
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
  cmd->add_flag("--json", args->json,
                "one JSON document on stdout: the file written, its platforms and measurements");
  return [args] {
    const int status = runBuild(*args);
    if (args->json && status != kExitOk && lastFailure()) {
      // The error line went to stderr; the document says the same to a pipeline.
      printJson({{"manifest", args->manifest}, {"error", errorJson(*lastFailure())}});
    }
    return status;
  };
}

}  // namespace igvmkit::cli
