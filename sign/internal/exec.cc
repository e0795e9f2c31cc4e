// The exec: signer: runs a program, writes the bytes to sign to its stdin, reads the signature
// from its stdout (protocol in sign/README.md).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "sign/internal/backends.h"

extern char** environ;

namespace igvmkit::sign::internal {
namespace {

constexpr size_t kMaxOutput = 4096;  // a DER P-384 signature is at most 104 bytes
constexpr size_t kMaxDiagnostic = 4096;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    reset();
    fd_ = std::exchange(o.fd_, -1);
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::vector<std::string> splitCommand(std::string_view command) {
  std::vector<std::string> argv;
  size_t i = 0;
  while (i < command.size()) {
    while (i < command.size() && (command[i] == ' ' || command[i] == '\t')) {
      ++i;
    }
    size_t start = i;
    while (i < command.size() && command[i] != ' ' && command[i] != '\t') {
      ++i;
    }
    if (i > start) {
      argv.emplace_back(command.substr(start, i - start));
    }
  }
  return argv;
}

// The last non-empty line the program wrote to stderr, for the one-line error.
std::string lastLine(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n \t");
  if (end == std::string::npos) {
    return "";
  }
  size_t start = text.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  std::string line = text.substr(start, end + 1 - start);
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20) {
      c = ' ';
    }
  }
  return line;
}

Error failed(std::string rule, const std::string& what, const std::string& diagnostic) {
  std::string message = what;
  if (std::string line = lastLine(diagnostic); !line.empty()) {
    message += " (it said: " + line + ")";
  }
  return invalid(std::move(rule), std::move(message));
}

class ExecSigner final : public Backend {
 public:
  ExecSigner(std::string command, const measure::SNP_ECDSA_PUBLIC_KEY& key,
             std::vector<std::string> argv, SignerOptions options)
      : Backend("exec:" + command, key), argv_(std::move(argv)), options_(std::move(options)) {}

 private:
  Result<ByteVector> signatureOver(Bytes message) override;

  std::vector<std::string> argv_;
  SignerOptions options_;
};

