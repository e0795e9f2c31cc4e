// End-to-end tests over the real TDX quotes and collateral in $IGVMKIT_SHARED/testdata/attest;
// expected values are the decoded fields MANIFEST.md lists for each item.
#include "attest/tdx.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "attest/internal/json_span.h"
#include "attest/testing/shared.h"
#include "base/testing/matchers.h"

using ::igvmkit::testing::HasRule;
using ::igvmkit::testing::HasRulePrefix;

namespace igvmkit::attest {
namespace {

using testing::readShared;

struct TdxItem {
  const char* path;
  uint16_t version;
  uint16_t body_type;
  size_t quote_end;
  const char* tee_tcb_svn;
  const char* mr_seam_prefix;  // 32 hex
  const char* td_attributes;   // bytes in quote order
  const char* xfam;
  const char* mr_td;
  const char* rtmr_prefixes[4];  // 24 hex each
  const char* report_data;
  const char* qe_mr_enclave_prefix;  // 16 hex
  uint16_t qe_isv_svn;
  const char* fmspc;
};

const TdxItem kItems[] = {
    {"tdx01_v4_spr_gotdx/tdx_prod_quote_SPR_E4.dat", 4, 2, 4935, "03000400000000000000000000000000",
     "2fd279c16164a93dd5bf373d834328d4", "0000004000000000", "e71a060000000000",
     "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb",
     {"2927da70461cd63266f43230", "2c700b8ba9b85783f8be9fb9", "8652f0caaba7e215ea442dc3",
      "000000000000000000000000"},
     "6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed313b987a467dacead6f0c87a6d766c66f6f29f8acb281f1113",
     "853e298f3b7cde28", 4, "50806f000000"},
    {"tdx03_v4_gcp_gotdx/cos-113-tdx-quote.dat", 4, 2, 4935, "04010700000000000000000000000000",
     "ffc97a88587660fb04e1f7c851300c96", "0000001000000000", "e700060000000000",
     "dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954dba41394c7717cb2735396c1d04231f94a",
     {"3fa2f61f395b7f5feefb4ec2", "f62dbc072bd5d3f3438b7b35", "4969684dc87381fc3b313417",
      "000000000000000000000000"},
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "e5a3a7b5d830c295", 6, "00806f050000"},
    {"tdx04_v4_coco_q4/tdx_quote_4.dat", 4, 2, 4936, "03000500000000000000000000000000",
     "2fd279c16164a93dd5bf373d834328d4", "0100001000000000", "e742060000000000",
     "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031",
     {"e940da7c2712d2790e2961e0", "559cfcf42716ed6c40a48a73", "000000000000000000000000",
      "000000000000000000000000"},
     "7c71fe2c86eff65a7cf8dbc22b3275689fd0464a267baced1bf94fc1324656aeb755da3d44d098c0c87382f3a5f85b45c8a28fee1d3bdb38342bf96671501429",
     "853e298f3b7cde28", 4, "50806f000000"},
    {"tdx05_v5_coco_q5/tdx_quote_5.dat", 5, 3, 5006, "05010200000000000000000000000000",
     "1cc6a17ab799e9a693fac7536be61c12", "0000001000000000", "e742060000000000",
     "dfba221b48a22af8511542ee796603f37382800840dcd978703909bf8e64d4c8a1e9de86e7c9638bfcba422f3886400a",
     {"9b529f3689e2e8ebb899e9ab", "ca5a979317ffe8a527a3b7aa", "000000000000000000000000",
      "000000000000000000000000"},
     "6d6ab13b046cff606ac0074be13981b07b6325dba10b5facc96febf551c0c3be2b75f92fe1f88f4bb996969ad0174b4b7a70261b7b85c844f4b33a4674fd049f",
     "e5a3a7b5d830c295", 6, "90c06f000000"},
    {"tdx06_v4_coco_q6/tdx_quote_6.dat", 4, 2, 4936, "05030200000000000000000000000000",
     "476a2997c62bccc78370913d0a80b956", "0000001000000000", "e702060000000000",
     "21e8dead92d6c69d7cbba79816686c03a48485c7df0c11f6f04792d5e1d378f6b8c46615ba6946adccac6becffbb1e88",
     {"395aefe7bac15b24c40f1cd7", "fc4b0f849d8d76fdf1da563a", "193edd321148e81fd4d6ce00",
      "000000000000000000000000"},
     "26cae1c77185617fb6a03fc29bf1f924596e52352b9b7594940b576ae126cd4a570cc3202a900c5d19a6eb0a95b32cfd00000000000000000000000000000000",
     "b7ae9ab69e76f779", 7, "00a06d080000"},
    {"tdx07_v4_azure_coco/td-quote.bin", 4, 2, 4936, "02010600000000000000000000000000",
     "360304d34a16aace0a18e09ad2d07d2b", "0000000000000000", "e718060000000000",
     "024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795d1737b66205949d15469dc8c1ba7ab7b",
     {"000000000000000000000000", "000000000000000000000000", "000000000000000000000000",
      "000000000000000000000000"},
     "9734504f161d104c74e3165c15f779b06a9bb40dfa71937817d7eee68e5938390000000000000000000000000000000000000000000000000000000000000000",
     "86fc4e0ec2c5ddce", 5, "00806f050000"},
    {"tdx08_v4_phala/tdx_quote", 4, 2, 4936, "06010300000000000000000000000000",
     "5b38e33a6487958b72c3c12a938eaa5e", "0000001000000000", "e702060000000000",
     "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
     {"44c0197b39157fdd7a4dcc44", "0084452c01668329d4bc06ac", "d833feef2cd945148aa38ead",
      "000000000000000000000000"},
     "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20",
     "e5a3a7b5d830c295", 6, "b0c06f000000"},
    {"tdx10_v4_phala_hex/tdx-quote.hex", 4, 2, 4936, "05010200000000000000000000000000",
     "1cc6a17ab799e9a693fac7536be61c12", "0000001000000000", "e702060000000000",
     "7ba9e262ce6979087e34632603f354dd8f8a870f5947d116af8114db6c9d0d74c48bec4280e5b4f4a37025a10905bb29",
     {"4574c098915caf3e82057817", "000000000000000000000000", "000000000000000000000000",
      "547fcba4630bfb981169a8a1"},
     "7148f47ef58b475fce69b386e2d6b4c964a9533cc328ea8e544db66612a5174698d006951cefa8fd4450e884300638e567e22f9a012ef5754aa6a9d9564fcd8a",
     "e5a3a7b5d830c295", 6, "b0c06f000000"},
    {"tdx11_v4_phala_tappd/quote-from-tappd.hex", 4, 2, 4936, "05010200000000000000000000000000",
     "1cc6a17ab799e9a693fac7536be61c12", "0000001000000000", "e702060000000000",
     "c68518a0ebb42136c12b2275164f8c72f25fa9a34392228687ed6e9caeb9c0f1dbd895e9cf475121c029dc47e70e91fd",
     {"274c2344116db7c663470693", "918fbd97108e05450afa6aca", "000000000000000000000000",
      "a2d25bc888a93009af5b70ea"},
     "7668c6b4eafb62301c72714ecc7d90ce9a0e04b52dc117720df2047b0a59f1dbd937243eef1410a3cdc524aad66d4554b4f18b54da2fc0608dac40d6dea5f1d4",
     "e5a3a7b5d830c295", 6, "b0c06f000000"},
};

int64_t at(const char* text) {
  Result<int64_t> t = parseUtcTime(text);
  EXPECT_TRUE(t.ok());
  return t.ok() ? *t : 0;
}

const char* kAt = "2025-07-01T00:00:00Z";  // inside every PCK leaf's validity

ByteVector loadQuote(const std::string& shared, const std::string& rel) {
  Result<ByteVector> q = decodeEvidence(readShared(shared, "intel/tdx/" + rel));
  EXPECT_TRUE(q.ok()) << rel;
  return q.ok() ? *q : ByteVector{};
}

TdxEvidence evidence(Bytes quote, int64_t when) {
  return TdxEvidence{.quote = quote, .root = {}, .collateral = {}, .tcb_signing_chain = {},
                     .crls = {}, .at = when};
}

std::string dumpChecks(const Verdict& v) {
  std::string out;
  for (const Check& c : v.checks) {
    out += describe(c) + "\n";
  }
  return out;
}

nlohmann::ordered_json field(const Verdict& v, const std::string& name) {
  for (const Field& f : v.fields) {
    if (f.name == name) return f.value;
  }
  return nullptr;
}

TEST(TdxVerify, EveryQuoteVerifiesWithManifestFields) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  for (const TdxItem& it : kItems) {
    SCOPED_TRACE(it.path);
    ByteVector quote = loadQuote(shared, it.path);
    Result<Verdict> v = verifyTdxQuote(evidence(quote, at(kAt)));
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_TRUE(v->passed()) << dumpChecks(*v);
    for (const char* name : {"quote.signature", "qe_report.signature", "qe_report.binding",
                             "pck.chain", "pck.root", "pck.extension", "quote.qe_vendor"}) {
      ASSERT_NE(v->find(name), nullptr) << name;
      EXPECT_TRUE(v->find(name)->passed) << name;
    }
    Result<TdxQuote> q = parseTdxQuote(quote);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->header.version, it.version);
    EXPECT_EQ(q->body_type, it.body_type);
    EXPECT_EQ(q->size, it.quote_end);
    EXPECT_EQ(q->header.attestation_key_type, 2);
    EXPECT_EQ(q->header.tee_type, 0x81u);
    EXPECT_EQ(q->certification_type, 6);
    EXPECT_EQ(q->pck_certification_type, 5);
    EXPECT_EQ(q->qe_auth_data.size(), 32u);
    EXPECT_EQ(q->qe_report.isv_prod_id, 2);
    EXPECT_EQ(q->qe_report.isv_svn, it.qe_isv_svn);
    EXPECT_EQ(field(*v, "tee_tcb_svn"), it.tee_tcb_svn);
    EXPECT_EQ(field(*v, "mr_seam").get<std::string>().substr(0, 32), it.mr_seam_prefix);
    EXPECT_EQ(field(*v, "td_attributes"), it.td_attributes);
    EXPECT_EQ(field(*v, "xfam"), it.xfam);
    EXPECT_EQ(field(*v, "mr_td"), it.mr_td);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(field(*v, "rtmr" + std::to_string(i)).get<std::string>().substr(0, 24),
                it.rtmr_prefixes[i]);
    }
    EXPECT_EQ(field(*v, "report_data"), it.report_data);
    EXPECT_EQ(field(*v, "qe_mr_enclave").get<std::string>().substr(0, 16), it.qe_mr_enclave_prefix);
    EXPECT_EQ(field(*v, "qe_mr_signer").get<std::string>().substr(0, 16), "dc9e2a7c6f948f17");
    EXPECT_EQ(field(*v, "fmspc"), it.fmspc);
    EXPECT_EQ(field(*v, "pce_id"), "0000");
    EXPECT_EQ(field(*v, "pck_issuer"), "Intel SGX PCK Platform CA");
  }
}

