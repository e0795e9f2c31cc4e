// End-to-end tests over the real SEV-SNP evidence in $IGVMKIT_SHARED/testdata/attest; expected
// values are the decoded fields MANIFEST.md lists for each item.
#include "attest/snp.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "attest/internal/crypto.h"
#include "attest/testing/shared.h"
#include "base/file.h"
#include "base/testing/matchers.h"

using ::igvmkit::testing::HasRule;

namespace igvmkit::attest {
namespace {

using testing::readShared;

struct SnpItem {
  const char* dir;
  const char* report;
  const char* signer;  // VCEK/VLEK (DER, PEM or a PEM bundle)
  const char* chain;   // KDS cert_chain under amd/roots
  const char* at;      // a time inside every certificate's validity
  SnpProduct product;
  uint32_t version;
  const char* signing_key;
  uint64_t policy;
  uint32_t vmpl;
  uint64_t platform_info;
  uint32_t key_info;
  const char* measurement;
  const char* report_data;
  const char* id_key_digest;  // "" when MANIFEST.md lists none
  const char* chip_id_prefix;
  int cpuid[3];  // fam, mod, step; {-1,..} for v2
  const char* fw_current;
  const char* fw_committed;
  uint64_t reported_tcb, current_tcb, launch_tcb;
  int tcb[4];  // reported: bl, tee, snp, ucode
  std::optional<uint64_t> mit;  // v5 launch/current mitigation vectors
  const char* product_ext;      // VCEK/VLEK extension .2
  const char* csp_id;           // VLEK extension .5, "" for VCEKs
};

const SnpItem kItems[] = {
    {"snp01_milan_v2_gosev", "attestation.bin", "vcek.der", "milan_vcek_cert_chain.pem",
     "2026-01-01T00:00:00Z", SnpProduct::kMilan, 2, "VCEK", 0xb0000, 0, 0x1, 0x0,
     "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
     "01020304050000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "", "3ac3fe21e13fb0990eb28a802e3fb6a2", {-1, -1, -1}, "1.49.3", "1.49.3", 0x4405000000000002,
     0x4405000000000002, 0x4405000000000002, {2, 0, 5, 68}, std::nullopt, "Milan-B0", ""},
    {"snp02_milan_v2_virtee", "report.bin", "vcek_milan.der", "milan_vcek_cert_chain.pem",
     "2026-01-01T00:00:00Z", SnpProduct::kMilan, 2, "VCEK", 0x30000, 0, 0x1, 0x0,
     "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
     "d447b55d197491bfe15cf298f9de9986b7a7c4be2468b4f6e2d53b71d7c645810b0f2cdfca0040433be063fc1a8293f0f3f8dae7b79fecb3d1cd82bd6a93ebfd",
     "", "d49554ec717f4e5b0fe6b143bcf0405b", {-1, -1, -1}, "1.52.4", "1.52.4", 0x7308000000000003,
     0x7308000000000003, 0x7308000000000003, {3, 0, 8, 115}, std::nullopt, "Milan-B0", ""},
    {"snp03_milan_v2_coco", "test-report.bin", "test-vcek.der", "milan_vcek_cert_chain.pem",
     "2026-01-01T00:00:00Z", SnpProduct::kMilan, 2, "VCEK", 0x3001f, 0, 0x1, 0x0,
     "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c",
     "ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e20000000000000000000000000000000000000000000000000000000000000000",
     "0356215882a825279a85b300b0b742931d113bf7e32dde2e50ffde7ec743ca491ecdd7f336dc28a6e0b2bb57af7a44a3",
     "c38427a30d4c7af9d96f7a15b9726982", {-1, -1, -1}, "1.52.4", "1.52.4", 0x7308000000000003,
     0xce08000000000003, 0x7308000000000003, {3, 0, 8, 115}, std::nullopt, "Milan-B0", ""},
    {"snp05_milan_v2_azure_hcl_coco", "report.bin", "vcek.pem", "milan_vcek_cert_chain.pem",
     "2026-01-01T00:00:00Z", SnpProduct::kMilan, 2, "VCEK", 0x3001f, 0, 0x1, 0x0,
     "9ac48fcac8a2d88aeeff8d427ad4f2be0e3917c748a18bdf52cc317e7fe20308b459d5ef1a12e0c22944eb386d17c315",
     "b3fbad6514c83caeb0380882145e49f794229ef37c421b91fc47ff93556bafac0000000000000000000000000000000000000000000000000000000000000000",
     "0356215882a825279a85b300b0b742931d113bf7e32dde2e50ffde7ec743ca491ecdd7f336dc28a6e0b2bb57af7a44a3",
     "19752a447db501a32ade46428a46e926", {-1, -1, -1}, "1.52.4", "1.52.4", 0x7308000000000003,
     0xd208000000000003, 0x7308000000000003, {3, 0, 8, 115}, std::nullopt, "Milan-B0", ""},
    {"snp06_milan_v3_azure_coco_v0", "report.bin", "vcek.pem", "milan_vcek_cert_chain.pem",
     "2026-01-01T00:00:00Z", SnpProduct::kMilan, 3, "VCEK", 0x3001f, 0, 0x25, 0x0,
     "6a063be9dd79f6371c842e480f8dc3b5c725961344e57130e88c5adf49e8f7f6c79b75a5eb77fc769959f4aeb2f9401e",
     "af2910341dd8108360e485f1b72494255190b9cdd5ccb44b73b883037cf99f210000000000000000000000000000000000000000000000000000000000000000",
     "942fd93ebde6ea7a96efadeafc60f1c6b3d10e703b1dafd7555b92f7f3d32d0e006767648cba5b102af3d65756af4177",
     "66a5a7b4403a3006ca734aa36a76dd30", {0x19, 0x01, 0x01}, "1.55.29", "1.55.29",
     0xdb18000000000004, 0xdb18000000000004, 0xdb18000000000004, {4, 0, 24, 219}, std::nullopt,
     "Milan-B0", ""},
    {"snp07_milan_v3_azure_coco_v2", "report.bin", "vcek.der", "milan_vcek_cert_chain.pem",
     "2026-01-01T00:00:00Z", SnpProduct::kMilan, 3, "VCEK", 0x3001f, 0, 0x25, 0x0,
     "5b0ce64ad1c1f6375dbda5f760b98526ca1bcf91b8195091afc28e7b024251d68fe32e05af34048d6607678cd23283ff",
     "cf7cc0731c50f64876804b3943b2bfbd93dba69f5928e3df223e78ff34dd46ee0000000000000000000000000000000000000000000000000000000000000000",
     "942fd93ebde6ea7a96efadeafc60f1c6b3d10e703b1dafd7555b92f7f3d32d0e006767648cba5b102af3d65756af4177",
     "2e0e62a0e6f39bc491381b091ff79cfe", {0x19, 0x01, 0x01}, "1.55.29", "1.55.29",
     0xdb18000000000004, 0xdb18000000000004, 0xdb18000000000004, {4, 0, 24, 219}, std::nullopt,
     "Milan-B0", ""},
    {"snp08_genoa_v3_azure_coco", "report.bin", "vcek.pem", "genoa_vcek_cert_chain.pem",
     "2026-01-01T00:00:00Z", SnpProduct::kGenoa, 3, "VCEK", 0x3001f, 0, 0x24, 0x0,
     "f57dc09a507c6ecd82369bffb600f0003792f4d99bc26e985ec0c266fc34faf3706faf814c9e61065768a6ff917c89ae",
     "b581f12e29a2d7d64e5e0b738d563879a78b51c644d0fa0cce02b48699f6bf5f0000000000000000000000000000000000000000000000000000000000000000",
     "942fd93ebde6ea7a96efadeafc60f1c6b3d10e703b1dafd7555b92f7f3d32d0e006767648cba5b102af3d65756af4177",
     "0506ffba875e939c2729d20c74eb72b4", {0x19, 0x11, 0x01}, "1.55.40", "1.55.40",
     0x541700000000000a, 0x541700000000000a, 0x541700000000000a, {10, 0, 23, 84}, std::nullopt,
     "Genoa", ""},
    {"snp09_milan_v3_vlek_aws_coco", "test-vlek-report.bin", "test-vlek.der",
     "milan_vlek_cert_chain.pem", "2025-06-01T00:00:00Z", SnpProduct::kMilan, 3, "VLEK", 0x30000, 1,
     0x27, 0x4,
     "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0",
     "819770b7e6ea6df8dd8fd4dd146b073c0bf4f3ce5b0977ecac486e3a05ed1bd54e2a7ac1f5d1ca02e7d7d5ef9f73b8574fd9359e3a480d741a4478e8a7bc27ca",
     "", "00000000000000000000000000000000", {0x19, 0x01, 0x01}, "1.55.29", "1.55.29",
     0xd918000000000004, 0xdc18000000000004, 0xdb18000000000004, {4, 0, 24, 217}, std::nullopt,
     "Milan", "CN=cc-us-east-2.amazonaws.com"},
    {"snp10_milan_v2_vlek_aws_anolis", "test-vlek-report.bin", "test-vlek.der",
     "milan_vlek_cert_chain.pem", "2025-01-01T00:00:00Z", SnpProduct::kMilan, 2, "VLEK", 0x30000, 1,
     0x3, 0x4,
     "f1a99fc07470beb03b1330f4489520af8f0288187ffb661c71f35cab09bea19cd962d4f2d09f5a16c3c38b7da6bed244",
     "24370d12f27983b620ab0de35d35ff2a334e08ca27e5cffe25c7bb1c94a560aa133e26e9168ede56d1f3e879103644fe3414214d25299a45467353e07c1e0e90",
     "", "00000000000000000000000000000000", {-1, -1, -1}, "1.55.18", "1.55.18", 0xd115000000000003,
     0xd115000000000003, 0xd115000000000003, {3, 0, 21, 209}, std::nullopt, "Milan",
     "CN=cc-us-east-2.amazonaws.com"},
    {"snp13_genoa_v5_yaxi", "report.bin", "vcek-chain-genoa-v5.pem", "genoa_vcek_cert_chain.pem",
     "2026-01-01T00:00:00Z", SnpProduct::kGenoa, 5, "VCEK", 0x30000, 0, 0x25, 0x0,
     "bece7399a4da054a63a2e3fa1a47ff98c88e391d4379126fc4e75c677f25b6cd6bfd8ef609a8638049633ac7e00e4ac1",
     "bb851e203747c3685d79a29910e76c53957896dbf6e68835b64ea2c2b2be7db60000000000000000000000000000000000000000000000000000000000000000",
     "", "e0234bedb3918431f54ee2790787d7af", {0x19, 0x11, 0x01}, "1.55.49", "1.55.49",
     0x581b00000000000a, 0x581b00000000000a, 0x581b00000000000a, {10, 0, 27, 88}, 0xb, "Genoa", ""},
    {"snp14_genoa_v3_yaxi", "report.bin", "vcek-chain-genoa.pem", "genoa_vcek_cert_chain.pem",
     "2026-01-01T00:00:00Z", SnpProduct::kGenoa, 3, "VCEK", 0x30000, 0, 0x25, 0x0,
     "b0f5d097b5c7addd4ee06a6f5fd04a745c5415d77363ca74857b44226a1bd7da50329549def0897c234695e37b8c2793",
     "ed6f6333fec8605e5ec0193fa16318d0538c1a2be3c653e220d6565885ce23a40000000000000000000000000000000000000000000000000000000000000000",
     "", "9dc99962c063029e430b6f7b734075ec", {0x19, 0x11, 0x01}, "1.55.39", "1.55.39",
     0x4817000000000009, 0x4817000000000009, 0x4817000000000009, {9, 0, 23, 72}, std::nullopt,
     "Genoa", ""},
    {"snp15_milan_v3_yaxi", "report.bin", "vcek-chain-milan.pem", "milan_vcek_cert_chain.pem",
     "2026-01-01T00:00:00Z", SnpProduct::kMilan, 3, "VCEK", 0x30000, 0, 0x25, 0x0,
     "195b01b74976a1faba13bd85eaf787958f0a46e6dddd45c5bdbf8673522777842b8057ae5d866b75416efb62012deaa3",
     "a7ca989b0359ea4e5efc47bdbcad84b2df3f26fd09ee7bda5bb27953abf689920000000000000000000000000000000000000000000000000000000000000000",
     "", "a3fdc2c64dc299ab90d4238973864b58", {0x19, 0x01, 0x01}, "1.55.29", "1.55.29",
     0xdb18000000000004, 0xdb18000000000004, 0xdb18000000000004, {4, 0, 24, 219}, std::nullopt,
     "Milan-B0", ""},
};

int64_t at(const char* text) {
  Result<int64_t> t = parseUtcTime(text);
  EXPECT_TRUE(t.ok());
  return t.ok() ? *t : 0;
}

struct Loaded {
  ByteVector report;
  std::vector<ByteVector> certs;
};

Loaded load(const std::string& shared, const SnpItem& item) {
  Loaded out;
  std::string dir = "amd/snp/" + std::string(item.dir) + "/";
  Result<ByteVector> decoded = decodeEvidence(readShared(shared, dir + item.report));
  EXPECT_TRUE(decoded.ok());
  if (decoded.ok()) {
    Result<Bytes> report = extractSnpReport(*decoded);
    EXPECT_TRUE(report.ok());
    if (report.ok()) {
      out.report.assign(report->begin(), report->end());
    }
  }
  for (const std::string& rel :
       {dir + item.signer, "amd/roots/" + std::string(item.chain)}) {
    Result<std::vector<ByteVector>> certs = splitCertificates(readShared(shared, rel));
    EXPECT_TRUE(certs.ok()) << rel << ": " << (certs.ok() ? "" : certs.error().message);
    if (certs.ok()) {
      out.certs.insert(out.certs.end(), certs->begin(), certs->end());
    }
  }
  return out;
}

std::string dumpChecks(const Verdict& v) {
  std::string out;
  for (const Check& c : v.checks) {
    out += describe(c) + "\n";
  }
  return out;
}

const SnpItem& item(const char* dir) {
  for (const SnpItem& i : kItems) {
    if (std::string(i.dir) == dir) {
      return i;
    }
  }
  std::abort();
}

TEST(SnpVerify, EveryItemVerifiesWithManifestFields) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  for (const SnpItem& it : kItems) {
    SCOPED_TRACE(it.dir);
    Loaded l = load(shared, it);
    Result<Verdict> v = verifySnpReport({.report = l.report, .certificates = l.certs, .at = at(it.at)});
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_TRUE(v->passed()) << dumpChecks(*v);
    EXPECT_EQ(v->platform, "snp");
    for (const char* name : {"report.signature", "ark.pinned", "ark.self_signature",
                             "ask.signed_by_ark", "vek.signed_by_ask", "chain.path", "vek.tcb",
                             "vek.validity", "vek.kind", "product"}) {
      ASSERT_NE(v->find(name), nullptr) << name;
      EXPECT_TRUE(v->find(name)->passed) << name;
    }
    EXPECT_EQ(v->find("vek.hwid") != nullptr, std::string(it.signing_key) == "VCEK");

    Result<ATTESTATION_REPORT> r = parseSnpReport(l.report);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->version, it.version);
    EXPECT_EQ(r->policy, it.policy);
    EXPECT_EQ(r->vmpl, it.vmpl);
    EXPECT_EQ(r->signature_algo, 1u);
    EXPECT_EQ(r->platform_info, it.platform_info);
    EXPECT_EQ(r->key_info, it.key_info);
    EXPECT_EQ(hexBytes(asBytes(r->measurement)), it.measurement);
    EXPECT_EQ(hexBytes(asBytes(r->report_data)), it.report_data);
    if (*it.id_key_digest != '\0') {
      EXPECT_EQ(hexBytes(asBytes(r->id_key_digest)), it.id_key_digest);
    }
    EXPECT_EQ(hexBytes(asBytes(r->chip_id)).substr(0, 32), it.chip_id_prefix);
    if (it.cpuid[0] >= 0) {
      EXPECT_EQ(r->cpuid_fam_id, it.cpuid[0]);
      EXPECT_EQ(r->cpuid_mod_id, it.cpuid[1]);
      EXPECT_EQ(r->cpuid_step, it.cpuid[2]);
      EXPECT_EQ(productFromCpuid(*r), it.product);
    } else {
      EXPECT_FALSE(productFromCpuid(*r).has_value());
    }
    EXPECT_EQ(r->reported_tcb, it.reported_tcb);
    EXPECT_EQ(r->current_tcb, it.current_tcb);
    EXPECT_EQ(r->launch_tcb, it.launch_tcb);
    TcbVersion tcb = decodeTcb(r->reported_tcb, it.product);
    EXPECT_EQ(tcb.boot_loader, it.tcb[0]);
    EXPECT_EQ(tcb.tee, it.tcb[1]);
    EXPECT_EQ(tcb.snp, it.tcb[2]);
    EXPECT_EQ(tcb.microcode, it.tcb[3]);
    if (it.mit) {
      EXPECT_EQ(r->launch_mit_vector, *it.mit);
      EXPECT_EQ(r->current_mit_vector, *it.mit);
    }

