// hv/device.h: the thin layer between the backends and the kernel. Backends never call open,
// ioctl or mmap directly; they go through a Device, so tests can substitute a recording fake
// (hv/testing/fake_device.h) and hardware-free simulators can watch every call.
//
//   auto dev = hv::systemDevice();
//   int kvm = dev->open("/dev/kvm", O_RDWR | O_CLOEXEC);          // -errno on failure
//   long vm = dev->ioctl(kvm, KVM_CREATE_VM, 0ul);               // value form
//   long rc = dev->ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region);  // pointer form
//
// Every call returns the kernel's value: >= 0 on success, -errno on failure (errnoError() turns
// that into an Error naming the call).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace igvmkit::hv {

class Device {
 public:
  virtual ~Device() = default;
  virtual int open(const std::string& path, int flags) = 0;
  virtual int close(int fd) = 0;
  // An ioctl whose argument is a pointer to a structure.
  virtual long ioctl(int fd, unsigned long request, void* arg) = 0;
  // An ioctl whose argument is an integer (KVM_CREATE_VM's type, KVM_CHECK_EXTENSION's cap).
  virtual long ioctl(int fd, unsigned long request, unsigned long value) = 0;
  // An ioctl a signal may interrupt: -EINTR comes back instead of being retried. For the vCPU run
  // calls (KVM_RUN, MSHV_RUN_VP), where a signal is how the VMM stops a vCPU. The plain ioctl()s
  // retry EINTR. A fake that never blocks may keep the default.
  virtual long ioctlInterruptible(int fd, unsigned long request, void* arg) {
    return ioctl(fd, request, arg);
  }
  // mmap(); on failure returns nullptr and sets *err to the errno.
  virtual void* mmap(size_t length, int prot, int flags, int fd, off_t offset, int* err) = 0;
  virtual int munmap(void* addr, size_t length) = 0;
  virtual int eventfd(unsigned int initval, int flags) = 0;
};

// The real thing: thin wrappers over the system calls.
std::unique_ptr<Device> systemDevice();

// "<what> failed: <strerror> (errno N)" as a kInternal error, or kUnsupported for ENOTTY/ENODEV/
// ENOENT/EOPNOTSUPP (the kernel lacks the feature). rc is the negative errno from a Device call.
Error errnoError(const std::string& what, long rc);

}  // namespace igvmkit::hv