TEST(TdxVerify, V5BodyHasTdx15Fields) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  Result<TdxQuote> q = parseTdxQuote(loadQuote(shared, "tdx05_v5_coco_q5/tdx_quote_5.dat"));
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(q->body_15.has_value());
  EXPECT_EQ(hexBytes(asBytes(q->body_15->tee_tcb_svn_2)), "05010200000000000000000000000000");
  EXPECT_EQ(hexBytes(asBytes(q->body_15->mr_service_td)),
            "383c87d3bbb047b2d171eaca95312ede99f258088dc788f6ae2ccf8b6dd848fe8d47629e08b3f6cbd4a00dd47a5a033d");
  EXPECT_EQ(q->signed_region.size(), 702u);
}

TEST(TdxVerify, HexFilesDecodeToTheBinaryQuote) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  EXPECT_EQ(loadQuote(shared, "tdx10_v4_phala_hex/tdx-quote.hex"),
            readShared(shared, "intel/tdx/tdx10_v4_phala_hex/tdx-quote.bin"));
  EXPECT_EQ(loadQuote(shared, "tdx11_v4_phala_tappd/quote-from-tappd.hex"),
            readShared(shared, "intel/tdx/tdx11_v4_phala_tappd/quote.bin"));
}

// Every byte of the signed region, flipped, is rejected: either the structure no longer parses
// (the check that fails is named by the error's rule) or the quote signature fails.
void expectSignedBytesRejected(const ByteVector& quote, int64_t when) {
  Result<TdxQuote> q = parseTdxQuote(quote);
  ASSERT_TRUE(q.ok());
  size_t n = q->signed_region.size();
  for (size_t i = 0; i < n; ++i) {
    ByteVector bad = quote;
    bad[i] ^= std::byte{0xFF};
    Result<Verdict> v = verifyTdxQuote(evidence(bad, when));
    if (!v.ok()) {
      EXPECT_THAT(v, HasRulePrefix("quote.")) << "byte " << hex(i);
      continue;
    }
    ASSERT_FALSE(v->passed()) << "byte " << hex(i);
    ASSERT_FALSE(v->find("quote.signature")->passed) << "byte " << hex(i);
  }
}

