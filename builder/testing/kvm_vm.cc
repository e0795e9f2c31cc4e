#include "builder/testing/kvm_vm.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace igvmkit::builder::testing {
namespace {

// GCC's C++ sizes `struct kvm_cpuid2` (zero-length array member) as 12 bytes, so the header's
// macros encode the wrong size; these are the kernel's numbers (loader-vmm.md §5.7).
constexpr unsigned long kKvmGetSupportedCpuid = 0xC008AE05;
constexpr unsigned long kKvmSetCpuid2 = 0x4008AE90;
constexpr uint64_t kTopPage = 0xFFFF'F000;

}  // namespace

std::unique_ptr<KvmVm> KvmVm::create(uint64_t ram_bytes, bool top_page, std::string* why) {
  auto fail = [&](const std::string& what) {
    *why = what + ": " + std::strerror(errno);
    return nullptr;
  };
  if (access("/dev/kvm", R_OK | W_OK) != 0) {
    *why = "no /dev/kvm";
    return nullptr;
  }
  std::unique_ptr<KvmVm> vm(new KvmVm());
  vm->kvm_ = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (vm->kvm_ < 0) {
    return fail("open /dev/kvm");
  }
  vm->vm_ = ioctl(vm->kvm_, KVM_CREATE_VM, 0);
  if (vm->vm_ < 0) {
    return fail("KVM_CREATE_VM");
  }
  if (ioctl(vm->vm_, KVM_SET_TSS_ADDR, 0xFFFB'D000ul) != 0) {
    return fail("KVM_SET_TSS_ADDR");
  }
  void* ram = mmap(nullptr, ram_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (ram == MAP_FAILED) {
    return fail("mmap ram");
  }
  vm->ram_ = static_cast<uint8_t*>(ram);
  vm->ram_bytes_ = ram_bytes;
  kvm_userspace_memory_region r0{0, 0, 0, ram_bytes, reinterpret_cast<uint64_t>(ram)};
  if (ioctl(vm->vm_, KVM_SET_USER_MEMORY_REGION, &r0) != 0) {
    return fail("KVM_SET_USER_MEMORY_REGION");
  }
  if (top_page) {
    void* top = mmap(nullptr, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (top == MAP_FAILED) {
      return fail("mmap top page");
    }
    vm->top_ = static_cast<uint8_t*>(top);
    kvm_userspace_memory_region r1{1, 0, kTopPage, 0x1000, reinterpret_cast<uint64_t>(top)};
    if (ioctl(vm->vm_, KVM_SET_USER_MEMORY_REGION, &r1) != 0) {
      return fail("KVM_SET_USER_MEMORY_REGION (top)");
    }
  }
  vm->vcpu_ = ioctl(vm->vm_, KVM_CREATE_VCPU, 0);
  if (vm->vcpu_ < 0) {
    return fail("KVM_CREATE_VCPU");
  }
  const int run_size = ioctl(vm->kvm_, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size <= 0) {
    return fail("KVM_GET_VCPU_MMAP_SIZE");
  }
  void* run = mmap(nullptr, static_cast<size_t>(run_size), PROT_READ | PROT_WRITE, MAP_SHARED,
                   vm->vcpu_, 0);
  if (run == MAP_FAILED) {
    return fail("mmap kvm_run");
  }
  vm->run_ = static_cast<kvm_run*>(run);
  vm->run_size_ = static_cast<size_t>(run_size);
  // Long mode, NX and SYSCALL must be in the guest's CPUID for the EFER writes to be accepted.
  constexpr uint32_t kMaxEntries = 256;
  std::vector<uint64_t> buf((8 + kMaxEntries * sizeof(kvm_cpuid_entry2)) / 8 + 1);
  std::memcpy(buf.data(), &kMaxEntries, 4);
  if (ioctl(vm->kvm_, kKvmGetSupportedCpuid, buf.data()) != 0) {
    return fail("KVM_GET_SUPPORTED_CPUID");
  }
  if (ioctl(vm->vcpu_, kKvmSetCpuid2, buf.data()) != 0) {
    return fail("KVM_SET_CPUID2");
  }
  return vm;
}

KvmVm::~KvmVm() {
  if (run_ != nullptr) {
    munmap(run_, run_size_);
  }
  if (top_ != nullptr) {
    munmap(top_, 0x1000);
  }
  if (ram_ != nullptr) {
    munmap(ram_, ram_bytes_);
  }
  for (int fd : {vcpu_, vm_, kvm_}) {
    if (fd >= 0) {
      close(fd);
    }
  }
}

bool KvmVm::write(uint64_t gpa, Bytes data) {
  if (gpa <= ram_bytes_ && data.size() <= ram_bytes_ - gpa) {
    std::memcpy(ram_ + gpa, data.data(), data.size());
    return true;
  }
  if (top_ != nullptr && gpa >= kTopPage && data.size() <= 0x1'0000'0000 - gpa) {
    std::memcpy(top_ + (gpa - kTopPage), data.data(), data.size());
    return true;
  }
  return false;
}

bool KvmVm::read(uint64_t gpa, void* out, uint64_t n) const {
  if (gpa > ram_bytes_ || n > ram_bytes_ - gpa) {
    return false;
  }
  std::memcpy(out, ram_ + gpa, n);
  return true;
}

kvm_regs KvmVm::regs() const {
  kvm_regs r{};
  ioctl(vcpu_, KVM_GET_REGS, &r);
  return r;
}

kvm_sregs KvmVm::sregs() const {
  kvm_sregs s{};
  ioctl(vcpu_, KVM_GET_SREGS, &s);
  return s;
}

void KvmVm::setRegs(const kvm_regs& r) { ioctl(vcpu_, KVM_SET_REGS, &r); }
void KvmVm::setSregs(const kvm_sregs& s) { ioctl(vcpu_, KVM_SET_SREGS, &s); }

KvmVm::Exit KvmVm::run() {
  Exit e;
  if (ioctl(vcpu_, KVM_RUN, 0) != 0) {
    e.reason = ~0u;
    return e;
  }
  e.reason = run_->exit_reason;
  if (e.reason == KVM_EXIT_IO) {
    e.port = run_->io.port;
    e.data = reinterpret_cast<uint8_t*>(run_) + run_->io.data_offset;
    e.value = *e.data;
    e.in = run_->io.direction == KVM_EXIT_IO_IN;
  }
  return e;
}

KvmVm::Exit KvmVm::runFor(int ms) {
  struct sigaction action {};
  action.sa_handler = [](int) {};  // only to interrupt KVM_RUN (no SA_RESTART)
  struct sigaction old {};
  sigaction(SIGALRM, &action, &old);
  itimerval timer{};
  timer.it_value.tv_sec = ms / 1000;
  timer.it_value.tv_usec = (ms % 1000) * 1000;
  setitimer(ITIMER_REAL, &timer, nullptr);
  Exit e;
  if (ioctl(vcpu_, KVM_RUN, 0) != 0) {
    e.reason = errno == EINTR ? KVM_EXIT_INTR : ~0u;
  } else {
    e.reason = run_->exit_reason;
  }
  itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  sigaction(SIGALRM, &old, nullptr);
  return e;
}

}  // namespace igvmkit::builder::testing
