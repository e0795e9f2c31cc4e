// vmm/device_layer.h: the thin seam between igvmkit and the kernel's device files (/dev/kvm,
// /dev/mshv, /dev/sev). Every open/ioctl/mmap the VMM (and the loader's backends) make goes through
// a DeviceLayer, so unit tests can substitute a fake that scripts the kernel's answers and records
// the calls, while KVM tests and the CLI use realDeviceLayer().
//
//   DeviceLayer& sys = realDeviceLayer();
//   int kvm = sys.open("/dev/kvm", O_RDWR | O_CLOEXEC);      // fd, or -errno
//   if (kvm < 0) { return unsupported("kvm.open", "cannot open /dev/kvm: " + errnoText(-kvm)); }
//   long version = sys.ioctl(kvm, KVM_GET_API_VERSION, 0);   // result, or -errno
//
// The calls keep the kernel's conventions but report failure as a negative errno instead of
// setting errno, so they are safe to call from several threads and easy to fake.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace igvmkit::vmm {

class DeviceLayer {
 public:
  virtual ~DeviceLayer() = default;
  // open(2): a descriptor, or -errno.
  virtual int open(const char* path, int flags) = 0;
  // close(2); errors are ignored (there is nothing useful to do about them).
  virtual void close(int fd) = 0;
  // ioctl(2) with an integer or pointer argument: the non-negative result, or -errno.
  virtual long ioctl(int fd, unsigned long request, uintptr_t arg) = 0;
  long ioctl(int fd, unsigned long request, void* arg) {
    return ioctl(fd, request, reinterpret_cast<uintptr_t>(arg));
  }
  // mmap(2): the mapping, or nullptr with *error = errno.
  virtual void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset,
                     int* error) = 0;
  // munmap(2); errors are ignored.
  virtual void munmap(void* addr, size_t length) = 0;
};

// The process-wide real implementation (plain system calls; stateless, thread-safe).
DeviceLayer& realDeviceLayer();

// strerror-style text for an errno value, e.g. "permission denied (errno 13)".
std::string errnoText(int error);

}  // namespace igvmkit::vmm
