#include "attest/tdx.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "attest/internal/crypto.h"
#include "attest/internal/der.h"
#include "attest/internal/json_span.h"
#include "attest/internal/reference_checks.h"

namespace igvmkit::attest {
namespace {

using internal::CrlPtr;
using internal::X509Ptr;
using Json = nlohmann::ordered_json;

// The Intel SGX Root CA (CN=Intel SGX Root CA, valid to 2049), pinned by the SHA-256 of its DER
// encoding; every PCK chain and collateral signing chain must end in it.
constexpr const char* kIntelRootSha256 =
    "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";
constexpr uint8_t kIntelQeVendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                        0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
constexpr const char* kSgxExtensionOid = "1.2.840.113741.1.13.1";
constexpr uint16_t kTdxBody10 = 2;
constexpr uint16_t kTdxBody15 = 3;


Location offsetLocation(uint64_t offset) {
  Location where;
  where.offset = offset;
  return where;
}

Error bad(const std::string& rule, const std::string& message, uint64_t offset) {
  return invalid(rule, message, offsetLocation(offset));
}

template <class T>
Result<T> read(Bytes b, uint64_t off) {
  Result<T> v = readStruct<T>(b, off);
  if (!v.ok()) {
    return bad("quote.truncated", "quote ends before offset " + hex(off + sizeof(T)), off);
  }
  return v;
}

Result<Bytes> take(Bytes b, uint64_t off, uint64_t n, const char* what) {
  Result<Bytes> v = slice(b, off, n);
  if (!v.ok()) {
    return bad("quote.truncated",
               std::string(what) + " (" + hex(n) + " bytes at " + hex(off) + ") runs past the end",
               off);
  }
  return v;
}

std::string upper(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

struct PckChain {
  std::vector<X509Ptr> certs;  // leaf first, as carried in the quote
};

Result<PckChain> splitPckChain(Bytes pem) {
  while (!pem.empty() && pem.back() == std::byte{0}) {
    pem = pem.subspan(0, pem.size() - 1);
  }
  Result<std::vector<ByteVector>> ders = splitCertificates(pem);
  if (!ders.ok()) {
    return invalid("quote.pck_chain", "PCK chain: " + ders.error().message);
  }
  PckChain chain;
  for (const ByteVector& der : *ders) {
    IGVMKIT_ASSIGN_OR_RETURN(X509Ptr c, internal::parseCertificate(der));
    chain.certs.push_back(std::move(c));
  }
  return chain;
}

std::string fingerprint(X509* cert) {
  return hexBytes(internal::sha256(internal::certificateDer(cert)));
}

bool selfIssued(X509* c) {
  return X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(c)) == 0;
}

// Verifies a signer chain (leaf first, root optional) to the trust anchor.
std::optional<std::string> verifyChainTo(const std::vector<X509Ptr>& chain, X509* anchor,
                                         int64_t at) {
  if (chain.empty()) {
    return "empty chain";
  }
  if (anchor == nullptr) {
    return "no trusted root";
  }
  std::vector<X509*> intermediates;
  for (size_t i = 1; i < chain.size(); ++i) {
    if (!selfIssued(chain[i].get())) {
      intermediates.push_back(chain[i].get());
    } else if (X509_cmp(chain[i].get(), anchor) != 0) {
      return "chain ends in " + internal::subjectCn(chain[i].get()) + " " +
             fingerprint(chain[i].get()) + ", not the trusted root";
    }
  }
  return internal::verifyPath(chain[0].get(), intermediates, anchor, at, {});
}

void addFields(const TdxQuote& q, Verdict& v) {
  v.field("version", q.header.version);
  v.field("attestation_key_type", q.header.attestation_key_type);
  v.field("tee_type", q.header.tee_type);
  v.field("qe_vendor_id", hexBytes(q.header.qe_vendor_id));
  v.field("body_type", q.body_type);
  v.field("body_size", q.body_size);
  const TD_REPORT_BODY& b = q.body;
  v.field("tee_tcb_svn", hexBytes(b.tee_tcb_svn));
  v.field("mr_seam", hexBytes(b.mr_seam));
  v.field("mr_signer_seam", hexBytes(b.mr_signer_seam));
  v.field("seam_attributes", hexBytes(asBytes(b.seam_attributes)));
  v.field("td_attributes", hexBytes(asBytes(b.td_attributes)));
  v.field("debug", (b.td_attributes & kTdAttributesDebug) != 0);
  v.field("xfam", hexBytes(asBytes(b.xfam)));
  v.field("mr_td", hexBytes(b.mr_td));
  v.field("mr_config_id", hexBytes(b.mr_config_id));
  v.field("mr_owner", hexBytes(b.mr_owner));
  v.field("mr_owner_config", hexBytes(b.mr_owner_config));
  for (int i = 0; i < 4; ++i) {
    v.field("rtmr" + std::to_string(i), hexBytes(bytesAt(b.rtmr[i], 48)));
  }
  v.field("report_data", hexBytes(b.report_data));
  if (q.body_15) {
    v.field("tee_tcb_svn_2", hexBytes(q.body_15->tee_tcb_svn_2));
    v.field("mr_service_td", hexBytes(q.body_15->mr_service_td));
  }
  v.field("quote_size", q.size);
  v.field("qe_mr_enclave", hexBytes(q.qe_report.mr_enclave));
  v.field("qe_mr_signer", hexBytes(q.qe_report.mr_signer));
  v.field("qe_isv_prod_id", q.qe_report.isv_prod_id);
  v.field("qe_isv_svn", q.qe_report.isv_svn);
  v.field("qe_auth_data_size", q.qe_auth_data.size());
  v.field("certification_type", q.certification_type);
  v.field("pck_certification_type", q.pck_certification_type);
}

// Exception-free JSON accessors: collateral is untrusted, and nlohmann's value()/operator[]
// throw (or assert) on a type mismatch. Missing or mistyped members read as absent.
const Json* member(const Json& obj, const std::string& key) {
  if (!obj.is_object()) {
    return nullptr;
  }
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string str(const Json& obj, const std::string& key, const std::string& fallback = "") {
  const Json* m = member(obj, key);
  return m != nullptr && m->is_string() ? m->get<std::string>() : fallback;
}

std::optional<int64_t> integer(const Json& obj, const std::string& key) {
  const Json* m = member(obj, key);
  if (m == nullptr) {
    return std::nullopt;
  }
  if (m->is_number_unsigned()) {
    uint64_t v = m->get<uint64_t>();
    return v > static_cast<uint64_t>(INT64_MAX) ? std::nullopt : std::optional<int64_t>(v);
  }
  if (m->is_number_integer()) {
    return m->get<int64_t>();
  }
  return std::nullopt;
}

const Json* array(const Json& obj, const std::string& key) {
  const Json* m = member(obj, key);
  return m != nullptr && m->is_array() ? m : nullptr;
}

// --- collateral ---------------------------------------------------------------------------

struct SignedJson {
  std::string body;          // the exact signed text
  std::string signature_hex; // r||s
  std::vector<X509Ptr> signer_chain;
};

Result<std::vector<X509Ptr>> certsFromPem(const std::string& pem, const std::string& what) {
  Result<std::vector<ByteVector>> ders = splitCertificates(toBytes(pem));
  if (!ders.ok()) {
    return invalid("collateral.chain", what + ": " + ders.error().message);
  }
  std::vector<X509Ptr> out;
  for (const ByteVector& d : *ders) {
    IGVMKIT_ASSIGN_OR_RETURN(X509Ptr c, internal::parseCertificate(d));
    out.push_back(std::move(c));
  }
  return out;
}

void checkSignedJson(const std::string& name, const SignedJson& s, X509* anchor, int64_t at,
                     Verdict& v) {
  std::optional<std::string> chain_why = verifyChainTo(s.signer_chain, anchor, at);
  std::string signer = s.signer_chain.empty() ? "no signer certificate"
                                              : internal::subjectCn(s.signer_chain[0].get());
  v.add("collateral." + name + ".signer", !chain_why,
        chain_why ? signer + ": " + *chain_why : signer + " chains to the trusted root",
        "valid at " + formatUtcTime(at));
  Result<ByteVector> sig = parseHexBytes(s.signature_hex);
  if (!sig.ok() || sig->size() != 64 || s.signer_chain.empty()) {
    v.add("collateral." + name + ".signature", false,
          s.signer_chain.empty() ? "no signer certificate" : "signature is not 64 bytes of hex");
    return;
  }
  ByteVector der = internal::ecdsaSignatureFromBigEndian(Bytes(*sig).subspan(0, 32),
                                                         Bytes(*sig).subspan(32, 32));
  std::optional<std::string> why = internal::verifySignature(
      X509_get0_pubkey(s.signer_chain[0].get()), EVP_sha256(), toBytes(s.body), der);
  v.add("collateral." + name + ".signature", !why,
        why ? *why : "ECDSA P-256/SHA-256 by " + signer + " over the exact JSON text verifies");
}

// Freshness: issueDate <= at <= nextUpdate.
void checkFresh(const std::string& name, const Json& doc, int64_t at, Verdict& v) {
  std::string issue = str(doc, "issueDate");
  std::string next = str(doc, "nextUpdate");
  Result<int64_t> i = parseUtcTime(issue);
  Result<int64_t> n = parseUtcTime(next);
  bool ok = i.ok() && n.ok() && *i <= at && at <= *n;
  v.add("collateral." + name + ".fresh", ok, issue + ".." + next, "valid at " + formatUtcTime(at));
}

Result<uint64_t> hexNumber(const std::string& text) {
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector b, parseHexBytes(text));
  if (b.size() > 8) {
    return invalid("collateral.json", "hex number too long");
  }
  uint64_t out = 0;
  for (std::byte x : b) {
    out = (out << 8) | static_cast<uint8_t>(x);
  }
  return out;
}

void checkQeIdentity(const Json& id, const SGX_REPORT_BODY& qe, Verdict& v) {
  std::vector<std::string> mismatches;
  std::string mrsigner = str(id, "mrsigner");
  if (upper(mrsigner) != upper(hexBytes(qe.mr_signer))) {
    mismatches.push_back("mrsigner");
  }
  if (integer(id, "isvprodid") != std::optional<int64_t>(qe.isv_prod_id)) {
    mismatches.push_back("isvprodid");
  }
  Result<uint64_t> misc = hexNumber(str(id, "miscselect"));
  Result<uint64_t> misc_mask = hexNumber(str(id, "miscselectMask"));
  if (!misc.ok() || !misc_mask.ok() || (qe.misc_select & *misc_mask) != (*misc & *misc_mask)) {
    mismatches.push_back("miscselect");
  }
  Result<ByteVector> attr = parseHexBytes(str(id, "attributes"));
  Result<ByteVector> attr_mask = parseHexBytes(str(id, "attributesMask"));
  bool attr_ok = attr.ok() && attr_mask.ok() && attr->size() == 16 && attr_mask->size() == 16;
  for (size_t i = 0; attr_ok && i < 16; ++i) {
    attr_ok = (qe.attributes[i] & static_cast<uint8_t>((*attr_mask)[i])) ==
              (static_cast<uint8_t>((*attr)[i]) & static_cast<uint8_t>((*attr_mask)[i]));
  }
  if (!attr_ok) {
    mismatches.push_back("attributes");
  }
  std::string list;
  for (const std::string& m : mismatches) {
    list += (list.empty() ? "" : ", ") + m;
  }
  v.add("collateral.qe_identity.match", mismatches.empty(),
        "QE mr_signer " + hexBytes(qe.mr_signer) + ", isv_prod_id " + std::to_string(qe.isv_prod_id),
        "QE identity " + str(id, "id", "?"),
        mismatches.empty() ? "" : "mismatch: " + list);
  // The QE's TCB status: the first level whose isvsvn the QE meets.
  if (const Json* levels = array(id, "tcbLevels")) {
    for (const Json& level : *levels) {
      const Json* tcb = member(level, "tcb");
      std::optional<int64_t> isvsvn = tcb ? integer(*tcb, "isvsvn") : std::nullopt;
      if (isvsvn && qe.isv_svn >= *isvsvn) {
        v.field("qe_tcb_status", str(level, "tcbStatus", "?"));
        break;
      }
    }
  }
}

// The TDX TCB level the platform meets (tcbInfo v3): SGX components and PCESVN from the PCK
// certificate, TDX components from TEE_TCB_SVN. Reported as a field.
void tcbStatus(const Json& info, const PckExtensions& pck, const TD_REPORT_BODY& body, Verdict& v) {
  const Json* levels = array(info, "tcbLevels");
  if (levels == nullptr) {
    return;
  }
  for (const Json& level : *levels) {
    const Json* tcb_ptr = member(level, "tcb");
    if (tcb_ptr == nullptr) {
      continue;
    }
    const Json& tcb = *tcb_ptr;
    std::optional<int64_t> pcesvn = integer(tcb, "pcesvn");
    bool ok = pcesvn && pck.pce_svn >= *pcesvn;
    for (const char* key : {"sgxtcbcomponents", "tdxtcbcomponents"}) {
      const Json* comps = array(tcb, key);
      if (comps == nullptr || comps->size() != 16) {
        ok = false;
        continue;
      }
      for (size_t i = 0; ok && i < 16; ++i) {
        int64_t need = integer((*comps)[i], "svn").value_or(INT64_MAX);
        int64_t have = std::string(key) == "sgxtcbcomponents" ? pck.tcb_components[i]
                                                               : body.tee_tcb_svn[i];
        ok = have >= need;
      }
    }
    if (ok) {
      v.field("tcb_status", str(level, "tcbStatus", "?"));
      v.field("tcb_date", str(level, "tcbDate", "?"));
      return;
    }
  }
  v.field("tcb_status", "no matching TCB level");
}

// A CRL: signed by the certificate in `issuers` that names it, and revoking none of `subjects`.
void checkCrl(const std::string& name, Bytes der, const std::vector<X509*>& issuers,
              const std::vector<X509*>& subjects, int64_t at, Verdict& v) {
  Result<CrlPtr> crl = internal::parseCrl(der);
  if (!crl.ok()) {
    v.add("collateral." + name, false, crl.error().message);
    return;
  }
  X509* issuer = nullptr;
  for (X509* c : issuers) {
    if (X509_NAME_cmp(X509_get_subject_name(c), X509_CRL_get_issuer(crl->get())) == 0) {
      issuer = c;
    }
  }
  std::string issuer_cn = internal::commonName(X509_CRL_get_issuer(crl->get()));
  if (issuer == nullptr) {
    v.add("collateral." + name, false, "issued by " + issuer_cn + ", which is not in the chain");
    return;
  }
  if (X509_CRL_verify(crl->get(), X509_get0_pubkey(issuer)) != 1) {
    internal::opensslError();
    v.add("collateral." + name, false, "signature by " + issuer_cn + " does not verify");
    return;
  }
  std::vector<std::string> revoked;
  for (X509* s : subjects) {
    X509_REVOKED* entry = nullptr;
    if (X509_NAME_cmp(X509_get_issuer_name(s), X509_CRL_get_issuer(crl->get())) == 0 &&
        X509_CRL_get0_by_serial(crl->get(), &entry, X509_get0_serialNumber(s)) == 1) {
      revoked.push_back(internal::subjectCn(s));
    }
  }
  time_t t = static_cast<time_t>(at);
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl->get());
  bool current = X509_cmp_time(X509_CRL_get0_lastUpdate(crl->get()), &t) <= 0 &&
                 (next == nullptr || X509_cmp_time(next, &t) >= 0);
  std::string list;
  for (const std::string& r : revoked) {
    list += (list.empty() ? "" : ", ") + r;
  }
  v.add("collateral." + name, revoked.empty() && current,
        "signed by " + issuer_cn + (revoked.empty() ? ", no chain certificate revoked"
                                                    : ", revokes " + list) +
            (current ? "" : ", not current"),
        "valid at " + formatUtcTime(at));
}

Status checkCollateral(const TdxEvidence& ev, const TdxQuote& q, const PckChain& pck,
                       const std::optional<PckExtensions>& ext, X509* anchor, int64_t at,
                       Verdict& v) {
  std::string_view text = ev.collateral;
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return invalid("collateral.json", "collateral is not a JSON object");
  }
  std::vector<X509Ptr> default_signer;
  for (const ByteVector& d : ev.tcb_signing_chain) {
    IGVMKIT_ASSIGN_OR_RETURN(X509Ptr c, internal::parseCertificate(d));
    default_signer.push_back(std::move(c));
  }
  auto copyChain = [](const std::vector<X509Ptr>& in) {
    std::vector<X509Ptr> out;
    for (const X509Ptr& c : in) {
      out.emplace_back(X509_dup(c.get()));
    }
    return out;
  };

