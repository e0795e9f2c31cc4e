// Outputs: a fresh temp file beside each target, renamed over it only when every output of the
// command was written (cli-contract.md "Outputs").
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>

#include "base/file.h"
#include "base/internal/io.h"

namespace igvmkit {
namespace {

// Temp files a signal must remove, in storage the handler can read without allocating.
constexpr int kTempSlots = 32;
char g_temp_path[kTempSlots][PATH_MAX];
std::atomic<bool> g_temp_claimed[kTempSlots];  // slot taken (by registerTemp)
std::atomic<bool> g_temp_live[kTempSlots];     // path complete and the file may exist
constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction g_previous[NSIG];
std::once_flag g_handlers_once;

void onTerminatingSignal(int sig) {
  for (int i = 0; i < kTempSlots; ++i) {
    if (g_temp_live[i].load(std::memory_order_acquire)) {
      ::unlink(g_temp_path[i]);
    }
  }
  // Then whatever the signal did before (normally: end the process), with the same signal.
  ::sigaction(sig, &g_previous[sig], nullptr);
  ::raise(sig);
}

void installHandlers() {
  for (int sig : kCleanupSignals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) {
      continue;  // e.g. nohup: keep ignoring
    }
    struct sigaction action {};
    action.sa_handler = onTerminatingSignal;
    sigemptyset(&action.sa_mask);
    for (int s : kCleanupSignals) {
      sigaddset(&action.sa_mask, s);
    }
    if (::sigaction(sig, &action, &g_previous[sig]) != 0) {
      g_previous[sig] = old;
    }
  }
}

// The slot of a temp file path, or -1 when every slot is taken.
int registerTemp(const std::string& path) {
  std::call_once(g_handlers_once, installHandlers);
  if (path.size() >= PATH_MAX) {
    return -1;
  }
  for (int i = 0; i < kTempSlots; ++i) {
    bool expected = false;
    if (g_temp_claimed[i].compare_exchange_strong(expected, true)) {
      std::memcpy(g_temp_path[i], path.c_str(), path.size() + 1);
      g_temp_live[i].store(true, std::memory_order_release);
      return i;
    }
  }
  return -1;
}

void unregisterTemp(int slot) {
  if (slot >= 0) {
    g_temp_live[slot].store(false, std::memory_order_release);
    g_temp_claimed[slot].store(false, std::memory_order_release);
  }
}

Error writeError(const std::string& name, const std::string& what) {
  return Error{Code::kUnreadable, "io.write", name + ": " + what + ": " + std::strerror(errno),
               std::nullopt};
}

std::string randomSuffix() {
  unsigned char raw[6];
  if (::getrandom(raw, sizeof raw, 0) != static_cast<ssize_t>(sizeof raw)) {
    // O_EXCL keeps a guessed name safe; the randomness only avoids collisions.
    for (unsigned char& b : raw) {
      b = static_cast<unsigned char>(std::rand());
    }
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : raw) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

mode_t newFileMode() {
  static const mode_t mask = [] {
    mode_t m = ::umask(0);
    ::umask(m);
    return m;
  }();
  return 0666 & ~mask;
}

std::pair<std::string, std::string> splitPath(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return {".", path};
  }
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

void fsyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);  // best effort: the data itself was fsynced before the rename
    ::close(fd);
  }
}

// The descriptor a path names, when it names one rather than a file: /dev/stdout, /dev/stderr,
// /dev/stdin, /dev/fd/N, /proc/self/fd/N, /proc/thread-self/fd/N, /proc/<this pid>/fd/N. Such an
// output is written through the descriptor, as a shell would, never replaced: replacing resolved
// the link to whatever it named (a pipe has no path; a deleted file only "... (deleted)") and could
// rename a regular file over /dev/stdout itself.
std::optional<int> descriptorOf(const std::string& path) {
  if (path == "/dev/stdin") {
    return 0;
  }
  if (path == "/dev/stdout") {
    return 1;
  }
  if (path == "/dev/stderr") {
    return 2;
  }
  for (const std::string& prefix :
       {std::string("/dev/fd/"), std::string("/proc/self/fd/"), std::string("/proc/thread-self/fd/"),
        "/proc/" + std::to_string(::getpid()) + "/fd/"}) {
    if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
        path.size() - prefix.size() <= 9 &&
        path.find_first_not_of("0123456789", prefix.size()) == std::string::npos) {
      return std::stoi(path.substr(prefix.size()));
    }
  }
  return std::nullopt;
}

}  // namespace

