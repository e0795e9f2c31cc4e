#include <charconv>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/file.h"
#include "cli/command.h"
#include "igvm/file.h"
#include "measure/measure.h"

namespace igvmkit::cli {
namespace {

struct MeasureArgs {
  std::string path;
  std::string platform;
  std::string host = "kvm";
  std::string vcpus = "1";
  unsigned threads = 0;
  bool json = false;
  bool trace = false;
  bool native_zero = false;
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

int runMeasure(const MeasureArgs& args) {
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
    return fail(args.path, mapped.error());
  }
  Result<igvm::File> file = igvm::File::parse(mapped->bytes());
  if (!file.ok()) {
    return fail(args.path, file.error());
  }
  // Only the kvm SNP model depends on the vCPU count; other models measure once.
  const bool per_vcpu = *platform == measure::Platform::kSnp && *host == measure::HostModel::kKvm;
  const uint32_t last = per_vcpu ? range->second : range->first;
  std::vector<measure::Measurement> results;
  for (uint32_t n = range->first; n <= last; ++n) {
    measure::MeasureOptions opts;
    opts.platform = *platform;
    opts.host = *host;
    opts.vcpus = n;
    opts.native_zero = args.native_zero;
    opts.threads = args.threads;
    if (args.trace) {
      // With --json the trace goes to stderr so stdout stays one JSON document.
      std::ostream* os = args.json ? &std::cerr : &std::cout;
      opts.trace = [os](const std::string& line) { *os << line << "\n"; };
    }
    Result<measure::Measurement> m = measure::measure(*file, opts);
    if (!m.ok()) {
      return fail(args.path, m.error());
    }
    for (const std::string& w : m->warnings) {
      warn(args.path + ": " + w);
    }
    results.push_back(std::move(*m));
  }
  if (args.json) {
    printJson(measure::toReference(results).toJson());
  } else if (!args.trace) {
    for (const measure::Measurement& m : results) {
      if (results.size() > 1 && m.vcpus) {
        std::cout << *m.vcpus << " ";
      }
      std::cout << hexBytes(m.digest) << "\n";
    }
  }
  return kExitOk;
}

}  // namespace

RunFn addMeasure(CLI::App& app) {
  auto* cmd = app.add_subcommand("measure", "the launch measurement the hardware will report");
  auto args = std::make_shared<MeasureArgs>();
  cmd->add_option("FILE", args->path, "IGVM file")->required();
  cmd->add_option("--platform", args->platform, "snp|tdx|vbs|sev|sev-es")->required();
  cmd->add_option("--host", args->host, "kvm|mshv (SNP host model, default kvm)");
  cmd->add_option("--vcpus", args->vcpus, "vCPU count, or a range such as 1-8 (default 1)");
  cmd->add_option("--threads", args->threads,
                  "page hashing threads (default: hardware concurrency)");
  cmd->add_flag("--json", args->json, "one JSON document on stdout");
  cmd->add_flag("--trace", args->trace, "one line per measured operation");
  cmd->add_flag("--native-zero", args->native_zero,
                "SNP: pages without data as ZERO pages (igvmmeasure --native-zero)");
  return [args] { return runMeasure(*args); };
}

}  // namespace igvmkit::cli
