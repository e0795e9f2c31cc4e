#include "attest/internal/tdx_collateral.h"

#include <algorithm>
#include <cctype>

#include "attest/internal/crl.h"
#include "attest/internal/json_span.h"

namespace igvmkit::attest::internal {
namespace {

using Json = nlohmann::ordered_json;

std::string upper(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

// Exception-free JSON accessors: collateral is untrusted, and nlohmann's
// value()/operator[] throw (or assert) on a type mismatch. Missing or mistyped
// members read as absent.
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

// --- collateral
// ---------------------------------------------------------------------------

struct SignedJson {
  std::string body;           // the exact signed text
  std::string signature_hex;  // r||s
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
  v.add(
      "collateral.qe_identity.match", mismatches.empty(),
      "QE mr_signer " + hexBytes(qe.mr_signer) + ", isv_prod_id " + std::to_string(qe.isv_prod_id),
      "QE identity " + str(id, "id", "?"), mismatches.empty() ? "" : "mismatch: " + list);
}

// The TCB level reached (nullptr: none) judged: its status must be one of
// `allowed`.
void judgeTcbLevel(const std::string& check, const std::string& field, const Json* level,
                   const std::vector<std::string>& allowed, Verdict& v) {
  std::vector<std::string> accepted = allowed;
  if (accepted.empty()) {
    accepted.push_back("UpToDate");
  }
  std::string wanted;
  for (const std::string& a : accepted) {
    wanted += (wanted.empty() ? "" : ", ") + a;
  }
  if (level == nullptr) {
    v.field(field, "no matching TCB level");
    v.add(check, false, "no matching TCB level", "a TCB level with status " + wanted);
    return;
  }
  std::string status = str(*level, "tcbStatus", "?");
  std::string date = str(*level, "tcbDate", "?");
  Json advisories = Json::array();
  std::string advisory_list;
  if (const Json* ids = array(*level, "advisoryIDs")) {
    for (const Json& id : *ids) {
      if (id.is_string()) {
        advisories.push_back(id);
        advisory_list += (advisory_list.empty() ? "" : ", ") + id.get<std::string>();
      }
    }
  }
  // "tcb_status" -> "tcb_date", "tcb_advisories" (likewise "qe_tcb_", "tdx_module_tcb_").
  std::string prefix = field.substr(0, field.size() - std::string("status").size());
  v.field(field, status);
  v.field(prefix + "date", date);
  v.field(prefix + "advisories", advisories);
  bool ok = std::find(accepted.begin(), accepted.end(), status) != accepted.end();
  v.add(check, ok, status + " (tcbDate " + date + ")", wanted,
        advisory_list.empty() ? "" : "advisories: " + advisory_list);
}

// The QE's TCB level: the first (highest) level whose isvsvn the QE meets.
const Json* qeTcbLevel(const Json& id, const SGX_REPORT_BODY& qe) {
  if (const Json* levels = array(id, "tcbLevels")) {
    for (const Json& level : *levels) {
      const Json* tcb = member(level, "tcb");
      std::optional<int64_t> isvsvn = tcb ? integer(*tcb, "isvsvn") : std::nullopt;
      if (isvsvn && qe.isv_svn >= *isvsvn) {
        return &level;
      }
    }
  }
  return nullptr;
}

// The TDX TCB level the platform meets (tcbInfo v3, levels highest first): SGX
// components and PCESVN from the PCK certificate, TDX components from
// TEE_TCB_SVN; nullptr when none.
const Json* platformTcbLevel(const Json& info, const PckExtensions& pck,
                             const TD_REPORT_BODY& body) {
  const Json* levels = array(info, "tcbLevels");
  if (levels == nullptr) {
    return nullptr;
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
        int64_t have =
            std::string(key) == "sgxtcbcomponents" ? pck.tcb_components[i] : body.tee_tcb_svn[i];
        ok = have >= need;
      }
    }
    if (ok) {
      return &level;
    }
  }
  return nullptr;
}

// The TDX module of a TDX TCB Info (v3): its identity (MRSIGNERSEAM, SEAMATTRIBUTES under the
// mask) and, for a module of major version N > 0 (TEE_TCB_SVN[1]), the TCB level of identity
// "TDX_<N as two hex digits>" that TEE_TCB_SVN[0] reaches. Follows Intel's QVL
// (SGX-TDX-DCAP-QuoteVerificationLibrary Src/AttestationLibrary/src/Verifiers/Checks/
// TdxModuleCheck.cpp): version 0 is judged by "tdxModule" alone.
void checkTdxModule(const Json& info, const TD_REPORT_BODY& body,
                    const std::vector<std::string>& allowed, Verdict& v) {
  const Json* module = member(info, "tdxModule");
  if (module == nullptr || !module->is_object()) {
    return;  // an SGX TCB Info, or one from before TDX module identities
  }
  uint8_t isvsvn = body.tee_tcb_svn[0];
  uint8_t version = body.tee_tcb_svn[1];
  const Json* identity = module;
  std::string id = "tdxModule";
  if (version != 0) {
    id = "TDX_" + upper(hexBytes(bytesAt(&version, 1)));
    identity = nullptr;
    if (const Json* ids = array(info, "tdxModuleIdentities")) {
      for (const Json& candidate : *ids) {
        if (upper(str(candidate, "id")) == id) identity = &candidate;
      }
    }
  }
  std::string actual = "MRSIGNERSEAM " + hexBytes(body.mr_signer_seam) + ", SEAMATTRIBUTES " +
                       hexBytes(asBytes(body.seam_attributes)) + ", module version " +
                       std::to_string(version) + " svn " + std::to_string(isvsvn);
  if (identity == nullptr) {
    v.add("collateral.tdx_module.identity", false, actual, "a tdxModuleIdentities entry " + id);
    judgeTcbLevel("collateral.tdx_module.level", "tdx_module_tcb_status", nullptr, allowed, v);
    return;
  }
  bool signer_ok = upper(str(*identity, "mrsigner")) == upper(hexBytes(body.mr_signer_seam));
  Result<ByteVector> attr = parseHexBytes(str(*identity, "attributes"));
  Result<ByteVector> mask = parseHexBytes(str(*identity, "attributesMask"));
  bool attr_ok = attr.ok() && mask.ok() && attr->size() == 8 && mask->size() == 8;
  Bytes seam = asBytes(body.seam_attributes);
  for (size_t i = 0; attr_ok && i < 8; ++i) {
    attr_ok = (seam[i] & (*mask)[i]) == ((*attr)[i] & (*mask)[i]);
  }
  v.add("collateral.tdx_module.identity", signer_ok && attr_ok, actual,
        id + ": mrsigner " + str(*identity, "mrsigner") + ", attributes " +
            str(*identity, "attributes") + " under " + str(*identity, "attributesMask"),
        signer_ok ? (attr_ok ? "" : "SEAMATTRIBUTES differ") : "MRSIGNERSEAM differs");
  if (version == 0) {
    return;
  }
  const Json* level = nullptr;
  if (const Json* levels = array(*identity, "tcbLevels")) {
    for (const Json& l : *levels) {
      const Json* tcb = member(l, "tcb");
      std::optional<int64_t> need = tcb ? integer(*tcb, "isvsvn") : std::nullopt;
      if (level == nullptr && need && isvsvn >= *need) level = &l;
    }
  }
  judgeTcbLevel("collateral.tdx_module.level", "tdx_module_tcb_status", level, allowed, v);
}

}  // namespace

