#include "attest/snp.h"

#include <array>
#include <ctime>
#include <filesystem>

#include "attest/internal/crypto.h"
#include "attest/internal/der.h"
#include "attest/internal/hcl_binding.h"
#include "attest/internal/reference_checks.h"
#include "attest/internal/snp_chain.h"
#include "base/file.h"

namespace igvmkit::attest {
namespace {

using internal::X509Ptr;

constexpr const char* kAmdArc = "1.3.6.1.4.1.3704.1.";

std::string optProduct(const std::optional<SnpProduct>& p) { return p ? productName(*p) : "?"; }

std::string firmware(uint8_t major, uint8_t minor, uint8_t build) {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(build);
}

std::string signingKeyName(SnpSigningKey k) {
  switch (k) {
    case SnpSigningKey::kVcek:
      return "VCEK";
    case SnpSigningKey::kVlek:
      return "VLEK";
    case SnpSigningKey::kNone:
      return "none";
    case SnpSigningKey::kReserved:
      return "reserved";
  }
  return "reserved";
}

nlohmann::ordered_json tcbJson(const TcbVersion& t, SnpProduct p) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["raw"] = t.raw;
  if (p == SnpProduct::kTurin) {
    j["fmc"] = t.fmc;
  }
  j["boot_loader"] = t.boot_loader;
  j["tee"] = t.tee;
  j["snp"] = t.snp;
  j["microcode"] = t.microcode;
  return j;
}

void addFields(const ATTESTATION_REPORT& r, std::optional<SnpProduct> product, SnpProduct layout,
               Verdict& v) {
  v.field("version", r.version);
  v.field("product", product ? nlohmann::ordered_json(productName(*product)) : nullptr);
  v.field("signing_key", signingKeyName(signingKey(r)));
  v.field("guest_svn", r.guest_svn);
  v.field("policy", r.policy);
  v.field("debug", (r.policy & kSnpPolicyDebug) != 0);
  v.field("vmpl", r.vmpl);
  v.field("signature_algo", r.signature_algo);
  v.field("platform_info", r.platform_info);
  v.field("key_info", r.key_info);
  v.field("family_id", hexBytes(r.family_id));
  v.field("image_id", hexBytes(r.image_id));
  v.field("report_data", hexBytes(r.report_data));
  v.field("measurement", hexBytes(r.measurement));
  v.field("host_data", hexBytes(r.host_data));
  v.field("id_key_digest", hexBytes(r.id_key_digest));
  v.field("author_key_digest", hexBytes(r.author_key_digest));
  v.field("report_id", hexBytes(r.report_id));
  v.field("report_id_ma", hexBytes(r.report_id_ma));
  v.field("chip_id", hexBytes(r.chip_id));
  if (r.version >= 3) {
    v.field("cpuid_fam_id", r.cpuid_fam_id);
    v.field("cpuid_mod_id", r.cpuid_mod_id);
    v.field("cpuid_step", r.cpuid_step);
  }
  v.field("current_tcb", tcbJson(decodeTcb(r.current_tcb, layout), layout));
  v.field("reported_tcb", tcbJson(decodeTcb(r.reported_tcb, layout), layout));
  v.field("committed_tcb", tcbJson(decodeTcb(r.committed_tcb, layout), layout));
  v.field("launch_tcb", tcbJson(decodeTcb(r.launch_tcb, layout), layout));
  v.field("current_firmware", firmware(r.current_major, r.current_minor, r.current_build));
  v.field("committed_firmware", firmware(r.committed_major, r.committed_minor, r.committed_build));
  if (r.version >= 5) {
    v.field("launch_mit_vector", r.launch_mit_vector);
    v.field("current_mit_vector", r.current_mit_vector);
  }
}

// The report's own fields: version, algorithm, key selection, policy and
// reserved bytes.
void checkReportFormat(const ATTESTATION_REPORT& r, Verdict& v) {
  bool version_ok = r.version == 2 || r.version == 3 || r.version == 5;
  v.add("report.version", version_ok, std::to_string(r.version), "2, 3 or 5");
  v.add("report.signature_algo", r.signature_algo == 1, std::to_string(r.signature_algo),
        "1 (ECDSA P-384 with SHA-384)");
  SnpSigningKey key = signingKey(r);
  v.add("report.signing_key", key == SnpSigningKey::kVcek || key == SnpSigningKey::kVlek,
        signingKeyName(key) + " (key_info " + hex(r.key_info) + ")", "VCEK or VLEK");

  // Bit 17 must be 1; bits 63:26 are reserved (ABI 56860 "Guest Policy").
  constexpr uint64_t kReservedPolicy = ~((1ull << 26) - 1);
  bool policy_ok = (r.policy & kSnpPolicyReservedOne) != 0 && (r.policy & kReservedPolicy) == 0;
  v.add("report.policy", policy_ok, hex(r.policy), "bit 17 set, bits 63:26 clear");

  std::vector<std::string> nonzero;
  auto mbz = [&](const char* name, Bytes b) {
    if (!allZero(b)) {
      nonzero.push_back(name);
    }
  };
  mbz("0x04c", asBytes(r.reserved_04c));
  if ((r.key_info >> 5) != 0) {
    nonzero.push_back("key_info[31:5]");
  }
  mbz("0x18b", asBytes(r.reserved_18b));
  if (r.version < 3) {
    mbz("cpuid (v2)", bytesAt(&r.cpuid_fam_id, 3));
  }
  mbz("0x1eb", asBytes(r.reserved_1eb));
  mbz("0x1ef", asBytes(r.reserved_1ef));
  if (r.version < 5) {
    mbz("mit vectors (before v5)", asBytes(r.launch_mit_vector));
    mbz("mit vectors (before v5)", asBytes(r.current_mit_vector));
  }
  mbz("0x208", asBytes(r.reserved_208));
  std::string list;
  for (const std::string& n : nonzero) {
    list += (list.empty() ? "" : ", ") + n;
  }
  v.add("report.reserved", nonzero.empty(), nonzero.empty() ? "all zero" : "non-zero: " + list,
        "reserved fields zero");

  // Only the low 48 bytes of r and s carry the P-384 values; the rest of the
  // unsigned block is zero. Checking it keeps every byte of a report
  // meaningful.
  bool padding_ok = allZero(bytesAt(r.signature_r + 48, 24)) &&
                    allZero(bytesAt(r.signature_s + 48, 24)) &&
                    allZero(asBytes(r.signature_reserved));
  v.add("report.signature_padding", padding_ok, padding_ok ? "zero" : "non-zero",
        "bytes after r[0:48], s[0:48] zero");
}

Result<std::string> ia5(const ByteVector& value) {
  IGVMKIT_ASSIGN_OR_RETURN(internal::Tlv t, internal::readOnly(value, internal::kDerIa5String));
  return std::string(reinterpret_cast<const char*>(t.value.data()), t.value.size());
}

Result<uint64_t> integer(const ByteVector& value) {
  IGVMKIT_ASSIGN_OR_RETURN(internal::Tlv t, internal::readOnly(value, internal::kDerInteger));
  return internal::integerValue(t.value);
}

// The measurement that matched was signed with an ID block (measure/reference.h): the report
// must show that block's identity, exactly as the firmware copies it in at launch.
void checkIdBlockIdentity(const ATTESTATION_REPORT& r,
                          const measure::ReferenceDigest::IdBlockIdentity& id, Verdict& v) {
  std::vector<std::string> mismatches;
  auto same = [](Bytes a, const ByteVector& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  };
  if (!same(asBytes(r.id_key_digest), id.id_key_digest)) mismatches.push_back("id_key_digest");
  ByteVector no_author(48);
  if (!same(asBytes(r.author_key_digest), id.author_key_digest.value_or(no_author))) {
    mismatches.push_back("author_key_digest");
  }
  if (!same(asBytes(r.family_id), id.family_id)) mismatches.push_back("family_id");
  if (!same(asBytes(r.image_id), id.image_id)) mismatches.push_back("image_id");
  if (r.guest_svn != id.guest_svn) mismatches.push_back("guest_svn");
  if (r.policy != id.guest_policy) mismatches.push_back("guest_policy");
  std::string list;
  for (const std::string& m : mismatches) list += (list.empty() ? "" : ", ") + m;
  v.add("ref.id_block", mismatches.empty(),
        "id_key_digest " + hexBytes(r.id_key_digest) + ", family_id " + hexBytes(r.family_id) +
            ", image_id " + hexBytes(r.image_id) + ", guest_svn " + std::to_string(r.guest_svn) +
            ", policy " + hex(r.policy),
        "id_key_digest " + hexBytes(id.id_key_digest) + ", family_id " + hexBytes(id.family_id) +
            ", image_id " + hexBytes(id.image_id) + ", guest_svn " + std::to_string(id.guest_svn) +
            ", policy " + hex(id.guest_policy),
        mismatches.empty() ? "the matched measurement's ID block" : "mismatch: " + list);
}

void checkReference(const ATTESTATION_REPORT& r, SnpProduct layout,
                    const measure::ReferenceValues& ref, Verdict& v) {
  const measure::ReferenceDigest* matched =
      internal::checkMeasurement("snp", asBytes(r.measurement), ref, v);
  if (matched != nullptr && matched->id_block) {
    checkIdBlockIdentity(r, *matched->id_block, v);
  }
  measure::ReferencePolicy policy = ref.policy.value_or(measure::ReferencePolicy{});
  bool debug = (r.policy & kSnpPolicyDebug) != 0;
  v.add("ref.debug", !debug || policy.debug_allowed, debug ? "debug enabled" : "debug disabled",
        policy.debug_allowed ? "debug allowed" : "debug disabled", "policy " + hex(r.policy));
  if (policy.min_tcb) {
    const measure::MinimumTcb& min = *policy.min_tcb;
    TcbVersion t = decodeTcb(r.reported_tcb, layout);
    bool ok = true;
    std::string want;
    auto cmp = [&](const char* name, const std::optional<uint8_t>& m, uint8_t have) {
      if (!m) {
        return;
      }
      want += (want.empty() ? "" : "/") + std::string(name) + ">=" + std::to_string(*m);
      ok = ok && have >= *m;
    };
    cmp("fmc", min.fmc, t.fmc);
    cmp("bl", min.boot_loader, t.boot_loader);
    cmp("tee", min.tee, t.tee);
    cmp("snp", min.snp, t.snp);
    cmp("ucode", min.microcode, t.microcode);
    v.add("ref.min_tcb", ok, "REPORTED_TCB " + t.describe(layout), want);
  }
  bool migrate_ma = (r.policy & kSnpPolicyMigrateMa) != 0;
  v.add("ref.migrate_ma", !migrate_ma || policy.migrate_ma_allowed,
        migrate_ma ? "migration agent enabled" : "no migration agent",
        policy.migrate_ma_allowed ? "migration agent allowed" : "no migration agent",
        "policy " + hex(r.policy));
  if (policy.smt_allowed && !*policy.smt_allowed) {
    bool smt = (r.policy & kSnpPolicySmt) != 0;
    v.add("ref.smt", !smt, smt ? "SMT allowed by the guest policy" : "SMT disallowed",
          "SMT disallowed", "policy " + hex(r.policy));
  }
  if (policy.vmpl) {
    v.add("ref.vmpl", r.vmpl == *policy.vmpl, std::to_string(r.vmpl), std::to_string(*policy.vmpl));
  }
  if (policy.min_build) {
    v.add("ref.min_build", r.current_build >= *policy.min_build,
          "CURRENT_BUILD " + std::to_string(r.current_build) + " (firmware " +
              firmware(r.current_major, r.current_minor, r.current_build) + ")",
          ">= " + std::to_string(*policy.min_build));
  }
  if (policy.platform_info_required != 0 || policy.platform_info_forbidden != 0) {
    uint64_t missing = policy.platform_info_required & ~r.platform_info;
    uint64_t present = policy.platform_info_forbidden & r.platform_info;
    std::string detail;
    if (missing != 0) detail += "required bits clear: " + hex(missing);
    if (present != 0)
      detail += std::string(detail.empty() ? "" : "; ") + "forbidden bits set: " + hex(present);
    v.add("ref.platform_info", missing == 0 && present == 0, hex(r.platform_info),
          "set " + hex(policy.platform_info_required) + ", clear " +
              hex(policy.platform_info_forbidden),
          detail);
  }
  if (!policy.chip_ids.empty()) {
    bool known = false;
    std::string expected;
    for (const ByteVector& id : policy.chip_ids) {
      known = known || id == ByteVector(asBytes(r.chip_id).begin(), asBytes(r.chip_id).end());
      expected += (expected.empty() ? "" : " or ") + hexBytes(id);
    }
    v.add("ref.chip_id", known, hexBytes(r.chip_id), expected);
  }
  if (policy.guest_svn) {
    v.add("ref.guest_svn", r.guest_svn >= *policy.guest_svn, std::to_string(r.guest_svn),
          ">= " + std::to_string(*policy.guest_svn));
  }
  internal::checkExact("ref.family_id", asBytes(r.family_id), policy.family_id, v);
  internal::checkExact("ref.image_id", asBytes(r.image_id), policy.image_id, v);
  internal::checkExact("ref.id_key_digest", asBytes(r.id_key_digest), policy.id_key_digest, v);
  internal::checkExact("ref.author_key_digest", asBytes(r.author_key_digest),
                       policy.author_key_digest, v);
  internal::checkExact("ref.host_data", asBytes(r.host_data), policy.host_data, v);
  internal::checkReportData(asBytes(r.report_data), policy.report_data, v);
}

std::optional<std::string> readCacheFile(const std::filesystem::path& p) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) {
    return std::nullopt;
  }
  Result<ByteVector> bytes = readFile(p.string());
  if (!bytes.ok()) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

}  // namespace