    // The Verdict reports the same decoded fields.
    auto field = [&](const std::string& name) {
      for (const Field& f : v->fields) {
        if (f.name == name) return f.value;
      }
      return nlohmann::ordered_json();
    };
    EXPECT_EQ(field("product"), productName(it.product));
    EXPECT_EQ(field("version"), it.version);
    EXPECT_EQ(field("signing_key"), it.signing_key);
    EXPECT_EQ(field("policy"), it.policy);
    EXPECT_EQ(field("measurement"), it.measurement);
    EXPECT_EQ(field("report_data"), it.report_data);
    EXPECT_EQ(field("current_firmware"), it.fw_current);
    EXPECT_EQ(field("committed_firmware"), it.fw_committed);
    EXPECT_EQ(field("reported_tcb")["raw"], it.reported_tcb);
    EXPECT_EQ(field("reported_tcb")["microcode"], it.tcb[3]);
  }
}

TEST(SnpVerify, CertificateExtensionsMatchManifest) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  for (const SnpItem& it : kItems) {
    SCOPED_TRACE(it.dir);
    Result<std::vector<ByteVector>> certs = splitCertificates(
        readShared(shared, "amd/snp/" + std::string(it.dir) + "/" + it.signer));
    ASSERT_TRUE(certs.ok());
    Result<internal::X509Ptr> vek = internal::parseCertificate(certs->front());
    ASSERT_TRUE(vek.ok());
    Result<AmdCertExtensions> ext = parseAmdExtensions(internal::extensions(vek->get()));
    ASSERT_TRUE(ext.ok()) << ext.error().message;
    EXPECT_EQ(ext->struct_version, 0u);
    EXPECT_EQ(ext->product_name, std::string(it.product_ext));
    EXPECT_EQ(ext->bl_spl, static_cast<uint64_t>(it.tcb[0]));
    EXPECT_EQ(ext->tee_spl, static_cast<uint64_t>(it.tcb[1]));
    EXPECT_EQ(ext->snp_spl, static_cast<uint64_t>(it.tcb[2]));
    EXPECT_EQ(ext->ucode_spl, static_cast<uint64_t>(it.tcb[3]));
    if (*it.csp_id != '\0') {
      EXPECT_EQ(ext->csp_id, std::string(it.csp_id));
      EXPECT_FALSE(ext->hwid.has_value());
    } else {
      ASSERT_TRUE(ext->hwid.has_value());
      ASSERT_EQ(ext->hwid->size(), 64u);
      EXPECT_EQ(hexBytes(*ext->hwid).substr(0, 32), it.chip_id_prefix);
    }
  }
}