  auto handle = [&](const std::string& name, SignedJson s) -> Status {
    checkSignedJson(name, s, anchor, at, v);
    Json body = Json::parse(s.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) {
      return invalid("collateral.json", name + " is not a JSON object");
    }
    checkFresh(name, body, at, v);
    if (name == "tcb_info") {
      std::string fmspc = str(body, "fmspc");
      std::string have = ext ? hexBytes(ext->fmspc) : "unknown";
      v.add("collateral.tcb_info.fmspc", ext && upper(fmspc) == upper(have), "PCK FMSPC " + have,
            "tcbInfo fmspc " + fmspc);
      if (ext) {
        tcbStatus(body, *ext, q.body, v);
      }
    } else {
      checkQeIdentity(body, q.qe_report, v);
    }
    return okStatus();
  };

  // dcap-qvl bundle: string members holding the signed JSON, hex signatures, PEM chains, CRLs.
  if (member(doc, "tcb_info") != nullptr && member(doc, "tcb_info")->is_string()) {
    for (const char* name : {"tcb_info", "qe_identity"}) {
      if (member(doc, name) == nullptr) {
        continue;
      }
      SignedJson s;
      s.body = str(doc, name);
      s.signature_hex = str(doc, std::string(name) + "_signature");
      std::string chain = str(doc, std::string(name) + "_issuer_chain");
      if (!chain.empty()) {
        IGVMKIT_ASSIGN_OR_RETURN(s.signer_chain, certsFromPem(chain, name));
      } else {
        s.signer_chain = copyChain(default_signer);
      }
      IGVMKIT_RETURN_IF_ERROR(handle(name, std::move(s)));
    }
    std::vector<X509*> chain_certs;
    for (const X509Ptr& c : pck.certs) {
      chain_certs.push_back(c.get());
    }
    for (const char* name : {"pck_crl", "root_ca_crl"}) {
      if (member(doc, name) == nullptr || !member(doc, name)->is_string()) {
        continue;
      }
      Result<ByteVector> der = parseHexBytes(str(doc, name));
      if (!der.ok()) {
        return invalid("collateral.json", std::string(name) + " is not hex DER");
      }
      checkCrl(name, *der, chain_certs, chain_certs, at, v);
    }
    return okStatus();
  }
  // Intel PCS response bodies: {"tcbInfo":{..},"signature":".."} / {"enclaveIdentity":..}.
  for (const auto& [key, name] : {std::pair<const char*, const char*>{"tcbInfo", "tcb_info"},
                                  {"enclaveIdentity", "qe_identity"}}) {
    if (member(doc, key) == nullptr) {
      continue;
    }
    IGVMKIT_ASSIGN_OR_RETURN(std::string_view raw, internal::rawJsonMember(text, key));
    SignedJson s;
    s.body = std::string(raw);
    s.signature_hex = str(doc, "signature");
    s.signer_chain = copyChain(default_signer);
    return handle(name, std::move(s));
  }
  return invalid("collateral.json",
                 "collateral holds neither a dcap-qvl bundle nor a tcbInfo/enclaveIdentity body");
}

