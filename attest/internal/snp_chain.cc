// attest/internal/snp_chain.cc: the AMD certificate chain of an SNP report: which given
// certificates are the VCEK/VLEK, ASK/ASVK and ARK, the pinned ARKs, the signatures along the
// path, the CRLs, the VEK's binding to the report and the report's signature.
#include "attest/internal/snp_chain.h"

#include "attest/internal/crl.h"
#include "attest/internal/der.h"

namespace igvmkit::attest::internal {
namespace {

// The AMD Root Keys, pinned by the SHA-256 of their DER encoding
// (attest-format.md §1; the KDS cert_chain of each product). A chain is trusted
// only if it ends in the ARK of the product the report and its certificates
// name.
struct PinnedArk {
  SnpProduct product;
  const char* sha256;
};
constexpr PinnedArk kPinnedArks[] = {
    {SnpProduct::kMilan, "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd"},
    {SnpProduct::kGenoa, "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1"},
    {SnpProduct::kTurin, "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a"},
};

std::string pinnedArk(SnpProduct p) {
  for (const PinnedArk& a : kPinnedArks) {
    if (a.product == p) {
      return a.sha256;
    }
  }
  return "";
}

std::optional<SnpProduct> productFromPinnedArk(const std::string& fingerprint) {
  for (const PinnedArk& a : kPinnedArks) {
    if (fingerprint == a.sha256) {
      return a.product;
    }
  }
  return std::nullopt;
}

bool sameName(X509* subject_of, X509* issuer_of) {
  return X509_NAME_cmp(X509_get_subject_name(subject_of), X509_get_issuer_name(issuer_of)) == 0;
}

std::string splDiff(const char* name, const std::optional<uint64_t>& cert, uint8_t report,
                    bool* ok) {
  if (!cert) {
    *ok = false;
    return std::string(name) + "(missing)";
  }
  if (*cert != report) {
    *ok = false;
  }
  return std::string(name) + std::to_string(*cert);
}

}  // namespace

std::optional<SnpProduct> productFromName(std::string name) {
  for (const char* prefix : {"SEV-VLEK-", "SEV-", "ARK-"}) {
    if (name.rfind(prefix, 0) == 0) {
      name = name.substr(std::string(prefix).size());
      break;
    }
  }
  for (SnpProduct p : {SnpProduct::kMilan, SnpProduct::kGenoa, SnpProduct::kTurin}) {
    const std::string n = productName(p);
    if (name == n || name.rfind(n + "-", 0) == 0) {
      return p;
    }
  }
  return std::nullopt;
}

Result<Chain> classifyChain(const std::vector<ByteVector>& certificates, SnpSigningKey key) {
  Chain chain;
  std::vector<ByteVector> seen;
  for (const ByteVector& der : certificates) {
    bool duplicate = false;
    for (const ByteVector& s : seen) {
      duplicate = duplicate || s == der;
    }
    if (duplicate) {
      continue;
    }
    seen.push_back(der);
    IGVMKIT_ASSIGN_OR_RETURN(X509Ptr x, internal::parseCertificate(der));
    Cert c;
    c.subject_cn = internal::subjectCn(x.get());
    c.issuer_cn = internal::issuerCn(x.get());
    c.self_issued =
        X509_NAME_cmp(X509_get_subject_name(x.get()), X509_get_issuer_name(x.get())) == 0;
    c.x509 = std::move(x);
    chain.all.push_back(std::move(c));
  }
  std::vector<Cert*> veks, asks, arks;
  for (Cert& c : chain.all) {
    if (c.subject_cn == "SEV-VCEK" || c.subject_cn == "SEV-VLEK") {
      veks.push_back(&c);
    } else if (c.self_issued && c.subject_cn.rfind("ARK-", 0) == 0) {
      arks.push_back(&c);
    } else if (c.subject_cn.rfind("SEV-", 0) == 0 && c.issuer_cn.rfind("ARK-", 0) == 0) {
      asks.push_back(&c);
    } else {
      chain.ignored.push_back(c.subject_cn.empty() ? "(no CN)" : c.subject_cn);
    }
  }
  const char* wanted = key == SnpSigningKey::kVlek ? "SEV-VLEK" : "SEV-VCEK";
  for (Cert* c : veks) {
    if (chain.vek == nullptr && c->subject_cn == wanted) {
      chain.vek = c;
    }
  }
  if (chain.vek == nullptr && !veks.empty()) {
    chain.vek = veks.front();
  }
  for (Cert* c : asks) {
    if (chain.ask == nullptr && chain.vek != nullptr &&
        sameName(c->x509.get(), chain.vek->x509.get())) {
      chain.ask = c;
    }
  }
  if (chain.ask == nullptr && !asks.empty()) {
    chain.ask = asks.front();
  }
  for (Cert* c : arks) {
    if (chain.ark == nullptr && chain.ask != nullptr &&
        sameName(c->x509.get(), chain.ask->x509.get())) {
      chain.ark = c;
    }
  }
  if (chain.ark == nullptr && !arks.empty()) {
    chain.ark = arks.front();
  }
  return chain;
}

void checkVekBinding(const ATTESTATION_REPORT& r, SnpProduct layout, X509* vek, bool is_vlek,
                     Verdict& v) {
  Result<AmdCertExtensions> ext = parseAmdExtensions(internal::extensions(vek));
  TcbVersion tcb = decodeTcb(r.reported_tcb, layout);
  if (!ext.ok()) {
    v.add("vek.tcb", false, "unreadable extensions", tcb.describe(layout), ext.error().message);
    if (!is_vlek) {
      v.add("vek.hwid", false, "unreadable extensions", hexBytes(r.chip_id), ext.error().message);
    }
    return;
  }
  bool ok = true;
  std::string actual;
  if (layout == SnpProduct::kTurin) {
    actual += splDiff("fmc", ext->fmc_spl, tcb.fmc, &ok) + "/";
  }
  actual += splDiff("bl", ext->bl_spl, tcb.boot_loader, &ok) + "/";
  actual += splDiff("tee", ext->tee_spl, tcb.tee, &ok) + "/";
  actual += splDiff("snp", ext->snp_spl, tcb.snp, &ok) + "/";
  actual += splDiff("ucode", ext->ucode_spl, tcb.microcode, &ok);
  v.add("vek.tcb", ok, "certificate " + actual, "REPORTED_TCB " + tcb.describe(layout));

  if (is_vlek) {
    return;  // VLEKs are not chip-specific: no hwID (attest-format.md §1)
  }
  if (!ext->hwid) {
    v.add("vek.hwid", false, "no hwID extension", hexBytes(r.chip_id));
    return;
  }
  ByteVector hwid = *ext->hwid;
  Bytes chip = asBytes(r.chip_id);
  bool match = false;
  std::string expected = hexBytes(chip);
  if (layout == SnpProduct::kTurin) {
    // Turin hwIDs are CHIP_ID[0:8]; the rest of CHIP_ID is zero.
    expected = hexBytes(chip.subspan(0, 8)) + " (rest of CHIP_ID zero)";
    match = hwid.size() == 8 && std::equal(hwid.begin(), hwid.end(), chip.begin()) &&
            allZero(chip.subspan(8));
  } else {
    match = hwid.size() == 64 && std::equal(hwid.begin(), hwid.end(), chip.begin());
  }
  v.add("vek.hwid", match, hexBytes(hwid), "CHIP_ID " + expected);
}

void checkChain(const ATTESTATION_REPORT& r, const Chain& chain, std::optional<SnpProduct> product,
                int64_t at, Verdict& v) {
  SnpSigningKey key = signingKey(r);
  bool want_vlek = key == SnpSigningKey::kVlek;
  const char* vek_name = want_vlek ? "VLEK" : "VCEK";
  const char* ask_name = want_vlek ? "ASVK" : "ASK";

  // ARK: pinned for the product, self-signed.
  if (chain.ark == nullptr) {
    v.add("ark.pinned", false, "no ARK certificate given",
          product ? "ARK-" + productName(*product) + " " + pinnedArk(*product) : "a pinned ARK");
    v.add("ark.self_signature", false, "no ARK certificate given");
  } else {
    std::string fp = hexBytes(internal::sha256(internal::certificateDer(chain.ark->x509.get())));
    std::optional<SnpProduct> ark_product = productFromPinnedArk(fp);
    bool pinned = product ? fp == pinnedArk(*product) : ark_product.has_value();
    std::string expected = product ? "ARK-" + productName(*product) + " " + pinnedArk(*product)
                                   : "a pinned ARK (Milan, Genoa or Turin)";
    v.add("ark.pinned", pinned, chain.ark->subject_cn + " " + fp, expected,
          ark_product ? "" : "fingerprint is not a pinned AMD root");
    std::optional<std::string> why =
        internal::verifyCertificateSignature(chain.ark->x509.get(), chain.ark->x509.get());
    v.add("ark.self_signature", !why, chain.ark->subject_cn + (why ? ": " + *why : " verifies"), "",
          "");
  }

  // ASK / ASVK signed by the ARK.
  if (chain.ask == nullptr) {
    v.add("ask.signed_by_ark", false, std::string("no ") + ask_name + " certificate given");
  } else if (chain.ark == nullptr) {
    v.add("ask.signed_by_ark", false, chain.ask->subject_cn + ": no ARK to check it against");
  } else {
    std::optional<std::string> why =
        internal::verifyCertificateSignature(chain.ask->x509.get(), chain.ark->x509.get());
    v.add(
        "ask.signed_by_ark", !why,
        chain.ask->subject_cn + " by " + chain.ark->subject_cn + (why ? ": " + *why : ": verifies"),
        "", "RSASSA-PSS SHA-384");
  }

  // VCEK / VLEK signed by the ASK / ASVK, valid at the verification time, of
  // the right kind.
  if (chain.vek == nullptr) {
    v.add("vek.signed_by_ask", false, std::string("no ") + vek_name + " certificate given");
    v.add("vek.validity", false, std::string("no ") + vek_name + " certificate given",
          "valid at " + formatUtcTime(at));
    v.add("vek.kind", false, std::string("no ") + vek_name + " certificate given", vek_name);
    return;
  }
  X509* vek = chain.vek->x509.get();
  if (chain.ask == nullptr) {
    v.add("vek.signed_by_ask", false,
          chain.vek->subject_cn + std::string(": no ") + ask_name + " to check it against");
  } else {
    std::optional<std::string> why =
        internal::verifyCertificateSignature(vek, chain.ask->x509.get());
    v.add(
        "vek.signed_by_ask", !why,
        chain.vek->subject_cn + " by " + chain.ask->subject_cn + (why ? ": " + *why : ": verifies"),
        "", "RSASSA-PSS SHA-384");
  }
  if (chain.ask != nullptr && chain.ark != nullptr) {
    std::optional<std::string> why =
        internal::verifyPath(vek, {chain.ask->x509.get()}, chain.ark->x509.get(), at, {});
    v.add("chain.path", !why,
          why ? *why
              : "path " + chain.vek->subject_cn + " -> " + chain.ask->subject_cn + " -> " +
                    chain.ark->subject_cn + " verifies",
          "valid at " + formatUtcTime(at));
  } else {
    v.add("chain.path", false, "incomplete chain", "VCEK/VLEK -> ASK/ASVK -> ARK");
  }
  std::optional<std::string> validity = internal::checkValidity(vek, at);
  v.add("vek.validity", !validity,
        internal::validityRange(vek) + (validity ? " (" + *validity + ")" : ""),
        "valid at " + formatUtcTime(at));
  bool kind_ok = chain.vek->subject_cn == (want_vlek ? "SEV-VLEK" : "SEV-VCEK") &&
                 (want_vlek ? chain.vek->issuer_cn.rfind("SEV-VLEK-", 0) == 0
                            : chain.vek->issuer_cn.rfind("SEV-VLEK-", 0) != 0);
  v.add("vek.kind", kind_ok, chain.vek->subject_cn + " issued by " + chain.vek->issuer_cn,
        std::string(vek_name) + " (report KEY_INFO)");
}

// AMD's KDS CRL (/vcek/v1/<product>/crl, /vlek/v1/<product>/crl) is signed by
// the ARK and revokes ASKs/ASVKs; a CRL issued by the ASK would name VCEKs.
// Each given CRL is judged against the chain it belongs to.
void checkCrls(const std::vector<ByteVector>& crls, const Chain& chain, int64_t at, Verdict& v) {
  std::vector<X509*> certs;
  for (const Cert* c : {chain.ark, chain.ask, chain.vek}) {
    if (c != nullptr) {
      certs.push_back(c->x509.get());
    }
  }
  for (size_t i = 0; i < crls.size(); ++i) {
    std::string name = crls.size() == 1 ? "crl" : "crl." + std::to_string(i);
    internal::checkCrl(name, crls[i], certs, certs, at, v);
  }
}

std::string chainKey(const ATTESTATION_REPORT& r, const Chain& chain,
                     std::optional<SnpProduct> product, int64_t at,
                     const std::vector<ByteVector>& crls) {
  ByteVector all;
  auto add = [&all](Bytes b) {
    uint64_t n = b.size();
    appendStruct(all, n);
    all.insert(all.end(), b.begin(), b.end());
  };
  uint32_t key = static_cast<uint32_t>(signingKey(r));
  int32_t p = product ? static_cast<int32_t>(*product) : -1;
  appendStruct(all, key);
  appendStruct(all, p);
  appendStruct(all, at);
  for (const Cert* c : {chain.vek, chain.ask, chain.ark}) {
    ByteVector der = c ? internal::certificateDer(c->x509.get()) : ByteVector();
    add(der);
  }
  for (const ByteVector& crl : crls) add(crl);
  return hexBytes(internal::sha256(all));
}

void checkSignature(Bytes report, const ATTESTATION_REPORT& r, const Chain& chain, Verdict& v) {
  if (chain.vek == nullptr) {
    v.add("report.signature", false, "no VCEK/VLEK certificate to verify with");
    return;
  }
  ByteVector sig = internal::ecdsaSignatureFromLittleEndian(bytesAt(r.signature_r, 48),
                                                            bytesAt(r.signature_s, 48));
  std::optional<std::string> why =
      internal::verifySignature(X509_get0_pubkey(chain.vek->x509.get()), EVP_sha384(),
                                report.subspan(0, kSnpSignedSize), sig);
  v.add("report.signature", !why,
        why ? *why : "ECDSA P-384/SHA-384 by " + chain.vek->subject_cn + " verifies", "",
        "signed bytes 0x000..0x29f");
}

}  // namespace igvmkit::attest::internal
