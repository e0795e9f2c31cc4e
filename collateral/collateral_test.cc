// fetchSnpCertificates / fetchSnpCrl against a loopback KDS serving the real evidence of
// $IGVMKIT_SHARED/testdata/attest: what is fetched verifies, lands in the cache as whole files
// and is reused; offline never connects; every misbehaviour ends in one error and an empty
// cache.
#include "collateral/collateral.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>
#include <set>

#include "attest/tdx.h"
#include "attest/testing/shared.h"
#include "attest/verdict.h"
#include "base/file.h"
#include "base/testing/matchers.h"
#include "collateral/testing/layout.h"
#include "collateral/testing/loopback_server.h"

namespace igvmkit::collateral {
namespace {

using ::igvmkit::testing::StatusIs;
using attest::SnpProduct;
using attest::SnpSigningKey;
using attest::testing::readShared;
using testing::CannedResponse;
using testing::failure;
using testing::LoopbackServer;
using testing::pcsCrl;
using testing::pcsJson;
using testing::reply;

namespace fs = std::filesystem;

constexpr int64_t kAt2026 = 1767225600;  // 2026-01-01T00:00:00Z

std::string freshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  fs::path dir = fs::path(tmp != nullptr ? tmp : "/tmp") / ("collateral_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// Every regular file under `dir`, relative, e.g. "vcek/v1/Milan/cert_chain".
std::set<std::string> filesIn(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      out.insert(fs::relative(e.path(), dir).string());
    }
  }
  return out;
}

FetchOptions fastOptions(const LoopbackServer& server, const std::string& cache) {
  FetchOptions o;
  o.kds_url = server.url();
  o.cache_dir = cache;
  o.http.timeout = std::chrono::milliseconds(500);
  o.http.max_attempts = 2;
  o.http.initial_backoff = std::chrono::milliseconds(10);
  return o;
}

attest::ATTESTATION_REPORT parse(const ByteVector& bytes) {
  Result<attest::ATTESTATION_REPORT> r = attest::parseSnpReport(bytes);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : attest::ATTESTATION_REPORT{};
}

bool verifies(const ByteVector& report, const std::vector<ByteVector>& certs, int64_t at) {
  Result<attest::Verdict> v = attest::verifySnpReport({.report = report, .certificates = certs, .at = at});
  if (!v.ok()) {
    ADD_FAILURE() << v.error().message;
    return false;
  }
  for (const std::string& name : v->failedChecks()) {
    ADD_FAILURE() << "failed check " << name;
  }
  return v->passed();
}

struct Item {
  std::string report, vek, chain;
  SnpProduct product;
  SnpSigningKey signer;
  int64_t at;
};

// Reports of both products, v2 (no product in the report) to v5, and a VLEK.
const Item kItems[] = {
    {"amd/snp/snp15_milan_v3_yaxi/report.bin", "amd/snp/snp15_milan_v3_yaxi/vcek-chain-milan.pem",
     "amd/roots/milan_vcek_cert_chain.pem", SnpProduct::kMilan, SnpSigningKey::kVcek, kAt2026},
    {"amd/snp/snp14_genoa_v3_yaxi/report.bin", "amd/snp/snp14_genoa_v3_yaxi/vcek-chain-genoa.pem",
     "amd/roots/genoa_vcek_cert_chain.pem", SnpProduct::kGenoa, SnpSigningKey::kVcek, kAt2026},
    {"amd/snp/snp13_genoa_v5_yaxi/report.bin",
     "amd/snp/snp13_genoa_v5_yaxi/vcek-chain-genoa-v5.pem", "amd/roots/genoa_vcek_cert_chain.pem",
     SnpProduct::kGenoa, SnpSigningKey::kVcek, kAt2026},
    {"amd/snp/snp01_milan_v2_gosev/attestation.bin", "amd/snp/snp01_milan_v2_gosev/vcek.der",
     "amd/roots/milan_vcek_cert_chain.pem", SnpProduct::kMilan, SnpSigningKey::kVcek, kAt2026},
    {"amd/snp/snp07_milan_v3_azure_coco_v2/report.bin",
     "amd/snp/snp07_milan_v3_azure_coco_v2/vcek.der", "amd/roots/milan_vcek_cert_chain.pem",
     SnpProduct::kMilan, SnpSigningKey::kVcek, kAt2026},
};

TEST(FetchSnpCertificates, FetchesVerifiesCachesAndReuses) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  for (const Item& item : kItems) {
    SCOPED_TRACE(item.report);
    LoopbackServer server;
    ByteVector vcek = testing::endorsementKey(readShared(dir, item.vek));
    ASSERT_FALSE(vcek.empty());
    testing::serveKds(server, item.product, vcek, item.signer, readShared(dir, item.chain));
    std::string cache = freshDir("reuse");
    ByteVector report = readShared(dir, item.report);

    // Nothing given: the VCEK and the chain come from KDS and verify.
    Result<std::vector<ByteVector>> certs =
        fetchSnpCertificates(parse(report), {}, fastOptions(server, cache));
    ASSERT_TRUE(certs.ok()) << certs.error().message;
    EXPECT_EQ(certs->size(), 3u);
    EXPECT_TRUE(verifies(report, *certs, item.at));
    std::string product_dir = "vcek/v1/" + attest::productName(item.product);
    std::string vcek_file = testing::vcekTarget(item.product, vcek).substr(1);
    EXPECT_EQ(filesIn(cache), (std::set<std::string>{product_dir + "/cert_chain", vcek_file}));
    EXPECT_EQ(server.totalHits(), 2);

    // Again, online: the cache answers, KDS is not asked.
    certs = fetchSnpCertificates(parse(report), {}, fastOptions(server, cache));
    ASSERT_TRUE(certs.ok()) << certs.error().message;
    EXPECT_TRUE(verifies(report, *certs, item.at));
    EXPECT_EQ(server.totalHits(), 2);

    // attest's cache reader finds the same files.
    Result<std::vector<ByteVector>> loaded = attest::loadSnpCertCache(cache, parse(report));
    ASSERT_TRUE(loaded.ok());
    EXPECT_TRUE(verifies(report, *loaded, item.at));
  }
}

