// SEV-SNP checks on synthetic evidence: a Turin report signed by a throwaway P-384 key whose
// self-made "VCEK" carries Turin-layout AMD extensions (no real Turin report is available), and
// each product's KDS chain under the pins. The chain of the synthetic VCEK cannot verify (it is
// not AMD's); the tests look at the checks that judge the report against the certificate.
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include <cstring>

#include "attest/internal/crypto.h"
#include "attest/snp.h"
#include "attest/testing/shared.h"

namespace igvmkit::attest {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

ByteVector derInteger(uint8_t v) {
  if (v >= 0x80) {
    return {std::byte{0x02}, std::byte{0x02}, std::byte{0x00}, std::byte{v}};
  }
  return {std::byte{0x02}, std::byte{0x01}, std::byte{v}};
}

void addExtension(X509* cert, const char* oid, const ByteVector& value) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char*>(value.data()),
                        static_cast<int>(value.size()));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, data);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(data);
  ASN1_OBJECT_free(obj);
}

struct Synthetic {
  ByteVector report;
  ByteVector vcek;
};

// A Turin v5 report (REPORTED_TCB fmc1 bl3 tee2 snp5 ucode 0x61, the reference example) and a
// "VCEK" whose extensions state that TCB and CHIP_ID[0:8]; the report is signed with its key.
Synthetic makeTurin(uint8_t cert_fmc, bool chip_tail_zero, const char* product_name = "Turin") {
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 0);  // like AMD's VCEKs
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("SEV-VCEK"), -1, -1, 0);
  X509_NAME* issuer = X509_get_issuer_name(cert);
  X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("SEV-Turin"), -1, -1, 0);
  X509_set_pubkey(cert, key.get());
  const char* arc = "1.3.6.1.4.1.3704.1.";
  addExtension(cert, (std::string(arc) + "1").c_str(), derInteger(1));
  ByteVector name = {std::byte{0x16}, static_cast<std::byte>(std::strlen(product_name))};
  for (const char* c = product_name; *c != '\0'; ++c) {
    name.push_back(static_cast<std::byte>(*c));
  }
  addExtension(cert, (std::string(arc) + "2").c_str(), name);
  addExtension(cert, (std::string(arc) + "3.1").c_str(), derInteger(3));
  addExtension(cert, (std::string(arc) + "3.2").c_str(), derInteger(2));
  addExtension(cert, (std::string(arc) + "3.3").c_str(), derInteger(5));
  addExtension(cert, (std::string(arc) + "3.8").c_str(), derInteger(0x61));
  addExtension(cert, (std::string(arc) + "3.9").c_str(), derInteger(cert_fmc));
  ByteVector hwid;
  for (int i = 0; i < 8; ++i) {
    hwid.push_back(static_cast<std::byte>(0xA0 + i));
  }
  addExtension(cert, (std::string(arc) + "4").c_str(), hwid);  // raw bytes, no DER tag
  X509_sign(cert, key.get(), EVP_sha384());

  ATTESTATION_REPORT r{};
  r.version = 5;
  r.policy = kSnpPolicySmt | kSnpPolicyReservedOne;
  r.signature_algo = 1;
  r.current_tcb = r.reported_tcb = r.committed_tcb = r.launch_tcb = 0x6100000005020301;
  r.cpuid_fam_id = 0x1A;
  r.cpuid_mod_id = 0x02;
  r.cpuid_step = 0x01;
  for (int i = 0; i < 8; ++i) {
    r.chip_id[i] = static_cast<uint8_t>(0xA0 + i);
  }
  if (!chip_tail_zero) {
    r.chip_id[63] = 1;
  }
  ByteVector bytes(asBytes(r).begin(), asBytes(r).end());
  // Sign bytes 0x000..0x29F and store r, s little endian in their 72-byte fields.
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha384(), nullptr, key.get());
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<unsigned char*>(bytes.data()), kSnpSignedSize);
  std::vector<unsigned char> sig(len);
  EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<unsigned char*>(bytes.data()),
                 kSnpSignedSize);
  EVP_MD_CTX_free(ctx);
  const unsigned char* p = sig.data();
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
  BN_bn2lebinpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char*>(bytes.data()) + 0x2A0, 72);
  BN_bn2lebinpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char*>(bytes.data()) + 0x2E8, 72);
  ECDSA_SIG_free(ecdsa);

  Synthetic out{bytes, internal::certificateDer(cert)};
  X509_free(cert);
  return out;
}