bool OutputFiles::Identity::operator==(const Identity& o) const {
  if (exists != o.exists) {
    return false;
  }
  return exists ? dev == o.dev && ino == o.ino : path == o.path;
}

OutputFiles::Identity OutputFiles::identify(const std::string& path) {
  Identity id;
  struct stat st {};
  if (path == "-" ? ::fstat(STDOUT_FILENO, &st) == 0 : ::stat(path.c_str(), &st) == 0) {
    id.exists = true;
    id.dev = st.st_dev;
    id.ino = st.st_ino;
    return id;
  }
  // Not there yet: two outputs may still name it alike ("a/../x" and "x").
  auto [dir, base] = splitPath(path);
  char resolved[PATH_MAX];
  id.path = ::realpath(dir.c_str(), resolved) != nullptr ? std::string(resolved) + "/" + base : path;
  return id;
}

Status OutputFiles::addInput(const std::string& path) {
  Identity id = identify(path);
  if (!id.exists) {
    return okStatus();
  }
  for (const auto& [out, file] : outputs_) {
    if (out == id) {
      return usage("output.names_input",
                   "output " + file->name() + " is also an input (" + path + ")");
    }
  }
  inputs_.push_back(std::move(id));
  return okStatus();
}

Result<OutputFile*> OutputFiles::add(const std::string& path) {
  Identity id = identify(path);
  for (const Identity& in : inputs_) {
    if (in == id) {
      return usage("output.names_input", "output " + path + " is also an input");
    }
  }
  for (const auto& [out, file] : outputs_) {
    if (out == id) {
      return usage("output.same_file",
                   "outputs " + file->name() + " and " + path + " are the same file");
    }
  }
  auto file = std::make_unique<OutputFile>();
  struct stat st {};
  const std::optional<int> descriptor = descriptorOf(path);
  if (path == "-" || descriptor == STDOUT_FILENO) {
    file->kind_ = OutputFile::Kind::kStdout;
    file->name_ = path == "-" ? "stdout" : path;
    file->fd_ = STDOUT_FILENO;
  } else if (descriptor) {
    file->kind_ = OutputFile::Kind::kInPlace;
    file->name_ = path;
    file->fd_ = ::fcntl(*descriptor, F_DUPFD_CLOEXEC, 0);
    if (file->fd_ < 0) {
      return detail::ioError(path, "cannot write to descriptor " + std::to_string(*descriptor));
    }
  } else if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    // A device or a pipe cannot be replaced meaningfully: write into it.
    file->kind_ = OutputFile::Kind::kInPlace;
    file->name_ = path;
    file->fd_ = ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (file->fd_ < 0) {
      return detail::ioError(path, "cannot open for writing");
    }
  } else {
    const bool exists = ::stat(path.c_str(), &st) == 0;
    file->kind_ = OutputFile::Kind::kReplace;
    file->name_ = path;
    file->target_ = path;
    char resolved[PATH_MAX];
    if (exists) {
      // Through a symbolic link: replace the file it names, if it names one by a path. A link to a
      // file without one (a deleted file through /proc) would make us replace the link itself.
      struct stat named {};
      if (::realpath(path.c_str(), resolved) == nullptr || ::stat(resolved, &named) != 0 ||
          named.st_dev != st.st_dev || named.st_ino != st.st_ino) {
        return usage("output.unnamed",
                     path + " leads to a file without a name to replace; give its path");
      }
      file->target_ = resolved;
    }
    auto [dir, base] = splitPath(file->target_);
    for (int attempt = 0; attempt < 100 && file->fd_ < 0; ++attempt) {
      file->temp_ = dir + "/." + base + ".tmp-" + randomSuffix();
      file->fd_ = ::open(file->temp_.c_str(),
                         O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (file->fd_ < 0 && errno != EEXIST) {
        break;
      }
    }
    if (file->fd_ < 0) {
      return detail::ioError(path, "cannot create a temporary file in " + dir);
    }
    file->slot_ = registerTemp(file->temp_);
    if (file->slot_ < 0) {
      ::close(file->fd_);
      ::unlink(file->temp_.c_str());
      return internal("more outputs at once than base/file can clean up on a signal");
    }
    const mode_t mode = exists ? (st.st_mode & 07777) : newFileMode();
    if (::fchmod(file->fd_, mode) != 0) {
      Error e = detail::ioError(file->temp_, "cannot set the mode");
      ::close(file->fd_);
      ::unlink(file->temp_.c_str());
      unregisterTemp(file->slot_);
      return e;
    }
  }
  OutputFile* raw = file.get();
  outputs_.emplace_back(std::move(id), std::move(file));
  return raw;
}

