#include "vmm/testing/fake_kvm.h"

#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "hv/kvm_abi.h"

namespace igvmkit::vmm::testing {
namespace {

using namespace hv::kvm;  // NOLINT: the ABI names read like the kernel's
constexpr long kRunSize = 8192;
constexpr uint32_t kIoDataOffset = 1024;
}  // namespace

long FakeKvm::Run::ioOut(uint16_t port, uint8_t value) {
  run->exit_reason = kExitIo;
  run->io.direction = kExitIoOut;
  run->io.size = 1;
  run->io.port = port;
  run->io.count = 1;
  run->io.data_offset = kIoDataOffset;
  reinterpret_cast<uint8_t*>(run)[kIoDataOffset] = value;
  return 0;
}

long FakeKvm::Run::exitReason(uint32_t reason) {
  run->exit_reason = reason;
  return 0;
}

FakeKvm::FakeKvm() = default;

FakeKvm::~FakeKvm() {
  for (auto& [addr, size] : maps_) {
    ::munmap(addr, size);
  }
}

void FakeKvm::onRun(unsigned vcpu, RunStep step) {
  std::lock_guard<std::mutex> lock(mutex_);
  steps_[vcpu].push_back(std::move(step));
}

void FakeKvm::setMpState(unsigned vcpu, uint32_t state, uint64_t rflags) {
  std::lock_guard<std::mutex> lock(mutex_);
  mp_[vcpu] = {state, rflags};
}

void FakeKvm::failRequest(const std::string& target, unsigned long request, int error) {
  std::lock_guard<std::mutex> lock(mutex_);
  failures_[{target, request}] = error;
}

std::vector<FakeKvm::Call> FakeKvm::calls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return calls_;
}

std::vector<kvm_userspace_memory_region> FakeKvm::regions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return regions_;
}

std::vector<kvm_cpuid_entry2> FakeKvm::cpuidOf(unsigned vcpu) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = cpuid_.find(vcpu);
  return it == cpuid_.end() ? std::vector<kvm_cpuid_entry2>{} : it->second;
}

std::vector<kvm_mp_state> FakeKvm::mpStatesSet(unsigned vcpu) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = mp_set_.find(vcpu);
  return it == mp_set_.end() ? std::vector<kvm_mp_state>{} : it->second;
}

uint8_t* FakeKvm::ram() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<uint8_t*>(ram_);
}

kvm_regs FakeKvm::regsSet(unsigned vcpu) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = regs_set_.find(vcpu);
  return it == regs_set_.end() ? kvm_regs{} : it->second;
}

kvm_sregs FakeKvm::sregsSet(unsigned vcpu) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sregs_set_.find(vcpu);
  return it == sregs_set_.end() ? kvm_sregs{} : it->second;
}

bool FakeKvm::allReleased() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fds_.empty() && maps_.empty();
}

