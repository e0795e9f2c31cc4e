#include "collateral/testing/loopback_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace igvmkit::collateral::testing {
namespace {

void die(const char* what) {
  std::perror(what);
  std::abort();
}

bool sendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;  // the client went away (e.g. after its timeout)
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads the request head; returns the request target of "GET <target> HTTP/1.1", or "".
std::string readTarget(int fd) {
  std::string head;
  char buf[1024];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 16384) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) {
      return "";
    }
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      return "";
    }
    head.append(buf, static_cast<size_t>(n));
    if (!std::isupper(static_cast<unsigned char>(head[0]))) {
      return "!";  // not HTTP (a TLS ClientHello): answered like any plain HTTP server would
    }
  }
  size_t sp1 = head.find(' ');
  size_t sp2 = sp1 == std::string::npos ? sp1 : head.find(' ', sp1 + 1);
  if (sp2 == std::string::npos) {
    return "";
  }
  return head.substr(sp1 + 1, sp2 - sp1 - 1);
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

}  // namespace

CannedResponse reply(std::string body, std::string content_type) {
  CannedResponse r;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

CannedResponse failure(int status, std::vector<std::pair<std::string, std::string>> headers) {
  CannedResponse r;
  r.status = status;
  r.content_type = "text/plain";
  r.headers = std::move(headers);
  return r;
}

LoopbackServer::LoopbackServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    die("socket");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // 127.0.0.1 only
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    die("bind 127.0.0.1:0");
  }
  socklen_t len = sizeof(addr);
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    die("getsockname");
  }
  port_ = ntohs(addr.sin_port);
  if (::listen(listen_fd_, 64) != 0) {
    die("listen");
  }
  acceptor_ = std::thread([this] { acceptLoop(); });
}

LoopbackServer::~LoopbackServer() {
  stopping_ = true;
  stop_cv_.notify_all();
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (std::thread& t : workers) {
    t.join();
  }
}

void LoopbackServer::serve(const std::string& target, CannedResponse response) {
  script(target, {std::move(response)});
}

void LoopbackServer::script(const std::string& target, std::vector<CannedResponse> responses) {
  std::lock_guard<std::mutex> lock(mu_);
  routes_[target] = std::move(responses);
}

int LoopbackServer::hits(const std::string& target) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = hits_.find(target);
  return it == hits_.end() ? 0 : it->second;
}

int LoopbackServer::totalHits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_hits_;
}

CannedResponse LoopbackServer::next(const std::string& target) {
  std::lock_guard<std::mutex> lock(mu_);
  ++total_hits_;
  int seen = hits_[target]++;
  auto it = routes_.find(target);
  if (it == routes_.end() || it->second.empty()) {
    return failure(404);
  }
  const std::vector<CannedResponse>& list = it->second;
  return list[std::min<size_t>(static_cast<size_t>(seen), list.size() - 1)];
}

void LoopbackServer::acceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) {
      continue;
    }
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    workers_.emplace_back([this, fd] {
      answer(fd);
      ::close(fd);
    });
  }
}

void LoopbackServer::answer(int fd) {
  std::string target = readTarget(fd);
  if (target.empty()) {
    return;
  }
  if (target == "!") {
    sendAll(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  CannedResponse r = next(target);
  if (r.delay.count() > 0) {
    std::unique_lock<std::mutex> lock(mu_);
    stop_cv_.wait_for(lock, r.delay, [this] { return stopping_.load(); });
    if (stopping_) {
      return;
    }
  }
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
  if (!r.content_type.empty()) {
    out += "Content-Type: " + r.content_type + "\r\n";
  }
  for (const auto& [name, value] : r.headers) {
    out += name + ": " + value + "\r\n";
  }
  out += "Content-Length: " + std::to_string(r.body.size() + r.extra_length) + "\r\n";
  out += "Connection: close\r\n\r\n";
  out += r.body;
  sendAll(fd, out);
}

}  // namespace igvmkit::collateral::testing
