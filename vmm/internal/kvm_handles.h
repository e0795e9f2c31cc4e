// vmm/internal/kvm_handles.h: what the KVM machine holds and how it reports a failed ioctl:
// owned (or borrowed) descriptors and mappings from the device layer (hv/device.h), kvm_cpuid2 /
// kvm_msrs buffers with their flexible arrays, and the one-line error of a failed call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "hv/device.h"

namespace igvmkit::vmm {

// strerror-style text for an errno value, e.g. "permission denied (errno 13)".
std::string errnoText(int error);

// "WHAT failed: <errno text>" (rule vmm.kvm_ioctl) for an ioctl that returned -errno `r`.
Error kvmError(const std::string& what, long r);

// Owns a descriptor from the device layer.
class Fd {
 public:
  Fd() = default;
  Fd(hv::Device* sys, int fd) : sys_(sys), fd_(fd) {}
  // A descriptor someone else owns (the loader's backend): never closed here.
  static Fd borrowed(int fd) { return Fd(nullptr, fd); }
  Fd(Fd&& o) noexcept : sys_(o.sys_), fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    reset();
    sys_ = o.sys_;
    fd_ = std::exchange(o.fd_, -1);
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }

 private:
  void reset() {
    if (fd_ >= 0 && sys_ != nullptr) {
      sys_->close(fd_);
    }
    fd_ = -1;
  }
  hv::Device* sys_ = nullptr;
  int fd_ = -1;
};

// Owns a mapping from the device layer.
class Mapping {
 public:
  Mapping() = default;
  Mapping(hv::Device* sys, void* addr, size_t size) : sys_(sys), addr_(addr), size_(size) {}
  Mapping(Mapping&& o) noexcept
      : sys_(o.sys_), addr_(std::exchange(o.addr_, nullptr)), size_(o.size_) {}
  Mapping& operator=(Mapping&& o) noexcept {
    reset();
    sys_ = o.sys_;
    addr_ = std::exchange(o.addr_, nullptr);
    size_ = o.size_;
    return *this;
  }
  ~Mapping() { reset(); }
  uint8_t* data() const { return static_cast<uint8_t*>(addr_); }
  size_t size() const { return size_; }

 private:
  void reset() {
    if (addr_ != nullptr) {
      sys_->munmap(addr_, size_);
    }
    addr_ = nullptr;
  }
  hv::Device* sys_ = nullptr;
  void* addr_ = nullptr;
  size_t size_ = 0;
};

// kvm_cpuid2 / kvm_msrs carry a flexible array: keep header and entries in one aligned buffer.
template <class Header, class Entry>
class VarStruct {
 public:
  explicit VarStruct(size_t n) : storage_((sizeof(Header) + n * sizeof(Entry) + 7) / 8, 0) {}
  Header* header() { return reinterpret_cast<Header*>(storage_.data()); }
  Entry* entries() { return reinterpret_cast<Entry*>(header() + 1); }

 private:
  std::vector<uint64_t> storage_;
};

}  // namespace igvmkit::vmm
