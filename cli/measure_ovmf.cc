#include "cli/measure_ovmf.h"

#include <charconv>
#include <deque>
#include <fstream>
#include <iostream>
#include <vector>

#include <sys/stat.h>

#include "base/file.h"
#include "cli/command.h"
#include "measure/ovmf_launch.h"
#include "ovmf/ovmf.h"

namespace igvmkit::cli {
namespace {

// Python's int(text, 0), as sev-snp-measure parses --vcpu-sig and --guest-features: 0x / 0o / 0b
// prefixes or decimal.
Result<uint64_t> parseAutoBase(const std::string& flag, const std::string& text) {
  std::string_view digits = text;
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0') {
    const char p = static_cast<char>(digits[1] | 0x20);
    base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 10;
    if (base != 10) {
      digits.remove_prefix(2);
    }
  }
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
    return usage(flag + " wants a number such as 0x1 or 23, not '" + text + "'");
  }
  return v;
}

// sev-snp-measure cli.py get_vcpu_sig: family/model/stepping first, then --vcpu-sig, then
// --vcpu-type; QEMU needs one of them for snp and sev-es (ec2 and gce put 0x600 in RDX).
Result<uint32_t> vcpuSig(const OvmfMeasureArgs& a, measure::Platform platform,
                         measure::VmmType vmm) {
  if (a.vcpu_family || a.vcpu_model || a.vcpu_stepping) {
    if (!a.vcpu_family || !a.vcpu_model || !a.vcpu_stepping) {
      return usage("--vcpu-family, --vcpu-model and --vcpu-stepping go together");
    }
    return measure::vcpuSignature(*a.vcpu_family, *a.vcpu_model, *a.vcpu_stepping);
  }
  if (a.vcpu_sig) {
    IGVMKIT_ASSIGN_OR_RETURN(uint64_t sig, parseAutoBase("--vcpu-sig", *a.vcpu_sig));
    if (sig > UINT32_MAX) {
      return usage("--vcpu-sig " + *a.vcpu_sig + " does not fit CPUID's 32-bit EAX");
    }
    return static_cast<uint32_t>(sig);
  }
  if (a.vcpu_type) {
    return measure::vcpuSignatureOf(*a.vcpu_type);
  }
  if (platform == measure::Platform::kSev || platform == measure::Platform::kTdx ||
      vmm != measure::VmmType::kQemu) {
    return 0u;
  }
  return usage(std::string("missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode '") +
               measure::platformName(platform) + "'");
}

int fromError(const std::string& subject, const Error& e) { return fail(subject, e); }

}  // namespace

Result<Bytes> OvmfLaunchInputs::open(const std::string& path) {
  Result<MappedFile> m = MappedFile::open(path);
  if (m.ok()) {
    mapped_.push_back(std::move(*m));
    return mapped_.back().bytes();
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
    return m.error();
  }
  std::ifstream in(path, std::ios::binary);
  ByteVector data;
  char buf[1 << 16];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    const auto* b = reinterpret_cast<const std::byte*>(buf);
    data.insert(data.end(), b, b + in.gcount());
  }
  if (in.bad()) {
    return unreadable(path + ": read error");
  }
  read_.push_back(std::move(data));
  return Bytes(read_.back());
}

int OvmfLaunchInputs::read(const Paths& p) {
  if (p.kernel) {
    Result<Bytes> kernel = open(*p.kernel);
    if (!kernel.ok()) {
      return fail(*p.kernel, kernel.error());
    }
    Bytes initrd;
    if (p.initrd) {
      Result<Bytes> r = open(*p.initrd);
      if (!r.ok()) {
        return fail(*p.initrd, r.error());
      }
      initrd = *r;
    }
    Result<measure::SevKernelHashes> hashes = measure::sevKernelHashes(
        *kernel, initrd, p.append ? std::optional<std::string_view>(*p.append) : std::nullopt);
    if (!hashes.ok()) {
      return fail(*p.kernel, hashes.error());
    }
    kernel_hashes = *hashes;
  }
  if (p.svsm) {
    Result<Bytes> image = open(*p.svsm);
    if (!image.ok()) {
      return fail(*p.svsm, image.error());
    }
    uint64_t vars_size = p.vars_size.value_or(0);
    if (p.vars_file) {
      struct stat st {};
      if (::stat(p.vars_file->c_str(), &st) != 0) {
        return fail(*p.vars_file, unreadable(*p.vars_file + ": cannot stat"));
      }
      vars_size = static_cast<uint64_t>(st.st_size);  // sev-snp-measure: Path.stat().st_size
    }
    svsm = measure::SvsmLaunch{*image, vars_size};
  }
  return kExitOk;
}