void checkReference(const TdxQuote& q, const measure::ReferenceValues& ref, Verdict& v) {
  const TD_REPORT_BODY& b = q.body;
  internal::checkMeasurement("tdx", asBytes(b.mr_td), ref, v);
  measure::ReferencePolicy policy = ref.policy.value_or(measure::ReferencePolicy{});
  bool debug = (b.td_attributes & kTdAttributesDebug) != 0;
  v.add("ref.debug", !debug || policy.debug_allowed, debug ? "debug TD" : "not a debug TD",
        policy.debug_allowed ? "debug allowed" : "debug disabled",
        "td_attributes " + hex(b.td_attributes));
  for (size_t i = 0; i < policy.rtmrs.size() && i < 4; ++i) {
    internal::checkExact("ref.rtmr" + std::to_string(i), bytesAt(b.rtmr[i], 48), policy.rtmrs[i], v);
  }
  internal::checkReportData(asBytes(b.report_data), policy.report_data, v);
  if (policy.td_attributes) {
    v.add("ref.td_attributes", b.td_attributes == *policy.td_attributes, hex(b.td_attributes),
          hex(*policy.td_attributes));
  }
  if (policy.xfam) {
    v.add("ref.xfam", b.xfam == *policy.xfam, hex(b.xfam), hex(*policy.xfam));
  }
}

}  // namespace