TEST(FetchSnpCertificates, VcekNameIsKdsSpelling) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  // The VCEK name of snp01, spelled out as KDS (and tests/attest's cache case) spell it.
  ByteVector report = readShared(dir, "amd/snp/snp01_milan_v2_gosev/attestation.bin");
  std::string expected = "/vcek/v1/Milan/" +
                         hexBytes(Bytes(report).subspan(0x1A0, 64)) +
                         "?blSPL=02&teeSPL=00&snpSPL=05&ucodeSPL=68";
  LoopbackServer server;
  server.serve(expected, reply(std::string(reinterpret_cast<const char*>(
                                               readShared(dir, "amd/snp/snp01_milan_v2_gosev/vcek.der").data()),
                                           1360),
                               "application/pkix-cert"));
  ByteVector chain = readShared(dir, "amd/roots/milan_vcek_cert_chain.pem");
  server.serve("/vcek/v1/Milan/cert_chain",
               reply(std::string(reinterpret_cast<const char*>(chain.data()), chain.size())));
  Result<std::vector<ByteVector>> certs =
      fetchSnpCertificates(parse(report), {}, fastOptions(server, ""));
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  EXPECT_EQ(server.hits(expected), 1);
  EXPECT_TRUE(verifies(report, *certs, kAt2026));
}

TEST(FetchSnpCertificates, FetchesOnlyWhatIsMissing) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  const Item& item = kItems[0];
  LoopbackServer server;
  ByteVector vcek = testing::endorsementKey(readShared(dir, item.vek));
  testing::serveKds(server, item.product, vcek, item.signer, readShared(dir, item.chain));
  ByteVector report = readShared(dir, item.report);
  // The VCEK given: only the chain is fetched.
  Result<std::vector<ByteVector>> certs =
      fetchSnpCertificates(parse(report), {vcek}, fastOptions(server, ""));
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  EXPECT_EQ(certs->size(), 2u);
  EXPECT_EQ(server.totalHits(), 1);
  // Everything given: nothing is fetched.
  std::vector<ByteVector> all = *certs;
  all.push_back(vcek);
  certs = fetchSnpCertificates(parse(report), all, fastOptions(server, ""));
  ASSERT_TRUE(certs.ok());
  EXPECT_TRUE(certs->empty());
  EXPECT_EQ(server.totalHits(), 1);
}