TEST(TdxMutation, EverySignedByteFlippedIsRejected) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  expectSignedBytesRejected(loadQuote(shared, "tdx08_v4_phala/tdx_quote"), at(kAt));
  expectSignedBytesRejected(loadQuote(shared, "tdx05_v5_coco_q5/tdx_quote_5.dat"), at(kAt));
}

TEST(TdxMutation, QeReportSignatureAndKeyFlipsAreRejected) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  ByteVector quote = loadQuote(shared, "tdx08_v4_phala/tdx_quote");
  Result<TdxQuote> q = parseTdxQuote(quote);
  ASSERT_TRUE(q.ok());
  size_t qe_off = static_cast<size_t>(q->qe_report_bytes.data() - Bytes(quote).data());
  for (size_t i = qe_off; i < qe_off + 384 + 64; ++i) {  // QE report and its signature
    ByteVector bad = quote;
    bad[i] ^= std::byte{0xFF};
    Result<Verdict> v = verifyTdxQuote(evidence(bad, at(kAt)));
    ASSERT_TRUE(v.ok());
    ASSERT_FALSE(v->find("qe_report.signature")->passed) << "byte " << hex(i);
  }
  size_t key_off = static_cast<size_t>(q->attestation_key.data() - Bytes(quote).data());
  for (size_t i = key_off; i < key_off + 64; ++i) {
    ByteVector bad = quote;
    bad[i] ^= std::byte{0xFF};
    Result<Verdict> v = verifyTdxQuote(evidence(bad, at(kAt)));
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(v->find("qe_report.binding")->passed) << "byte " << hex(i);
    EXPECT_FALSE(v->find("quote.signature")->passed) << "byte " << hex(i);
  }
  size_t sig_off = static_cast<size_t>(q->signature.data() - Bytes(quote).data());
  for (size_t i = sig_off; i < sig_off + 64; ++i) {
    ByteVector bad = quote;
    bad[i] ^= std::byte{0xFF};
    Result<Verdict> v = verifyTdxQuote(evidence(bad, at(kAt)));
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(v->find("quote.signature")->passed) << "byte " << hex(i);
  }
}