std::string productName(SnpProduct product) {
  switch (product) {
    case SnpProduct::kMilan:
      return "Milan";
    case SnpProduct::kGenoa:
      return "Genoa";
    case SnpProduct::kTurin:
      return "Turin";
  }
  return "?";
}

SnpSigningKey signingKey(const ATTESTATION_REPORT& report) {
  switch ((report.key_info >> 2) & 7) {
    case 0:
      return SnpSigningKey::kVcek;
    case 1:
      return SnpSigningKey::kVlek;
    case 7:
      return SnpSigningKey::kNone;
    default:
      return SnpSigningKey::kReserved;
  }
}

std::optional<SnpSigningKey> endorsementKeyKind(Bytes der) {
  Result<X509Ptr> cert = internal::parseCertificate(der);
  if (!cert.ok()) {
    return std::nullopt;
  }
  std::string cn = internal::subjectCn(cert->get());
  if (cn == "SEV-VCEK") {
    return SnpSigningKey::kVcek;
  }
  if (cn == "SEV-VLEK") {
    return SnpSigningKey::kVlek;
  }
  return std::nullopt;
}

TcbVersion decodeTcb(uint64_t raw, SnpProduct product) {
  TcbVersion t;
  t.raw = raw;
  auto byte = [raw](int i) { return static_cast<uint8_t>(raw >> (8 * i)); };
  if (product == SnpProduct::kTurin) {
    t.fmc = byte(0);
    t.boot_loader = byte(1);
    t.tee = byte(2);
    t.snp = byte(3);
  } else {
    t.boot_loader = byte(0);
    t.tee = byte(1);
    t.snp = byte(6);
  }
  t.microcode = byte(7);
  return t;
}