TEST(SnpVerify, HexAndHclInputsDecodeToTheSameReport) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  ByteVector bin = readShared(shared, "amd/snp/snp02_milan_v2_virtee/report.bin");
  Result<ByteVector> hex_decoded =
      decodeEvidence(readShared(shared, "amd/snp/snp02_milan_v2_virtee/report_milan.hex"));
  ASSERT_TRUE(hex_decoded.ok());
  EXPECT_EQ(*hex_decoded, bin);

  // Base64 (wrapped, as a PEM-style body) and base64url without padding decode to the same.
  std::string b64(4 * ((bin.size() + 2) / 3) + 1, '\0');
  b64.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                                 reinterpret_cast<const unsigned char*>(bin.data()),
                                                 static_cast<int>(bin.size()))));
  std::string wrapped;
  for (size_t i = 0; i < b64.size(); i += 76) {
    wrapped += b64.substr(i, 76) + "\n";
  }
  Result<ByteVector> from_b64 = decodeEvidence(toBytes(wrapped));
  ASSERT_TRUE(from_b64.ok());
  EXPECT_EQ(*from_b64, bin);
  std::string url = b64;
  for (char& c : url) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  while (!url.empty() && url.back() == '=') url.pop_back();
  Result<ByteVector> from_url = decodeEvidence(toBytes(url));
  ASSERT_TRUE(from_url.ok());
  EXPECT_EQ(*from_url, bin);
  // The raw binary passes through unchanged.
  Result<ByteVector> raw = decodeEvidence(bin);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, bin);

  ByteVector hcl = readShared(shared, "amd/snp/snp05_milan_v2_azure_hcl_coco/hcl-report.bin");
  ByteVector plain = readShared(shared, "amd/snp/snp05_milan_v2_azure_hcl_coco/report.bin");
  Result<Bytes> inner = extractSnpReport(hcl);
  ASSERT_TRUE(inner.ok());
  EXPECT_TRUE(std::equal(inner->begin(), inner->end(), plain.begin(), plain.end()));
}

