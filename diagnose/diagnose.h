// diagnose/diagnose.h: why a reported launch digest differs from the expected one.
//
// Given the digest the hardware reported (an SNP report's MEASUREMENT, a TDX quote's MRTD, or a
// bare digest) and the image as the verifier knows it (an IGVM file, or a QEMU launch of OVMF),
// searches the launch parameters that change the digest: vCPU counts, host models, vCPU
// signatures, VMM types, guest-feature sets, known host-kernel VMSA variants, the platforms of a
// multi-platform file, kernel hashes on or off. Each explanation comes with the `igvmkit measure`
// arguments that reproduce it (README.md lists every dimension, and where each variant comes
// from).
//
//   IGVMKIT_ASSIGN_OR_RETURN(ByteVector digest, diagnose::snpReportMeasurement(report_bytes));
//   IGVMKIT_ASSIGN_OR_RETURN(diagnose::Diagnosis d, diagnose::diagnoseIgvm(file, digest, {}));
//   if (d.matches.empty()) { ... d.candidates, d.searched ... }
//   for (const diagnose::Match& m : d.matches) { ... m.measure_args, m.variant ... }
//
// The search shares work: under KVM the chain before the VMSAs is hashed once per image
// (measure/snp_tail.h) and every candidate only extends it by its VMSAs, so 64 vCPU counts cost
// 64 PAGE_INFO hashes, not 64 image hashes.
//
// Also: diffLaunches() (the first operation where two launches' page lists differ) and
// idBlockLaunchIssue() (an SNP ID block signed for a digest the planned launch cannot produce).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/file.h"
#include "measure/measure.h"
#include "measure/ovmf_launch.h"
#include "measure/platform.h"
#include "ovmf/ovmf.h"

namespace igvmkit::diagnose {

// --- evidence -------------------------------------------------------------------------------

// MEASUREMENT of an SNP report file: raw, hex or base64 (attest::decodeEvidence), the 0x4A0-byte
// report or an Azure HCL report around it (attest::extractSnpReport).
Result<ByteVector> snpReportMeasurement(Bytes evidence);
// MRTD of a TDX quote file (same encodings; attest::parseTdxQuote).
Result<ByteVector> tdxQuoteMrtd(Bytes evidence);

// --- the search -----------------------------------------------------------------------------

struct SearchOptions {
  uint32_t max_vcpus = 64;  // vCPU counts 1..max_vcpus (at most igvm::kMaxVcpus)
  unsigned threads = 0;     // page hashing threads; 0 = hardware concurrency
};

// One launch that produces the digest.
struct Match {
  measure::Platform platform = measure::Platform::kSnp;  // never kNative
  // SNP launches of an IGVM file: the host model. nullopt for the other platforms and --ovmf
  // (always kvm there).
  std::optional<measure::HostModel> host;
  // `igvmkit measure` arguments after the image (IGVM FILE, or --ovmf and its inputs), e.g.
  // {"--platform", "snp", "--host", "kvm", "--vcpus", "4"}.
  std::vector<std::string> measure_args;
  bool kernel_hashes = false;  // --ovmf: the launch measured --kernel/--initrd/--append
  bool svsm = false;           // --ovmf: the launch had --svsm
  // A host-kernel change to the VMSAs that `measure` does not model (empty when none), e.g.
  // "mxcsr 0 / x87 fcw 0 (host kernel before 6.9)": the arguments then give the nearest
  // measurement, not the digest.
  std::string variant;
  // For --json: "platform" (platformName()), "host" (hostModelName()) and each other dimension
  // searched, in a stable order.
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();
};

struct Diagnosis {
  ByteVector digest;
  std::vector<Match> matches;         // every candidate equal to the digest, modelled ones first
  uint64_t candidates = 0;            // launches compared
  std::vector<std::string> searched;  // one line per family searched or skipped, and why
};

// Searches the launches of an IGVM file (a 48-byte digest: snp, tdx; 32 bytes: vbs, sev,
// sev-es). Usage error for another digest size.
Result<Diagnosis> diagnoseIgvm(const igvm::File& file, Bytes digest, const SearchOptions& options);

// The firmware inputs of a QEMU launch of OVMF (measure/ovmf_launch.h).
struct OvmfImage {
  const ovmf::Firmware* firmware = nullptr;
  std::optional<measure::SevKernelHashes> kernel_hashes;  // searched on and off
  std::optional<measure::SvsmLaunch> svsm;                // searched with and without
};

// Searches the QEMU launches of OVMF: snp (and tdx) for 48 bytes, sev for 32 bytes.
Result<Diagnosis> diagnoseOvmf(const OvmfImage& image, Bytes digest, const SearchOptions& options);

// The guest-feature sets searched (SEV_FEATURES values, README.md "Guest features").
std::span<const uint64_t> guestFeatureSets();

// --- diff of two launches -------------------------------------------------------------------

// One measured SNP operation (a `measure --trace` line without the running digest).
struct LaunchOp {
  uint64_t gpa = 0;
  std::string type;      // snpPageTypeName()
  std::string contents;  // 96 hex digits, or "zero"
  bool operator==(const LaunchOp&) const = default;
};

// The SNP operations of an IGVM file's launch (`host`, `vcpus`, native zero as for measure), or
// of a saved `measure --trace` / `measure --json --trace` output (the trace lines; other lines
// are ignored, and a file without any trace line is "diagnose.trace").
Result<std::vector<LaunchOp>> launchOps(const igvm::File& file, const measure::MeasureOptions& o);
Result<std::vector<LaunchOp>> launchOpsFromTrace(std::string_view text);

struct LaunchDiff {
  std::optional<uint64_t> first_difference;  // index of the first operation that differs
  std::optional<LaunchOp> first, second;      // the operations there (absent past one's end)
  uint64_t only_in_first = 0;   // operations (gpa, type, contents) in the first list only
  uint64_t only_in_second = 0;  // ... in the second only
  uint64_t first_count = 0, second_count = 0;
};
LaunchDiff diffLaunches(std::span<const LaunchOp> first, std::span<const LaunchOp> second);

// --- ID block lint --------------------------------------------------------------------------

// When `file` carries an SNP ID block whose launch digest the planned launch (platform snp; host,
// vcpus, native_zero as for measure) does not produce, one lowercase sentence naming the launch
// the block was signed for and the parameter that differs, e.g. "the snp id block was signed for
// launch digest 5e1f..., which is the launch snp kvm, 1 vcpu (the vcpu count differs); the
// planned launch (snp kvm, 2 vcpus) measures ...". Without a planned launch (`igvmkit check`):
// a sentence only when no launch of the file the search covers produces it. nullopt when there
// is no ID block or it matches.
Result<std::optional<std::string>> idBlockLaunchIssue(
    const igvm::File& file, const std::optional<measure::MeasureOptions>& planned);

}  // namespace igvmkit::diagnose
