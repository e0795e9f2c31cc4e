#include "base/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace igvmkit {
namespace {

Error ioError(const std::string& what, const std::string& path) {
  return unreadable(path + ": " + what + ": " + std::strerror(errno));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Result<MappedFile> MappedFile::open(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return ioError("cannot open", path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return ioError("cannot stat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    return unreadable(path + ": not a regular file");
  }
  if (st.st_size == 0) {
    return MappedFile(nullptr, 0);
  }
  void* data = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (data == MAP_FAILED) {
    return ioError("cannot map", path);
  }
  return MappedFile(data, static_cast<size_t>(st.st_size));
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) {
      ::munmap(data_, size_);
    }
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) {
    ::munmap(data_, size_);
  }
}

Result<ByteVector> readFile(const std::string& path) {
  IGVMKIT_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
  return ByteVector(mapped.bytes().begin(), mapped.bytes().end());
}

Result<std::string> readTextFile(const std::string& path) {
  IGVMKIT_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
  return std::string(reinterpret_cast<const char*>(mapped.bytes().data()), mapped.bytes().size());
}

Status writeFile(const std::string& path, Bytes bytes) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) {
    return ioError("cannot create", tmp);
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      Error e = ioError("cannot write", tmp);
      ::unlink(tmp.c_str());
      return e;
    }
    done += static_cast<size_t>(n);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = ioError("cannot rename to " + path, tmp);
    ::unlink(tmp.c_str());
    return e;
  }
  return okStatus();
}

}  // namespace igvmkit