Status OutputFile::write(Bytes bytes) {
  if (!error_.ok()) {
    return error_;
  }
  if (kind_ == Kind::kStdout) {
    std::cout.flush();
    std::fflush(stdout);  // keep the order of what the command printed before
  }
  if (!detail::writeAll(fd_, bytes.data(), bytes.size(), -1)) {
    error_ = writeError(name_, "cannot write");
    return error_;
  }
  if (kind_ == Kind::kReplace) {
    appended_ += bytes.size();
    constexpr uint64_t kWritebackBytes = uint64_t{8} << 20;
    if (appended_ - writeback_ >= kWritebackBytes) {
      // A hint only (it starts the writes, waits for none): its failure changes nothing, the
      // fsync before the rename reports real write errors.
      (void)::sync_file_range(fd_, static_cast<off_t>(writeback_),
                              static_cast<off_t>(appended_ - writeback_), SYNC_FILE_RANGE_WRITE);
      writeback_ = appended_;
    }
  }
  return error_;
}

Status OutputFile::writeAt(uint64_t offset, Bytes bytes) {
  if (!error_.ok()) {
    return error_;
  }
  if (!seekable()) {
    errno = ESPIPE;
    return writeError(name_, "cannot write at an offset");
  }
  if (!detail::writeAll(fd_, bytes.data(), bytes.size(), static_cast<int64_t>(offset))) {
    error_ = writeError(name_, "cannot write");
  }
  return error_;
}

Status OutputFile::readAt(uint64_t offset, std::span<std::byte> out) {
  if (!seekable()) {
    errno = ESPIPE;
    return writeError(name_, "cannot read back");
  }
  const int r = detail::readAllAt(fd_, out.data(), out.size(), offset);
  if (r <= 0) {
    if (r == 0) {
      errno = EIO;
    }
    return writeError(name_, "cannot read back");
  }
  return okStatus();
}

Result<MappedFile> OutputFile::mapWritten() {
  if (!seekable()) {
    errno = ESPIPE;
    return writeError(name_, "cannot map");
  }
  return MappedFile::open(temp_);
}

Status OutputFiles::commit() {
  for (auto& [id, file] : outputs_) {
    if (!file->error_.ok()) {
      Status failed = file->error_;
      discard();
      return failed;
    }
  }
  for (auto& [id, file] : outputs_) {
    Status synced;
    switch (file->kind_) {
      case OutputFile::Kind::kStdout:
        synced = flushStdout();
        break;
      case OutputFile::Kind::kInPlace:
        if (::close(std::exchange(file->fd_, -1)) != 0) {
          synced = writeError(file->name_, "cannot write");
        }
        break;
      case OutputFile::Kind::kReplace:
        if (::fsync(file->fd_) != 0 || ::close(std::exchange(file->fd_, -1)) != 0) {
          synced = writeError(file->name_, "cannot write");
        }
        break;
    }
    if (!synced.ok()) {
      discard();
      return synced;
    }
  }
  for (auto& [id, file] : outputs_) {
    if (file->kind_ != OutputFile::Kind::kReplace) {
      continue;
    }
    if (::rename(file->temp_.c_str(), file->target_.c_str()) != 0) {
      Error e = detail::ioError(file->name_, "cannot replace");
      discard();
      return e;
    }
    unregisterTemp(std::exchange(file->slot_, -1));
    file->temp_.clear();
    fsyncDirectory(splitPath(file->target_).first);
  }
  committed_ = true;
  return okStatus();
}

void OutputFiles::discard() {
  for (auto& [id, file] : outputs_) {
    if (file->kind_ == OutputFile::Kind::kStdout) {
      continue;
    }
    if (file->fd_ >= 0) {
      ::close(std::exchange(file->fd_, -1));
    }
    if (!file->temp_.empty()) {
      ::unlink(file->temp_.c_str());
      file->temp_.clear();
    }
    unregisterTemp(std::exchange(file->slot_, -1));
  }
}

OutputFiles::~OutputFiles() {
  if (!committed_) {
    discard();
  }
}

Status writeFile(const std::string& path, Bytes bytes) {
  OutputFiles outputs;
  IGVMKIT_ASSIGN_OR_RETURN(OutputFile * out, outputs.add(path));
  IGVMKIT_RETURN_IF_ERROR(out->write(bytes));
  return outputs.commit();
}

Status flushStdout() {
  std::cout.flush();
  errno = 0;
  const bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) != 0 || std::cout.fail();
  if (failed) {
    if (errno == 0) {
      errno = EIO;
    }
    return writeError("stdout", "cannot write");
  }
  return okStatus();
}

}  // namespace igvmkit
