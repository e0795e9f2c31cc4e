#include "measure/snp.h"

#include <charconv>
#include <cstring>
#include <vector>

#include "measure/internal/hash.h"

namespace igvmkit::measure {

static_assert(std::is_trivially_copyable_v<SNP_PAGE_INFO>);

Result<SnpPageType> decodeSnpPageType(uint8_t raw) {
  // Only the six launch-update types exist (§1.3); anything else would measure nonsense.
  if (raw < 0x01 || raw > 0x06) {
    return invalid("snp.page_type", "snp page type " + hex(raw) + " is not one of 0x1..0x6");
  }
  return static_cast<SnpPageType>(raw);
}

const char* snpPageTypeName(SnpPageType type) {
  switch (type) {
    case SnpPageType::kNormal:
      return "normal";
    case SnpPageType::kVmsa:
      return "vmsa";
    case SnpPageType::kZero:
      return "zero";
    case SnpPageType::kUnmeasured:
      return "unmeasured";
    case SnpPageType::kSecrets:
      return "secrets";
    case SnpPageType::kCpuid:
      return "cpuid";
  }
  return "unknown";
}

bool snpPageTypeHasContents(SnpPageType type) {
  return type == SnpPageType::kNormal || type == SnpPageType::kVmsa;
}

SNP_PAGE_INFO makeSnpPageInfo(const Sha384Digest& digest_cur, const Sha384Digest& contents_digest,
                              SnpPageType type, uint64_t gpa) {
  SNP_PAGE_INFO info;
  std::memset(&info, 0, sizeof(info));
  std::memcpy(info.digest_cur, digest_cur.data(), digest_cur.size());
  std::memcpy(info.contents, contents_digest.data(), contents_digest.size());
  info.length = sizeof(SNP_PAGE_INFO);
  info.page_type = static_cast<uint8_t>(type);
  info.gpa = gpa;
  return info;
}

std::string formatSnpTrace(const SnpTraceRecord& record) {
  std::string contents =
      snpPageTypeHasContents(record.type) ? hexDigest(record.contents) : std::string("zero");
  return std::to_string(record.index) + " " + snpPageTypeName(record.type) +
         " gpa=" + hex(record.gpa) + " contents=" + contents +
         " digest=" + hexDigest(record.digest);
}

Result<SnpTraceRecord> parseSnpTrace(std::string_view line) {
  auto bad = [&] {
    return invalid("snp.trace", "not a trace line \"" + std::string(line.substr(0, 60)) + "\"");
  };
  // Five space-separated fields: index, type, gpa=, contents=, digest=.
  std::vector<std::string_view> f;
  while (!line.empty()) {
    const size_t sp = line.find(' ');
    f.push_back(line.substr(0, sp));
    line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  }
  if (f.size() != 5 || !f[2].starts_with("gpa=0x") || !f[3].starts_with("contents=") ||
      !f[4].starts_with("digest=")) {
    return bad();
  }
  SnpTraceRecord r;
  auto [p, ec] = std::from_chars(f[0].data(), f[0].data() + f[0].size(), r.index);
  if (ec != std::errc() || p != f[0].data() + f[0].size()) {
    return bad();
  }
  bool known = false;
  for (uint8_t t = 1; t <= 6; ++t) {
    if (f[1] == snpPageTypeName(static_cast<SnpPageType>(t))) {
      r.type = static_cast<SnpPageType>(t);
      known = true;
    }
  }
  const std::string_view gpa = f[2].substr(6);
  auto [gp, gec] = std::from_chars(gpa.data(), gpa.data() + gpa.size(), r.gpa, 16);
  if (!known || gpa.empty() || gec != std::errc() || gp != gpa.data() + gpa.size()) {
    return bad();
  }
  const std::string_view contents = f[3].substr(9);
  if (contents != "zero") {
    IGVMKIT_ASSIGN_OR_RETURN(r.contents, parseDigest<48>(contents, "snp.trace"));
  }
  IGVMKIT_ASSIGN_OR_RETURN(r.digest, parseDigest<48>(f[4].substr(7), "snp.trace"));
  return r;
}

Status SnpLaunchDigest::addPage(uint64_t gpa, SnpPageType type, Bytes contents) {
  Sha384Digest contents_digest{};
  if (snpPageTypeHasContents(type)) {
    IGVMKIT_ASSIGN_OR_RETURN(contents_digest, sha384Page(contents));
  }
  return addPageWithContentsDigest(gpa, type, contents_digest);
}

Status SnpLaunchDigest::addPageWithContentsDigest(uint64_t gpa, SnpPageType type,
                                                  const Sha384Digest& contents_digest) {
  // LAUNCH_UPDATE works on whole pages; the GPA field has its low 12 bits clear (§1.4).
  if (gpa % kPageSize != 0) {
    return invalid("snp.gpa_alignment", "gpa " + hex(gpa) + " is not 4 KiB aligned");
  }
  // SNP guest physical addresses have at most 52 bits; a larger one cannot be a page of the guest.
  if (gpa >= kSnpMaxGpa) {
    return invalid("snp.gpa_range",
                   "gpa " + hex(gpa) + " is beyond the 52-bit physical address space");
  }
  // The type is an enum class, but a caller can still cast a bad raw value into it.
  IGVMKIT_RETURN_IF_ERROR(decodeSnpPageType(static_cast<uint8_t>(type)).status());
  // Types other than NORMAL and VMSA carry 48 zero bytes (§1.3); anything else is a caller bug
  // that would silently change LD.
  if (!snpPageTypeHasContents(type) && !allZero(Bytes(contents_digest))) {
    return invalid("snp.contents_not_zero", std::string("a ") + snpPageTypeName(type) +
                                                " page at gpa " + hex(gpa) +
                                                " must have a zero contents digest");
  }
  SNP_PAGE_INFO info = makeSnpPageInfo(ld_, contents_digest, type, gpa);
  IGVMKIT_ASSIGN_OR_RETURN(ld_, sha384(asBytes(info)));
  if (trace_) {
    trace_(SnpTraceRecord{pages_, type, gpa, contents_digest, ld_});
  }
  ++pages_;
  return okStatus();
}

}  // namespace igvmkit::measure
