// builder/build.h: a manifest assembled into IGVM file bytes (the `igvmkit build` library).
//
// build() lays the manifest out (layoutImage(), image.h) and encodes it with //igvm's writer:
//
//   SUPPORTED_PLATFORM  one per [platform.*], compatibility bits in the fixed order native 0x1,
//                       snp 0x2, tdx 0x4, vbs 0x8 (bits of absent platforms are skipped, so a
//                       snp+tdx file uses 0x1 and 0x2)
//   GUEST_POLICY        SNP (its policy) and TDX (TdxSettings::policy())
//   PAGE_DATA           one per 4 KiB page of every Region, in Image order; a region shared by
//                       several platforms is written once with the OR of their bits, so identical
//                       pages are stored once; per-platform regions carry their own bits
//   PARAMETER_AREA      + one parameter directive per value + PARAMETER_INSERT, per area
//   REQUIRED_MEMORY     every platform's bits
//   VP_CONTEXT          native x64 context, VBS register list, SNP VMSA (last); none for TDX,
//                       whose state is the reset trampoline page
//
// Nothing depends on time or on host paths: the same manifest and input files give the same
// bytes. The output has passed igvm::File::parse() (igvm::write validates what it writes).
//
//   IGVMKIT_ASSIGN_OR_RETURN(builder::Manifest m, builder::parseManifest(text, path, dir));
//   IGVMKIT_ASSIGN_OR_RETURN(builder::BuildOutput out, builder::build(m));
//   IGVMKIT_RETURN_IF_ERROR(writeFile(out_path, out.igvm));
//
// Error rules: those of layoutImage(), and the igvm writer's ("write.*" / parser rules) should
// the assembled model be refused (a builder bug).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/file.h"
#include "base/status.h"
#include "builder/image.h"
#include "builder/manifest.h"
#include "measure/reference.h"

namespace igvmkit::builder {

// The compatibility-mask bit build() gives `p` in a file for `platforms` (Manifest::platforms()),
// 0 when `p` is not among them.
uint32_t compatibilityBit(const PlatformList& platforms, Platform p);

// How build() signs an SNP ID block; the manifest names the keys ([platform.snp.id_block]).
struct SigningOptions {
  // An earlier build's file (`build --reuse-signature OLD.igvm`): its ID-block signatures are kept
  // when they were made by the same keys over exactly the same block (launch digest, family and
  // image id, SVN, policy), so a rebuild is byte-identical; otherwise the keys sign anew.
  std::optional<ByteVector> reuse_from;
  std::chrono::milliseconds signer_timeout{60'000};  // exec: signers (sign/signer.h)
};

struct BuildOutput {
  ByteVector igvm;                      // the IGVM file (format version 1)
  PlatformList platforms;               // in file order (= compatibility bit order)
  std::vector<uint32_t> masks;          // masks[i] = the bit of platforms[i]
  uint64_t page_data_directives = 0;    // PAGE_DATA headers written
  bool reused_signature = false;        // the ID block kept SigningOptions::reuse_from's signatures
};

Result<BuildOutput> build(const Manifest& manifest, const FileReader& read = diskReader(),
                          const SigningOptions& signing = {});

// The streaming build (`igvmkit build` into a file): the same bytes build() gives, written into
// `output` (a seekable OutputFile, i.e. a temp file of OutputFiles) in one pass. [[data]] files
// are read 1 MiB at a time into two buffers, never whole; each page goes to the output and, with
// `measure`, to every measurement measureBuilt() computes, from the same bytes
// (measure::MeasureStream: one SNP content hash per page for all SNP entries, on `threads`
// threads, 0 = the hardware's, hashing one buffer while the other is read). The output is then parsed in place with the writer's rules
// (igvm::File::parse over the mapped output reads the headers, not the page data). Memory: the
// headers plus two 1 MiB buffers. A [[data]] file whose size or time changes while it is read is
// "io.changed" (nothing is committed). Not for manifests with an SNP ID block (signed over the
// finished file: build()) or an output that is not seekable (stdout, a pipe).
struct StreamOptions {
  bool measure = false;
  unsigned threads = 0;
  // Called after each read of a [[data]] file: bytes read so far of all of them (igvmkit build's
  // progress line, base/progress.h).
  std::function<void(uint64_t done, uint64_t total)> progress = nullptr;
};
struct StreamedBuild {
  BuildOutput summary;  // `igvm` stays empty: the file is in the output
  uint64_t size = 0;    // bytes written
  std::optional<measure::ReferenceValues> measurements;  // with StreamOptions::measure
};
Result<StreamedBuild> buildTo(const Manifest& manifest, OutputFile& output,
                              const StreamOptions& options = {});

// The launch measurements of a built file (`igvmkit build --measurements`), as the
// {"measurements":[...]} document measure::ReferenceValues::fromJson reads, each entry what
// `igvmkit measure --json` prints: SNP under kvm for 1..snp.vcpus vCPUs (an SNP [firmware]
// launch, one VMSA per vCPU: snp.vcpus only), then SNP under mshv;
// TDX (MRTD); VBS. Native has no measurement. Errors: measure's rules.
Result<measure::ReferenceValues> measureBuilt(const Manifest& manifest, Bytes igvm);

}  // namespace igvmkit::builder