// The quote with its PCK chain replaced (sizes rewritten; the signed region is unchanged).
ByteVector withPckChain(const ByteVector& quote, const std::string& pem) {
  Result<TdxQuote> q = parseTdxQuote(quote);
  EXPECT_TRUE(q.ok());
  ByteVector out(q->signed_region.begin(), q->signed_region.end());
  ByteVector cert;
  cert.insert(cert.end(), q->qe_report_bytes.begin(), q->qe_report_bytes.end());
  cert.insert(cert.end(), q->qe_report_signature.begin(), q->qe_report_signature.end());
  appendStruct(cert, static_cast<uint16_t>(q->qe_auth_data.size()));
  cert.insert(cert.end(), q->qe_auth_data.begin(), q->qe_auth_data.end());
  appendStruct(cert, uint16_t{5});
  appendStruct(cert, static_cast<uint32_t>(pem.size()));
  Bytes p = toBytes(pem);
  cert.insert(cert.end(), p.begin(), p.end());
  appendStruct(out, static_cast<uint32_t>(134 + cert.size()));
  out.insert(out.end(), q->signature.begin(), q->signature.end());
  out.insert(out.end(), q->attestation_key.begin(), q->attestation_key.end());
  appendStruct(out, uint16_t{6});
  appendStruct(out, static_cast<uint32_t>(cert.size()));
  out.insert(out.end(), cert.begin(), cert.end());
  return out;
}

std::string pckChainText(const ByteVector& quote) {
  Result<TdxQuote> q = parseTdxQuote(quote);
  EXPECT_TRUE(q.ok());
  std::string s(reinterpret_cast<const char*>(q->pck_chain.data()), q->pck_chain.size());
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

TEST(TdxMutation, AnotherPlatformsPckCertificateIsRejected) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  ByteVector quote = loadQuote(shared, "tdx08_v4_phala/tdx_quote");
  // Rebuilt with its own chain, the quote still verifies: the rebuild is faithful.
  Result<Verdict> same = verifyTdxQuote(evidence(withPckChain(quote, pckChainText(quote)), at(kAt)));
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->passed()) << dumpChecks(*same);
  // Another platform's (valid, Intel-issued) PCK chain: the QE report no longer verifies.
  ByteVector other = loadQuote(shared, "tdx06_v4_coco_q6/tdx_quote_6.dat");
  Result<Verdict> v = verifyTdxQuote(evidence(withPckChain(quote, pckChainText(other)), at(kAt)));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->find("pck.chain")->passed);
  EXPECT_FALSE(v->find("qe_report.signature")->passed);
  EXPECT_FALSE(v->passed());
  // A chain whose root is not the pinned Intel root: an AMD chain in its place.
  std::string amd(reinterpret_cast<const char*>(
                      readShared(shared, "amd/roots/milan_vcek_cert_chain.pem").data()),
                  readShared(shared, "amd/roots/milan_vcek_cert_chain.pem").size());
  v = verifyTdxQuote(evidence(withPckChain(quote, amd), at(kAt)));
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->find("pck.root")->passed);
  EXPECT_FALSE(v->find("pck.chain")->passed);
  // A user-given root that is not the quote's root.
  TdxEvidence ev = evidence(quote, at(kAt));
  Result<std::vector<ByteVector>> ark =
      splitCertificates(readShared(shared, "amd/roots/milan_vcek_cert_chain.pem"));
  ev.root = ark->back();
  v = verifyTdxQuote(ev);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->find("pck.root")->passed);
  EXPECT_FALSE(v->find("pck.chain")->passed);
  // And the Intel root given explicitly passes.
  Result<std::vector<ByteVector>> intel =
      splitCertificates(readShared(shared, "intel/roots/Intel_SGX_Root_CA.pem"));
  ev.root = intel->front();
  v = verifyTdxQuote(ev);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->passed()) << dumpChecks(*v);
}

