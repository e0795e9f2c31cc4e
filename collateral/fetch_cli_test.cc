// `igvmkit verify` with nothing but the report: the VCEK and its chain come from a loopback KDS
// serving the real evidence into --cert-cache, then --offline verifies from that cache without
// a single request. Skips without IGVMKIT_SHARED.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "attest/testing/shared.h"
#include "collateral/testing/layout.h"
#include "collateral/testing/loopback_server.h"

namespace igvmkit::collateral {
namespace {

using attest::testing::readShared;
using testing::failure;
using testing::LoopbackServer;

std::string g_igvmkit;  // argv[1]: the igvmkit binary

struct CliRun {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

CliRun igvmkit(std::vector<std::string> args) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = tmp != nullptr ? tmp : "/tmp";
  std::string out = dir + "/cli.out", err = dir + "/cli.err";
  args.insert(args.begin(), g_igvmkit);
  pid_t pid = ::fork();
  if (pid == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> argv;
    for (std::string& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

std::string freshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::filesystem::path dir = std::filesystem::path(tmp != nullptr ? tmp : "/tmp") / name;
  std::filesystem::remove_all(dir);
  return dir.string();  // created by igvmkit itself
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class VerifyFetch : public ::testing::Test {
 protected:
  void serveMilan(const std::string& dir) {
    vcek_ = testing::endorsementKey(readShared(dir, "amd/snp/snp15_milan_v3_yaxi/vcek-chain-milan.pem"));
    testing::serveKds(server_, attest::SnpProduct::kMilan, vcek_, attest::SnpSigningKey::kVcek,
                      readShared(dir, "amd/roots/milan_vcek_cert_chain.pem"));
  }
  LoopbackServer server_;
  ByteVector vcek_;
};

TEST_F(VerifyFetch, NothingButTheReportThenOfflineFromTheCache) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  serveMilan(dir);
  std::string report = dir + "/amd/snp/snp15_milan_v3_yaxi/report.bin";
  std::string cache = freshDir("kds_cache");
  CliRun online = igvmkit({"verify", "--report", report, "--kds-url", server_.url(), "--cert-cache",
                        cache, "--at", "2026-01-01T00:00:00Z"});
  EXPECT_EQ(online.status, 0) << online.out << online.err;
  EXPECT_TRUE(contains(online.out, "verified: all ")) << online.out;
  EXPECT_EQ(server_.totalHits(), 2);
  EXPECT_TRUE(std::filesystem::is_regular_file(cache + "/vcek/v1/Milan/cert_chain"));
  EXPECT_TRUE(std::filesystem::is_regular_file(
      cache + testing::vcekTarget(attest::SnpProduct::kMilan, vcek_)));

  CliRun offline = igvmkit({"verify", "--report", report, "--offline", "--kds-url", server_.url(),
                         "--cert-cache", cache, "--at", "2026-01-01T00:00:00Z", "--json"});
  EXPECT_EQ(offline.status, 0) << offline.out << offline.err;
  EXPECT_TRUE(contains(offline.out, "\"verified\": true")) << offline.out;
  EXPECT_EQ(server_.totalHits(), 2);  // not one request offline
}

TEST_F(VerifyFetch, AzureHclReportFetchesToo) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  ByteVector vcek = readShared(dir, "amd/snp/snp07_milan_v3_azure_coco_v2/vcek.der");
  testing::serveKds(server_, attest::SnpProduct::kMilan, vcek, attest::SnpSigningKey::kVcek,
                    readShared(dir, "amd/roots/milan_vcek_cert_chain.pem"));
  CliRun r = igvmkit({"verify", "--report", dir + "/amd/snp/snp07_milan_v3_azure_coco_v2/hcl-report.bin",
                   "--kds-url", server_.url(), "--at", "2026-01-01T00:00:00Z"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "pass  hcl.report_data")) << r.out;
}

TEST_F(VerifyFetch, OfflineWithAnEmptyCacheJudgesWithoutCertificates) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  serveMilan(dir);
  CliRun r = igvmkit({"verify", "--report", dir + "/amd/snp/snp15_milan_v3_yaxi/report.bin",
                   "--offline", "--kds-url", server_.url(), "--cert-cache", freshDir("empty"),
                   "--at", "2026-01-01T00:00:00Z"});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "FAIL  report.signature: no VCEK/VLEK certificate")) << r.out;
  EXPECT_EQ(server_.totalHits(), 0);
}

