// builder/image.h: a manifest laid out as guest memory and initial VP state, per platform, in
// the order the IGVM directives will be written. It is everything build() needs except the IGVM
// encoding: build() turns each Region into PAGE_DATA directives (one per page, the compatibility
// mask from `platforms`), each ParameterArea into PARAMETER_AREA + parameters + PARAMETER_INSERT,
// each RequiredMemory into REQUIRED_MEMORY, and each VpContext into a VP_CONTEXT (or nothing for
// TDX, whose state is the trampoline page among the regions).
//
//   IGVMKIT_ASSIGN_OR_RETURN(Manifest m, parseManifest(text, path, dir));
//   IGVMKIT_ASSIGN_OR_RETURN(Image image, layoutImage(m));   // reads the files m names
//   for (const Region& r : image.regions) { for (const Page& p : r.pages) { ... } }
//
// Order (measurements depend on it, and it is deterministic): regions shared by every platform in
// address order; then per-platform regions (page tables with the SNP C-bit, the SNP zero page and
// cc_blob/secrets/CPUID pages, the TDX trampoline); then [[data]] blobs in manifest order; then
// parameter areas and required memory; VP contexts last (KVM measures the SNP VMSA last).
//
// Error rules: those of the parts (bzimage.*, elf.*, linux.*, x86.*, tdx.*, pages.overlap), plus
// image.placement for components outside RAM or clashing with the builder's layout.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/file.h"
#include "base/status.h"
#include "builder/manifest.h"
#include "builder/pages.h"

namespace igvmkit::builder {

// Where the bytes of a region's pages come from when layoutImage() was asked to leave a [[data]]
// file unread (LayoutOptions::stream_data): page i holds the file's bytes [4096 i, 4096 (i + 1)),
// zero padded, and no bytes (a page of zeros) when they are all zero, exactly as PageSet would
// give them; pages past the file's end are zeros. The file is read while the image is written.
struct PageSource {
  std::shared_ptr<const InputFile> file;  // opened (and its size taken) by layoutImage()
};

// Consecutive pages with the same IGVM page-data attributes.
struct Region {
  std::string what;          // "gdt", "kernel", "data #2", ... (for dumps and errors)
  PlatformList platforms;    // empty = every platform of the manifest
  std::vector<Page> pages;   // 4 KiB, address order; empty bytes = a page of zeros
  bool unmeasured = false;
  bool shared = false;
  PageDataType type = PageDataType::kNormal;
  std::optional<PageSource> source;  // set: `pages` carry no bytes yet (see PageSource)
};

struct VpContext {
  Platform platform;
  uint64_t gpa = 0;        // SNP: the VMSA's GPA; 0 otherwise
  uint16_t vp_index = 0;
  ByteVector bytes;        // VMSA page, native context page or VBS register list
};

// A component the loader may move (RELOCATABLE_REGION) and the page tables it may fix up
// (PAGE_TABLE_RELOCATION), both for the non-confidential platforms (native, vbs) only.
struct RelocatableRange {
  std::string what;  // "payload"
  uint64_t gpa = 0;  // the component's pages
  uint64_t size = 0;
  Relocation relocation;
};
struct PageTableRange {
  uint64_t gpa = 0, size = 0, used_size = 0;  // [gpa, gpa + used_size) holds the tables
};

struct Image {
  std::vector<RelocatableRange> relocatable;
  std::optional<PageTableRange> page_table_region;
  std::vector<Region> regions;
  std::vector<ParameterArea> parameter_areas;  // index = position
  std::vector<RequiredMemory> required_memory;
  std::vector<VpContext> vp_contexts;          // SNP last
  uint64_t entry = 0;                          // RIP of the boot processor (0 for reset mode)
};

// Reads a file the manifest names (tests pass an in-memory map).
using FileReader = std::function<Result<ByteVector>(const std::string& path)>;
FileReader diskReader();

struct LayoutOptions {
  // [[data]] files at page-aligned GPAs are opened and sized, not read: their regions get a
  // PageSource (the streaming build reads them piece by piece). Otherwise every file is read.
  bool stream_data = false;
};

Result<Image> layoutImage(const Manifest& manifest, const FileReader& read = diskReader(),
                          const LayoutOptions& options = {});

}  // namespace igvmkit::builder