Result<TdxQuote> parseTdxQuote(Bytes in) {
  TdxQuote q;
  IGVMKIT_ASSIGN_OR_RETURN(q.header, read<TDX_QUOTE_HEADER>(in, 0));
  uint64_t body_off = 48;
  if (q.header.version == 4) {
    q.body_type = kTdxBody10;
    q.body_size = sizeof(TD_REPORT_BODY);
  } else if (q.header.version == 5) {
    IGVMKIT_ASSIGN_OR_RETURN(q.body_type, read<uint16_t>(in, 48));
    IGVMKIT_ASSIGN_OR_RETURN(q.body_size, read<uint32_t>(in, 50));
    body_off = 54;
    if (q.body_type != kTdxBody10 && q.body_type != kTdxBody15) {
      return unsupported("quote.body_type",
                         "body type " + hex(q.body_type) + " is not a TD report (2 or 3)",
                         offsetLocation(48));
    }
    uint32_t want = q.body_type == kTdxBody15 ? 648 : 584;
    if (q.body_size != want) {
      return bad("quote.body_size",
                 "body size " + hex(q.body_size) + " for body type " + hex(q.body_type) +
                     ", expected " + hex(want),
                 50);
    }
  } else {
    return unsupported("quote.version",
                       "quote version " + std::to_string(q.header.version) + " is not 4 or 5",
                       offsetLocation(0));
  }
  IGVMKIT_ASSIGN_OR_RETURN(q.body, read<TD_REPORT_BODY>(in, body_off));
  if (q.body_type == kTdxBody15) {
    IGVMKIT_ASSIGN_OR_RETURN(q.body_15, read<TD_REPORT_BODY_15_EXT>(in, body_off + 584));
  }
  uint64_t signed_end = body_off + q.body_size;
  IGVMKIT_ASSIGN_OR_RETURN(q.signed_region, take(in, 0, signed_end, "signed region"));
  IGVMKIT_ASSIGN_OR_RETURN(uint32_t sig_len, read<uint32_t>(in, signed_end));
  uint64_t sd_off = signed_end + 4;
  IGVMKIT_ASSIGN_OR_RETURN(Bytes sd, take(in, sd_off, sig_len, "signature data"));
  q.size = sd_off + sig_len;
  IGVMKIT_ASSIGN_OR_RETURN(q.signature, take(sd, 0, 64, "quote signature"));
  IGVMKIT_ASSIGN_OR_RETURN(q.attestation_key, take(sd, 64, 64, "attestation key"));
  IGVMKIT_ASSIGN_OR_RETURN(q.certification_type, read<uint16_t>(sd, 128));
  IGVMKIT_ASSIGN_OR_RETURN(uint32_t cert_size, read<uint32_t>(sd, 130));
  if (q.certification_type != 6) {
    return unsupported("quote.certification_type",
                       "certification data type " + std::to_string(q.certification_type) +
                           " is not 6 (QE report certification data)",
                       offsetLocation(sd_off + 128));
  }
  if (cert_size != sig_len - 134 || sig_len < 134) {
    return bad("quote.certification_size",
               "certification data size " + hex(cert_size) + " does not fill the " +
                   hex(sig_len) + "-byte signature data",
               sd_off + 130);
  }
  IGVMKIT_ASSIGN_OR_RETURN(Bytes cert, take(sd, 134, cert_size, "certification data"));
  uint64_t cert_off = sd_off + 134;
  IGVMKIT_ASSIGN_OR_RETURN(q.qe_report_bytes, take(cert, 0, 384, "QE report"));
  IGVMKIT_ASSIGN_OR_RETURN(q.qe_report, read<SGX_REPORT_BODY>(cert, 0));
  IGVMKIT_ASSIGN_OR_RETURN(q.qe_report_signature, take(cert, 384, 64, "QE report signature"));
  IGVMKIT_ASSIGN_OR_RETURN(uint16_t auth_len, read<uint16_t>(cert, 448));
  IGVMKIT_ASSIGN_OR_RETURN(q.qe_auth_data, take(cert, 450, auth_len, "QE authentication data"));
  uint64_t inner = 450 + uint64_t{auth_len};
  IGVMKIT_ASSIGN_OR_RETURN(q.pck_certification_type, read<uint16_t>(cert, inner));
  IGVMKIT_ASSIGN_OR_RETURN(uint32_t pck_size, read<uint32_t>(cert, inner + 2));
  if (q.pck_certification_type != 5) {
    return unsupported("quote.pck_certification_type",
                       "inner certification data type " + std::to_string(q.pck_certification_type) +
                           " is not 5 (PCK certificate chain)",
                       offsetLocation(cert_off + inner));
  }
  if (uint64_t{pck_size} != cert_size - (inner + 6) || cert_size < inner + 6) {
    return bad("quote.certification_size",
               "PCK chain size " + hex(pck_size) + " does not fill the certification data",
               cert_off + inner + 2);
  }
  IGVMKIT_ASSIGN_OR_RETURN(q.pck_chain, take(cert, inner + 6, pck_size, "PCK chain"));
  return q;
}