Result<ByteVector> ExecSigner::signatureOver(Bytes message) {
  const std::string& program = argv_[0];
  // stdin is a socket so that writing to a program that stopped reading gives EPIPE, not SIGPIPE
  // (send with MSG_NOSIGNAL); a program reads it like a pipe.
  int in_pair[2], out_pipe[2], err_pipe[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
    return ::igvmkit::internal("socketpair: " + std::string(std::strerror(errno)));
  }
  Fd in_parent(in_pair[0]), in_child(in_pair[1]);
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    return ::igvmkit::internal("pipe: " + std::string(std::strerror(errno)));
  }
  Fd out_parent(out_pipe[0]), out_child(out_pipe[1]);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    return ::igvmkit::internal("pipe: " + std::string(std::strerror(errno)));
  }
  Fd err_parent(err_pipe[0]), err_child(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_child.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_child.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_child.get(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so a timeout ends the program and everything it started.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);

  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with("IGVMKIT_SIGN_")) {
      env_storage.emplace_back(*e);
    }
  }
  env_storage.push_back("IGVMKIT_SIGN_ROLE=" + options_.role);
  env_storage.push_back("IGVMKIT_SIGN_LENGTH=" + std::to_string(message.size()));
  std::vector<char*> envp;
  for (std::string& e : env_storage) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  std::vector<std::string> args = argv_;
  std::vector<char*> argvp;
  for (std::string& a : args) {
    argvp.push_back(a.data());
  }
  argvp.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, program.c_str(), &actions, &attr, argvp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Error{Code::kUnreadable, "sign.exec_start",
                 "cannot run " + program + ": " + std::strerror(rc), std::nullopt};
  }
  in_child.reset();
  out_child.reset();
  err_child.reset();

  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  auto remaining_ms = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() < 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1000));
  };
  ByteVector out;
  std::string diagnostic;
  size_t written = 0;
  bool too_much = false;
  bool timed_out = false;
  // Feed stdin and drain stdout and stderr together: a program may write before it has read all.
  while (out_parent.get() >= 0 || err_parent.get() >= 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    int in_at = -1, out_at = -1, err_at = -1;
    if (in_parent.get() >= 0) {
      in_at = static_cast<int>(n);
      fds[n++] = {in_parent.get(), POLLOUT, 0};
    }
    if (out_parent.get() >= 0) {
      out_at = static_cast<int>(n);
      fds[n++] = {out_parent.get(), POLLIN, 0};
    }
    if (err_parent.get() >= 0) {
      err_at = static_cast<int>(n);
      fds[n++] = {err_parent.get(), POLLIN, 0};
    }
    int ready = ::poll(fds, n, remaining_ms());
    if (ready < 0 && errno != EINTR) {
      break;
    }
    if (ready <= 0) {
      continue;
    }
    if (in_at >= 0 && fds[in_at].revents != 0) {
      ssize_t w = ::send(in_parent.get(), message.data() + written, message.size() - written,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) {
        written += static_cast<size_t>(w);
      }
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        in_parent.reset();  // the program closed its stdin; its exit status will tell
      } else if (written == message.size()) {
        ::shutdown(in_parent.get(), SHUT_WR);
        in_parent.reset();
      }
    }
    auto drain = [&](Fd& fd, auto&& append) {
      char buf[1024];
      ssize_t r = ::read(fd.get(), buf, sizeof(buf));
      if (r > 0) {
        append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        fd.reset();
      }
    };
    if (out_at >= 0 && fds[out_at].revents != 0) {
      drain(out_parent, [&](const char* b, size_t len) {
        if (out.size() + len > kMaxOutput) {
          too_much = true;
        } else {
          const auto* p = reinterpret_cast<const std::byte*>(b);
          out.insert(out.end(), p, p + len);
        }
      });
      if (too_much) {
        break;
      }
    }
    if (err_at >= 0 && fds[err_at].revents != 0) {
      drain(err_parent, [&](const char* b, size_t len) {
        if (diagnostic.size() < kMaxDiagnostic) {
          diagnostic.append(b, std::min(len, kMaxDiagnostic - diagnostic.size()));
        }
      });
    }
  }
  in_parent.reset();
  out_parent.reset();
  err_parent.reset();
  // The streams are closed; wait for the exit itself, within what is left of the timeout.
  int status = 0;
  pid_t waited = 0;
  while (!timed_out && !too_much) {
    waited = ::waitpid(pid, &status, WNOHANG);
    if (waited == pid || (waited < 0 && errno != EINTR)) {
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (timed_out || too_much) {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (too_much) {
      return failed("sign.exec_output",
                    program + " wrote more than " + std::to_string(kMaxOutput) +
                        " bytes to stdout; a signer writes one signature",
                    diagnostic);
    }
    const auto ms = options_.timeout.count();
    return failed("sign.exec_timeout",
                  program + " did not finish within " +
                      (ms % 1000 == 0 ? std::to_string(ms / 1000) + " s"
                                      : std::to_string(ms) + " ms") +
                      " and was killed",
                  diagnostic);
  }
  if (waited != pid) {
    return ::igvmkit::internal("waitpid: " + std::string(std::strerror(errno)));
  }
  if (WIFSIGNALED(status)) {
    return failed("sign.exec_status",
                  program + " was killed by signal " + std::to_string(WTERMSIG(status)),
                  diagnostic);
  }
  if (WEXITSTATUS(status) != 0) {
    return failed("sign.exec_status",
                  program + " exited with status " + std::to_string(WEXITSTATUS(status)),
                  diagnostic);
  }
  if (written != message.size()) {
    return failed("sign.exec_output",
                  program + " exited before reading the " + std::to_string(message.size()) +
                      " bytes to sign",
                  diagnostic);
  }
  if (out.empty()) {
    return failed("sign.exec_output", program + " exited 0 but wrote no signature", diagnostic);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Signer>> openExec(std::string_view command,
                                         const measure::SNP_ECDSA_PUBLIC_KEY& public_key,
                                         const SignerOptions& options) {
  std::vector<std::string> argv = splitCommand(command);
  if (argv.empty()) {
    return Error{Code::kUsage, "sign.exec_command", "exec: names no program", std::nullopt};
  }
  if (options.timeout.count() <= 0) {
    return Error{Code::kUsage, "sign.exec_command", "the signer timeout must be positive",
                 std::nullopt};
  }
  return std::unique_ptr<Signer>(
      new ExecSigner(std::string(command), public_key, std::move(argv), options));
}

}  // namespace igvmkit::sign::internal