int FakeKvm::open(const std::string& path, int /*flags*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (open_error_ != 0) {
    return -open_error_;
  }
  if (path != "/dev/kvm") {
    return -ENOENT;
  }
  int fd = next_fd_++;
  fds_[fd] = "system";
  return fd;
}

int FakeKvm::close(int fd) {
  std::lock_guard<std::mutex> lock(mutex_);
  return fds_.erase(fd) == 1 ? 0 : -EBADF;
}

long FakeKvm::ioctlImpl(int fd, unsigned long request, uintptr_t arg) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto it = fds_.find(fd);
  if (it == fds_.end()) {
    return -EBADF;
  }
  std::string target = it->second;
  calls_.push_back({target, request});
  if (auto f = failures_.find({target, request}); f != failures_.end()) {
    return -f->second;
  }
  if (target == "system") {
    switch (request) {
      case KVM_GET_API_VERSION:
        return api_version_;
      case KVM_CHECK_EXTENSION:
        return extensions_.count(arg) != 0 ? extensions_.at(arg) : 1;
      case KVM_GET_VCPU_MMAP_SIZE:
        return kRunSize;
      case KVM_CREATE_VM: {
        int vm = next_fd_++;
        fds_[vm] = "vm";
        return vm;
      }
      case KVM_GET_SUPPORTED_CPUID: {
        auto* c = reinterpret_cast<kvm_cpuid2*>(arg);
        kvm_cpuid_entry2 entries[4] = {};
        entries[0].function = 0;
        entries[0].eax = 0xB;
        entries[1].function = 1;
        entries[1].ebx = 0xFFFFFFFF;  // the VMM must replace the APIC ID and count fields
        entries[1].ecx = (1u << 13) | (1u << 15);  // CX16 (emulator_safe_cpuid hides it), PDCM
        entries[2].function = 0xB;
        entries[2].index = 0;
        entries[3].function = 0xB;
        entries[3].index = 1;
        if (c->nent < 4) {
          return -E2BIG;
        }
        c->nent = 4;
        std::memcpy(c + 1, entries, sizeof(entries));
        return 0;
      }
      default:
        return -EINVAL;
    }
  }
  if (target == "vm") {
    switch (request) {
      case KVM_SET_USER_MEMORY_REGION:
        regions_.push_back(*reinterpret_cast<kvm_userspace_memory_region*>(arg));
        return 0;
      case KVM_CREATE_VCPU: {
        int vcpu = next_fd_++;
        fds_[vcpu] = "vcpu" + std::to_string(arg);
        return vcpu;
      }
      case KVM_SET_TSS_ADDR:
      case KVM_SET_IDENTITY_MAP_ADDR:
      case KVM_CREATE_IRQCHIP:
      case KVM_CREATE_PIT2:
      case KVM_IRQ_LINE:
        return 0;
      default:
        return -EINVAL;
    }
  }
  return vcpuIoctl(static_cast<unsigned>(std::stoul(target.substr(4))), request, arg, lock);
}

long FakeKvm::vcpuIoctl(unsigned vcpu, unsigned long request, uintptr_t arg,
                        std::unique_lock<std::mutex>& lock) {
  switch (request) {
    case KVM_SET_CPUID2: {
      auto* c = reinterpret_cast<kvm_cpuid2*>(arg);
      auto* entries = reinterpret_cast<kvm_cpuid_entry2*>(c + 1);
      cpuid_[vcpu].assign(entries, entries + c->nent);
      return 0;
    }
    case KVM_SET_MSRS:
      return reinterpret_cast<kvm_msrs*>(arg)->nmsrs;
    case KVM_GET_LAPIC:
      std::memset(reinterpret_cast<void*>(arg), 0, sizeof(kvm_lapic_state));
      return 0;
    case KVM_GET_SREGS: {
      auto* sregs = reinterpret_cast<kvm_sregs*>(arg);
      std::memset(sregs, 0, sizeof(*sregs));
      sregs->tr.selector = 0x1234;
      sregs->tr.type = 11;
      sregs->tr.present = 1;
      sregs->ldt.selector = 0x5678;
      sregs->ldt.type = 2;
      sregs->ldt.present = 1;
      return 0;
    }
    case KVM_SET_SREGS:
      sregs_set_[vcpu] = *reinterpret_cast<kvm_sregs*>(arg);
      return 0;
    case KVM_SET_REGS:
      regs_set_[vcpu] = *reinterpret_cast<kvm_regs*>(arg);
      return 0;
    case KVM_SET_LAPIC:
    case KVM_SET_FPU:
    case KVM_SET_XCRS:
      return 0;
    case KVM_SET_MP_STATE:
      mp_set_[vcpu].push_back(*reinterpret_cast<kvm_mp_state*>(arg));
      return 0;
    case KVM_GET_MP_STATE: {
      auto it = mp_.find(vcpu);
      reinterpret_cast<kvm_mp_state*>(arg)->mp_state =
          it == mp_.end() ? kMpStateRunnable : it->second.first;
      return 0;
    }
    case KVM_GET_REGS: {
      auto* regs = reinterpret_cast<kvm_regs*>(arg);
      std::memset(regs, 0, sizeof(*regs));
      auto it = mp_.find(vcpu);
      regs->rflags = it == mp_.end() ? 0x202 : it->second.second;
      regs->rip = 0x100000 + vcpu;
      return 0;
    }
    case KVM_RUN: {
      kvm_run* run = runs_[vcpu];
      if (run == nullptr) {
        return -EINVAL;
      }
      std::atomic_ref<uint8_t> immediate_exit(run->immediate_exit);
      if (immediate_exit.load()) {
        return -EINTR;
      }
      auto& steps = steps_[vcpu];
      if (!steps.empty()) {
        RunStep step = std::move(steps.front());
        steps.pop_front();
        lock.unlock();
        Run r{run};
        return step(r);
      }
      lock.unlock();
      // Nothing scripted: behave like a halted vCPU until the VMM kicks it.
      while (!immediate_exit.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      return -EINTR;
    }
    default:
      return -EINVAL;
  }
}

void* FakeKvm::mmap(size_t length, int prot, int flags, int fd, off_t offset, int* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string target;
  if (fd >= 0) {
    auto it = fds_.find(fd);
    if (it == fds_.end() || it->second.rfind("vcpu", 0) != 0) {
      *error = EBADF;
      return nullptr;
    }
    target = it->second;
    flags = MAP_PRIVATE | MAP_ANONYMOUS;
    fd = -1;
    offset = 0;
  }
  void* p = ::mmap(nullptr, length, prot, flags, fd, offset);
  if (p == MAP_FAILED) {
    *error = errno;
    return nullptr;
  }
  maps_[p] = length;
  if (target.empty()) {
    if (ram_ == nullptr) {
      ram_ = p;
    }
  } else {
    runs_[static_cast<unsigned>(std::stoul(target.substr(4)))] = static_cast<kvm_run*>(p);
  }
  return p;
}

int FakeKvm::munmap(void* addr, size_t length) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = maps_.find(addr);
  if (it == maps_.end() || it->second != length) {
    return -EINVAL;
  }
  maps_.erase(it);
  ::munmap(addr, length);
  return 0;
}

}  // namespace igvmkit::vmm::testing