TEST(SnpVerify, TurinTcbLayout) {
  // attest-format.md §1: raw 0x6100000005020301 = fmc1 bl3 tee2 snp5 ucode 0x61 on Turin.
  TcbVersion t = decodeTcb(0x6100000005020301, SnpProduct::kTurin);
  EXPECT_EQ(t.fmc, 1);
  EXPECT_EQ(t.boot_loader, 3);
  EXPECT_EQ(t.tee, 2);
  EXPECT_EQ(t.snp, 5);
  EXPECT_EQ(t.microcode, 0x61);
  TcbVersion m = decodeTcb(0x4405000000000002, SnpProduct::kMilan);
  EXPECT_EQ(m.boot_loader, 2);
  EXPECT_EQ(m.snp, 5);
  EXPECT_EQ(m.microcode, 68);
}

// Every single byte of the report, flipped, is rejected: a signed byte by the signature check,
// an unsigned one by the signature's own padding and value checks.
void expectEveryByteRejected(const std::string& shared, const SnpItem& it) {
  Loaded l = load(shared, it);
  int64_t when = at(it.at);
  for (size_t i = 0; i < l.report.size(); ++i) {
    ByteVector bad = l.report;
    bad[i] ^= std::byte{0xFF};
    Result<Verdict> v = verifySnpReport({.report = bad, .certificates = l.certs, .at = when});
    ASSERT_TRUE(v.ok()) << i;
    ASSERT_FALSE(v->passed()) << it.dir << " byte " << hex(i);
    const Check* sig = v->find("report.signature");
    const Check* pad = v->find("report.signature_padding");
    if (i < kSnpSignedSize || (i < 0x330 && (i - 0x2A0) % 72 < 48)) {
      ASSERT_FALSE(sig->passed) << it.dir << " byte " << hex(i);
    } else {
      ASSERT_FALSE(pad->passed) << it.dir << " byte " << hex(i);
    }
  }
}