std::string pemOf(const ByteVector& der) {
  std::string b64(4 * ((der.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                          reinterpret_cast<const unsigned char*>(der.data()),
                          static_cast<int>(der.size()));
  b64.resize(static_cast<size_t>(n));
  std::string out = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) {
    out += b64.substr(i, 64) + "\n";
  }
  return out + "-----END CERTIFICATE-----\n";
}

TEST(TdxMutation, EveryPckLeafByteFlippedIsRejected) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  ByteVector quote = loadQuote(shared, "tdx08_v4_phala/tdx_quote");
  Result<std::vector<ByteVector>> chain = splitCertificates(toBytes(pckChainText(quote)));
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), 3u);
  std::string rest = pemOf((*chain)[1]) + pemOf((*chain)[2]);
  // The re-encoded, unmodified chain verifies.
  ByteVector same = withPckChain(quote, pemOf((*chain)[0]) + rest);
  Result<Verdict> ok = verifyTdxQuote(evidence(same, at(kAt)));
  ASSERT_TRUE(ok.ok());
  ASSERT_TRUE(ok->passed()) << dumpChecks(*ok);
  const ByteVector& leaf = (*chain)[0];
  for (size_t i = 0; i < leaf.size(); ++i) {
    ByteVector bad_leaf = leaf;
    bad_leaf[i] ^= std::byte{0xFF};
    ByteVector bad = withPckChain(quote, pemOf(bad_leaf) + rest);
    Result<Verdict> v = verifyTdxQuote(evidence(bad, at(kAt)));
    if (!v.ok()) {
      EXPECT_THAT(v, ::testing::AnyOf(HasRule("quote.pck_chain"), HasRule("certificate.parse")))
          << "byte " << hex(i);
      continue;
    }
    ASSERT_FALSE(v->passed()) << "byte " << hex(i);
    EXPECT_FALSE(v->find("pck.chain")->passed) << "byte " << hex(i) << "\n" << dumpChecks(*v);
  }
}

TEST(TdxCollateral, RawJsonMemberKeepsTheExactText) {
  std::string text = R"({"a" : [1, {"b":"]"}], "tcbInfo" :  {"x":"}\"{","y":[ ]} ,"signature":"ab"})";
  Result<std::string_view> m = internal::rawJsonMember(text, "tcbInfo");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(*m, R"({"x":"}\"{","y":[ ]})");
  EXPECT_FALSE(internal::rawJsonMember(text, "enclaveIdentity").ok());
  EXPECT_FALSE(internal::rawJsonMember(R"({"tcbInfo":{"x":1)", "tcbInfo").ok());
  EXPECT_FALSE(internal::rawJsonMember("[1]", "tcbInfo").ok());
}

TEST(TdxVerify, MalformedQuotesAreErrors) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  ByteVector quote = loadQuote(shared, "tdx08_v4_phala/tdx_quote");
  struct Case {
    size_t cut;
    const char* rule;
  } cases[] = {{10, "quote.truncated"}, {700, "quote.truncated"}, {4000, "quote.truncated"}};
  for (const Case& c : cases) {
    ByteVector cut(quote.begin(), quote.begin() + c.cut);
    Result<Verdict> v = verifyTdxQuote(evidence(cut, at(kAt)));
    ASSERT_FALSE(v.ok()) << c.cut;
    EXPECT_THAT(v, HasRule(c.rule)) << c.cut;
  }
  ByteVector v3 = quote;
  v3[0] = std::byte{3};
  Result<Verdict> v = verifyTdxQuote(evidence(v3, at(kAt)));
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v, HasRule("quote.version"));
  EXPECT_EQ(v.error().location->offset, 0u);
}