TEST(FetchSnpCertificates, VlekReportGetsTheAsvkChain) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  LoopbackServer server;
  ByteVector vlek = readShared(dir, "amd/snp/snp09_milan_v3_vlek_aws_coco/test-vlek.der");
  testing::serveKds(server, SnpProduct::kMilan, vlek, SnpSigningKey::kVlek,
                    readShared(dir, "amd/roots/milan_vlek_cert_chain.pem"));
  ByteVector report = readShared(dir, "amd/snp/snp09_milan_v3_vlek_aws_coco/test-vlek-report.bin");
  std::string cache = freshDir("vlek");
  Result<std::vector<ByteVector>> certs =
      fetchSnpCertificates(parse(report), {vlek}, fastOptions(server, cache));
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  EXPECT_EQ(server.hits("/vlek/v1/Milan/cert_chain"), 1);
  std::vector<ByteVector> all = *certs;
  all.push_back(vlek);
  EXPECT_TRUE(verifies(report, all, 1748736000));  // 2025-06-01, inside the VLEK's year
  EXPECT_EQ(filesIn(cache), (std::set<std::string>{"vlek/v1/Milan/cert_chain"}));
}

TEST(FetchSnpCertificates, OfflineNeverConnects) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  const Item& item = kItems[0];
  LoopbackServer server;
  ByteVector vcek = testing::endorsementKey(readShared(dir, item.vek));
  testing::serveKds(server, item.product, vcek, item.signer, readShared(dir, item.chain));
  ByteVector report = readShared(dir, item.report);
  FetchOptions o = fastOptions(server, freshDir("offline"));
  o.offline = true;
  // Empty cache, offline: nothing, and not one request.
  Result<std::vector<ByteVector>> certs = fetchSnpCertificates(parse(report), {}, o);
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  EXPECT_TRUE(certs->empty());
  EXPECT_EQ(server.totalHits(), 0);
  // A port where nothing listens (the server is gone): still no error, nothing tried.
  std::string dead_url = server.url();
  {
    LoopbackServer other;
    o.kds_url = other.url();
  }
  certs = fetchSnpCertificates(parse(report), {}, o);
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  // Filled once online, the cache serves offline.
  o.offline = false;
  o.kds_url = dead_url;
  ASSERT_TRUE(fetchSnpCertificates(parse(report), {}, o).ok());
  EXPECT_EQ(server.totalHits(), 2);
  o.offline = true;
  certs = fetchSnpCertificates(parse(report), {}, o);
  ASSERT_TRUE(certs.ok());
  EXPECT_TRUE(verifies(report, *certs, item.at));
  EXPECT_EQ(server.totalHits(), 2);
}

TEST(FetchSnpCertificates, MisbehavingKdsLeavesOneErrorAndAnEmptyCache) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  const Item& item = kItems[0];
  ByteVector vcek = testing::endorsementKey(readShared(dir, item.vek));
  std::string vcek_body(reinterpret_cast<const char*>(vcek.data()), vcek.size());
  std::string target = testing::vcekTarget(item.product, vcek);
  ByteVector report = readShared(dir, item.report);

  CannedResponse truncated = reply(vcek_body.substr(0, 600));
  truncated.extra_length = vcek_body.size() - 600;
  CannedResponse slow = reply(vcek_body);
  slow.delay = std::chrono::milliseconds(2000);
  struct Case {
    const char* name;
    std::vector<CannedResponse> responses;
    std::string rule;  // "" = verifies
  } cases[] = {
      {"404", {failure(404)}, "fetch.not_found"},
      {"500", {failure(500)}, "fetch.server_error"},
      {"429 then ok", {failure(429), reply(vcek_body)}, ""},
      {"429 with Retry-After then ok", {failure(429, {{"Retry-After", "1"}}), reply(vcek_body)}, ""},
      {"429 always", {failure(429)}, "fetch.rate_limited"},
      {"slow", {slow}, "fetch.timeout"},
      {"truncated", {truncated}, "fetch.truncated"},
      {"html", {reply("<html>busy</html>", "text/html")}, "fetch.content_type"},
      {"not a certificate", {reply("hello")}, "fetch.body"},
      {"the chain instead of the VCEK",
       {reply(std::string(reinterpret_cast<const char*>(readShared(dir, item.chain).data()),
                          readShared(dir, item.chain).size()))},
       "fetch.body"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    LoopbackServer server;
    testing::serveKds(server, item.product, vcek, item.signer, readShared(dir, item.chain));
    server.script(target, c.responses);
    std::string cache = freshDir("faults");
    auto start = std::chrono::steady_clock::now();
    Result<std::vector<ByteVector>> certs =
        fetchSnpCertificates(parse(report), {}, fastOptions(server, cache));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    if (c.rule.empty()) {
      ASSERT_TRUE(certs.ok()) << certs.error().message;
      EXPECT_TRUE(verifies(report, *certs, item.at));
      continue;
    }
    ASSERT_THAT(certs, StatusIs(Code::kUnreadable, c.rule));
    EXPECT_EQ(certs.error().message.find('\n'), std::string::npos);
    EXPECT_EQ(certs.error().message.rfind("GET " + server.url() + target, 0), 0u)
        << certs.error().message;
    EXPECT_TRUE(filesIn(cache).empty()) << "cache holds " << *filesIn(cache).begin();
  }
}

