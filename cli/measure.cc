#include "measure/measure.h"

#include <charconv>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/progress.h"
#include "cli/command.h"
#include "cli/compat.h"
#include "cli/corim_flags.h"
#include "cli/measure_ovmf.h"
#include "igvm/file.h"
#include "measure/snp_tail.h"
#include "sign/image.h"

namespace igvmkit::cli {
namespace {

struct MeasureArgs {
  std::string path;
  std::string platform;
  std::string host = measure::hostModelName(measure::HostModel::kKvm);
  std::string vcpus = "1";
  unsigned threads = 0;
  bool json = false;
  bool trace = false;
  bool native_zero = false;
  CorimFlags corim;
};

Result<uint32_t> parseCount(std::string_view text) {
  uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v == 0) {
    return usage("--vcpus wants a count >= 1 or a range A-B, not '" + std::string(text) + "'");
  }
  if (v > igvm::kMaxVcpus) {
    return usage("--vcpus " + std::string(text) + " is more than " +
                 std::to_string(igvm::kMaxVcpus) + " vcpus (igvm::kMaxVcpus)");
  }
  return v;
}

// "N" or "A-B" (A <= B).
Result<std::pair<uint32_t, uint32_t>> parseVcpus(const std::string& text) {
  const size_t dash = text.find('-');
  if (dash == std::string::npos) {
    IGVMKIT_ASSIGN_OR_RETURN(uint32_t n, parseCount(text));
    return std::pair{n, n};
  }
  IGVMKIT_ASSIGN_OR_RETURN(uint32_t a, parseCount(std::string_view(text).substr(0, dash)));
  IGVMKIT_ASSIGN_OR_RETURN(uint32_t b, parseCount(std::string_view(text).substr(dash + 1)));
  if (a > b || b - a >= 4096) {
    return usage("--vcpus range '" + text + "' is empty or too large");
  }
  return std::pair{a, b};
}

int runMeasure(const MeasureArgs& args, const OvmfMeasureArgs& ovmf) {
  if (args.path.empty() == ovmf.ovmf.empty()) {
    return fail("", usage("measure takes an IGVM FILE or --ovmf FILE (one of them)"));
  }
  if (!ovmf.ovmf.empty()) {
    Result<std::pair<uint32_t, uint32_t>> range = parseVcpus(args.vcpus);
    if (!range.ok()) {
      return fail("", range.error());
    }
    if (args.native_zero || measure::hostModelNamed(args.host) != measure::HostModel::kKvm) {
      return fail("", usage("--host and --native-zero are for IGVM files, not --ovmf"));
    }
    return runOvmfMeasure(ovmf, args.platform, *range, args.json, args.trace);
  }
  Result<measure::Platform> platform = measure::parsePlatform(args.platform);
  if (!platform.ok()) {
    return fail("", platform.error());
  }
  Result<measure::HostModel> host = measure::parseHostModel(args.host);
  if (!host.ok()) {
    return fail("", host.error());
  }
  Result<std::pair<uint32_t, uint32_t>> range = parseVcpus(args.vcpus);
  if (!range.ok()) {
    return fail("", range.error());
  }
  Result<MappedFile> mapped = MappedFile::open(args.path);
  if (!mapped.ok()) {
    return fail("", mapped.error());  // the message names the path
  }
  OutputFiles outputs;
  OutputFile* corim_out = nullptr;
  if (!args.corim.out.empty()) {
    if (Status s = outputs.addInput(args.path); !s.ok()) {
      return fail("", s.error());
    }
    Result<OutputFile*> added = outputs.add(args.corim.out);
    if (!added.ok()) {
      return fail("", added.error());
    }
    corim_out = *added;
    // The digest (or --json's document) is printed there.
    if (Status s = reserveStdout(outputs, args.json ? "--json's document" : "the digest"); !s.ok()) {
      return fail("", s.error());
    }
  }
  // A verdict about a file that changed while it was read would be about no file at all.
  auto failOn = [&](const Error& e) {
    Status s = settled(*mapped);
    return s.ok() ? fail(args.path, e) : fail("", s.error());
  };
  Result<igvm::File> file = parseForUse(args.path, mapped->bytes());  // cli/compat.h
  if (!file.ok()) {
    return failOn(file.error());
  }
  // Only the kvm SNP model depends on the vCPU count (other models measure once); a range hashes
  // the image once (measure/snp_tail.h).
  measure::MeasureOptions opts;
  opts.platform = *platform;
  opts.host = *host;
  opts.native_zero = args.native_zero;
  opts.threads = args.threads;
  opts.source = &*mapped;  // the pages are read with pread, not through the mapping
  // A progress line on stderr when it is a terminal (base/progress.h); not with --trace, whose
  // lines go to the same terminal while the work runs.
  Progress progress("measure " + args.path, args.trace ? -1 : 2);
  opts.progress = [&progress](uint64_t done, uint64_t total) { progress.update(done, total); };
  if (args.trace) {
    opts.trace = traceSink(args.json);  // cli/measure_ovmf.h
  }
  Result<std::vector<measure::Measurement>> measured =
      measure::measureVcpuRange(*file, opts, range->first, range->second);
  progress.finish();
  if (!measured.ok()) {
    return failOn(measured.error());
  }
  std::vector<measure::Measurement> results = std::move(*measured);
  for (const measure::Measurement& m : results) {
    for (const std::string& w : m.warnings) {
      warn(args.path + ": " + w);
    }
  }
  if (Status s = settled(*mapped); !s.ok()) {
    return fail("", s.error());
  }
  measure::ReferenceValues ref = measure::toReference(results);
  // A signed image: the identity its ID block presents, on the measurement it was signed for.
  if (Status s = sign::addIdentity(*file, ref); !s.ok()) {
    return fail(args.path, s.error());
  }
  if (!args.corim.out.empty()) {
    corim::CorimFiles files;
    if (auto bad = makeCorim(args.corim, ref, std::filesystem::path(args.path).filename().string(),
                             std::chrono::seconds(60), files)) {
      return fail(bad->subject.empty() ? args.path : bad->subject, bad->error);
    }
    if (Status w = corim_out->write(files.file); !w.ok()) {
      return fail("", w.error());
    }
    if (Status w = outputs.commit(); !w.ok()) {
      return fail("", w.error());
    }
  }
  if (args.json) {
    printJson(ref.toJson());
  } else if (!args.trace) {
    printDigests(results);
  }
  return kExitOk;
}

}  // namespace

RunFn addMeasure(CLI::App& app) {
  auto* cmd = app.add_subcommand("measure", "the launch measurement the hardware will report");
  auto args = std::make_shared<MeasureArgs>();
  cmd->add_option("FILE", args->path, "IGVM file (or --ovmf FILE)");
  cmd->add_option("--platform", args->platform, "snp|tdx|vbs|sev|sev-es")->required();
  cmd->add_option("--host", args->host, "kvm|mshv (SNP host model, default kvm)");
  cmd->add_option("--vcpus", args->vcpus, "vCPU count, or a range such as 1-8 (default 1)");
  cmd->add_option("--threads", args->threads,
                  "page hashing threads (default: hardware concurrency)");
  cmd->add_flag("--json", args->json, "one JSON document on stdout");
  cmd->add_flag("--trace", args->trace, "one line per measured operation");
  addCorimFlags(cmd, args->corim);
  cmd->add_flag("--native-zero", args->native_zero,
                "SNP: pages without data as ZERO pages (igvmmeasure --native-zero)");
  std::shared_ptr<OvmfMeasureArgs> ovmf = addOvmfMeasureOptions(cmd);
  return [args, ovmf] { return runMeasure(*args, *ovmf); };
}

}  // namespace igvmkit::cli
