// measure/snp.h: the AMD SEV-SNP launch digest (GCTX.LD), shared/reference/measurement.md §1.
//
// LD starts as 48 zero bytes. Every 4 KiB page SNP_LAUNCH_UPDATE processes replaces it with
// SHA-384(PAGE_INFO), where PAGE_INFO (0x70 bytes) holds the previous LD, the page's contents
// digest (SHA-384 of the page for NORMAL and VMSA pages, zero otherwise), its type and its GPA.
// Nothing else (policy, ID block, vCPU count except through VMSA pages) enters the digest. The
// final LD is the attestation report's MEASUREMENT and the value an ID block must carry.
//
// This class knows nothing about IGVM headers: the front end maps each directive to pages (which
// type, which GPA, which order; measurement.md §1.6 and cli-contract.md "measure details").
//
//   measure::SnpLaunchDigest ld;
//   ld.setTrace([](const measure::SnpTraceRecord& r) { std::cout << formatSnpTrace(r) << '\n'; });
//   IGVMKIT_RETURN_IF_ERROR(ld.addPage(0x0, SnpPageType::kNormal, page_bytes));
//   IGVMKIT_RETURN_IF_ERROR(ld.addPage(0x1000, SnpPageType::kUnmeasured, {}));
//   IGVMKIT_RETURN_IF_ERROR(ld.addPage(kKvmVmsaGpa, SnpPageType::kVmsa, vmsa_page));
//   std::string text = hexDigest(ld.digest());
//
// Many pages: measure/parallel.h hashes contents on several threads and feeds this chain.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "measure/digest.h"

namespace igvmkit::measure {

// One past the largest SNP guest physical address (52 bits).
inline constexpr uint64_t kSnpMaxGpa = uint64_t{1} << 52;

// SNP_LAUNCH_UPDATE page types (measurement.md §1.3).
enum class SnpPageType : uint8_t {
  kNormal = 0x01,      // CONTENTS = SHA-384 of the 4 KiB plaintext page
  kVmsa = 0x02,        // CONTENTS = SHA-384 of the 4 KiB VMSA page
  kZero = 0x03,        // CONTENTS = 0: the firmware zeroes the page
  kUnmeasured = 0x04,  // CONTENTS = 0: contents not measured
  kSecrets = 0x05,     // CONTENTS = 0: the firmware fills the page
  kCpuid = 0x06,       // CONTENTS = 0: the firmware validates the host's table
};

// The raw code as a type, or "snp.page_type" for codes outside 1..6.
Result<SnpPageType> decodeSnpPageType(uint8_t raw);

// "normal", "vmsa", "zero", "unmeasured", "secrets", "cpuid" (the --trace spelling).
const char* snpPageTypeName(SnpPageType type);

// True for NORMAL and VMSA, whose CONTENTS field is the page's SHA-384; the others carry zero.
bool snpPageTypeHasContents(SnpPageType type);

// PAGE_INFO as SNP_LAUNCH_UPDATE hashes it (measurement.md §1.2), little endian, 0x70 bytes.
// Bytes 0x64..0x67 follow sev-snp-measure / virtee's order (VMPL3, VMPL2, VMPL1, reserved); the
// order is UNCONFIRMED against the AMD spec, but every IGVM tool writes zeros there, as we do.
struct [[gnu::packed]] SNP_PAGE_INFO {
  std::byte digest_cur[48];  // LD before this page
  std::byte contents[48];    // see SnpPageType
  uint16_t length;           // 0x70
  uint8_t page_type;         // SnpPageType
  uint8_t imi_page;          // bit 0: incoming-migration image page; always 0 here
  uint8_t vmpl3_perms;       // 0 (IGVM has no field for VMPL permissions)
  uint8_t vmpl2_perms;       // 0
  uint8_t vmpl1_perms;       // 0
  uint8_t reserved;          // 0
  uint64_t gpa;              // page-aligned guest physical address, no C-bit (§1.4)
};
static_assert(sizeof(SNP_PAGE_INFO) == 0x70);
static_assert(offsetof(SNP_PAGE_INFO, digest_cur) == 0x00);
static_assert(offsetof(SNP_PAGE_INFO, contents) == 0x30);
static_assert(offsetof(SNP_PAGE_INFO, length) == 0x60);
static_assert(offsetof(SNP_PAGE_INFO, page_type) == 0x62);
static_assert(offsetof(SNP_PAGE_INFO, imi_page) == 0x63);
static_assert(offsetof(SNP_PAGE_INFO, vmpl3_perms) == 0x64);
static_assert(offsetof(SNP_PAGE_INFO, reserved) == 0x67);
static_assert(offsetof(SNP_PAGE_INFO, gpa) == 0x68);

// The PAGE_INFO for one page (contents_digest must already be zero for types without contents).
SNP_PAGE_INFO makeSnpPageInfo(const Sha384Digest& digest_cur, const Sha384Digest& contents_digest,
                              SnpPageType type, uint64_t gpa);

// One measured page, reported after the chain has advanced.
struct SnpTraceRecord {
  uint64_t index = 0;  // 0-based position in the chain
  SnpPageType type = SnpPageType::kNormal;
  uint64_t gpa = 0;
  Sha384Digest contents{};  // the CONTENTS field: zero for types without contents
  Sha384Digest digest{};    // the running LD after this page
};
using SnpTraceFn = std::function<void(const SnpTraceRecord&)>;

// cli-contract.md's --trace line:
// "<index> <page-type> gpa=0x<hex> contents=<96 hex|zero> digest=<96 hex>".
std::string formatSnpTrace(const SnpTraceRecord& record);
// The inverse of formatSnpTrace() (for tools that read a saved trace); "snp.trace" for a line that
// is not one.
Result<SnpTraceRecord> parseSnpTrace(std::string_view line);

class SnpLaunchDigest {
 public:
  // LD0 = 48 zero bytes (SNP_LAUNCH_START).
  SnpLaunchDigest() = default;
  // Resumes from a known intermediate LD (as sev-snp-measure's --snp-ovmf-hash does).
  explicit SnpLaunchDigest(const Sha384Digest& seed) : ld_(seed) {}

  // Called once per page, in chain order, after the page is folded in.
  void setTrace(SnpTraceFn trace) { trace_ = std::move(trace); }

  // Measures one 4 KiB page. For NORMAL and VMSA, `contents` is the page's first bytes (at most
  // 4096; the rest of the page is zero, so empty contents measure the zero page). For the other
  // types the contents are not measured and are ignored (a CPUID page's host table does not
  // change LD). Errors: "snp.gpa_alignment" for a GPA not 4 KiB aligned, "snp.gpa_range" for one
  // at or above kSnpMaxGpa, "page.too_large".
  Status addPage(uint64_t gpa, SnpPageType type, Bytes contents);

  // The same with the contents digest already computed (measure/parallel.h computes them on
  // worker threads). For types without contents the digest must be zero ("snp.contents_not_zero").
  Status addPageWithContentsDigest(uint64_t gpa, SnpPageType type,
                                   const Sha384Digest& contents_digest);

  // The current LD: after the last page, the launch digest.
  const Sha384Digest& digest() const { return ld_; }
  // Pages folded in so far.
  uint64_t pageCount() const { return pages_; }

 private:
  Sha384Digest ld_{};
  uint64_t pages_ = 0;
  SnpTraceFn trace_;
};

}  // namespace igvmkit::measure