TEST(TdxCollateral, DcapQvlBundleVerifies) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  ByteVector quote = loadQuote(shared, "tdx08_v4_phala/tdx_quote");
  ByteVector collateral = readShared(shared, "intel/tdx/tdx08_v4_phala/tdx_quote_collateral.json");
  TdxEvidence ev = evidence(quote, at(kAt));
  ev.collateral.assign(reinterpret_cast<const char*>(collateral.data()), collateral.size());
  Result<Verdict> v = verifyTdxQuote(ev);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_TRUE(v->passed()) << dumpChecks(*v);
  for (const char* name :
       {"collateral.tcb_info.signer", "collateral.tcb_info.signature", "collateral.tcb_info.fresh",
        "collateral.tcb_info.fmspc", "collateral.qe_identity.signer",
        "collateral.qe_identity.signature", "collateral.qe_identity.match",
        "collateral.pck_crl", "collateral.root_ca_crl"}) {
    ASSERT_NE(v->find(name), nullptr) << name;
  }
  EXPECT_NE(field(*v, "tcb_status"), nullptr);

  // One byte of the signed TCB info text changed: its signature fails.
  std::string text = ev.collateral;
  size_t pos = text.find("\\\"tcbEvaluationDataNumber\\\":");
  ASSERT_NE(pos, std::string::npos);
  text[pos + 2] = 'T';
  ev.collateral = text;
  v = verifyTdxQuote(ev);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_FALSE(v->find("collateral.tcb_info.signature")->passed);

  // Stale collateral at a later time.
  ev.collateral.assign(reinterpret_cast<const char*>(collateral.data()), collateral.size());
  ev.at = at("2026-11-01T00:00:00Z");
  v = verifyTdxQuote(ev);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->find("collateral.tcb_info.fresh")->passed);

  // Collateral for another platform: FMSPC mismatch.
  ev.at = at(kAt);
  ByteVector q6 = loadQuote(shared, "tdx06_v4_coco_q6/tdx_quote_6.dat");
  ev.quote = q6;
  v = verifyTdxQuote(ev);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->find("collateral.tcb_info.fmspc")->passed);
}

// The TDX module of tdx08 (TEE_TCB_SVN 06 01 ..: module major version 1, SVN 6) against the
// bundle's TCB Info v3: identity TDX_01 (MRSIGNERSEAM and SEAMATTRIBUTES zero), level isvsvn 4
// UpToDate. Edits of the (then unsigned) text show each way it can fail.
TEST(TdxCollateral, TdxModuleIdentityAndLevel) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  ByteVector quote = loadQuote(shared, "tdx08_v4_phala/tdx_quote");
  ByteVector collateral = readShared(shared, "intel/tdx/tdx08_v4_phala/tdx_quote_collateral.json");
  TdxEvidence ev = evidence(quote, at(kAt));
  const std::string original(reinterpret_cast<const char*>(collateral.data()), collateral.size());
  ev.collateral = original;
  Result<Verdict> v = verifyTdxQuote(ev);
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_NE(v->find("collateral.tdx_module.identity"), nullptr) << dumpChecks(*v);
  EXPECT_TRUE(v->find("collateral.tdx_module.identity")->passed) << dumpChecks(*v);
  EXPECT_NE(v->find("collateral.tdx_module.identity")->expected.find("TDX_01"), std::string::npos);
  EXPECT_TRUE(v->find("collateral.tdx_module.level")->passed) << dumpChecks(*v);
  EXPECT_EQ(field(*v, "tdx_module_tcb_status").get<std::string>(), "UpToDate");

  auto edited = [&](const std::string& from, const std::string& to) {
    std::string text = original;
    size_t pos = text.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    if (pos != std::string::npos) text.replace(pos, from.size(), to);
    ev.collateral = text;
    Result<Verdict> out = verifyTdxQuote(ev);
    EXPECT_TRUE(out.ok());
    return out.ok() ? *out : Verdict{};
  };
  // No identity for module version 1.
  Verdict missing = edited("\\\"id\\\":\\\"TDX_01\\\"", "\\\"id\\\":\\\"TDX_07\\\"");
  EXPECT_FALSE(missing.find("collateral.tdx_module.identity")->passed);
  EXPECT_FALSE(missing.find("collateral.tdx_module.level")->passed);
  // The module's SVN 6 no longer reaches the UpToDate level: the next one is OutOfDate.
  Verdict old = edited("{\\\"tcb\\\":{\\\"isvsvn\\\":4}", "{\\\"tcb\\\":{\\\"isvsvn\\\":7}");
  EXPECT_TRUE(old.find("collateral.tdx_module.identity")->passed);
  EXPECT_FALSE(old.find("collateral.tdx_module.level")->passed);
  EXPECT_EQ(field(old, "tdx_module_tcb_status").get<std::string>(), "OutOfDate");
  // Another module signer.
  size_t id = original.find("TDX_01");
  ASSERT_NE(id, std::string::npos);
  std::string signer = original;
  size_t zeros = signer.find("000000", id);
  signer[zeros] = '1';
  ev.collateral = signer;
  Result<Verdict> other = verifyTdxQuote(ev);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->find("collateral.tdx_module.identity")->passed);
  EXPECT_EQ(other->find("collateral.tdx_module.identity")->detail, "MRSIGNERSEAM differs");
}

