// igvmkit diagnose: which launch parameters explain a reported digest (diagnose/diagnose.h), or,
// with --against, where two launches' page lists part.
#include <charconv>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/file.h"
#include "cli/command.h"
#include "cli/compat.h"
#include "cli/measure_ovmf.h"
#include "diagnose/diagnose.h"
#include "measure/ovmf_launch.h"
#include "measure/platform.h"
#include "ovmf/ovmf.h"

namespace igvmkit::cli {
namespace {

struct DiagnoseArgs {
  std::string path;
  std::optional<std::string> report, quote, digest, against;
  std::optional<std::string> ovmf, kernel, initrd, append, svsm, vars_file;
  std::optional<uint64_t> vars_size;
  uint32_t max_vcpus = 64;
  unsigned threads = 0;
  std::string host = measure::hostModelName(measure::HostModel::kKvm);  // --against only
  uint32_t vcpus = 1;
  bool native_zero = false;
  bool json = false;
};

// One shell word: bare when it only holds safe characters, else single-quoted.
std::string shellWord(const std::string& s) {
  const bool safe = !s.empty() && s.find_first_not_of(
                                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789-_./=:,+@%") == std::string::npos;
  if (safe) {
    return s;
  }
  std::string out = "'";
  for (char c : s) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

// The `igvmkit measure` command for a match: the image as the user gave it, then the match's
// arguments.
std::string measureCommand(const DiagnoseArgs& a, const diagnose::Match& m) {
  std::vector<std::string> words = {"igvmkit", "measure"};
  if (a.ovmf) {
    words.insert(words.end(), {"--ovmf", *a.ovmf});
    if (m.kernel_hashes) {
      words.insert(words.end(), {"--kernel", *a.kernel});
      if (a.initrd) {
        words.insert(words.end(), {"--initrd", *a.initrd});
      }
      if (a.append) {
        words.insert(words.end(), {"--append", *a.append});
      }
    }
    if (m.svsm) {
      words.insert(words.end(), {"--svsm", *a.svsm});
      if (a.vars_file) {
        words.insert(words.end(), {"--vars-file", *a.vars_file});
      } else {
        words.insert(words.end(), {"--vars-size", std::to_string(a.vars_size.value_or(0))});
      }
    }
  } else {
    words.push_back(a.path);
  }
  words.insert(words.end(), m.measure_args.begin(), m.measure_args.end());
  std::string line;
  for (const std::string& w : words) {
    line += (line.empty() ? "" : " ") + shellWord(w);
  }
  return line;
}

// The digest to explain: from --report, --quote or --digest (exactly one).
Result<ByteVector> reportedDigest(const DiagnoseArgs& a, std::string& subject) {
  const int given = int(a.report.has_value()) + int(a.quote.has_value()) + int(a.digest.has_value());
  if (given != 1) {
    return usage("diagnose.evidence", "diagnose takes one of --report FILE, --quote FILE or --digest HEX");
  }
  if (a.digest) {
    std::string_view text = *a.digest;
    if (text.starts_with("0x") || text.starts_with("0X")) {
      text.remove_prefix(2);
    }
    Result<ByteVector> d = parseHexBytes(text);
    if (!d.ok()) {
      return usage("diagnose.digest", "--digest wants hex digits, not '" + *a.digest + "'");
    }
    return d;
  }
  subject = a.report ? *a.report : *a.quote;
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector bytes, readFile(subject));
  return a.report ? diagnose::snpReportMeasurement(bytes) : diagnose::tdxQuoteMrtd(bytes);
}

int printDiagnosis(const DiagnoseArgs& a, const diagnose::Diagnosis& d) {
  if (a.json) {
    nlohmann::ordered_json doc;
    doc["digest"] = hexBytes(d.digest);
    doc["explained"] = !d.matches.empty();
    doc["candidates"] = d.candidates;
    doc["matches"] = nlohmann::ordered_json::array();
    for (const diagnose::Match& m : d.matches) {
      nlohmann::ordered_json j = m.parameters;
      j["command"] = measureCommand(a, m);
      j["command_reproduces"] = m.variant.empty();
      j["vmsa_variant"] = m.variant.empty() ? nlohmann::ordered_json(nullptr)
                                            : nlohmann::ordered_json(m.variant);
      doc["matches"].push_back(j);
    }
    doc["searched"] = d.searched;
    printJson(doc);
  } else if (d.matches.empty()) {
    std::cout << "not explained: none of " << d.candidates << " candidate launches gives "
              << hexBytes(d.digest) << "\n";
    for (const std::string& s : d.searched) {
      std::cout << "  " << s << "\n";
    }
  } else {
    for (const diagnose::Match& m : d.matches) {
      if (m.variant.empty()) {
        std::cout << "explained: " << measureCommand(a, m) << "\n";
      } else {
        std::cout << "explained with a host vmsa variant that measure does not model ("
                  << m.variant << "): nearest command " << measureCommand(a, m) << "\n";
      }
    }
    std::cout << "(" << d.matches.size() << " of " << d.candidates
              << " candidate launches match)\n";
  }
  return d.matches.empty() ? kExitBad : kExitOk;
}

int runOvmf(const DiagnoseArgs& a, Bytes digest) {
  if ((a.initrd || a.append) && !a.kernel) {
    return fail("", usage("diagnose.kernel", "--initrd and --append go with --kernel"));
  }
  if (a.svsm && !a.vars_size && !a.vars_file) {
    return fail("", usage("diagnose.svsm", "--svsm requires --vars-size or --vars-file"));
  }
  Result<MappedFile> image = MappedFile::open(*a.ovmf);
  if (!image.ok()) {
    return fail(*a.ovmf, image.error());
  }
  Result<ovmf::Firmware> fw = ovmf::Firmware::parse(image->bytes());
  if (!fw.ok()) {
    return fail(*a.ovmf, fw.error());
  }
  diagnose::OvmfImage img;
  img.firmware = &*fw;
  OvmfLaunchInputs inputs;  // kept while the search reads them
  if (int status = inputs.read({a.kernel, a.initrd, a.append, a.svsm, a.vars_file, a.vars_size});
      status != kExitOk) {
    return status;
  }
  img.kernel_hashes = inputs.kernel_hashes;
  img.svsm = inputs.svsm;
  Result<diagnose::Diagnosis> d =
      diagnose::diagnoseOvmf(img, digest, {.max_vcpus = a.max_vcpus, .threads = a.threads});
  if (!d.ok()) {
    return fail(*a.ovmf, d.error());
  }
  return printDiagnosis(a, *d);
}

// --against: FILE's launch and OTHER's (an IGVM file, or a saved snp trace).
int runAgainst(const DiagnoseArgs& a, const igvm::File& file) {
  Result<measure::HostModel> host = measure::parseHostModel(a.host);
  if (!host.ok()) {
    return fail("", host.error());
  }
  const measure::MeasureOptions o{.platform = measure::Platform::kSnp,
                                  .host = *host,
                                  .vcpus = a.vcpus,
                                  .native_zero = a.native_zero,
                                  .threads = a.threads};
  Result<std::vector<diagnose::LaunchOp>> mine = diagnose::launchOps(file, o);
  if (!mine.ok()) {
    return fail(a.path, mine.error());
  }
  const std::string& other_path = *a.against;
  Result<MappedFile> other = MappedFile::open(other_path);
  if (!other.ok()) {
    return fail(other_path, other.error());
  }
  Result<std::vector<diagnose::LaunchOp>> theirs = internal("unread");
  const Bytes ob = other->bytes();
  if (ob.size() >= 4 && std::memcmp(ob.data(), "IGVM", 4) == 0) {
    Result<igvm::File> of = parseForUse(other_path, ob);
    if (!of.ok()) {
      return fail(other_path, of.error());
    }
    theirs = diagnose::launchOps(*of, o);
  } else {
    theirs = diagnose::launchOpsFromTrace(
        std::string_view(reinterpret_cast<const char*>(ob.data()), ob.size()));
  }
  if (!theirs.ok()) {
    return fail(other_path, theirs.error());
  }
  const diagnose::LaunchDiff diff = diagnose::diffLaunches(*mine, *theirs);
  auto opJson = [](const std::optional<diagnose::LaunchOp>& op) {
    return op ? nlohmann::ordered_json{{"gpa", op->gpa},
                                       {"type", op->type},
                                       {"contents", op->contents}}
              : nlohmann::ordered_json(nullptr);
  };
  auto opText = [](const std::optional<diagnose::LaunchOp>& op) {
    return op ? op->type + " gpa=" + hex(op->gpa) + " contents=" + op->contents
              : std::string("(no operation: the launch ended)");
  };
  if (a.json) {
    nlohmann::ordered_json doc;
    doc["identical"] = !diff.first_difference.has_value();
    doc["first_difference"] = diff.first_difference ? nlohmann::ordered_json(*diff.first_difference)
                                                    : nlohmann::ordered_json(nullptr);
    doc["first"] = opJson(diff.first);
    doc["other"] = opJson(diff.second);
    doc["operations"] = diff.first_count;
    doc["other_operations"] = diff.second_count;
    doc["only_in_first"] = diff.only_in_first;
    doc["only_in_other"] = diff.only_in_second;
    printJson(doc);
  } else if (!diff.first_difference) {
    std::cout << "identical: both launches measure the same " << diff.first_count
              << " operations\n";
  } else {
    std::cout << "first difference at operation " << *diff.first_difference << ":\n"
              << "  " << a.path << ": " << opText(diff.first) << "\n"
              << "  " << other_path << ": " << opText(diff.second) << "\n"
              << "only in " << a.path << ": " << diff.only_in_first << " of "
              << diff.first_count << " operations; only in " << other_path << ": "
              << diff.only_in_second << " of " << diff.second_count << "\n";
  }
  return diff.first_difference ? kExitBad : kExitOk;
}

int runDiagnose(const DiagnoseArgs& a) {
  if (a.path.empty() == !a.ovmf.has_value()) {
    return fail("", usage("diagnose.input", "diagnose takes an IGVM FILE or --ovmf FILE (one of them)"));
  }
  if (!a.ovmf && (a.kernel || a.initrd || a.append || a.svsm || a.vars_size || a.vars_file)) {
    return fail("", usage("diagnose.ovmf_options", "--kernel, --initrd, --append and --svsm go with --ovmf"));
  }
  if (a.against) {
    if (a.ovmf || a.report || a.quote || a.digest) {
      return fail("", usage("diagnose.against", "--against compares two IGVM launches: FILE --against OTHER"));
    }
  } else if (measure::hostModelNamed(a.host) != measure::HostModel::kKvm || a.vcpus != 1 ||
             a.native_zero) {
    return fail("", usage("diagnose.launch_options",
                          "--host, --vcpus and --native-zero choose the launch for --against; "
                          "the search tries them all"));
  }
  if (a.vcpus == 0) {
    return fail("", usage("diagnose.vcpus", "--vcpus wants a count >= 1"));
  }
  std::optional<ByteVector> digest;
  if (!a.against) {
    std::string subject;
    Result<ByteVector> d = reportedDigest(a, subject);
    if (!d.ok()) {
      return fail(subject, d.error());
    }
    digest = std::move(*d);
  }
  if (a.ovmf) {
    return runOvmf(a, *digest);
  }
  Result<MappedFile> mapped = MappedFile::open(a.path);
  if (!mapped.ok()) {
    return fail(a.path, mapped.error());
  }
  Result<igvm::File> file = parseForUse(a.path, mapped->bytes());
  if (!file.ok()) {
    return fail(a.path, file.error());
  }
  if (a.against) {
    return runAgainst(a, *file);
  }
  Result<diagnose::Diagnosis> d =
      diagnose::diagnoseIgvm(*file, *digest, {.max_vcpus = a.max_vcpus, .threads = a.threads});
  if (!d.ok()) {
    return fail(a.path, d.error());
  }
  return printDiagnosis(a, *d);
}

}  // namespace

RunFn addDiagnose(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "diagnose", "which launch parameters explain a reported digest (or diff two launches)");
  auto a = std::make_shared<DiagnoseArgs>();
  cmd->add_option("FILE", a->path, "IGVM file (or --ovmf FILE)");
  cmd->add_option("--report", a->report, "SNP attestation report (raw, hex, base64, Azure HCL)");
  cmd->add_option("--quote", a->quote, "TDX quote (its MRTD)");
  cmd->add_option("--digest", a->digest, "the reported launch digest as hex");
  cmd->add_option("--max-vcpus", a->max_vcpus, "search vCPU counts 1..N (default 64)");
  cmd->add_option("--threads", a->threads, "page hashing threads (default: hardware concurrency)");
  cmd->add_flag("--json", a->json, "one JSON document on stdout");
  cmd->add_option("--ovmf", a->ovmf, "a QEMU launch of this OVMF image instead of an IGVM file");
  cmd->add_option("--kernel", a->kernel, "--ovmf: kernel (searched with and without hashes)");
  cmd->add_option("--initrd", a->initrd, "--ovmf: initrd (with --kernel)");
  cmd->add_option("--append", a->append, "--ovmf: kernel command line (with --kernel)");
  cmd->add_option("--svsm", a->svsm, "--ovmf: COCONUT-SVSM binary (searched with and without)");
  auto* vars_size = cmd->add_option("--vars-size", a->vars_size, "--svsm: OVMF vars size");
  auto* vars_file = cmd->add_option("--vars-file", a->vars_file, "--svsm: OVMF vars file");
  vars_size->excludes(vars_file);
  cmd->add_option("--against", a->against,
                  "diff FILE's snp launch with OTHER's (IGVM file or saved measure --trace)");
  cmd->add_option("--host", a->host, "--against: kvm|mshv (default kvm)");
  cmd->add_option("--vcpus", a->vcpus, "--against: vCPU count (default 1)");
  cmd->add_flag("--native-zero", a->native_zero, "--against: pages without data as ZERO pages");
  return [a] { return runDiagnose(*a); };
}

}  // namespace igvmkit::cli
