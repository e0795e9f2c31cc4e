// measure/measure.h: the IGVM front end of the measurement core. It walks a parsed igvm::File's
// directives for one platform (filtered by that platform's compatibility-mask bit), maps each one
// onto the digest classes of measure/ (README.md "Front-end mapping") and returns the launch
// measurement with every assumption that can change it.
//
//   IGVMKIT_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
//   IGVMKIT_ASSIGN_OR_RETURN(igvm::File file, igvm::File::parse(mapped.bytes()));
//   measure::MeasureOptions opts{.platform = measure::Platform::kSnp,
//                                .host = measure::HostModel::kKvm, .vcpus = 4};
//   IGVMKIT_ASSIGN_OR_RETURN(measure::Measurement m, measure::measure(file, opts));
//   std::cout << hexBytes(m.digest) << "\n";               // `igvmkit measure` plain output
//   for (const std::string& w : m.warnings) { ... }        // "warning: ..." lines
//   nlohmann::ordered_json doc = m.toReference().toJson();  // `measure --json`, attest --expect
//
// Platforms: snp (SEV-SNP launch digest, host model kvm or mshv, vCPU count for kvm), tdx (MRTD),
// vbs (VBS boot digest, SHA-256), sev and sev-es (UNCONFIRMED algorithm, SHA-256).
// Page contents are hashed straight from the file's bytes (views, no copies); SNP content hashes
// run on `threads` threads (measure/parallel.h), the result is the same for any thread count.
//
// Errors (one line, stable rules): "measure.no_platform" (the file declares no such platform),
// "measure.no_vmsa" (SNP under kvm, or SEV-ES, with no VMSA for the platform),
// "measure.unsupported" (a construct the platform's measurement cannot express, e.g. a VBS
// PAGE_DATA of type SECRETS), "measure.vp_context" (a VP context that is not the platform's
// format), plus the core's rules ("snp.*", "vmsa.*", "tdx.*", ...) with the header's location.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/file.h"
#include "base/status.h"
#include "igvm/file.h"
#include "measure/platform.h"
#include "measure/reference.h"
#include "measure/snp.h"
#include "measure/snp_host.h"

namespace igvmkit::measure {

// Platform, HostModel and their names: measure/platform.h.

// A platform `igvmkit measure` measures (--platform: every platform but native); usage error
// for anything else.
Result<Platform> parsePlatform(std::string_view name);
// --host: "kvm" / "mshv"; usage error for anything else.
Result<HostModel> parseHostModel(std::string_view name);

// One measured operation for --trace. SNP lines are formatSnpTrace()'s
// `<index> <page-type> gpa=0x<hex> contents=<96 hex|zero> digest=<96 hex>`; the other platforms
// print `<index> <operation> gpa=0x<hex>` lines.
using TraceFn = std::function<void(const std::string& line)>;

struct MeasureOptions {
  Platform platform = Platform::kSnp;
  HostModel host = HostModel::kKvm;  // SNP only
  uint32_t vcpus = 1;                // SNP under kvm only: one VMSA per vCPU
  bool native_zero = false;          // SNP: PAGE_DATA without data as ZERO (3), not NORMAL zeros
  unsigned threads = 0;              // SNP content-hash threads; 0 = hardware concurrency
  // The mapped file the igvm::File's page data are views into, if it is one: SNP's hashing
  // threads (ParallelOptions::source in measure/parallel.h) and TDX and VBS then read the pages
  // with pread instead of through the mapping (base/file.h, MappedFile::readView).
  const MappedFile* source = nullptr;
  TraceFn trace = nullptr;           // optional, one call per measured operation
  // Optional: headers walked of the file's, every 1024 and at the end (a progress line).
  std::function<void(uint64_t done, uint64_t total)> progress = nullptr;
};

struct Measurement {
  std::string platform;           // platformName()
  std::string host;               // "kvm" / "mshv" for snp, "" otherwise
  std::optional<uint32_t> vcpus;  // set when the digest depends on it (snp under kvm)
  ByteVector digest;              // 48 bytes (snp, tdx) or 32 bytes (vbs, sev, sev-es)
  uint64_t pages_measured = 0;    // SNP: LAUNCH_UPDATE pages incl. VMSAs; TDX: PAGE.ADDs;
                                  // VBS: page records; SEV: measured pages and VMSAs
  // Every choice that can change the digest, key -> value (README.md "Assumptions").
  nlohmann::ordered_json assumptions = nlohmann::ordered_json::object();
  // Why a host's loader might refuse the file or measure it differently (lowercase, no prefix).
  std::vector<std::string> warnings;

  // This measurement as a reference-values entry (assumptions and warnings kept in `extra`).
  ReferenceDigest toReferenceDigest() const;
  // A one-measurement document: toReference().toJson() is what `measure --json` prints.
  ReferenceValues toReference() const;
};

// Several measurements (e.g. a vCPU range) as one {"measurements":[...]} document.
ReferenceValues toReference(std::span<const Measurement> measurements);

// The launch measurement of `file` for `options.platform`.
Result<Measurement> measure(const igvm::File& file, const MeasureOptions& options);

// Several measurements of one file in one walk of its headers, fed as a writer lays them out
// (`igvmkit build --measurements` measures the pages it streams into its output without reading
// the file back). Each 4 KiB page's SNP content hash is computed once, on `threads` threads, for
// every SNP target; the results equal measure() of each target over the finished file.
//
//   measure::MeasureStream s({{{.platform = Platform::kSnp, .vcpus = 1}, snp_bit},
//                             {{.platform = Platform::kTdx}, tdx_bit}}, /*threads=*/2);
//   for (const igvm::Header& h : headers_in_file_order) {
//     IGVMKIT_RETURN_IF_ERROR(s.add(h));
//   }                     // advance() or flush() before reusing page data passed to add()
//   IGVMKIT_ASSIGN_OR_RETURN(std::vector<measure::Measurement> all, s.finish());
class MeasureStream {
 public:
  struct Target {
    MeasureOptions options;  // `threads` is ignored: the stream hashes for every target
    uint32_t bit = 0;        // the compatibility-mask bit of options.platform in the file
  };
  // `threads`: content-hash threads, 0 = the hardware concurrency.
  MeasureStream(std::vector<Target> targets, unsigned threads);
  MeasureStream(MeasureStream&&) noexcept;
  MeasureStream& operator=(MeasureStream&&) noexcept;
  ~MeasureStream();

  // The next header in file order (every section). The data of PAGE_DATA headers must stay valid
  // until flush() or finish() (or the second advance() after it); other headers' data is copied
  // when it must be kept. Page content hashes start in the background as batches fill up.
  Status add(const igvm::Header& h);
  // Double buffering: the pages added since the previous advance() start hashing in the
  // background, and the pages added before it are measured, so their data may be reused now. A
  // reader with two buffers calls it before refilling one: hashing the other overlaps the read.
  Status advance();
  // Measures every queued page, after which their data may be reused.
  Status flush();
  // One measurement per target, in target order. Call once.
  Result<std::vector<Measurement>> finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace igvmkit::measure