std::string TcbVersion::describe(SnpProduct product) const {
  std::string out;
  if (product == SnpProduct::kTurin) {
    out = "fmc" + std::to_string(fmc) + "/";
  }
  return out + "bl" + std::to_string(boot_loader) + "/tee" + std::to_string(tee) + "/snp" +
         std::to_string(snp) + "/ucode" + std::to_string(microcode) + " (" + hex(raw) + ")";
}

Result<ATTESTATION_REPORT> parseSnpReport(Bytes report) {
  if (report.size() != kSnpReportSize) {
    return invalid("report.size",
                   "report is " + hex(report.size()) + " bytes, expected " + hex(kSnpReportSize));
  }
  return readStruct<ATTESTATION_REPORT>(report, 0);
}

std::optional<SnpProduct> productFromCpuid(const ATTESTATION_REPORT& r) {
  if (r.version < 3) {
    return std::nullopt;
  }
  uint8_t model = r.cpuid_mod_id;
  if (r.cpuid_fam_id == 0x19) {
    if (model <= 0x0F) {
      return SnpProduct::kMilan;
    }
    if ((model >= 0x10 && model <= 0x1F) || (model >= 0xA0 && model <= 0xAF)) {
      return SnpProduct::kGenoa;
    }
  }
  if (r.cpuid_fam_id == 0x1A && model <= 0x11) {
    return SnpProduct::kTurin;
  }
  return std::nullopt;
}