TEST(SnpSynthetic, TurinLayoutBindsTcbAndEightByteHwid) {
  Synthetic s = makeTurin(/*cert_fmc=*/1, /*chip_tail_zero=*/true);
  Result<Verdict> v = verifySnpReport({.report = s.report, .certificates = {s.vcek}, .at = std::nullopt});
  ASSERT_TRUE(v.ok()) << v.error().message;
  for (const char* name : {"report.signature", "vek.tcb", "vek.hwid", "vek.kind", "product",
                           "report.version", "report.reserved", "report.signature_padding"}) {
    ASSERT_NE(v->find(name), nullptr) << name;
    EXPECT_TRUE(v->find(name)->passed) << describe(*v->find(name));
  }
  EXPECT_EQ(v->find("vek.tcb")->expected,
            "REPORTED_TCB fmc1/bl3/tee2/snp5/ucode97 (0x6100000005020301)");
  EXPECT_EQ(v->find("vek.hwid")->actual, "a0a1a2a3a4a5a6a7");
  // Not AMD's chain: the chain checks fail, so the verdict does.
  EXPECT_FALSE(v->passed());
  EXPECT_FALSE(v->find("ark.pinned")->passed);

  Result<AmdCertExtensions> ext =
      parseAmdExtensions(internal::extensions(internal::parseCertificate(s.vcek)->get()));
  ASSERT_TRUE(ext.ok());
  EXPECT_EQ(ext->struct_version, 1u);
  EXPECT_EQ(ext->fmc_spl, 1u);
  EXPECT_EQ(ext->ucode_spl, 0x61u);
}

TEST(SnpSynthetic, TurinMismatchesAreNamed) {
  Synthetic fmc = makeTurin(/*cert_fmc=*/2, /*chip_tail_zero=*/true);
  Result<Verdict> v = verifySnpReport({.report = fmc.report, .certificates = {fmc.vcek}, .at = std::nullopt});
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->find("vek.tcb")->passed);
  EXPECT_TRUE(v->find("vek.hwid")->passed);
  EXPECT_TRUE(v->find("report.signature")->passed);

  Synthetic tail = makeTurin(/*cert_fmc=*/1, /*chip_tail_zero=*/false);
  v = verifySnpReport({.report = tail.report, .certificates = {tail.vcek}, .at = std::nullopt});
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->find("vek.hwid")->passed);  // Turin: CHIP_ID beyond 8 bytes must be zero
  EXPECT_TRUE(v->find("vek.tcb")->passed);

  // A certificate whose productName names another product.
  Synthetic genoa = makeTurin(/*cert_fmc=*/1, /*chip_tail_zero=*/true, "Genoa");
  v = verifySnpReport({.report = genoa.report, .certificates = {genoa.vcek}, .at = std::nullopt});
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->find("product")->passed) << describe(*v->find("product"));
  EXPECT_TRUE(v->find("report.signature")->passed);
}

// Each product's KDS chains verify under their pins for a report of that product; another
// product's ARK does not.
TEST(SnpSynthetic, EveryProductsChainVerifiesUnderItsPin) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  struct P {
    SnpProduct product;
    uint8_t fam, mod;
    const char* name;
  } products[] = {{SnpProduct::kMilan, 0x19, 0x01, "milan"},
                  {SnpProduct::kGenoa, 0x19, 0x11, "genoa"},
                  {SnpProduct::kTurin, 0x1A, 0x02, "turin"}};
  for (const P& p : products) {
    for (const char* kind : {"vcek", "vlek"}) {
      SCOPED_TRACE(std::string(p.name) + " " + kind);
      ATTESTATION_REPORT r{};
      r.version = 3;
      r.cpuid_fam_id = p.fam;
      r.cpuid_mod_id = p.mod;
      r.key_info = std::string(kind) == "vlek" ? 4 : 0;
      ByteVector bytes(asBytes(r).begin(), asBytes(r).end());
      Result<std::vector<ByteVector>> chain = splitCertificates(testing::readShared(
          shared, "amd/roots/" + std::string(p.name) + "_" + kind + "_cert_chain.pem"));
      ASSERT_TRUE(chain.ok());
      Result<Verdict> v = verifySnpReport({.report = bytes, .certificates = *chain, .at = std::nullopt});
      ASSERT_TRUE(v.ok());
      EXPECT_TRUE(v->find("ark.pinned")->passed) << describe(*v->find("ark.pinned"));
      EXPECT_TRUE(v->find("ark.self_signature")->passed);
      EXPECT_TRUE(v->find("ask.signed_by_ark")->passed);
      EXPECT_TRUE(v->find("product")->passed) << describe(*v->find("product"));
      for (const P& other : products) {
        if (other.product == p.product) {
          continue;
        }
        r.cpuid_fam_id = other.fam;
        r.cpuid_mod_id = other.mod;
        ByteVector wrong(asBytes(r).begin(), asBytes(r).end());
        Result<Verdict> w =
            verifySnpReport({.report = wrong, .certificates = *chain, .at = std::nullopt});
        ASSERT_TRUE(w.ok());
        EXPECT_FALSE(w->find("ark.pinned")->passed);
        EXPECT_FALSE(w->find("product")->passed);
      }
    }
  }
}

// A test "ARK" (self-signed, CN ARK-Turin) and "ASK" (CN SEV-Turin, issued by it), serial 7.
struct TestRoots {
  std::unique_ptr<EVP_PKEY, KeyFree> ark_key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384")};
  ByteVector ark, ask;
};

