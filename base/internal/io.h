// base/internal/io.h: what the input and output halves of base/file.h share.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"

namespace igvmkit::detail {

// "<path>: <what>: <strerror(errno)>" as a kUnreadable error.
Error ioError(const std::string& path, const std::string& what);

// "a FIFO", "a directory", ... for messages.
std::string fileKind(mode_t mode);

inline int64_t mtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// An input opened with O_NONBLOCK and checked with fstat to be a regular file (kUsage otherwise).
struct OpenInput {
  int fd = -1;
  struct stat stat {};
};
Result<OpenInput> openInput(const std::string& path);

// Writes all of `bytes` at `offset` (pwrite), or appends them when `offset` is negative (write),
// retrying on EINTR and short writes. False with errno set (EIO for a write of 0 bytes).
inline bool writeAll(int fd, const std::byte* data, size_t size, int64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = offset < 0 ? ::write(fd, data + done, size - done)
                           : ::pwrite(fd, data + done, size - done,
                                      static_cast<off_t>(offset + static_cast<int64_t>(done)));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (n == 0) {
        errno = EIO;
      }
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads exactly `size` bytes at `offset` (pread), retrying on EINTR and short reads: 1 when done,
// 0 when the file ended first, -1 with errno set.
inline int readAllAt(int fd, std::byte* out, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return n == 0 ? 0 : -1;
    }
    done += static_cast<size_t>(n);
  }
  return 1;
}

struct FdCloser {
  explicit FdCloser(int f) : fd(f) {}
  int fd;
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

}  // namespace igvmkit::detail