Result<AmdCertExtensions> parseAmdExtensions(
    const std::vector<std::pair<std::string, ByteVector>>& extensions) {
  AmdCertExtensions out;
  for (const auto& entry : extensions) {
    const std::string& oid = entry.first;
    const ByteVector& value = entry.second;
    if (oid.rfind(kAmdArc, 0) != 0) {
      continue;
    }
    std::string leaf = oid.substr(std::string(kAmdArc).size());
    auto need = [&](std::optional<uint64_t>& slot) -> Status {
      Result<uint64_t> n = integer(value);
      if (!n.ok()) {
        return invalid("vek.extension", "extension " + oid + ": " + n.error().message);
      }
      slot = *n;
      return okStatus();
    };
    if (leaf == "1") {
      IGVMKIT_RETURN_IF_ERROR(need(out.struct_version));
    } else if (leaf == "2" || leaf == "5") {
      Result<std::string> s = ia5(value);
      if (!s.ok()) {
        return invalid("vek.extension", "extension " + oid + ": " + s.error().message);
      }
      (leaf == "2" ? out.product_name : out.csp_id) = *s;
    } else if (leaf == "3.1") {
      IGVMKIT_RETURN_IF_ERROR(need(out.bl_spl));
    } else if (leaf == "3.2") {
      IGVMKIT_RETURN_IF_ERROR(need(out.tee_spl));
    } else if (leaf == "3.3") {
      IGVMKIT_RETURN_IF_ERROR(need(out.snp_spl));
    } else if (leaf == "3.8") {
      IGVMKIT_RETURN_IF_ERROR(need(out.ucode_spl));
    } else if (leaf == "3.9") {
      IGVMKIT_RETURN_IF_ERROR(need(out.fmc_spl));
    } else if (leaf == "4") {
      // hwID is stored as raw bytes without a DER tag (64 bytes, Turin 8);
      // accept an OCTET STRING wrapper too, but only when it spans exactly the
      // whole value.
      ByteVector hwid = value;
      if ((value.size() == 66 || value.size() == 10) &&
          static_cast<uint8_t>(value[0]) == internal::kDerOctetString &&
          static_cast<size_t>(value[1]) == value.size() - 2) {
        hwid.assign(value.begin() + 2, value.end());
      }
      out.hwid = hwid;
    }
  }
  return out;
}

