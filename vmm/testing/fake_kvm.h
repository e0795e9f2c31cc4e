// vmm/testing/fake_kvm.h: a hv::Device that plays a scripted /dev/kvm, for tests that exercise
// the VMM's setup order, exits and teardown without a kernel.
//
//   FakeKvm kvm;
//   kvm.onRun(0, [](FakeKvm::Run& r) { return r.ioOut(0xf4, 42); });  // vCPU 0's first exit
//   RunConfig config{.device = &kvm};
//   auto outcome = vmm::run(setup, config);  // exit_status 42
//   EXPECT_TRUE(kvm.allReleased());          // every fd closed, every mapping unmapped
//
// A vCPU with no scripted exits left blocks in KVM_RUN until kicked (immediate_exit), like a
// halted or waiting vCPU. Anonymous mmaps (guest RAM) are real, so loads can be checked.
#pragma once

#include <cerrno>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "hv/kvm_abi.h"
#include "hv/device.h"

namespace igvmkit::vmm::testing {

using hv::kvm::kvm_cpuid_entry2;
using hv::kvm::kvm_mp_state;
using hv::kvm::kvm_regs;
using hv::kvm::kvm_run;
using hv::kvm::kvm_sregs;
using hv::kvm::kvm_userspace_memory_region;

class FakeKvm final : public hv::Device {
 public:
  // Fills a vCPU's kvm_run for one exit; returns KVM_RUN's result (0, or -errno).
  struct Run {
    kvm_run* run;
    long ioOut(uint16_t port, uint8_t value);
    long exitReason(uint32_t reason);
  };
  using RunStep = std::function<long(Run&)>;

  FakeKvm();
  ~FakeKvm() override;

  void onRun(unsigned vcpu, RunStep step);
  void failOpen(int error) { open_error_ = error; }
  void setApiVersion(long v) { api_version_ = v; }
  // KVM_CHECK_EXTENSION(cap) answers `value` (every capability answers 1 otherwise).
  void setExtension(unsigned long cap, long value) { extensions_[cap] = value; }
  void setMpState(unsigned vcpu, uint32_t state, uint64_t rflags);
  // Makes `request` on `target` ("system", "vm", "vcpuN") fail with -error from now on.
  void failRequest(const std::string& target, unsigned long request, int error);

  // Every ioctl request, in order, with the fd kind ("system", "vm", "vcpu0", ...).
  struct Call {
    std::string target;
    unsigned long request;
  };
  std::vector<Call> calls() const;
  std::vector<kvm_userspace_memory_region> regions() const;
  std::vector<kvm_cpuid_entry2> cpuidOf(unsigned vcpu) const;
  std::vector<kvm_mp_state> mpStatesSet(unsigned vcpu) const;
  uint8_t* ram() const;  // the first anonymous mapping (guest RAM)
  // The last registers the VMM set on a vCPU (zero when it set none). KVM_GET_SREGS answers with
  // a recognisable reset state: TR selector 0x1234 (busy 64-bit TSS), LDTR selector 0x5678.
  kvm_regs regsSet(unsigned vcpu) const;
  kvm_sregs sregsSet(unsigned vcpu) const;
  bool allReleased() const;

  int open(const std::string& path, int flags) override;
  int close(int fd) override;
  long ioctl(int fd, unsigned long request, void* arg) override {
    return ioctlImpl(fd, request, reinterpret_cast<uintptr_t>(arg));
  }
  long ioctl(int fd, unsigned long request, unsigned long value) override {
    return ioctlImpl(fd, request, value);
  }
  void* mmap(size_t length, int prot, int flags, int fd, off_t offset, int* error) override;
  int munmap(void* addr, size_t length) override;
  int eventfd(unsigned int, int) override { return -ENOSYS; }

 private:
  long ioctlImpl(int fd, unsigned long request, uintptr_t arg);
  long vcpuIoctl(unsigned vcpu, unsigned long request, uintptr_t arg,
                 std::unique_lock<std::mutex>& lock);

  mutable std::mutex mutex_;
  int open_error_ = 0;
  long api_version_ = 12;
  std::map<unsigned long, long> extensions_;
  int next_fd_ = 100;
  std::map<int, std::string> fds_;  // open fd -> "system" | "vm" | "vcpuN"
  std::map<unsigned, kvm_run*> runs_;
  std::map<unsigned, std::deque<RunStep>> steps_;
  std::map<unsigned, std::pair<uint32_t, uint64_t>> mp_;  // mp_state, rflags
  std::map<unsigned, std::vector<kvm_cpuid_entry2>> cpuid_;
  std::map<unsigned, std::vector<kvm_mp_state>> mp_set_;
  std::vector<kvm_userspace_memory_region> regions_;
  std::map<unsigned, kvm_regs> regs_set_;
  std::map<unsigned, kvm_sregs> sregs_set_;
  std::vector<Call> calls_;
  std::map<std::pair<std::string, unsigned long>, int> failures_;
  std::map<void*, size_t> maps_;
  void* ram_ = nullptr;
};

}  // namespace igvmkit::vmm::testing
