// collateral/testing/loopback_server.h: a small HTTP/1.1 server on 127.0.0.1 (port chosen by the
// kernel) for tests, serving canned responses by request target ("/vcek/v1/Milan/cert_chain",
// query included) and misbehaving on request: any status with or without Retry-After, a delay
// before answering, a Content-Length larger than the body sent, any content type.
//
//   LoopbackServer server;                       // listening once constructed
//   server.serve("/vcek/v1/Milan/cert_chain", reply(pem, "application/x-pem-file"));
//   server.script("/x", {failure(429, {{"Retry-After", "1"}}), reply("ok")});
//   fetch(server.url() + "/x"); EXPECT_EQ(server.hits("/x"), 2);
// Unknown targets get 404. Each connection is answered on its own thread and closed after one
// response; the destructor stops the server and cuts short any delay.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace igvmkit::collateral::testing {

struct CannedResponse {
  int status = 200;
  std::string content_type = "application/octet-stream";  // "" sends no Content-Type
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // before the status line is sent
  size_t extra_length = 0;             // Content-Length claims this many bytes more than sent
};

// A 200 response carrying `body`.
CannedResponse reply(std::string body, std::string content_type = "application/octet-stream");
// An error status with optional headers (e.g. {{"Retry-After", "1"}}) and an empty body.
CannedResponse failure(int status, std::vector<std::pair<std::string, std::string>> headers = {});

class LoopbackServer {
 public:
  LoopbackServer();  // binds 127.0.0.1:0 and starts accepting; aborts the test binary on failure
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Always answer `target` with `response`.
  void serve(const std::string& target, CannedResponse response);
  // Answer `target` with the responses in order; the last one repeats.
  void script(const std::string& target, std::vector<CannedResponse> responses);

  int hits(const std::string& target) const;  // requests seen for `target`
  int totalHits() const;                      // requests seen for any target

 private:
  void acceptLoop();
  void answer(int fd);
  CannedResponse next(const std::string& target);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  std::map<std::string, std::vector<CannedResponse>> routes_;
  std::map<std::string, int> hits_;
  int total_hits_ = 0;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace igvmkit::collateral::testing
