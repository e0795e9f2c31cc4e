#include "hv/device.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace igvmkit::hv {
namespace {

class SystemDevice final : public Device {
 public:
  int open(const std::string& path, int flags) override {
    int fd = ::open(path.c_str(), flags);
    return fd >= 0 ? fd : -errno;
  }
  int close(int fd) override { return ::close(fd) == 0 ? 0 : -errno; }
  long ioctl(int fd, unsigned long request, void* arg) override {
    long rc;
    do {
      rc = ::ioctl(fd, request, arg);
    } while (rc < 0 && errno == EINTR);
    return rc >= 0 ? rc : -errno;
  }
  long ioctlInterruptible(int fd, unsigned long request, void* arg) override {
    long rc = ::ioctl(fd, request, arg);
    return rc >= 0 ? rc : -errno;
  }
  long ioctl(int fd, unsigned long request, unsigned long value) override {
    long rc;
    do {
      rc = ::ioctl(fd, request, value);
    } while (rc < 0 && errno == EINTR);
    return rc >= 0 ? rc : -errno;
  }
  void* mmap(size_t length, int prot, int flags, int fd, off_t offset, int* err) override {
    void* p = ::mmap(nullptr, length, prot, flags, fd, offset);
    if (p == MAP_FAILED) {
      *err = errno;
      return nullptr;
    }
    return p;
  }
  int munmap(void* addr, size_t length) override {
    return ::munmap(addr, length) == 0 ? 0 : -errno;
  }
  int eventfd(unsigned int initval, int flags) override {
    int fd = ::eventfd(initval, flags);
    return fd >= 0 ? fd : -errno;
  }
};

}  // namespace

std::unique_ptr<Device> systemDevice() { return std::make_unique<SystemDevice>(); }

Error errnoError(const std::string& what, long rc) {
  int e = static_cast<int>(-rc);
  std::string message =
      what + " failed: " + std::strerror(e) + " (errno " + std::to_string(e) + ")";
  if (e == ENOTTY || e == ENODEV || e == ENOENT || e == EOPNOTSUPP) {
    return unsupported("device.unsupported", message);
  }
  return internal(message);
}

}  // namespace igvmkit::hv