TEST(SnpMutation, EveryReportByteFlippedIsRejected) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  expectEveryByteRejected(shared, item("snp01_milan_v2_gosev"));
  expectEveryByteRejected(shared, item("snp13_genoa_v5_yaxi"));
}

TEST(SnpMutation, EveryVcekByteFlippedIsRejected) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  const SnpItem& it = item("snp01_milan_v2_gosev");
  Loaded l = load(shared, it);
  ByteVector vcek = l.certs[0];
  int rejected_by_parse = 0;
  for (size_t i = 0; i < vcek.size(); ++i) {
    std::vector<ByteVector> certs = l.certs;
    certs[0][i] ^= std::byte{0xFF};
    Result<Verdict> v = verifySnpReport({.report = l.report, .certificates = certs, .at = at(it.at)});
    if (!v.ok()) {
      EXPECT_THAT(v, HasRule("certificate.parse")) << "byte " << hex(i);
      ++rejected_by_parse;
      continue;
    }
    ASSERT_FALSE(v->passed()) << "byte " << hex(i);
    // Either the certificate is no longer the VCEK signed by the ASK, or it is not one at all.
    const Check* signed_by = v->find("vek.signed_by_ask");
    bool named = (signed_by != nullptr && !signed_by->passed) || !v->find("vek.kind")->passed;
    EXPECT_TRUE(named) << "byte " << hex(i) << "\n" << dumpChecks(*v);
  }
  EXPECT_LT(rejected_by_parse, static_cast<int>(vcek.size()));
}

TEST(SnpMutation, AnotherProductsChainIsRejected) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  const SnpItem& it = item("snp06_milan_v3_azure_coco_v0");  // Milan v3: product from CPUID
  Loaded l = load(shared, it);
  std::vector<ByteVector> certs = {l.certs[0]};
  Result<std::vector<ByteVector>> genoa =
      splitCertificates(readShared(shared, "amd/roots/genoa_vcek_cert_chain.pem"));
  ASSERT_TRUE(genoa.ok());
  certs.insert(certs.end(), genoa->begin(), genoa->end());
  Result<Verdict> v = verifySnpReport({.report = l.report, .certificates = certs, .at = at(it.at)});
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->passed());
  EXPECT_FALSE(v->find("product")->passed);
  EXPECT_FALSE(v->find("ark.pinned")->passed);
  EXPECT_FALSE(v->find("vek.signed_by_ask")->passed);
  EXPECT_TRUE(v->find("report.signature")->passed);  // the VCEK itself still signs the report

  // A Genoa VCEK with a Milan report: the report signature and the binding fail.
  const SnpItem& g = item("snp08_genoa_v3_azure_coco");
  Loaded lg = load(shared, g);
  std::vector<ByteVector> swapped = {lg.certs[0]};
  swapped.insert(swapped.end(), l.certs.begin() + 1, l.certs.end());
  v = verifySnpReport({.report = l.report, .certificates = swapped, .at = at(it.at)});
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->find("report.signature")->passed);
  EXPECT_FALSE(v->find("product")->passed);
  EXPECT_FALSE(v->find("vek.hwid")->passed);

  // A VLEK report checked against the VCEK chain (ASK instead of ASVK).
  const SnpItem& vl = item("snp09_milan_v3_vlek_aws_coco");
  Loaded lv = load(shared, vl);
  Result<std::vector<ByteVector>> vcek_chain =
      splitCertificates(readShared(shared, "amd/roots/milan_vcek_cert_chain.pem"));
  std::vector<ByteVector> wrong = {lv.certs[0]};
  wrong.insert(wrong.end(), vcek_chain->begin(), vcek_chain->end());
  v = verifySnpReport({.report = lv.report, .certificates = wrong, .at = at(vl.at)});
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->find("vek.signed_by_ask")->passed);
  EXPECT_FALSE(v->find("chain.path")->passed);
}

TEST(SnpVerify, ExpiredVlekFailsValidityAtLaterTime) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  const SnpItem& it = item("snp10_milan_v2_vlek_aws_anolis");  // valid 2024-05-05..2025-05-05
  Loaded l = load(shared, it);
  Result<Verdict> v = verifySnpReport(
      {.report = l.report, .certificates = l.certs, .at = at("2026-11-01T00:00:00Z")});
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->find("vek.validity")->passed);
  EXPECT_FALSE(v->find("chain.path")->passed);
  EXPECT_TRUE(v->find("report.signature")->passed);
}

TEST(SnpVerify, MissingCertificatesAreFailedChecksNotErrors) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  Loaded l = load(shared, item("snp02_milan_v2_virtee"));
  Result<Verdict> v = verifySnpReport({.report = l.report, .certificates = {}, .at = 0});
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->passed());
  EXPECT_FALSE(v->find("report.signature")->passed);
  EXPECT_FALSE(v->find("ark.pinned")->passed);
  EXPECT_FALSE(v->find("product")->passed);  // v2 and no certificate: product unknown
}

TEST(SnpVerify, MalformedInputsAreErrors) {
  ByteVector small(0x100);
  Result<Verdict> v = verifySnpReport({.report = small, .certificates = {}, .at = std::nullopt});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v, HasRule("report.size"));
  Result<Bytes> r = extractSnpReport(small);
  ASSERT_FALSE(r.ok());
  ByteVector report(kSnpReportSize);
  ByteVector junk = {std::byte{0x30}, std::byte{0x03}, std::byte{1}};
  v = verifySnpReport({.report = report, .certificates = {junk}, .at = std::nullopt});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v, HasRule("certificate.parse"));
}

// --- reference values -----------------------------------------------------------------------

std::string writeTemp(const std::string& name, const std::string& text) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string path = std::string(tmp ? tmp : "/tmp") + "/" + name;
  std::ofstream(path) << text;
  return path;
}