TEST(FetchSnpCrl, CachedWhileCurrentRefetchedWhenStale) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  // No AMD CRL is among the real evidence; Intel's root CA CRL (DER, nextUpdate 2024) stands in
  // for the format and the staleness rule.
  ByteVector crl = readShared(dir, "intel/collateral/gotdx_rootcrl.der");
  LoopbackServer server;
  server.serve("/vcek/v1/Genoa/crl",
               reply(std::string(reinterpret_cast<const char*>(crl.data()), crl.size()),
                     "application/pkix-crl"));
  std::string cache = freshDir("crl");
  FetchOptions o = fastOptions(server, cache);
  attest::ATTESTATION_REPORT genoa = parse(readShared(dir, "amd/snp/snp14_genoa_v3_yaxi/report.bin"));
  Result<std::optional<ByteVector>> got = fetchSnpCrl(genoa, {}, o);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, crl);
  EXPECT_EQ(filesIn(cache), (std::set<std::string>{"vcek/v1/Genoa/crl"}));
  // Stale (nextUpdate passed): fetched again online ...
  ASSERT_TRUE(fetchSnpCrl(genoa, {}, o).ok());
  EXPECT_EQ(server.hits("/vcek/v1/Genoa/crl"), 2);
  // ... and taken from the cache offline.
  o.offline = true;
  got = fetchSnpCrl(genoa, {}, o);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(server.hits("/vcek/v1/Genoa/crl"), 2);
  // A v2 VLEK report: the product comes from the VLEK's issuer. Offline, uncached: none.
  attest::ATTESTATION_REPORT vlek_report =
      parse(readShared(dir, "amd/snp/snp10_milan_v2_vlek_aws_anolis/test-vlek-report.bin"));
  std::vector<ByteVector> vlek = {readShared(dir, "amd/snp/snp10_milan_v2_vlek_aws_anolis/test-vlek.der")};
  got = fetchSnpCrl(vlek_report, vlek, o);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  // Online: /vlek/v1/Milan/crl; not a CRL there: an error, nothing cached.
  o.offline = false;
  server.serve("/vlek/v1/Milan/crl", reply("garbage"));
  got = fetchSnpCrl(vlek_report, vlek, o);
  ASSERT_THAT(got, StatusIs(Code::kUnreadable, "fetch.body"));
  EXPECT_EQ(server.hits("/vlek/v1/Milan/crl"), 1);
  EXPECT_EQ(filesIn(cache), (std::set<std::string>{"vcek/v1/Genoa/crl"}));
  // Without a VLEK the v2 report names no product: nothing to ask for.
  got = fetchSnpCrl(vlek_report, {}, o);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  EXPECT_EQ(server.hits("/vlek/v1/Milan/crl"), 1);
}

// --- Intel PCS -------------------------------------------------------------------------------

