// The HTTP layer against a real server on 127.0.0.1: every misbehaviour ends in the body or in
// one error with its rule, within the time the options allow.
#include "collateral/internal/http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include "base/testing/matchers.h"
#include "collateral/testing/loopback_server.h"

namespace igvmkit::collateral::internal {
namespace {

using ::igvmkit::testing::HasRule;
using ::igvmkit::testing::StatusIs;
using std::chrono::milliseconds;
using testing::CannedResponse;
using testing::failure;
using testing::reply;
using testing::LoopbackServer;

HttpOptions fast() {
  HttpOptions o;
  o.connect_timeout = milliseconds(1000);
  o.timeout = milliseconds(500);
  o.max_attempts = 3;
  o.initial_backoff = milliseconds(20);
  o.max_delay = milliseconds(5000);
  o.max_body = 4096;
  return o;
}

struct Timed {
  Result<HttpResponse> result;
  milliseconds took;
};

Timed timedGet(const std::string& url, BodyKind kind = BodyKind::kBinary,
               const HttpOptions& o = fast()) {
  auto start = std::chrono::steady_clock::now();
  Result<HttpResponse> r = httpGet(url, kind, o);
  return {std::move(r), std::chrono::duration_cast<milliseconds>(
                            std::chrono::steady_clock::now() - start)};
}

TEST(PercentDecode, DecodesEscapesAndKeepsEverythingElse) {
  EXPECT_EQ(percentDecode("-----BEGIN%20CERTIFICATE-----%0AMIIC%2Bz%2f"),
            "-----BEGIN CERTIFICATE-----\nMIIC+z/");
  EXPECT_EQ(percentDecode("a+b"), "a+b");  // '+' is not a space in a header value
  EXPECT_EQ(percentDecode("100%"), "100%");
  EXPECT_EQ(percentDecode("%4"), "%4");
  EXPECT_EQ(percentDecode("%zz%41"), "%zzA");
  EXPECT_EQ(percentDecode("%%41"), "%A");
  EXPECT_EQ(percentDecode("%00x"), std::string("\0x", 2));
  EXPECT_EQ(percentDecode(""), "");
}

TEST(HttpGet, ReturnsTheBodyAndHeaders) {
  LoopbackServer server;
  CannedResponse json = reply("{\"k\":1}", "application/json");
  json.headers = {{"TCB-Info-Issuer-Chain", "abc%20def"}};
  server.serve("/a?x=1&y=2", json);
  Timed t = timedGet(server.url() + "/a?x=1&y=2", BodyKind::kJson);
  ASSERT_TRUE(t.result.ok()) << t.result.error().message;
  EXPECT_EQ(t.result->body, "{\"k\":1}");
  EXPECT_EQ(t.result->content_type, "application/json");
  EXPECT_EQ(t.result->header("tcb-info-issuer-chain"), "abc%20def");
  EXPECT_EQ(server.hits("/a?x=1&y=2"), 1);
}

TEST(HttpGet, NotFoundIsNotRetried) {
  LoopbackServer server;
  Timed t = timedGet(server.url() + "/missing");
  ASSERT_THAT(t.result, StatusIs(Code::kUnreadable, "fetch.not_found"));
  EXPECT_EQ(t.result.error().message,
            "GET " + server.url() + "/missing: HTTP 404 Not Found");
  EXPECT_EQ(server.hits("/missing"), 1);
}

TEST(HttpGet, RateLimitHonoursRetryAfterSeconds) {
  LoopbackServer server;
  server.script("/r", {failure(429, {{"Retry-After", "1"}}), reply("cert")});
  Timed t = timedGet(server.url() + "/r");
  ASSERT_TRUE(t.result.ok()) << t.result.error().message;
  EXPECT_EQ(t.result->body, "cert");
  EXPECT_EQ(server.hits("/r"), 2);
  EXPECT_GE(t.took, milliseconds(1000));  // waited what the server asked, not the 20 ms backoff
}

TEST(HttpGet, RateLimitHonoursRetryAfterHttpDate) {
  LoopbackServer server;
  std::time_t when = std::time(nullptr) + 2;
  char date[64];
  std::tm tm{};
  gmtime_r(&when, &tm);
  std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  server.script("/d", {failure(429, {{"Retry-After", date}}), reply("cert")});
  Timed t = timedGet(server.url() + "/d");
  ASSERT_TRUE(t.result.ok()) << t.result.error().message;
  EXPECT_EQ(server.hits("/d"), 2);
  EXPECT_GE(t.took, milliseconds(900));  // the date is 1-2 s ahead, at whole-second precision
  EXPECT_LT(t.took, milliseconds(4000));
}

TEST(HttpGet, RateLimitWithoutRetryAfterBacksOffThenGivesUp) {
  LoopbackServer server;
  server.serve("/busy", failure(429));
  Timed t = timedGet(server.url() + "/busy");
  ASSERT_THAT(t.result, StatusIs(Code::kUnreadable, "fetch.rate_limited"));
  EXPECT_EQ(t.result.error().message,
            "GET " + server.url() + "/busy: HTTP 429 Too Many Requests (3 attempts)");
  EXPECT_EQ(server.hits("/busy"), 3);
  EXPECT_GE(t.took, milliseconds(60));  // 20 ms + 40 ms of backoff
}

TEST(HttpGet, RetryAfterBeyondTheLimitStopsAtOnce) {
  LoopbackServer server;
  server.serve("/later", failure(429, {{"Retry-After", "3600"}}));
  Timed t = timedGet(server.url() + "/later");
  ASSERT_THAT(t.result, StatusIs(Code::kUnreadable, "fetch.rate_limited"));
  EXPECT_EQ(t.result.error().message,
            "GET " + server.url() +
                "/later: HTTP 429 Too Many Requests (the server asks to retry after 3600 s, more "
                "than the 5 s allowed)");
  EXPECT_EQ(server.hits("/later"), 1);
  EXPECT_LT(t.took, milliseconds(1000));
}

TEST(HttpGet, ServerErrorsAreRetried) {
  LoopbackServer server;
  server.script("/flaky", {failure(500), failure(503), reply("ok")});
  Timed t = timedGet(server.url() + "/flaky");
  ASSERT_TRUE(t.result.ok()) << t.result.error().message;
  EXPECT_EQ(server.hits("/flaky"), 3);

  server.serve("/down", failure(500));
  t = timedGet(server.url() + "/down");
  ASSERT_THAT(t.result, StatusIs(Code::kUnreadable, "fetch.server_error"));
  EXPECT_EQ(t.result.error().message,
            "GET " + server.url() + "/down: HTTP 500 Internal Server Error (3 attempts)");
}

TEST(HttpGet, OtherClientErrorsAreNotRetried) {
  LoopbackServer server;
  server.serve("/forbidden", failure(403));
  Timed t = timedGet(server.url() + "/forbidden");
  ASSERT_THAT(t.result, StatusIs(Code::kUnreadable, "fetch.http_status"));
  EXPECT_EQ(server.hits("/forbidden"), 1);
}

TEST(HttpGet, SlowResponseTimesOut) {
  LoopbackServer server;
  CannedResponse late = reply("late");
  late.delay = milliseconds(3000);
  server.serve("/slow", late);
  Timed t = timedGet(server.url() + "/slow");
  ASSERT_THAT(t.result, StatusIs(Code::kUnreadable, "fetch.timeout"));
  EXPECT_NE(t.result.error().message.find("timed out after 500 ms"), std::string::npos)
      << t.result.error().message;
  EXPECT_NE(t.result.error().message.find("(3 attempts)"), std::string::npos);
  EXPECT_LT(t.took, milliseconds(2500));  // 3 x 500 ms + 60 ms backoff, never the server's 3 s
}

TEST(HttpGet, TruncatedBodyIsAnError) {
  LoopbackServer server;
  CannedResponse short_body = reply("0123456789");
  short_body.extra_length = 100;
  server.serve("/short", short_body);
  Timed t = timedGet(server.url() + "/short");
  ASSERT_THAT(t.result, StatusIs(Code::kUnreadable, "fetch.truncated"));
  EXPECT_NE(t.result.error().message.find("truncated body"), std::string::npos);
  EXPECT_EQ(server.hits("/short"), 3);  // retried: the next attempt may be whole
}

TEST(HttpGet, WrongContentTypeIsAnError) {
  LoopbackServer server;
  server.serve("/html", reply("<html>", "text/html; charset=utf-8"));
  Timed t = timedGet(server.url() + "/html");
  ASSERT_THAT(t.result, StatusIs(Code::kUnreadable, "fetch.content_type"));
  EXPECT_EQ(t.result.error().message,
            "GET " + server.url() +
                "/html: content type 'text/html; charset=utf-8', expected a certificate or CRL");
  EXPECT_EQ(server.hits("/html"), 1);

  server.serve("/json", reply("{}", "application/octet-stream"));
  EXPECT_THAT(timedGet(server.url() + "/json", BodyKind::kJson).result, HasRule("fetch.content_type"));
  server.serve("/none", reply("{}", ""));
  EXPECT_THAT(timedGet(server.url() + "/none", BodyKind::kJson).result, HasRule("fetch.content_type"));
}

TEST(HttpGet, BodyOverTheLimitIsAnError) {
  LoopbackServer server;
  server.serve("/big", reply(std::string(5000, 'x')));
  Timed t = timedGet(server.url() + "/big");
  ASSERT_THAT(t.result, StatusIs(Code::kUnreadable, "fetch.too_large"));
  EXPECT_EQ(t.result.error().message,
            "GET " + server.url() + "/big: body larger than 4096 bytes");
  EXPECT_EQ(server.hits("/big"), 1);
}

TEST(HttpGet, TlsFailureIsAnError) {
  LoopbackServer server;  // speaks plain HTTP: the TLS handshake fails
  server.serve("/x", reply("x"));
  Timed t = timedGet("https://127.0.0.1:" + std::to_string(server.port()) + "/x");
  ASSERT_THAT(t.result, StatusIs(Code::kUnreadable, "fetch.tls"));
  EXPECT_EQ(t.result.error().message.rfind("GET https://127.0.0.1:", 0), 0u);
  EXPECT_NE(t.result.error().message.find(": TLS failure: "), std::string::npos);
}

TEST(HttpGet, RefusedConnectionIsRetriedThenAnError) {
  // A bound socket that never listens: connections to its port are refused.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  Timed t = timedGet("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/x");
  ::close(fd);
  ASSERT_THAT(t.result, StatusIs(Code::kUnreadable, "fetch.connect"));
  EXPECT_NE(t.result.error().message.find("connection failed"), std::string::npos);
  EXPECT_NE(t.result.error().message.find("(3 attempts)"), std::string::npos);
  EXPECT_LT(t.took, milliseconds(2000));
}

TEST(HttpGet, OnlyHttpAndHttps) {
  Timed t = timedGet("file:///etc/passwd");
  EXPECT_THAT(t.result, StatusIs(Code::kUnreadable, "fetch.url"));
}

}  // namespace
}  // namespace igvmkit::collateral::internal
