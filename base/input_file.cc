// Inputs: regular files only, read without blocking and without dying of SIGBUS.
//
// A shrinking file turns reads of its mapping past the new end into SIGBUS. The guard below
// catches the fault for the ranges it knows, maps a page of zeros over the faulting page (the
// mapping is read-only and private, so nothing observes the swap but the reader) and marks the
// range; MappedFile::unchanged() then reports the change. Faults outside guarded ranges go to the
// previous handler, or kill the process as before.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "base/file.h"
#include "base/internal/io.h"

namespace igvmkit {
namespace {

struct GuardSlot {
  std::atomic<uintptr_t> begin{0};
  std::atomic<uintptr_t> end{0};  // 0: free
  std::atomic<bool> faulted{false};
};

// More mappings than this at once are read into memory instead (the CLI maps one or two).
constexpr int kGuardSlots = 64;
GuardSlot g_guard[kGuardSlots];
std::mutex g_guard_mu;  // serialises slot allocation (not used by the handler)
struct sigaction g_previous_sigbus;
bool g_handler_installed = false;

// The first change seen by any input (inputsUnchanged()).
std::mutex g_changed_mu;
std::string g_changed_path;

void noteChanged(const std::string& path) {
  std::lock_guard lock(g_changed_mu);
  if (g_changed_path.empty()) {
    g_changed_path = path;
  }
}

Error changedError(const std::string& path) {
  return Error{Code::kUnreadable, "io.changed", path + ": the file changed while it was read",
               std::nullopt};
}

void onSigbus(int sig, siginfo_t* info, void* context) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (GuardSlot& slot : g_guard) {
    const uintptr_t end = slot.end.load(std::memory_order_acquire);
    if (end != 0 && addr >= slot.begin.load(std::memory_order_relaxed) && addr < end) {
      const uintptr_t page = addr & ~(static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE)) - 1);
      // The raw system call: no interposed mmap (sanitizers) runs inside the handler.
      long mapped = ::syscall(SYS_mmap, page, ::sysconf(_SC_PAGESIZE), PROT_READ,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      if (mapped != -1) {
        slot.faulted.store(true, std::memory_order_release);
        return;
      }
      break;
    }
  }
  if ((g_previous_sigbus.sa_flags & SA_SIGINFO) != 0 && g_previous_sigbus.sa_sigaction != nullptr) {
    g_previous_sigbus.sa_sigaction(sig, info, context);
    return;
  }
  if (g_previous_sigbus.sa_handler != SIG_DFL && g_previous_sigbus.sa_handler != SIG_IGN) {
    g_previous_sigbus.sa_handler(sig);
    return;
  }
  // Not ours: the default action, taken when the faulting access runs again.
  ::signal(SIGBUS, SIG_DFL);
}

int acquireGuard(const void* data, size_t size) {
  std::lock_guard lock(g_guard_mu);
  if (!g_handler_installed) {
    struct sigaction action {};
    action.sa_sigaction = onSigbus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    if (::sigaction(SIGBUS, &action, &g_previous_sigbus) != 0) {
      return -1;
    }
    g_handler_installed = true;
  }
  for (int i = 0; i < kGuardSlots; ++i) {
    if (g_guard[i].end.load(std::memory_order_relaxed) == 0) {
      g_guard[i].faulted.store(false, std::memory_order_relaxed);
      g_guard[i].begin.store(reinterpret_cast<uintptr_t>(data), std::memory_order_relaxed);
      g_guard[i].end.store(reinterpret_cast<uintptr_t>(data) + size, std::memory_order_release);
      return i;
    }
  }
  return -1;
}

// Whether the slot saw a fault; frees it.
bool releaseGuard(int slot) {
  std::lock_guard lock(g_guard_mu);
  const bool faulted = g_guard[slot].faulted.load(std::memory_order_acquire);
  g_guard[slot].end.store(0, std::memory_order_release);
  return faulted;
}

bool sameContents(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && detail::mtimeNs(a) == detail::mtimeNs(b);
}

// Reads exactly `size` bytes from the start of fd into out; io.changed when the file ends early
// or holds more.
Status readExactly(int fd, const std::string& path, std::byte* out, size_t size) {
  const int r = detail::readAllAt(fd, out, size, 0);
  if (r < 0) {
    return detail::ioError(path, "cannot read");
  }
  if (r == 0) {
    return changedError(path);
  }
  std::byte extra;
  ssize_t n;
  do {
    n = ::pread(fd, &extra, 1, static_cast<off_t>(size));
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    return changedError(path);
  }
  return okStatus();
}

}  // namespace

namespace detail {

Error ioError(const std::string& path, const std::string& what) {
  return unreadable(path + ": " + what + ": " + std::strerror(errno));
}

Result<OpenInput> openInput(const std::string& path) {
  // O_NONBLOCK: opening a FIFO with no writer returns at once (and fstat refuses it).
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    return ioError(path, "cannot open");
  }
  OpenInput in;
  in.fd = fd;
  if (::fstat(fd, &in.stat) != 0) {
    Error e = ioError(path, "cannot stat");
    ::close(fd);
    return e;
  }
  if (!S_ISREG(in.stat.st_mode)) {
    ::close(fd);
    return usage("input.not_regular", path + ": not a regular file (" + fileKind(in.stat.st_mode) +
                                       "); inputs must be regular files");
  }
  return in;
}

std::string fileKind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "a regular file";
}

}  // namespace detail