Result<PckExtensions> parsePckExtension(Bytes value) {
  auto fail = [](const std::string& m) { return invalid("pck.extension", m); };
  Result<internal::Tlv> top = internal::readOnly(value, internal::kDerSequence);
  if (!top.ok()) {
    return fail("SGX extension: " + top.error().message);
  }
  Result<std::vector<internal::Tlv>> entries = internal::readAll(top->value);
  if (!entries.ok()) {
    return fail("SGX extension: " + entries.error().message);
  }
  // Each entry is SEQUENCE { OID, value }.
  auto pair = [&](const internal::Tlv& t) -> Result<std::pair<std::string, internal::Tlv>> {
    if (t.tag != internal::kDerSequence) {
      return fail("SGX extension entry is not a SEQUENCE");
    }
    IGVMKIT_ASSIGN_OR_RETURN(std::vector<internal::Tlv> parts, internal::readAll(t.value));
    if (parts.size() != 2 || parts[0].tag != internal::kDerOid) {
      return fail("SGX extension entry is not {OID, value}");
    }
    IGVMKIT_ASSIGN_OR_RETURN(std::string oid, internal::oidText(parts[0].value));
    return std::make_pair(oid, parts[1]);
  };
  PckExtensions out;
  const std::string base = std::string(kSgxExtensionOid) + ".";
  bool have_fmspc = false;
  for (const internal::Tlv& e : *entries) {
    IGVMKIT_ASSIGN_OR_RETURN(auto kv, pair(e));
    const auto& [oid, val] = kv;
    if (oid.rfind(base, 0) != 0) {
      continue;
    }
    std::string leaf = oid.substr(base.size());
    auto bytes = [&](const internal::Tlv& t) { return ByteVector(t.value.begin(), t.value.end()); };
    if (leaf == "1" && val.tag == internal::kDerOctetString) {
      out.ppid = bytes(val);
    } else if (leaf == "2" && val.tag == internal::kDerSequence) {
      IGVMKIT_ASSIGN_OR_RETURN(std::vector<internal::Tlv> comps, internal::readAll(val.value));
      for (const internal::Tlv& c : comps) {
        IGVMKIT_ASSIGN_OR_RETURN(auto ckv, pair(c));
        const auto& [coid, cval] = ckv;
        if (coid.rfind(base + "2.", 0) != 0) {
          continue;
        }
        std::string n = coid.substr(base.size() + 2);
        if (n == "18" && cval.tag == internal::kDerOctetString) {
          out.cpu_svn = bytes(cval);
          continue;
        }
        if (cval.tag != internal::kDerInteger) {
          return fail("SGX TCB component " + n + " is not an INTEGER");
        }
        IGVMKIT_ASSIGN_OR_RETURN(uint64_t svn, internal::integerValue(cval.value));
        if (n == "17") {
          if (svn > 0xFFFF) {
            return fail("PCESVN " + hex(svn) + " exceeds 16 bits");
          }
          out.pce_svn = static_cast<uint16_t>(svn);
        } else {
          int idx = std::atoi(n.c_str());
          if (idx >= 1 && idx <= 16 && std::to_string(idx) == n) {
            if (svn > 0xFF) {
              return fail("SGX TCB component " + n + " exceeds 8 bits");
            }
            out.tcb_components[idx - 1] = static_cast<uint8_t>(svn);
          }
        }
      }
    } else if (leaf == "3" && val.tag == internal::kDerOctetString) {
      out.pce_id = bytes(val);
    } else if (leaf == "4" && val.tag == internal::kDerOctetString) {
      out.fmspc = bytes(val);
      have_fmspc = true;
    } else if (leaf == "5" && val.tag == internal::kDerEnumerated) {
      IGVMKIT_ASSIGN_OR_RETURN(out.sgx_type, internal::integerValue(val.value));
    }
  }
  if (!have_fmspc || out.fmspc.size() != 6) {
    return fail("SGX extension has no 6-byte FMSPC");
  }
  return out;
}