Result<Verdict> verifyWithRef(const Loaded& l, const SnpItem& it, const std::string& json) {
  Result<std::string> text = readTextFile(writeTemp("ref.json", json));
  EXPECT_TRUE(text.ok());
  Result<measure::ReferenceValues> ref = measure::ReferenceValues::fromJson(*text);
  EXPECT_TRUE(ref.ok()) << (ref.ok() ? "" : ref.error().message) << "\n" << json;
  if (!ref.ok()) {
    return ref.error();
  }
  return verifySnpReport({.report = l.report, .certificates = l.certs, .at = at(it.at)}, &*ref);
}

TEST(SnpReference, MeasureDocumentMatches) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  const SnpItem& it = item("snp02_milan_v2_virtee");
  Loaded l = load(shared, it);
  // A `measure --json` document as the measure command prints it.
  std::string doc = std::string(R"({"platform":"snp","host":"kvm","vcpus":1,"digest":")") +
                    it.measurement + R"(","pages_measured":42,"vmsa_gpa":"0xfffffffff000"})";
  Result<Verdict> v = verifyWithRef(l, it, doc);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->passed()) << dumpChecks(*v);
  EXPECT_TRUE(v->find("ref.measurement")->passed);
  EXPECT_EQ(v->find("ref.measurement")->detail, "matches snp/kvm/1 vcpu");
  EXPECT_TRUE(v->find("ref.debug")->passed);
}

TEST(SnpReference, MeasurementsArrayPicksTheMatchingSnpEntry) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  const SnpItem& it = item("snp02_milan_v2_virtee");
  Loaded l = load(shared, it);
  std::string doc = std::string(R"({"measurements":[)") +
                    R"({"platform":"snp","host":"kvm","vcpus":1,"digest":")" + std::string(96, '0') + R"("},)" +
                    R"({"platform":"tdx","digest":")" + it.measurement + R"("},)" +
                    R"({"platform":"snp","host":"mshv","vcpus":1,"digest":")" + it.measurement + R"("}]})";
  Result<Verdict> v = verifyWithRef(l, it, doc);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->passed()) << dumpChecks(*v);
  EXPECT_EQ(v->find("ref.measurement")->detail, "matches snp/mshv/1 vcpu");

  // Only the TDX entry holds the digest: no SNP match.
  std::string tdx_only = std::string(R"({"measurements":[{"platform":"tdx","digest":")") +
                         it.measurement + R"("}]})";
  v = verifyWithRef(l, it, tdx_only);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->find("ref.measurement")->passed);
}

TEST(SnpReference, EveryPolicyFieldMatchesAndEachMismatchIsNamed) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  const SnpItem& it = item("snp03_milan_v2_coco");
  Loaded l = load(shared, it);
  Result<ATTESTATION_REPORT> r = parseSnpReport(l.report);
  ASSERT_TRUE(r.ok());
  auto h = [](Bytes b) { return hexBytes(b); };
  struct Field {
    std::string key;
    std::string good;
    std::string bad;
    std::string check;
  };
  std::string rd32 = h(asBytes(r->report_data)).substr(0, 64);
  std::vector<Field> fields = {
      {"min_tcb", R"({"boot_loader":3,"tee":0,"snp":8,"microcode":115})",
       R"({"microcode":116})", "ref.min_tcb"},
      {"guest_svn", std::to_string(r->guest_svn), std::to_string(r->guest_svn + 1), "ref.guest_svn"},
      {"family_id", "\"" + h(asBytes(r->family_id)) + "\"", "\"" + std::string(32, 'f') + "\"",
       "ref.family_id"},
      {"image_id", "\"" + h(asBytes(r->image_id)) + "\"", "\"" + std::string(32, 'f') + "\"",
       "ref.image_id"},
      {"id_key_digest", "\"" + std::string(it.id_key_digest) + "\"",
       "\"" + std::string(96, '0') + "\"", "ref.id_key_digest"},
      {"author_key_digest", "\"" + h(asBytes(r->author_key_digest)) + "\"",
       "\"" + std::string(96, 'a') + "\"", "ref.author_key_digest"},
      {"host_data", "\"" + h(asBytes(r->host_data)) + "\"", "\"" + std::string(64, '1') + "\"",
       "ref.host_data"},
      {"report_data", "\"" + rd32 + "\"", "\"" + rd32.substr(0, 62) + "00\"", "ref.report_data"},
      {"vmpl", std::to_string(r->vmpl), std::to_string(r->vmpl ^ 1), "ref.vmpl"},
      {"min_build", std::to_string(r->current_build), std::to_string(r->current_build + 1),
       "ref.min_build"},
      // snp03: PLATFORM_INFO 0x1 (SMT_EN).
      {"platform_info", R"({"required":["smt_enabled"],"forbidden":["tsme_enabled"]})",
       R"({"required":["ecc_enabled"]})", "ref.platform_info"},
      {"chip_id", "\"" + h(asBytes(r->chip_id)) + "\"",
       "[\"" + std::string(128, '0') + "\",\"" + std::string(128, '1') + "\"]", "ref.chip_id"},
  };
  std::string digest = R"("platform":"snp","digest":")" + std::string(it.measurement) + "\"";
  std::string all;
  for (const Field& f : fields) {
    all += ",\"" + f.key + "\":" + f.good;
  }
  Result<Verdict> v = verifyWithRef(l, it, "{" + digest + ",\"policy\":{" + all.substr(1) + "}}");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->passed()) << dumpChecks(*v);
  for (const Field& f : fields) {
    ASSERT_NE(v->find(f.check), nullptr) << f.check;
  }
  for (const Field& bad : fields) {
    std::string policy;
    for (const Field& f : fields) {
      policy += ",\"" + f.key + "\":" + (f.key == bad.key ? f.bad : f.good);
    }
    v = verifyWithRef(l, it, "{" + digest + ",\"policy\":{" + policy.substr(1) + "}}");
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(v->passed()) << bad.key;
    EXPECT_EQ(v->failedChecks(), std::vector<std::string>{bad.check}) << dumpChecks(*v);
  }
  // A digest that is not the report's.
  v = verifyWithRef(l, it, R"({"platform":"snp","digest":")" + std::string(96, 'e') + "\"}");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->failedChecks(), std::vector<std::string>{"ref.measurement"});
}

