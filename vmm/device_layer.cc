#include "vmm/device_layer.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace igvmkit::vmm {
namespace {

class RealDeviceLayer final : public DeviceLayer {
 public:
  int open(const char* path, int flags) override {
    int fd = ::open(path, flags);
    return fd >= 0 ? fd : -errno;
  }
  void close(int fd) override { ::close(fd); }
  long ioctl(int fd, unsigned long request, uintptr_t arg) override {
    long r = ::ioctl(fd, request, arg);
    return r >= 0 ? r : -errno;
  }
  void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset,
             int* error) override {
    void* p = ::mmap(addr, length, prot, flags, fd, offset);
    if (p == MAP_FAILED) {
      *error = errno;
      return nullptr;
    }
    return p;
  }
  void munmap(void* addr, size_t length) override { ::munmap(addr, length); }
};

}  // namespace

DeviceLayer& realDeviceLayer() {
  static RealDeviceLayer layer;
  return layer;
}

std::string errnoText(int error) {
  char buf[128];
  // GNU strerror_r returns the message pointer (thread-safe, unlike strerror).
  std::string text = strerror_r(error, buf, sizeof(buf));
  if (!text.empty()) {
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text + " (errno " + std::to_string(error) + ")";
}

}  // namespace igvmkit::vmm