Result<Verdict> verifyTdxQuote(const TdxEvidence& ev, const measure::ReferenceValues* reference) {
  IGVMKIT_ASSIGN_OR_RETURN(TdxQuote q, parseTdxQuote(ev.quote));
  int64_t at = ev.at ? *ev.at : static_cast<int64_t>(std::time(nullptr));
  Verdict v;
  v.platform = "tdx";
  addFields(q, v);
  v.field("verified_at", formatUtcTime(at));

  // Header fields that select the algorithms and the vendor.
  v.add("quote.version", q.header.version == 4 || q.header.version == 5,
        std::to_string(q.header.version) + " (body type " + std::to_string(q.body_type) + ")",
        "4 or 5");
  v.add("quote.attestation_key_type", q.header.attestation_key_type == 2,
        std::to_string(q.header.attestation_key_type), "2 (ECDSA P-256)");
  v.add("quote.tee_type", q.header.tee_type == 0x81, hex(q.header.tee_type), "0x81 (TDX)");
  bool intel = std::memcmp(q.header.qe_vendor_id, kIntelQeVendor, 16) == 0;
  v.add("quote.qe_vendor", intel, hexBytes(q.header.qe_vendor_id), hexBytes(kIntelQeVendor));

  // The PCK chain and its trust anchor.
  IGVMKIT_ASSIGN_OR_RETURN(PckChain pck, splitPckChain(q.pck_chain));
  X509Ptr user_root;
  if (ev.root) {
    IGVMKIT_ASSIGN_OR_RETURN(user_root, internal::parseCertificate(*ev.root));
  }
  X509* quote_root = pck.certs.size() >= 2 && selfIssued(pck.certs.back().get())
                         ? pck.certs.back().get()
                         : nullptr;
  X509* anchor = nullptr;
  if (user_root) {
    anchor = user_root.get();
    bool same = quote_root == nullptr || X509_cmp(quote_root, anchor) == 0;
    v.add("pck.root", same,
          quote_root ? internal::subjectCn(quote_root) + " " + fingerprint(quote_root)
                     : "no root in the quote",
          "--root " + fingerprint(anchor));
  } else {
    std::string fp = quote_root ? fingerprint(quote_root) : "";
    bool pinned = quote_root != nullptr && fp == kIntelRootSha256;
    v.add("pck.root", pinned,
          quote_root ? internal::subjectCn(quote_root) + " " + fp : "no root in the quote",
          std::string("Intel SGX Root CA ") + kIntelRootSha256);
    anchor = pinned ? quote_root : nullptr;
  }
  std::vector<X509Ptr> chain_copy;
  for (const X509Ptr& c : pck.certs) {
    chain_copy.emplace_back(X509_dup(c.get()));
  }
  std::optional<std::string> path_why = verifyChainTo(chain_copy, anchor, at);
  X509* leaf = pck.certs.front().get();
  std::string path;
  for (const X509Ptr& c : pck.certs) {
    path += (path.empty() ? "" : " -> ") + internal::subjectCn(c.get());
  }
  v.add("pck.chain", !path_why, path_why ? path + ": " + *path_why : path + " verifies",
        "valid at " + formatUtcTime(at));
  v.field("pck_validity", internal::validityRange(leaf));
  v.field("pck_issuer", internal::issuerCn(leaf));

  std::optional<PckExtensions> ext;
  for (const auto& [oid, value] : internal::extensions(leaf)) {
    if (oid == kSgxExtensionOid) {
      Result<PckExtensions> parsed = parsePckExtension(value);
      if (parsed.ok()) {
        ext = std::move(parsed).value();
      }
      v.add("pck.extension", parsed.ok(),
            parsed.ok() ? "FMSPC " + hexBytes(ext->fmspc) : parsed.error().message,
            "SGX extension with FMSPC");
    }
  }
  if (ext) {
    v.field("fmspc", hexBytes(ext->fmspc));
    v.field("pce_id", hexBytes(ext->pce_id));
    v.field("pce_svn", ext->pce_svn);
  } else if (v.find("pck.extension") == nullptr) {
    v.add("pck.extension", false, "PCK leaf has no SGX extension", "SGX extension with FMSPC");
  }

  // QE report signed by the PCK key.
  ByteVector qe_sig = internal::ecdsaSignatureFromBigEndian(q.qe_report_signature.subspan(0, 32),
                                                            q.qe_report_signature.subspan(32, 32));
  std::optional<std::string> qe_why =
      internal::verifySignature(X509_get0_pubkey(leaf), EVP_sha256(), q.qe_report_bytes, qe_sig);
  v.add("qe_report.signature", !qe_why,
        qe_why ? *qe_why : "ECDSA P-256/SHA-256 by " + internal::subjectCn(leaf) + " verifies");

  // The attestation key is the one the QE vouched for.
  ByteVector bound;
  bound.insert(bound.end(), q.attestation_key.begin(), q.attestation_key.end());
  bound.insert(bound.end(), q.qe_auth_data.begin(), q.qe_auth_data.end());
  ByteVector digest = internal::sha256(bound);
  Bytes rd = asBytes(q.qe_report.report_data);
  bool binds = std::equal(digest.begin(), digest.end(), rd.begin(), rd.begin() + 32) &&
               allZero(rd.subspan(32));
  v.add("qe_report.binding", binds, hexBytes(rd),
        hexBytes(digest) + " then zeros", "SHA-256(attestation key || QE auth data)");

  // The quote signed by the attestation key.
  Result<internal::PkeyPtr> ak = internal::p256PublicKey(q.attestation_key);
  if (!ak.ok()) {
    v.add("quote.signature", false, ak.error().message);
  } else {
    ByteVector sig = internal::ecdsaSignatureFromBigEndian(q.signature.subspan(0, 32),
                                                           q.signature.subspan(32, 32));
    std::optional<std::string> why =
        internal::verifySignature(ak->get(), EVP_sha256(), q.signed_region, sig);
    v.add("quote.signature", !why,
          why ? *why : "ECDSA P-256/SHA-256 by the attestation key verifies", "",
          "signed bytes 0x0.." + hex(q.signed_region.size() - 1));
  }

  if (!ev.collateral.empty()) {
    IGVMKIT_RETURN_IF_ERROR(checkCollateral(ev, q, pck, ext, anchor, at, v));
  }
  if (!ev.crls.empty()) {
    std::vector<X509*> chain_certs;
    for (const X509Ptr& c : pck.certs) {
      chain_certs.push_back(c.get());
    }
    if (anchor != nullptr && (quote_root == nullptr || X509_cmp(quote_root, anchor) != 0)) {
      chain_certs.push_back(anchor);
    }
    for (const ByteVector& der : ev.crls) {
      Result<CrlPtr> crl = internal::parseCrl(der);
      bool root_crl = crl.ok() && anchor != nullptr &&
                      X509_NAME_cmp(X509_CRL_get_issuer(crl->get()),
                                    X509_get_subject_name(anchor)) == 0;
      checkCrl(root_crl ? "root_ca_crl" : "pck_crl", der, chain_certs, chain_certs, at, v);
    }
  }
  if (reference != nullptr) {
    checkReference(q, *reference, v);
  }
  return v;
}

}  // namespace igvmkit::attest