Result<Verdict> verifySnpReport(const SnpEvidence& evidence,
                                const measure::ReferenceValues* reference) {
  std::optional<HclReport> hcl;
  Bytes report_bytes = evidence.report;
  if (report_bytes.size() != kSnpReportSize && isHclReport(report_bytes)) {
    IGVMKIT_ASSIGN_OR_RETURN(hcl, parseHclReport(report_bytes));
    report_bytes = hcl->hardware_report;
  }
  IGVMKIT_ASSIGN_OR_RETURN(ATTESTATION_REPORT r, parseSnpReport(report_bytes));
  int64_t at = evidence.at ? *evidence.at : static_cast<int64_t>(std::time(nullptr));
  IGVMKIT_ASSIGN_OR_RETURN(internal::Chain chain,
                           internal::classifyChain(evidence.certificates, signingKey(r)));

  // Which product this is: the report's CPUID (v3+) and every certificate name
  // must agree.
  std::optional<SnpProduct> from_report = productFromCpuid(r);
  std::optional<SnpProduct> from_vek =
      chain.vek ? internal::productFromName(chain.vek->issuer_cn) : std::nullopt;
  std::optional<SnpProduct> from_ask =
      chain.ask ? internal::productFromName(chain.ask->subject_cn) : std::nullopt;
  std::optional<SnpProduct> from_ark =
      chain.ark ? internal::productFromName(chain.ark->subject_cn) : std::nullopt;
  // The VCEK/VLEK's productName extension ("Milan-B0", "Genoa", "Turin") must
  // agree as well.
  std::optional<SnpProduct> from_ext;
  std::string ext_name;
  if (chain.vek != nullptr) {
    Result<AmdCertExtensions> ext = parseAmdExtensions(internal::extensions(chain.vek->x509.get()));
    if (ext.ok() && ext->product_name) {
      ext_name = *ext->product_name;
      from_ext = internal::productFromName(ext_name);
    }
  }
  std::optional<SnpProduct> product = from_report ? from_report : from_vek ? from_vek : from_ask;
  SnpProduct layout = product.value_or(SnpProduct::kMilan);

  Verdict v;
  v.platform = "snp";
  addFields(r, product, layout, v);
  v.field("verified_at", formatUtcTime(at));
  checkReportFormat(r, v);

  bool agree = product.has_value();
  for (const auto& p : {from_vek, from_ext, from_ask, from_ark}) {
    agree = agree && (!p || p == product);
  }
  if (!ext_name.empty() && !from_ext) {
    agree = false;  // a productName this verifier does not know
  }
  std::string sources = "report " + (r.version >= 3 ? optProduct(from_report) : "v2 (unnamed)");
  if (chain.vek) sources += ", " + chain.vek->subject_cn + " issuer " + chain.vek->issuer_cn;
  if (!ext_name.empty()) sources += " productName " + ext_name;
  if (chain.ask) sources += ", " + chain.ask->subject_cn;
  if (chain.ark) sources += ", " + chain.ark->subject_cn;
  v.add(
      "product", agree, sources,
      product ? productName(*product) + " throughout" : "a known product",
      chain.ignored.empty() ? "" : "ignored certificates: " + [&] {
        std::string s;
        for (const std::string& n : chain.ignored) s += (s.empty() ? "" : ", ") + n;
        return s;
      }());

  if (evidence.chain_cache == nullptr) {
    internal::checkChain(r, chain, product, at, v);
    internal::checkCrls(evidence.crls, chain, at, v);
  } else {
    std::vector<Check> checks =
        evidence.chain_cache->get(internal::chainKey(r, chain, product, at, evidence.crls), [&] {
          Verdict scratch;
          internal::checkChain(r, chain, product, at, scratch);
          internal::checkCrls(evidence.crls, chain, at, scratch);
          return scratch.checks;
        });
    v.checks.insert(v.checks.end(), checks.begin(), checks.end());
  }
  if (chain.vek != nullptr) {
    internal::checkVekBinding(r, layout, chain.vek->x509.get(), chain.vek->subject_cn == "SEV-VLEK",
                              v);
  } else {
    v.add("vek.tcb", false, "no VCEK/VLEK certificate given");
  }
  internal::checkSignature(report_bytes, r, chain, v);
  if (hcl) {
    internal::checkHclBinding(*hcl, r, v);
  }
  if (reference != nullptr) {
    checkReference(r, layout, *reference, v);
  }
  return v;
}

