// base/internal/io.h: what the input and output halves of base/file.h share.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

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