TEST(SnpReference, SmtAndMigrationAgentPolicyBits) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  const SnpItem& it = item("snp03_milan_v2_coco");  // policy 0x3001f: SMT allowed, no MA
  Loaded l = load(shared, it);
  std::string digest = R"("platform":"snp","digest":")" + std::string(it.measurement) + "\"";
  Result<Verdict> v = verifyWithRef(l, it, "{" + digest + R"(,"policy":{"smt_allowed":false}})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->failedChecks(), std::vector<std::string>{"ref.smt"});
  v = verifyWithRef(l, it, "{" + digest + R"(,"policy":{"smt_allowed":true}})");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->passed()) << dumpChecks(*v);
  EXPECT_EQ(v->find("ref.smt"), nullptr);
  ASSERT_NE(v->find("ref.migrate_ma"), nullptr);
  EXPECT_TRUE(v->find("ref.migrate_ma")->passed);
  // MIGRATE_MA set (the signature then fails too): forbidden unless allowed.
  Loaded ma = l;
  ma.report[0x8 + 2] = ma.report[0x8 + 2] | std::byte{0x04};  // policy bit 18
  Result<measure::ReferenceValues> ref = measure::ReferenceValues::fromJson("{" + digest + "}");
  ASSERT_TRUE(ref.ok());
  v = verifySnpReport({.report = ma.report, .certificates = ma.certs, .at = at(it.at)}, &*ref);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->find("ref.migrate_ma")->passed);
  ref = measure::ReferenceValues::fromJson("{" + digest + R"(,"policy":{"migrate_ma_allowed":true}})");
  ASSERT_TRUE(ref.ok());
  v = verifySnpReport({.report = ma.report, .certificates = ma.certs, .at = at(it.at)}, &*ref);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->find("ref.migrate_ma")->passed);
}

// --- Azure HCL reports (issue 12 item 1) --------------------------------------------------------

struct Hcl {
  ByteVector bytes;
  std::vector<ByteVector> certs;
  int64_t at = 0;
};

Hcl loadHcl(const std::string& shared, const char* dir) {
  const SnpItem& it = item(dir);
  Hcl h;
  h.bytes = readShared(shared, "amd/snp/" + std::string(dir) + "/hcl-report.bin");
  h.certs = load(shared, it).certs;
  h.at = at(it.at);
  return h;
}

// Rejected: an error reading the wrapper, or a verdict that does not pass.
bool rejected(const Hcl& h, const ByteVector& bytes) {
  Result<Verdict> v = verifySnpReport({.report = bytes, .certificates = h.certs, .at = h.at});
  return !v.ok() || !v->passed();
}

TEST(SnpHcl, RuntimeDataIsBoundAndItsKeysReported) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  for (const char* dir : {"snp05_milan_v2_azure_hcl_coco", "snp06_milan_v3_azure_coco_v0",
                          "snp07_milan_v3_azure_coco_v2", "snp08_genoa_v3_azure_coco"}) {
    Hcl h = loadHcl(shared, dir);
    Result<Verdict> v = verifySnpReport({.report = h.bytes, .certificates = h.certs, .at = h.at});
    ASSERT_TRUE(v.ok()) << dir << ": " << v.error().message;
    EXPECT_TRUE(v->passed()) << dir << "\n" << dumpChecks(*v);
    ASSERT_NE(v->find("hcl.report_data"), nullptr) << dir;
    EXPECT_TRUE(v->find("hcl.runtime_claims")->passed) << dir;
    nlohmann::ordered_json fields = v->toJson()["fields"];
    EXPECT_EQ(fields["hcl"]["akpub"]["kid"], "HCLAkPub") << dir;
    EXPECT_EQ(fields["hcl"]["report_data_hash"], "SHA-256") << dir;
  }
  // MANIFEST.md snp05: REPORT_DATA b3fbad65...; the key's modulus as the runtime data holds it.
  Hcl h = loadHcl(shared, "snp05_milan_v2_azure_hcl_coco");
  Result<Verdict> v = verifySnpReport({.report = h.bytes, .certificates = h.certs, .at = h.at});
  ASSERT_TRUE(v.ok());
  nlohmann::ordered_json hcl = v->toJson()["fields"]["hcl"];
  EXPECT_EQ(hcl["runtime_data_digest"],
            "b3fbad6514c83caeb0380882145e49f794229ef37c421b91fc47ff93556bafac");
  EXPECT_EQ(hcl["akpub"]["n"].get<std::string>().substr(0, 16), "qR7LqAABDczZDIJx");
  EXPECT_EQ(hcl["runtime_claims"]["keys"][1]["kid"], "HCLEkPub");
}

TEST(SnpHcl, TamperedKeyModulusIsRejected) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  Hcl h = loadHcl(shared, "snp05_milan_v2_azure_hcl_coco");
  // The issue's reproduction: 8 bytes of HCLAkPub's "n" replaced (still valid base64url).
  std::string text(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size());
  size_t n = text.find("\"n\":\"");
  ASSERT_NE(n, std::string::npos);
  ByteVector tampered = h.bytes;
  for (size_t i = 0; i < 8; ++i) {
    tampered[n + 5 + 40 + i] = std::byte{'A'};
  }
  Result<Verdict> v = verifySnpReport({.report = tampered, .certificates = h.certs, .at = h.at});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->failedChecks(), std::vector<std::string>{"hcl.report_data"}) << dumpChecks(*v);
}