TEST_F(VerifyFetch, KdsFailureIsOneErrorLine) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  serveMilan(dir);
  std::string target = testing::vcekTarget(attest::SnpProduct::kMilan, vcek_);
  server_.serve(target, failure(429, {{"Retry-After", "3600"}}));
  std::string cache = freshDir("failed_cache");
  CliRun r = igvmkit({"verify", "--report", dir + "/amd/snp/snp15_milan_v3_yaxi/report.bin",
                   "--kds-url", server_.url(), "--cert-cache", cache});
  EXPECT_EQ(r.status, 2) << r.out << r.err;
  EXPECT_EQ(r.err, "error: GET " + server_.url() + target +
                       ": HTTP 429 Too Many Requests (the server asks to retry after 3600 s, "
                       "more than the 30 s allowed)\n");
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(std::filesystem::exists(cache + target));
}

TEST_F(VerifyFetch, TdxQuoteWithNothingButTheQuoteThenOffline) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  ByteVector bundle = readShared(dir, "intel/tdx/tdx08_v4_phala/tdx_quote_collateral.json");
  // --pcs-url names a PCS proxy (PCCS): the root CA CRL comes from there too.
  testing::servePcsBundle(server_, std::string(reinterpret_cast<const char*>(bundle.data()), bundle.size()),
                          "b0c06f000000", "/sgx/certification/v4/rootcacrl");
  std::string quote = dir + "/intel/tdx/tdx08_v4_phala/tdx_quote";
  std::string cache = freshDir("pcs_cache");
  CliRun online = igvmkit({"verify", "--quote", quote, "--pcs-url", server_.url(), "--cert-cache",
                           cache, "--at", "2025-07-01T00:00:00Z"});
  EXPECT_EQ(online.status, 0) << online.out << online.err;
  EXPECT_TRUE(contains(online.out, "pass  collateral.tcb_info.signature")) << online.out;
  EXPECT_TRUE(contains(online.out, "pass  collateral.qe_identity.signature")) << online.out;
  EXPECT_TRUE(contains(online.out, "pass  collateral.root_ca_crl")) << online.out;
  EXPECT_EQ(server_.totalHits(), 4);
  CliRun offline = igvmkit({"verify", "--quote", quote, "--offline", "--pcs-url", server_.url(),
                            "--cert-cache", cache, "--at", "2025-07-01T00:00:00Z"});
  EXPECT_EQ(offline.status, 0) << offline.out << offline.err;
  EXPECT_EQ(offline.out, online.out);
  EXPECT_EQ(server_.totalHits(), 4);
}

TEST_F(VerifyFetch, KdsCrlIsFetchedAndJudged) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  serveMilan(dir);
  std::string report = dir + "/amd/snp/snp15_milan_v3_yaxi/report.bin";
  std::string cache = freshDir("crl_cache");
  // Offline with no cached CRL: one error, exit 2.
  CliRun r = igvmkit({"verify", "--report", report, "--offline", "--cert-cache", cache,
                      "--kds-crl"});
  EXPECT_EQ(r.status, 2) << r.out << r.err;
  EXPECT_TRUE(contains(r.err, "--kds-crl: no KDS CRL for this report")) << r.err;
  // No AMD CRL is among the real evidence: Intel's root CA CRL, served as Milan's, reaches the
  // verifier, which finds it is not signed by the ARK.
  ByteVector intel = readShared(dir, "intel/collateral/gotdx_rootcrl.der");
  server_.serve("/vcek/v1/Milan/crl",
                testing::reply(std::string(reinterpret_cast<const char*>(intel.data()), intel.size()),
                               "application/pkix-crl"));
  r = igvmkit({"verify", "--report", report, "--kds-url", server_.url(), "--cert-cache", cache,
               "--kds-crl", "--at", "2026-01-01T00:00:00Z"});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "FAIL  crl")) << r.out;
  EXPECT_EQ(server_.hits("/vcek/v1/Milan/crl"), 1);
  EXPECT_TRUE(std::filesystem::is_regular_file(cache + "/vcek/v1/Milan/crl"));
  r = igvmkit({"verify", "--quote", dir + "/intel/tdx/tdx08_v4_phala/tdx_quote", "--kds-crl"});
  EXPECT_EQ(r.status, 2);
}

TEST_F(VerifyFetch, KdsUrlIsForReports) {
  IGVMKIT_SHARED_OR_SKIP(dir);
  CliRun r = igvmkit({"verify", "--quote", dir + "/intel/tdx/tdx08_v4_phala/tdx_quote", "--kds-url",
                   server_.url()});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.err, "--kds-url applies to --report")) << r.err;
  r = igvmkit({"verify", "--report", dir + "/amd/snp/snp15_milan_v3_yaxi/report.bin", "--pcs-url",
               server_.url()});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.err, "--pcs-url applies to --quote")) << r.err;
}

}  // namespace
}  // namespace igvmkit::collateral

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: fetch_cli_test IGVMKIT\n");
    return 2;
  }
  igvmkit::collateral::g_igvmkit = argv[1];
  return RUN_ALL_TESTS();
}
