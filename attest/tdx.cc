#include "attest/tdx.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "attest/internal/crl.h"
#include "attest/internal/crypto.h"
#include "attest/internal/der.h"
#include "attest/internal/event_log_checks.h"
#include "attest/internal/reference_checks.h"
#include "attest/internal/tdx_collateral.h"

namespace igvmkit::attest {
namespace {

using internal::CrlPtr;
using internal::fingerprint;
using internal::PckChain;
using internal::selfIssued;
using internal::verifyChainTo;
using internal::X509Ptr;

// The Intel SGX Root CA (CN=Intel SGX Root CA, valid to 2049), pinned by the
// SHA-256 of its DER encoding; every PCK chain and collateral signing chain
// must end in it.
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

void checkReference(const TdxQuote& q, const measure::ReferenceValues& ref, Verdict& v) {
  const TD_REPORT_BODY& b = q.body;
  internal::checkMeasurement("tdx", asBytes(b.mr_td), ref, v);
  measure::ReferencePolicy policy = ref.policy.value_or(measure::ReferencePolicy{});
  bool debug = (b.td_attributes & kTdAttributesDebug) != 0;
  v.add("ref.debug", !debug || policy.debug_allowed, debug ? "debug TD" : "not a debug TD",
        policy.debug_allowed ? "debug allowed" : "debug disabled",
        "td_attributes " + hex(b.td_attributes));
  for (size_t i = 0; i < policy.rtmrs.size() && i < 4; ++i) {
    internal::checkExact("ref.rtmr" + std::to_string(i), bytesAt(b.rtmr[i], 48), policy.rtmrs[i],
                         v);
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
               "certification data size " + hex(cert_size) + " does not fill the " + hex(sig_len) +
                   "-byte signature data",
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
  v.add("qe_report.binding", binds, hexBytes(rd), hexBytes(digest) + " then zeros",
        "SHA-256(attestation key || QE auth data)");

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
    std::vector<std::string> allowed;
    if (reference != nullptr && reference->policy) {
      allowed = reference->policy->allowed_tcb_status;
    }
    IGVMKIT_RETURN_IF_ERROR(internal::checkCollateral(ev, q, pck, ext, anchor, at, allowed, v));
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
      bool root_crl =
          crl.ok() && anchor != nullptr &&
          X509_NAME_cmp(X509_CRL_get_issuer(crl->get()), X509_get_subject_name(anchor)) == 0;
      internal::checkCrl("collateral." + std::string(root_crl ? "root_ca_crl" : "pck_crl"), der,
                         chain_certs, chain_certs, at, v);
    }
  }
  if (ev.event_log != nullptr) {
    internal::checkEventLog(q.body, *ev.event_log, v);
  }
  if (reference != nullptr) {
    checkReference(q, *reference, v);
    if (reference->policy) {
      internal::checkNamedEvents(ev.event_log, *reference->policy, v);
    }
  }
  return v;
}

}  // namespace igvmkit::attest