TEST(TdxCollateral, PcsResponsesAndCrlsVerify) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  ByteVector quote = loadQuote(shared, "tdx01_v4_spr_gotdx/tdx_prod_quote_SPR_E4.dat");
  Result<std::vector<ByteVector>> signer =
      splitCertificates(readShared(shared, "intel/roots/Intel_SGX_TCB_Signing_chain.pem"));
  ASSERT_TRUE(signer.ok());
  // The samples were issued in 2023; the only TCB Signing certificate available (from the 2025
  // dcap-qvl bundle, same key) was issued in 2025. No single time makes both valid, so check
  // each at its own time and expect exactly the other one to be named.
  const int64_t when = at("2023-07-01T00:00:00Z");
  for (const auto& [file, name] :
       {std::pair<const char*, std::string>{"gotdx_sample_tcbInfo_response.json", "tcb_info"},
        {"gotdx_sample_qeIdentity_response.json", "qe_identity"}}) {
    SCOPED_TRACE(file);
    ByteVector body = readShared(shared, std::string("intel/collateral/") + file);
    TdxEvidence ev = evidence(quote, when);
    ev.collateral.assign(reinterpret_cast<const char*>(body.data()), body.size());
    ev.tcb_signing_chain = *signer;
    ev.crls = {readShared(shared, "intel/collateral/gotdx_pckcrl.der"),
               readShared(shared, "intel/collateral/gotdx_rootcrl.der")};
    // The sample TCB Info's levels need TDX component 2 >= 5; this SPR platform's TEE_TCB_SVN
    // is 03 00 04 00..: it reaches no level, which is a failure (issue 16), not only a field.
    std::vector<std::string> unmet;
    if (name == "tcb_info") {
      unmet.push_back("collateral.tcb_info.level");
    }
    auto failing = [&](const std::string& check) {
      std::vector<std::string> out = {check};
      out.insert(out.end(), unmet.begin(), unmet.end());
      return out;
    };
    Result<Verdict> v = verifyTdxQuote(ev);
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(v->failedChecks(), failing("collateral." + name + ".signer")) << dumpChecks(*v);
    EXPECT_TRUE(v->find("collateral." + name + ".signature")->passed);
    EXPECT_TRUE(v->find("collateral." + name + ".fresh")->passed);
    EXPECT_TRUE(v->find("collateral.pck_crl")->passed);
    EXPECT_TRUE(v->find("collateral.root_ca_crl")->passed);
    // At the signing certificate's time the chain holds and the 2023 body is stale.
    ev.at = at(kAt);
    ev.crls.clear();
    v = verifyTdxQuote(ev);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->failedChecks(), failing("collateral." + name + ".fresh")) << dumpChecks(*v);
    // Without the signing chain the signature cannot be checked.
    ev.tcb_signing_chain.clear();
    v = verifyTdxQuote(ev);
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(v->find("collateral." + name + ".signature")->passed);
  }
  // A CRL that revokes nothing of this chain but is signed by another key is rejected.
  TdxEvidence crl_ev = evidence(quote, when);
  ByteVector crl = readShared(shared, "intel/collateral/gotdx_rootcrl.der");
  crl[crl.size() - 5] ^= std::byte{0x01};  // inside the signature value
  crl_ev.crls = {crl};
  Result<Verdict> crl_v = verifyTdxQuote(crl_ev);
  ASSERT_TRUE(crl_v.ok());
  EXPECT_FALSE(crl_v->find("collateral.root_ca_crl")->passed);
  // The v5 TCB info sample belongs to tdx05's FMSPC.
  ByteVector body = readShared(shared, "intel/collateral/gotdx_sample_tcbinfo_response_v5.json");
  ByteVector q5 = loadQuote(shared, "tdx05_v5_coco_q5/tdx_quote_5.dat");
  TdxEvidence ev = evidence(q5, at("2026-02-10T00:00:00Z"));
  ev.collateral.assign(reinterpret_cast<const char*>(body.data()), body.size());
  ev.tcb_signing_chain = *signer;
  Result<Verdict> v = verifyTdxQuote(ev);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_TRUE(v->find("collateral.tcb_info.signature")->passed) << dumpChecks(*v);
  EXPECT_TRUE(v->find("collateral.tcb_info.fmspc")->passed) << dumpChecks(*v);
}