std::string text(const ByteVector& b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

const char* kTcbTarget08 = "/tdx/certification/v4/tcb?fmspc=b0c06f000000";
const char* kQeTarget = "/tdx/certification/v4/qe/identity";
const char* kPckCrlTarget = "/sgx/certification/v4/pckcrl?ca=platform&encoding=der";
const char* kRootCrlTarget = "/IntelSGXRootCA.der";

void servePhala(LoopbackServer& server, const std::string& dir) {
  testing::servePcsBundle(server, text(readShared(dir, "intel/tdx/tdx08_v4_phala/tdx_quote_collateral.json")),
                          "b0c06f000000", kRootCrlTarget);
}

FetchOptions pcsOptions(const LoopbackServer& server, const std::string& cache) {
  FetchOptions o = fastOptions(server, cache);
  o.pcs_url = server.url();
  o.root_ca_crl_url = server.url() + kRootCrlTarget;
  return o;
}

std::map<std::string, bool> checks(const attest::Verdict& v) {
  std::map<std::string, bool> out;
  for (const attest::Check& c : v.checks) {
    out[c.name] = c.passed;
  }
  return out;
}

constexpr int64_t kAt2025 = 1751328000;  // 2025-07-01T00:00:00Z

TEST(FetchTdxCollateral, PhalaCollateralFromPcsVerifiesLikeItsBundle) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  LoopbackServer server;
  servePhala(server, dir);
  std::string cache = freshDir("pcs");
  ByteVector quote = readShared(dir, "intel/tdx/tdx08_v4_phala/tdx_quote");
  Result<std::optional<std::string>> bundle = fetchTdxCollateral(quote, pcsOptions(server, cache));
  ASSERT_TRUE(bundle.ok()) << bundle.error().message;
  ASSERT_TRUE(bundle->has_value());
  Result<attest::Verdict> fetched = attest::verifyTdxQuote(
      {.quote = quote, .root = {}, .collateral = **bundle, .tcb_signing_chain = {}, .crls = {}, .at = kAt2025});
  Result<attest::Verdict> given = attest::verifyTdxQuote(
      {.quote = quote, .root = {},
       .collateral = text(readShared(dir, "intel/tdx/tdx08_v4_phala/tdx_quote_collateral.json")),
       .tcb_signing_chain = {}, .crls = {}, .at = kAt2025});
  ASSERT_TRUE(fetched.ok() && given.ok());
  EXPECT_TRUE(fetched->passed());
  EXPECT_EQ(checks(*fetched), checks(*given));
  EXPECT_TRUE(checks(*fetched).count("collateral.tcb_info.signature"));
  EXPECT_TRUE(checks(*fetched).count("collateral.qe_identity.signature"));
  EXPECT_TRUE(checks(*fetched).count("collateral.root_ca_crl"));
  EXPECT_EQ(filesIn(cache),
            (std::set<std::string>{
                "tdx/certification/v4/tcb?fmspc=b0c06f000000",
                "tdx/certification/v4/tcb?fmspc=b0c06f000000#issuer-chain",
                "tdx/certification/v4/qe/identity", "tdx/certification/v4/qe/identity#issuer-chain",
                "sgx/certification/v4/pckcrl?ca=platform&encoding=der",
                "sgx/certification/v4/pckcrl?ca=platform&encoding=der#issuer-chain",
                "sgx/certification/v4/rootcacrl"}));
  EXPECT_EQ(server.totalHits(), 4);

  // Offline: the same bundle from the cache, no request.
  FetchOptions offline = pcsOptions(server, cache);
  offline.offline = true;
  Result<std::optional<std::string>> again = fetchTdxCollateral(quote, offline);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ(**again, **bundle);
  EXPECT_EQ(server.totalHits(), 4);
  // Online, every piece is past its nextUpdate today: all four are fetched again.
  ASSERT_TRUE(fetchTdxCollateral(quote, pcsOptions(server, cache)).ok());
  EXPECT_EQ(server.totalHits(), 8);
  // Offline with an empty cache: nothing.
  offline.cache_dir = freshDir("pcs_empty");
  again = fetchTdxCollateral(quote, offline);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  EXPECT_EQ(server.totalHits(), 8);
}