TEST(SnpHcl, EveryWrapperByteChangedAndEveryTruncationIsRejected) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  Hcl h = loadHcl(shared, "snp05_milan_v2_azure_hcl_coco");
  ASSERT_FALSE(rejected(h, h.bytes));
  size_t accepted = 0;
  for (size_t i = 0; i < h.bytes.size(); ++i) {
    if (i >= kHclReportOffset && i < kHclReportOffset + kSnpReportSize) {
      continue;  // the signed report: SnpMutation covers it
    }
    ByteVector b = h.bytes;
    b[i] ^= std::byte{0x01};
    if (!rejected(h, b)) {
      ADD_FAILURE() << "wrapper byte " << i << " changed and accepted";
      if (++accepted > 5) break;
    }
  }
  Result<HclReport> parsed = parseHclReport(h.bytes);
  ASSERT_TRUE(parsed.ok());
  // Below report_size content is lost; beyond it only zero padding (2346..2600) goes.
  for (size_t size = 0; size < parsed->header.report_size; ++size) {
    ByteVector b(h.bytes.begin(), h.bytes.begin() + size);
    EXPECT_TRUE(rejected(h, b)) << "truncated to " << size;
    Result<Bytes> inner = extractSnpReport(b);
    if (size != kSnpReportSize) {
      EXPECT_FALSE(inner.ok()) << "extractSnpReport accepted a truncation to " << size;
    }
  }
}

TEST(SnpHcl, WrapperFieldsAreNamedErrors) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  Hcl h = loadHcl(shared, "snp05_milan_v2_azure_hcl_coco");
  struct Case {
    size_t offset;
    uint8_t value;
    const char* rule;
  } cases[] = {
      {0x04, 3, "hcl.version"},     {0x0C, 1, "hcl.header"},   {0x10, 1, "hcl.header"},
      {0x14, 1, "hcl.header"},      {0x08, 0x2b, "hcl.size"},  {0x4C0, 0x6b, "hcl.size"},
      {0x4C4, 2, "hcl.request_version"}, {0x4C8, 4, "hcl.report_type"},
      {0x4CC, 4, "hcl.hash_type"},  {0x4D0, 0x57, "hcl.size"}, {2599, 1, "hcl.padding"},
  };
  for (const Case& c : cases) {
    ByteVector b = h.bytes;
    b[c.offset] = std::byte{c.value};
    Result<HclReport> parsed = parseHclReport(b);
    ASSERT_FALSE(parsed.ok()) << c.rule;
    EXPECT_THAT(parsed, HasRule(c.rule)) << parsed.error().message;
  }
}

TEST(SnpReference, MatchedMeasurementsIdBlockIdentityIsChecked) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  const SnpItem& it = item("snp03_milan_v2_coco");
  Loaded l = load(shared, it);
  Result<ATTESTATION_REPORT> r = parseSnpReport(l.report);
  ASSERT_TRUE(r.ok());
  auto entry = [&](const std::string& family_id) {
    return std::string(R"({"platform":"snp","digest":")") + it.measurement +
           R"(","id_key_digest":")" + hexBytes(asBytes(r->id_key_digest)) +
           R"(","family_id":")" + family_id + R"(","image_id":")" +
           hexBytes(asBytes(r->image_id)) + R"(","guest_svn":)" + std::to_string(r->guest_svn) +
           R"(,"guest_policy":)" + std::to_string(r->policy) + "}";
  };
  Result<Verdict> v = verifyWithRef(l, it, entry(hexBytes(asBytes(r->family_id))));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->passed()) << dumpChecks(*v);
  ASSERT_NE(v->find("ref.id_block"), nullptr);
  v = verifyWithRef(l, it, entry(std::string(32, 'f')));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->failedChecks(), std::vector<std::string>{"ref.id_block"}) << dumpChecks(*v);
  EXPECT_EQ(v->find("ref.id_block")->detail, "mismatch: family_id");
}

TEST(SnpReference, DebugIsForbiddenUnlessAllowed) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  const SnpItem& it = item("snp01_milan_v2_gosev");  // policy 0xb0000: DEBUG set
  Loaded l = load(shared, it);
  std::string digest = R"("platform":"snp","digest":")" + std::string(it.measurement) + "\"";
  Result<Verdict> v = verifyWithRef(l, it, "{" + digest + "}");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->failedChecks(), std::vector<std::string>{"ref.debug"});
  v = verifyWithRef(l, it, "{" + digest + R"(,"policy":{"debug_allowed":true}})");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->passed()) << dumpChecks(*v);
}

TEST(SnpCertCache, FindsChainAndVcekInKdsLayout) {
  IGVMKIT_SHARED_OR_SKIP(shared);
  const SnpItem& it = item("snp06_milan_v3_azure_coco_v0");
  Loaded l = load(shared, it);
  Result<ATTESTATION_REPORT> r = parseSnpReport(l.report);
  ASSERT_TRUE(r.ok());
  namespace fs = std::filesystem;
  fs::path root = fs::path(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp") / "kds";
  fs::remove_all(root);
  fs::create_directories(root / "vcek/v1/Milan");
  fs::copy_file(fs::path(shared) / "amd/roots/milan_vcek_cert_chain.pem",
                root / "vcek/v1/Milan/cert_chain");
  std::string name = hexBytes(asBytes(r->chip_id)) + "?blSPL=04&teeSPL=00&snpSPL=24&ucodeSPL=219";
  fs::copy_file(fs::path(shared) / "amd/snp" / it.dir / it.signer, root / "vcek/v1/Milan" / name);
  Result<std::vector<ByteVector>> certs = loadSnpCertCache(root.string(), *r);
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  EXPECT_EQ(certs->size(), 3u);
  Result<Verdict> v = verifySnpReport({.report = l.report, .certificates = *certs, .at = at(it.at)});
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->passed()) << dumpChecks(*v);

  // An empty cache yields nothing (and the verdict then names the missing certificates).
  fs::remove_all(root);
  certs = loadSnpCertCache(root.string(), *r);
  ASSERT_TRUE(certs.ok());
  EXPECT_TRUE(certs->empty());
}

}  // namespace
}  // namespace igvmkit::attest