ByteVector makeCert(const char* subject_cn, const char* issuer_cn, long serial, EVP_PKEY* subject,
                    EVP_PKEY* signer) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(subject_cn), -1, -1, 0);
  X509_NAME_add_entry_by_txt(X509_get_issuer_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(issuer_cn), -1, -1, 0);
  X509_set_pubkey(cert, subject);
  X509_sign(cert, signer, EVP_sha384());
  ByteVector der = internal::certificateDer(cert);
  X509_free(cert);
  return der;
}

TestRoots makeRoots() {
  TestRoots t;
  std::unique_ptr<EVP_PKEY, KeyFree> ask_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  t.ark = makeCert("ARK-Turin", "ARK-Turin", 1, t.ark_key.get(), t.ark_key.get());
  t.ask = makeCert("SEV-Turin", "ARK-Turin", 7, ask_key.get(), t.ark_key.get());
  return t;
}

// A KDS-style CRL issued by CN=ARK-Turin, current for the next hour, revoking `serials`.
ByteVector makeCrl(EVP_PKEY* signer, const std::vector<long>& serials) {
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_NAME* issuer = X509_NAME_new();
  X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ARK-Turin"), -1, -1, 0);
  X509_CRL_set_issuer_name(crl, issuer);
  X509_NAME_free(issuer);
  ASN1_TIME* last = X509_gmtime_adj(nullptr, -60);
  ASN1_TIME* next = X509_gmtime_adj(nullptr, 3600);
  X509_CRL_set1_lastUpdate(crl, last);
  X509_CRL_set1_nextUpdate(crl, next);
  for (long serial : serials) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* n = ASN1_INTEGER_new();
    ASN1_INTEGER_set(n, serial);
    X509_REVOKED_set_serialNumber(r, n);
    X509_REVOKED_set_revocationDate(r, last);
    X509_CRL_add0_revoked(crl, r);
    ASN1_INTEGER_free(n);
  }
  X509_CRL_sort(crl);
  X509_CRL_sign(crl, signer, EVP_sha384());
  unsigned char* out = nullptr;
  int len = i2d_X509_CRL(crl, &out);
  ByteVector der(reinterpret_cast<std::byte*>(out), reinterpret_cast<std::byte*>(out) + len);
  OPENSSL_free(out);
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  X509_CRL_free(crl);
  return der;
}

// No real AMD KDS CRL is in $IGVMKIT_SHARED, so the positive case uses a CRL of a test ARK: a
// valid, current CRL that revokes nothing passes "crl"; one revoking the ASK, or signed by another
// key under the same issuer name, fails it.
TEST(SnpSynthetic, CrlOfTheChainsArk) {
  Synthetic s = makeTurin(/*cert_fmc=*/1, /*chip_tail_zero=*/true);
  TestRoots roots = makeRoots();
  std::vector<ByteVector> certs = {s.vcek, roots.ask, roots.ark};
  auto crlCheck = [&](const ByteVector& crl) {
    Result<Verdict> v = verifySnpReport(
        {.report = s.report, .certificates = certs, .at = std::nullopt, .crls = {crl}});
    EXPECT_TRUE(v.ok());
    const Check* c = v.ok() ? v->find("crl") : nullptr;
    EXPECT_NE(c, nullptr);
    return c != nullptr ? *c : Check{};
  };
  Check clean = crlCheck(makeCrl(roots.ark_key.get(), {}));
  EXPECT_TRUE(clean.passed) << describe(clean);
  Check revoked = crlCheck(makeCrl(roots.ark_key.get(), {3, 7}));
  EXPECT_FALSE(revoked.passed) << describe(revoked);
  std::unique_ptr<EVP_PKEY, KeyFree> other(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  Check forged = crlCheck(makeCrl(other.get(), {}));
  EXPECT_FALSE(forged.passed) << describe(forged);
}

// A ChainCache verifies a chain once and hands the same checks to every later report.
TEST(SnpSynthetic, ChainCacheVerifiesEachChainOnce) {
  Synthetic s = makeTurin(/*cert_fmc=*/1, /*chip_tail_zero=*/true);
  TestRoots roots = makeRoots();
  std::vector<ByteVector> certs = {s.vcek, roots.ask, roots.ark};
  ChainCache cache;
  Result<Verdict> plain = verifySnpReport({.report = s.report, .certificates = certs, .at = 1800000000});
  ASSERT_TRUE(plain.ok());
  for (int i = 0; i < 3; ++i) {
    Result<Verdict> v = verifySnpReport(
        {.report = s.report, .certificates = certs, .at = 1800000000, .chain_cache = &cache});
    ASSERT_TRUE(v.ok());
    ASSERT_EQ(v->checks.size(), plain->checks.size());
    for (size_t c = 0; c < v->checks.size(); ++c) {
      EXPECT_EQ(describe(v->checks[c]), describe(plain->checks[c]));
    }
  }
  EXPECT_EQ(cache.computed(), 1u);
  EXPECT_EQ(cache.reused(), 2u);
  // Another time is another key: verified again.
  ASSERT_TRUE(verifySnpReport(
      {.report = s.report, .certificates = certs, .at = 1800000001, .chain_cache = &cache}).ok());
  EXPECT_EQ(cache.computed(), 2u);
}

}  // namespace
}  // namespace igvmkit::attest