std::shared_ptr<OvmfMeasureArgs> addOvmfMeasureOptions(CLI::App* cmd) {
  auto a = std::make_shared<OvmfMeasureArgs>();
  std::string types;
  for (std::string_view n : measure::knownVcpuTypes()) {
    types += (types.empty() ? "" : ", ") + std::string(n);
  }
  cmd->add_option("--ovmf", a->ovmf, "measure a QEMU launch of this OVMF image (no IGVM file)");
  cmd->add_option("--vcpu-type", a->vcpu_type, "--ovmf: QEMU CPU model (" + types + ")");
  cmd->add_option("--vcpu-sig", a->vcpu_sig, "--ovmf: CPUID(1).EAX signature, e.g. 0x800f12");
  cmd->add_option("--vcpu-family", a->vcpu_family, "--ovmf: CPU family (with model, stepping)");
  cmd->add_option("--vcpu-model", a->vcpu_model, "--ovmf: CPU model");
  cmd->add_option("--vcpu-stepping", a->vcpu_stepping, "--ovmf: CPU stepping");
  cmd->add_option("--vmm,--vmm-type", a->vmm, "--ovmf: qemu|ec2|gce (default qemu)");
  cmd->add_option("--guest-features", a->guest_features,
                  "--ovmf: SNP SEV_FEATURES of the VMSAs (default 0x1)");
  cmd->add_option("--kernel", a->kernel, "--ovmf: kernel measured through QEMU's hash table");
  cmd->add_option("--initrd", a->initrd, "--ovmf: initrd (with --kernel)");
  cmd->add_option("--append", a->append, "--ovmf: kernel command line (with --kernel)");
  cmd->add_option("--svsm", a->svsm, "--ovmf: COCONUT-SVSM binary launched before OVMF");
  auto* vars_size = cmd->add_option("--vars-size", a->vars_size, "--svsm: OVMF vars size");
  auto* vars_file = cmd->add_option("--vars-file", a->vars_file, "--svsm: OVMF vars file");
  vars_size->excludes(vars_file);
  return a;
}

int runOvmfMeasure(const OvmfMeasureArgs& a, const std::string& platform_name,
                   std::pair<uint32_t, uint32_t> vcpus, bool json, bool trace) {
  Result<measure::Platform> platform = measure::parsePlatform(platform_name);
  if (!platform.ok()) {
    return fail("", platform.error());
  }
  if (*platform == measure::Platform::kVbs) {
    return fail("", usage("--ovmf measures --platform snp, sev, sev-es or tdx"));
  }
  if ((a.initrd || a.append) && !a.kernel) {
    return fail("", usage(a.initrd ? "--kernel required when using --initrd"
                                   : "--kernel required when using --append"));
  }
  if ((a.vars_size || a.vars_file) && !a.svsm) {
    return fail("", usage("--vars-size and --vars-file go with --svsm"));
  }
  if (a.svsm && !a.vars_size && !a.vars_file) {
    return fail("", usage("--svsm requires --vars-size or --vars-file"));
  }
  const bool tdx = *platform == measure::Platform::kTdx;
  if (tdx && (a.vcpu_type || a.vcpu_sig || a.vcpu_family || vcpus.first != vcpus.second ||
              vcpus.first != 1)) {
    return fail("", usage("the TDX MRTD does not depend on vCPUs: drop --vcpus and --vcpu-*"));
  }
  Result<measure::VmmType> vmm = measure::parseVmmType(a.vmm);
  if (!vmm.ok()) {
    return fail("", vmm.error());
  }
  Result<uint32_t> sig = vcpuSig(a, *platform, *vmm);
  if (!sig.ok()) {
    return fail("", sig.error());
  }
  Result<uint64_t> features = parseAutoBase("--guest-features", a.guest_features);
  if (!features.ok()) {
    return fail("", features.error());
  }

  Result<MappedFile> image = MappedFile::open(a.ovmf);
  if (!image.ok()) {
    return fail(a.ovmf, image.error());
  }
  Result<ovmf::Firmware> fw = ovmf::Firmware::parse(image->bytes());
  if (!fw.ok()) {
    return fail(a.ovmf, fw.error());
  }
  measure::OvmfLaunchOptions o;
  o.platform = *platform;
  o.vcpu_sig = *sig;
  o.vmm = *vmm;
  o.guest_features = *features;
  // Inputs stay mapped until the measurements are done (the hashes read views into them).
  OvmfLaunchInputs inputs;
  if (int status = inputs.read({a.kernel, a.initrd, a.append, a.svsm, a.vars_file, a.vars_size});
      status != kExitOk) {
    return status;
  }
  o.kernel_hashes = inputs.kernel_hashes;
  o.svsm = inputs.svsm;
  if (trace) {
    o.trace = traceSink(json);
  }
  const bool per_vcpu = *platform == measure::Platform::kSnp ||
                        *platform == measure::Platform::kSevEs;
  const uint32_t last = per_vcpu ? vcpus.second : vcpus.first;
  std::vector<measure::Measurement> results;
  for (uint32_t n = vcpus.first; n <= last; ++n) {
    o.vcpus = n;
    Result<measure::Measurement> m = measure::measureOvmfLaunch(*fw, o);
    if (!m.ok()) {
      return fromError(a.ovmf, m.error());
    }
    for (const std::string& w : m->warnings) {
      warn(a.ovmf + ": " + w);
    }
    results.push_back(std::move(*m));
  }
  if (json) {
    printJson(measure::toReference(results).toJson());
  } else if (!trace) {
    printDigests(results);
  }
  return kExitOk;
}

measure::TraceFn traceSink(bool json) {
  std::ostream* os = json ? &std::cerr : &std::cout;
  return [os](const std::string& line) { *os << line << "\n"; };
}

void printDigests(const std::vector<measure::Measurement>& results) {
  for (const measure::Measurement& m : results) {
    if (results.size() > 1 && m.vcpus) {
      std::cout << *m.vcpus << " ";
    }
    std::cout << hexBytes(m.digest) << "\n";
  }
}

}  // namespace igvmkit::cli