// --- reference values -----------------------------------------------------------------------

Result<Verdict> verifyWithRef(const ByteVector& quote, const std::string& json) {
  Result<measure::ReferenceValues> ref = measure::ReferenceValues::fromJson(json);
  EXPECT_TRUE(ref.ok()) << (ref.ok() ? "" : ref.error().message) << "\n" << json;
  if (!ref.ok()) {
    return ref.error();
  }
  return verifyTdxQuote(evidence(quote, at(kAt)), &*ref);
}

TEST(TdxReference, EachFieldMatchesAndEachMismatchIsNamed) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  const TdxItem& it = kItems[6];  // tdx08
  ByteVector quote = loadQuote(shared, it.path);
  Result<Verdict> base = verifyTdxQuote(evidence(quote, at(kAt)));
  ASSERT_TRUE(base.ok());
  std::string rtmrs = "[";
  for (int i = 0; i < 4; ++i) {
    rtmrs += std::string(i ? "," : "") + "\"" + field(*base, "rtmr" + std::to_string(i)).get<std::string>() + "\"";
  }
  rtmrs += "]";
  struct Field {
    std::string key, good, bad, check;
  };
  std::vector<Field> fields = {
      {"rtmrs", rtmrs, "[null,null,\"" + std::string(96, '0') + "\"]", "ref.rtmr2"},
      {"report_data", "\"" + std::string(it.report_data) + "\"",
       "\"" + std::string(it.report_data).substr(0, 126) + "00\"", "ref.report_data"},
      {"td_attributes", "\"" + std::string(it.td_attributes) + "\"", "\"0000000000000000\"",
       "ref.td_attributes"},
      {"xfam", "\"" + std::string(it.xfam) + "\"", "231", "ref.xfam"},
  };
  std::string digest = R"("platform":"tdx","digest":")" + std::string(it.mr_td) + "\"";
  std::string all;
  for (const Field& f : fields) {
    all += ",\"" + f.key + "\":" + f.good;
  }
  Result<Verdict> v = verifyWithRef(quote, "{" + digest + ",\"policy\":{" + all.substr(1) + "}}");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->passed()) << dumpChecks(*v);
  EXPECT_TRUE(v->find("ref.measurement")->passed);
  EXPECT_NE(v->find("ref.rtmr3"), nullptr);
  for (const Field& bad : fields) {
    std::string policy;
    for (const Field& f : fields) {
      policy += ",\"" + f.key + "\":" + (f.key == bad.key ? f.bad : f.good);
    }
    v = verifyWithRef(quote, "{" + digest + ",\"policy\":{" + policy.substr(1) + "}}");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->failedChecks(), std::vector<std::string>{bad.check}) << dumpChecks(*v);
  }
  // MRTD: a measurements array with SNP and TDX entries picks the TDX one.
  v = verifyWithRef(quote, std::string(R"({"measurements":[{"platform":"snp","digest":")") +
                               it.mr_td + R"("},{"platform":"tdx","digest":")" +
                               std::string(96, '1') + R"("}]})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->failedChecks(), std::vector<std::string>{"ref.measurement"});
}

TEST(TdxReference, DebugTdIsForbiddenUnlessAllowed) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  const TdxItem& it = kItems[2];  // tdx04: TD_ATTRIBUTES.DEBUG set
  ByteVector quote = loadQuote(shared, it.path);
  std::string digest = R"("platform":"tdx","digest":")" + std::string(it.mr_td) + "\"";
  Result<Verdict> v = verifyWithRef(quote, "{" + digest + "}");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->failedChecks(), std::vector<std::string>{"ref.debug"});
  v = verifyWithRef(quote, "{" + digest + R"(,"policy":{"debug_allowed":true}})");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->passed()) << dumpChecks(*v);
}

}  // namespace
}  // namespace igvmkit::attest