Status checkCollateral(const TdxEvidence& ev, const TdxQuote& q, const PckChain& pck,
                       const std::optional<PckExtensions>& ext, X509* anchor, int64_t at,
                       const std::vector<std::string>& allowed_tcb_status, Verdict& v) {
  std::string_view text = ev.collateral;
  Json doc = Json::parse(text.begin(), text.end(), nullptr,
                         /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return invalid("collateral.json", "collateral is not a JSON object");
  }
  std::vector<X509Ptr> default_signer;
  for (const ByteVector& d : ev.tcb_signing_chain) {
    IGVMKIT_ASSIGN_OR_RETURN(X509Ptr c, parseCertificate(d));
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
      judgeTcbLevel("collateral.tcb_info.level", "tcb_status",
                    ext ? platformTcbLevel(body, *ext, q.body) : nullptr, allowed_tcb_status, v);
      if (upper(str(body, "id")) == "TDX") {
        checkTdxModule(body, q.body, allowed_tcb_status, v);
      }
    } else {
      checkQeIdentity(body, q.qe_report, v);
      judgeTcbLevel("collateral.qe_identity.level", "qe_tcb_status", qeTcbLevel(body, q.qe_report),
                    allowed_tcb_status, v);
    }
    return okStatus();
  };

  // dcap-qvl bundle: string members holding the signed JSON, hex signatures,
  // PEM chains, CRLs.
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
      checkCrl("collateral." + std::string(name), *der, chain_certs, chain_certs, at, v);
    }
    return okStatus();
  }
  // Intel PCS response bodies: {"tcbInfo":{..},"signature":".."} /
  // {"enclaveIdentity":..}.
  for (const auto& [key, name] : {std::pair<const char*, const char*>{"tcbInfo", "tcb_info"},
                                  {"enclaveIdentity", "qe_identity"}}) {
    if (member(doc, key) == nullptr) {
      continue;
    }
    IGVMKIT_ASSIGN_OR_RETURN(std::string_view raw, rawJsonMember(text, key));
    SignedJson s;
    s.body = std::string(raw);
    s.signature_hex = str(doc, "signature");
    s.signer_chain = copyChain(default_signer);
    return handle(name, std::move(s));
  }
  return invalid("collateral.json",
                 "collateral holds neither a dcap-qvl bundle nor a "
                 "tcbInfo/enclaveIdentity body");
}

}  // namespace igvmkit::attest::internal