Result<MappedFile> MappedFile::open(const std::string& path) {
  IGVMKIT_ASSIGN_OR_RETURN(detail::OpenInput in, detail::openInput(path));
  const size_t size = static_cast<size_t>(in.stat.st_size);
  if (size == 0) {
    return MappedFile(path, in.fd, nullptr, 0, -1, detail::mtimeNs(in.stat));
  }
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, in.fd, 0);
  if (data == MAP_FAILED) {
    Error e = detail::ioError(path, "cannot map");
    ::close(in.fd);
    return e;
  }
  const int guard = acquireGuard(data, size);
  if (guard >= 0) {
    return MappedFile(path, in.fd, data, size, guard, detail::mtimeNs(in.stat));
  }
  // No guard: read the file instead of trusting the mapping.
  ::munmap(data, size);
  MappedFile copy(path, in.fd, nullptr, size, -1, detail::mtimeNs(in.stat));
  copy.copy_ = std::make_unique<std::byte[]>(size);
  copy.data_ = copy.copy_.get();
  IGVMKIT_RETURN_IF_ERROR(readExactly(in.fd, path, copy.copy_.get(), size));
  return copy;
}

Status MappedFile::readView(Bytes view, std::span<std::byte> out) const {
  if (out.size() != view.size()) {
    return internal("readView: " + hex(out.size()) + " bytes of room for a view of " +
                    hex(view.size()));
  }
  const auto begin = reinterpret_cast<uintptr_t>(data_);
  const auto at = reinterpret_cast<uintptr_t>(view.data());
  const bool mapped = copy_ == nullptr && !view.empty() && at >= begin &&
                      view.size() <= size_ && at - begin <= size_ - view.size();
  if (!mapped) {
    std::copy(view.begin(), view.end(), out.begin());
    return okStatus();
  }
  const uint64_t offset = at - begin;
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return detail::ioError(path_, "cannot read");
    }
    if (n == 0) {  // shrunk since it was mapped: what the guarded mapping shows
      std::fill(out.begin() + static_cast<ptrdiff_t>(done), out.end(), std::byte{0});
      break;
    }
    done += static_cast<size_t>(n);
  }
  return okStatus();
}

MappedFile::MappedFile(std::string path, int fd, void* data, size_t size, int guard,
                       int64_t mtime_ns)
    : path_(std::move(path)),
      fd_(fd),
      data_(data),
      size_(size),
      guard_(guard),
      mtime_ns_(mtime_ns) {}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      guard_(std::exchange(other.guard_, -1)),
      mtime_ns_(other.mtime_ns_),
      copy_(std::move(other.copy_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    guard_ = std::exchange(other.guard_, -1);
    mtime_ns_ = other.mtime_ns_;
    copy_ = std::move(other.copy_);
  }
  return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() {
  if (fd_ < 0) {
    return;
  }
  if (!unchanged().ok()) {
    noteChanged(path_);
  }
  if (guard_ >= 0) {
    releaseGuard(guard_);
    guard_ = -1;
  }
  if (data_ != nullptr && copy_ == nullptr) {
    ::munmap(data_, size_);
  }
  data_ = nullptr;
  copy_.reset();
  ::close(fd_);
  fd_ = -1;
}

Status MappedFile::unchanged() const {
  if (fd_ < 0) {
    return okStatus();
  }
  if (guard_ >= 0 && g_guard[guard_].faulted.load(std::memory_order_acquire)) {
    return changedError(path_);
  }
  struct stat now {};
  if (::fstat(fd_, &now) != 0 || static_cast<uint64_t>(now.st_size) != size_ ||
      detail::mtimeNs(now) != mtime_ns_) {
    return changedError(path_);
  }
  return okStatus();
}

Result<ByteVector> readFile(const std::string& path) {
  IGVMKIT_ASSIGN_OR_RETURN(detail::OpenInput in, detail::openInput(path));
  detail::FdCloser closer{in.fd};
  ByteVector out(static_cast<size_t>(in.stat.st_size));
  IGVMKIT_RETURN_IF_ERROR(readExactly(in.fd, path, out.data(), out.size()));
  struct stat after {};
  if (::fstat(in.fd, &after) != 0 || !sameContents(in.stat, after)) {
    return changedError(path);
  }
  return out;
}

Result<InputFile> InputFile::open(const std::string& path) {
  IGVMKIT_ASSIGN_OR_RETURN(detail::OpenInput in, detail::openInput(path));
  return InputFile(path, in.fd, static_cast<uint64_t>(in.stat.st_size), detail::mtimeNs(in.stat));
}

InputFile::InputFile(InputFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      size_(other.size_),
      mtime_ns_(other.mtime_ns_) {}

InputFile& InputFile::operator=(InputFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    mtime_ns_ = other.mtime_ns_;
  }
  return *this;
}

InputFile::~InputFile() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Status InputFile::read(uint64_t offset, std::span<std::byte> out) const {
  if (offset > size_ || out.size() > size_ - offset) {
    return internal(path_ + ": read of " + hex(out.size()) + " bytes at " + hex(offset) +
                    " is past the size " + hex(size_));
  }
  const int r = detail::readAllAt(fd_, out.data(), out.size(), offset);
  if (r < 0) {
    return detail::ioError(path_, "cannot read");
  }
  if (r == 0) {
    return changedError(path_);  // shorter than when it was opened
  }
  return okStatus();
}

Status InputFile::unchanged() const {
  struct stat now {};
  if (::fstat(fd_, &now) != 0 || static_cast<uint64_t>(now.st_size) != size_ ||
      detail::mtimeNs(now) != mtime_ns_) {
    return changedError(path_);
  }
  return okStatus();
}

Result<std::string> readTextFile(const std::string& path) {
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector bytes, readFile(path));
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Status inputsUnchanged() {
  std::lock_guard lock(g_changed_mu);
  if (g_changed_path.empty()) {
    return okStatus();
  }
  return changedError(g_changed_path);
}

}  // namespace igvmkit