std::string kdsVcekPath(const ATTESTATION_REPORT& report, SnpProduct product, bool padded_spls) {
  TcbVersion t = decodeTcb(report.reported_tcb, product);
  bool turin = product == SnpProduct::kTurin;
  auto spl = [padded_spls](uint8_t v) {
    std::string s = std::to_string(v);
    return padded_spls && s.size() < 2 ? "0" + s : s;
  };
  std::string path = "vcek/v1/" + productName(product) + "/" +
                     hexBytes(bytesAt(report.chip_id, turin ? 8 : sizeof(report.chip_id))) + "?";
  if (turin) {
    path += "fmcSPL=" + spl(t.fmc) + "&";
  }
  return path + "blSPL=" + spl(t.boot_loader) + "&teeSPL=" + spl(t.tee) + "&snpSPL=" +
         spl(t.snp) + "&ucodeSPL=" + spl(t.microcode);
}

Result<std::vector<ByteVector>> loadSnpCertCache(const std::string& dir,
                                                 const ATTESTATION_REPORT& report) {
  std::vector<ByteVector> out;
  std::vector<SnpProduct> products;
  if (std::optional<SnpProduct> p = productFromCpuid(report)) {
    products.push_back(*p);
  } else {
    products = {SnpProduct::kMilan, SnpProduct::kGenoa, SnpProduct::kTurin};
  }
  bool vlek = signingKey(report) == SnpSigningKey::kVlek;
  auto add = [&](const std::string& text) -> Status {
    IGVMKIT_ASSIGN_OR_RETURN(std::vector<ByteVector> certs, splitCertificates(toBytes(text)));
    for (ByteVector& c : certs) {
      out.push_back(std::move(c));
    }
    return okStatus();
  };
  for (SnpProduct p : products) {
    std::filesystem::path base =
        std::filesystem::path(dir) / (vlek ? "vlek" : "vcek") / "v1" / productName(p);
    if (std::optional<std::string> chain = readCacheFile(base / "cert_chain")) {
      IGVMKIT_RETURN_IF_ERROR(add(*chain));
    }
    if (vlek) {
      continue;  // VLEKs are not fetched per chip; the host hands them out
    }
    bool turin = p == SnpProduct::kTurin;
    std::string hwid = hexBytes(bytesAt(report.chip_id, turin ? 8 : 64));
    std::vector<std::filesystem::path> names = {std::filesystem::path(dir) / kdsVcekPath(report, p),
                                                std::filesystem::path(dir) /
                                                    kdsVcekPath(report, p, false),
                                                base / hwid};
    for (const std::filesystem::path& name : names) {
      if (std::optional<std::string> vcek = readCacheFile(name)) {
        IGVMKIT_RETURN_IF_ERROR(add(*vcek));
        break;
      }
    }
  }
  return out;
}

}  // namespace igvmkit::attest