TEST(FetchTdxCollateral, GoTdxGuestPcsResponsesAsServed) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  // go-tdx-guest's recorded PCS response bodies for FMSPC 50806f000000 (tdx01); they were stored
  // without their headers, so the TCB Signing chain stands in for the issuer-chain headers.
  std::string signing = text(readShared(dir, "intel/roots/Intel_SGX_TCB_Signing_chain.pem"));
  nlohmann::json b = nlohmann::json::parse(text(readShared(dir, "intel/tdx/tdx08_v4_phala/tdx_quote_collateral.json")));
  LoopbackServer server;
  server.serve("/tdx/certification/v4/tcb?fmspc=50806f000000",
               pcsJson(text(readShared(dir, "intel/collateral/gotdx_sample_tcbInfo_response.json")),
                       "TCB-Info-Issuer-Chain", signing));
  server.serve(kQeTarget, pcsJson(text(readShared(dir, "intel/collateral/gotdx_sample_qeIdentity_response.json")),
                                  "SGX-Enclave-Identity-Issuer-Chain", signing));
  server.serve(kPckCrlTarget, pcsCrl(readShared(dir, "intel/collateral/gotdx_pckcrl.der"),
                                     b["pck_crl_issuer_chain"]));
  server.serve(kRootCrlTarget, pcsCrl(readShared(dir, "intel/collateral/gotdx_rootcrl.der"), ""));
  ByteVector quote = readShared(dir, "intel/tdx/tdx01_v4_spr_gotdx/tdx_prod_quote_SPR_E4.dat");
  Result<std::optional<std::string>> bundle = fetchTdxCollateral(quote, pcsOptions(server, ""));
  ASSERT_TRUE(bundle.ok()) << bundle.error().message;
  ASSERT_TRUE(bundle->has_value());
  int64_t at = 1688169600;  // 2023-07-01, inside the TCB info's issueDate..nextUpdate
  Result<attest::Verdict> fetched = attest::verifyTdxQuote(
      {.quote = quote, .root = {}, .collateral = **bundle, .tcb_signing_chain = {}, .crls = {}, .at = at});
  // The same TCB info body given by hand, with the CRLs.
  Result<attest::Verdict> given = attest::verifyTdxQuote(
      {.quote = quote, .root = {},
       .collateral = text(readShared(dir, "intel/collateral/gotdx_sample_tcbInfo_response.json")),
       .tcb_signing_chain = *attest::splitCertificates(toBytes(signing)),
       .crls = {readShared(dir, "intel/collateral/gotdx_pckcrl.der"),
                readShared(dir, "intel/collateral/gotdx_rootcrl.der")},
       .at = at});
  ASSERT_TRUE(fetched.ok() && given.ok());
  std::map<std::string, bool> f = checks(*fetched);
  for (const auto& [name, passed] : checks(*given)) {
    ASSERT_TRUE(f.count(name)) << name;
    EXPECT_EQ(f[name], passed) << name;
  }
  EXPECT_TRUE(f["collateral.tcb_info.signature"]);
  EXPECT_TRUE(f["collateral.tcb_info.fmspc"]);
  EXPECT_TRUE(f["collateral.qe_identity.signature"]);
  EXPECT_TRUE(f["collateral.pck_crl"]);
  EXPECT_TRUE(f["collateral.root_ca_crl"]);
  EXPECT_EQ(server.hits("/tdx/certification/v4/tcb?fmspc=50806f000000"), 1);
}

TEST(FetchTdxCollateral, MisbehavingPcsLeavesOneErrorAndNoBody) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  ByteVector quote = readShared(dir, "intel/tdx/tdx08_v4_phala/tdx_quote");
  struct Case {
    const char* name;
    const char* target;
    CannedResponse response;
    std::string rule;
  } cases[] = {
      {"tcb 404", kTcbTarget08, failure(404), "fetch.not_found"},
      {"tcb as octet-stream", kTcbTarget08, reply("{}", "application/octet-stream"), "fetch.content_type"},
      {"tcb without its chain header", kTcbTarget08,
       reply("{\"tcbInfo\":{\"nextUpdate\":\"2099-01-01T00:00:00Z\"},\"signature\":\"00\"}", "application/json"),
       "fetch.body"},
      {"qe identity not signed json", kQeTarget, pcsJson("{\"x\":1}", "SGX-Enclave-Identity-Issuer-Chain", ""),
       "fetch.body"},
      {"pck crl 500", kPckCrlTarget, failure(500), "fetch.server_error"},
      {"root crl html", kRootCrlTarget, reply("<html>", "text/html"), "fetch.content_type"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    LoopbackServer server;
    servePhala(server, dir);
    server.serve(c.target, c.response);
    std::string cache = freshDir("pcs_faults");
    Result<std::optional<std::string>> bundle = fetchTdxCollateral(quote, pcsOptions(server, cache));
    ASSERT_THAT(bundle, StatusIs(Code::kUnreadable, c.rule));
    EXPECT_EQ(bundle.error().message.rfind("GET " + server.url() + c.target, 0), 0u)
        << bundle.error().message;
    // Pieces fetched before the failure stay (whole); the failed one left no file.
    for (const std::string& f : filesIn(cache)) {
      EXPECT_NE("/" + f, std::string(c.target)) << f;
      EXPECT_NE("/" + f, std::string(c.target) + "#issuer-chain") << f;
    }
  }
}

}  // namespace
}  // namespace igvmkit::collateral
