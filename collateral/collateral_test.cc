// fetchSnpCertificates / fetchSnpCrl against a loopback KDS serving the real evidence of
// $IGVMKIT_SHARED/testdata/attest: what is fetched verifies, lands in the cache as whole files
// and is reused; offline never connects; every misbehaviour ends in one error and an empty
// cache.
#include "collateral/collateral.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "attest/testing/shared.h"
#include "attest/verdict.h"
#include "base/file.h"
#include "collateral/testing/kds_layout.h"
#include "collateral/testing/loopback_server.h"

namespace igvmkit::collateral {
namespace {

using attest::SnpProduct;
using attest::SnpSigningKey;
using attest::testing::readShared;
using testing::CannedResponse;
using testing::failure;
using testing::LoopbackServer;
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
    ASSERT_FALSE(certs.ok());
    EXPECT_EQ(certs.error().rule, c.rule) << certs.error().message;
    EXPECT_EQ(certs.error().code, Code::kUnreadable);
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
  Result<std::optional<ByteVector>> got = fetchSnpCrl(SnpProduct::kGenoa, SnpSigningKey::kVcek, o);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, crl);
  EXPECT_EQ(filesIn(cache), (std::set<std::string>{"vcek/v1/Genoa/crl"}));
  // Stale (nextUpdate passed): fetched again online ...
  ASSERT_TRUE(fetchSnpCrl(SnpProduct::kGenoa, SnpSigningKey::kVcek, o).ok());
  EXPECT_EQ(server.hits("/vcek/v1/Genoa/crl"), 2);
  // ... and taken from the cache offline.
  o.offline = true;
  got = fetchSnpCrl(SnpProduct::kGenoa, SnpSigningKey::kVcek, o);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(server.hits("/vcek/v1/Genoa/crl"), 2);
  // Offline without a cached CRL: none.
  got = fetchSnpCrl(SnpProduct::kMilan, SnpSigningKey::kVlek, o);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  // Not a CRL: an error, nothing cached.
  o.offline = false;
  server.serve("/vlek/v1/Milan/crl", reply("garbage"));
  got = fetchSnpCrl(SnpProduct::kMilan, SnpSigningKey::kVlek, o);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().rule, "fetch.body");
  EXPECT_EQ(filesIn(cache), (std::set<std::string>{"vcek/v1/Genoa/crl"}));
}

}  // namespace
}  // namespace igvmkit::collateral
