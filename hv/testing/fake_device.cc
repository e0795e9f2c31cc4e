#include "hv/testing/fake_device.h"

#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "hv/kvm_abi.h"
#include "hv/mshv_abi.h"
#include "hv/testing/internal/kernel_ioctls.h"

namespace igvmkit::hv::testing {

using namespace detail;  // NOLINT
using namespace kvm;     // NOLINT
using namespace mshv;    // NOLINT

namespace internal {
void sizeMismatch(const std::string& name, const char* what, size_t got, size_t want) {
  ADD_FAILURE() << name << ": the recorded " << what << " is " << got
                << " bytes, the test reads it as " << want;
}
}  // namespace internal

FakeDevice::FakeDevice() = default;

FakeDevice::~FakeDevice() {
  for (auto& [addr, len] : maps_) {
    ::munmap(addr, len);
  }
}

int FakeDevice::newFd(FdInfo info) {
  int fd = next_fd_++;
  fds_[fd] = info;
  return fd;
}

int FakeDevice::open(const std::string& path, int flags) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  FakeCall call;
  call.kind = FakeCall::Kind::kOpen;
  call.name = "open " + path;
  call.value = static_cast<unsigned long>(flags);
  if (devices_.count(path) == 0) {
    call.result = -ENOENT;
  } else {
    FdKind kind = path == "/dev/kvm"   ? FdKind::kKvm
                  : path == "/dev/sev" ? FdKind::kSev
                                       : FdKind::kMshv;
    call.result = newFd({kind});
  }
  calls_.push_back(call);
  return static_cast<int>(call.result);
}

int FakeDevice::close(int fd) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  FakeCall call;
  call.kind = FakeCall::Kind::kClose;
  call.name = "close";
  call.fd = fd;
  kvm_runs_.erase(fd);
  if (fds_.erase(fd) == 0) {
    violations_.push_back("close of unknown fd " + std::to_string(fd));
    call.result = -EBADF;
  }
  calls_.push_back(call);
  return static_cast<int>(call.result);
}

void* FakeDevice::mmap(size_t length, int prot, int flags, int fd, off_t offset, int* err) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  FakeCall call;
  call.kind = FakeCall::Kind::kMmap;
  call.name = "mmap";
  call.fd = fd;
  call.value = length;
  (void)offset;
  void* p =
      ::mmap(nullptr, length, prot, MAP_PRIVATE | MAP_ANONYMOUS | (flags & MAP_NORESERVE), -1, 0);
  if (p == MAP_FAILED) {
    *err = errno;
    call.result = -errno;
    calls_.push_back(call);
    return nullptr;
  }
  maps_[p] = length;
  if (auto f = fds_.find(fd); f != fds_.end() && f->second.kind == FdKind::kVcpu) {
    kvm_runs_[fd] = static_cast<kvm_run*>(p);
  }
  calls_.push_back(call);
  return p;
}

int FakeDevice::munmap(void* addr, size_t length) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  FakeCall call;
  call.kind = FakeCall::Kind::kMunmap;
  call.name = "munmap";
  call.value = length;
  auto it = maps_.find(addr);
  if (it == maps_.end() || it->second != length) {
    violations_.push_back("munmap of a range mmap did not return");
    call.result = -EINVAL;
  } else {
    ::munmap(addr, length);
    maps_.erase(it);
  }
  calls_.push_back(call);
  return static_cast<int>(call.result);
}

int FakeDevice::eventfd(unsigned int initval, int flags) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  FakeCall call;
  call.kind = FakeCall::Kind::kEventfd;
  call.name = "eventfd";
  call.value = initval;
  (void)flags;
  call.result = newFd({FdKind::kEventfd});
  calls_.push_back(call);
  return static_cast<int>(call.result);
}

void FakeDevice::script(const std::string& name, Handler handler) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  scripts_[name] = std::move(handler);
}
void FakeDevice::failOnce(const std::string& name, int err) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  fail_once_[name] = err;
}
void FakeDevice::removeDevice(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  devices_.erase(path);
}

long FakeDevice::KvmRun::ioOut(uint16_t port, uint8_t value) {
  // The data goes where KVM puts it: the PIO page right after kvm_run (KVM_PIO_PAGE_OFFSET 1).
  constexpr uint32_t kPioPage = 0x1000;
  run->exit_reason = kExitIo;
  run->io.direction = kExitIoOut;
  run->io.size = 1;
  run->io.port = port;
  run->io.count = 1;
  run->io.data_offset = kPioPage;
  reinterpret_cast<uint8_t*>(run)[kPioPage] = value;
  return 0;
}

long FakeDevice::KvmRun::exitReason(uint32_t reason) {
  run->exit_reason = reason;
  return 0;
}

void FakeDevice::queueKvmRun(unsigned vcpu, KvmRunStep step) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  kvm_run_steps_[vcpu].push_back(std::move(step));
}

void FakeDevice::setMpState(unsigned vcpu, uint32_t state) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  mp_states_[vcpu] = state;
}

void FakeDevice::setVcpuRegisters(unsigned vcpu, const kvm_regs& regs) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  vcpu_regs_[vcpu] = regs;
}

std::byte* FakeDevice::guestMemory(uint64_t gpa) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  for (auto it = host_slots_.rbegin(); it != host_slots_.rend(); ++it) {
    const auto& [base, size, host] = *it;
    if (gpa >= base && gpa - base < size) {
      return reinterpret_cast<std::byte*>(host + (gpa - base));
    }
  }
  return nullptr;
}

bool FakeDevice::allReleased() const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  return fds_.empty() && maps_.empty();
}

void FakeDevice::queueRunVpMessage(uint32_t vp_index, ByteVector message) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  message.resize(sizeof(hv_message));
  run_vp_messages_[vp_index].push_back(std::move(message));
}

std::optional<uint64_t> FakeDevice::vpRegister(int partition_fd, uint32_t vp_index,
                                               uint32_t name) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  auto vp = vp_regs_.find({partition_fd, vp_index});
  if (vp == vp_regs_.end()) {
    return std::nullopt;
  }
  auto reg = vp->second.find(name);
  if (reg == vp->second.end()) {
    return std::nullopt;
  }
  return load<uint64_t>(reg->second.data());
}

std::vector<std::string> FakeDevice::ioctlNames() const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  std::vector<std::string> out;
  for (const FakeCall& c : calls_) {
    if (c.kind == FakeCall::Kind::kIoctl) {
      out.push_back(c.name);
    }
  }
  return out;
}

std::vector<const FakeCall*> FakeDevice::find(std::string_view name) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  std::vector<const FakeCall*> out;
  for (const FakeCall& c : calls_) {
    if (c.name == name) {
      out.push_back(&c);
    }
  }
  return out;
}

std::string FakeDevice::decodeName(int fd, unsigned long request, void* arg) const {
  const std::string* it = requestName(request);
  if (it == nullptr) {
    return "ioctl(" + hex(request) + ")";
  }
  if (request == KVM_MEMORY_ENCRYPT_OP && arg != nullptr) {
    auto f = fds_.find(fd);
    unsigned long vm_type = 0;
    if (f != fds_.end()) {
      int vm = f->second.kind == FdKind::kVcpu ? f->second.parent : fd;
      if (auto v = fds_.find(vm); v != fds_.end()) {
        vm_type = v->second.type;
      }
    }
    uint32_t id = load<uint32_t>(arg);
    return vm_type == kVmTdx ? tdxName(id) : sevName(id);
  }
  if (request == MSHV_ROOT_HVCALL && arg != nullptr) {
    return "MSHV_ROOT_HVCALL(" + hvcallName(load<mshv_root_hvcall>(arg).code) + ")";
  }
  return *it;
}

bool FakeDevice::isPrivate(const VmState& vm, uint64_t gpa, uint64_t size) const {
  for (uint64_t page = gpa; page < gpa + size; page += 0x1000) {
    bool priv = false;
    for (const auto& [a, s, p] : vm.attributes) {
      if (page >= a && page - a < s) {
        priv = p;
      }
    }
    if (!priv) {
      return false;
    }
    bool in_gmem = false;
    for (const auto& [a, s, g] : vm.slots) {
      if (page >= a && page - a < s && g >= 0) {
        in_gmem = true;
      }
    }
    if (!in_gmem) {
      return false;
    }
  }
  return true;
}

long FakeDevice::ioctl(int fd, unsigned long request, void* arg) {
  long rc;
  kvm_run* run = nullptr;
  {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    rc = ioctlLocked(fd, request, arg);
    if (auto it = kvm_runs_.find(fd); request == KVM_RUN && it != kvm_runs_.end()) {
      run = it->second;
    }
  }
  if (run != nullptr && rc == -EINTR) {
    // Nothing scripted: the vCPU "halts" until the VMM kicks it, outside the lock so that the
    // other vCPUs and the supervisor go on.
    std::atomic_ref<uint8_t> immediate_exit(run->immediate_exit);
    while (immediate_exit.load() == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  if (request == MSHV_RUN_VP && rc == -EINTR) {
    // Nothing scripted: the VP "runs" a moment, then a signal interrupts it. Outside the lock, so
    // other VPs and the supervisor go on.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return rc;
}

int FakeDevice::vcpuOf(int fd) const {
  auto it = fds_.find(fd);
  return it != fds_.end() && it->second.kind == FdKind::kVcpu ? static_cast<int>(it->second.type)
                                                             : -1;
}

long FakeDevice::ioctlLocked(int fd, unsigned long request, void* arg) {
  FakeCall call;
  call.fd = fd;
  call.vcpu = vcpuOf(fd);
  call.request = request;
  call.name = decodeName(fd, request, arg);
  std::vector<std::string> problems;
  record(call, arg, problems);
  if (!problems.empty()) {
    violations_.insert(violations_.end(), problems.begin(), problems.end());
    call.result = -EINVAL;
  } else {
    call.result = dispatch(call, arg);
  }
  calls_.push_back(call);
  for (const Observer& o : observers_) {
    o(calls_.back(), arg);
  }
  return call.result;
}

void FakeDevice::record(FakeCall& call, void* arg, std::vector<std::string>& problems) {
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) {
      problems.push_back(call.name + ": " + what);
    }
  };
  const KernelIoctl* known = kernelIoctl(call.request);
  if (known == nullptr) {
    need(false, "not an ioctl of the kernel's table (kernel_abi_facts.h)");
    return;
  }
  const KernelIoctl& kernel = *known;
  const size_t claimed = iocSize(call.request);
  // KVM_MEMORY_ENCRYPT_OP is declared with an unsigned long; its structure is checked below.
  const size_t want = kernel.arg != nullptr ? kernel.arg->value : iocSize(kernel.request.value);
  need(claimed == want, sizeProblem(("the argument (_IOC_SIZE of " + hex(call.request) + ")").c_str(),
                                    claimed, kernel.arg != nullptr ? kernel.arg_name : "(value)",
                                    want));
  need(claimed != want || call.request == kernel.request.value,
       "request " + hex(call.request) + " is not the kernel's " + hex(kernel.request.value));
  need(arg != nullptr || want == 0, "a null argument");  // _IO requests (KVM_RUN) take none
  if (!problems.empty()) {
    return;
  }
  const auto* bytes = static_cast<const std::byte*>(arg);
  size_t size = claimed;
  const unsigned long r = call.request;
  if (r == KVM_SET_MSRS) {
    size += load<uint32_t>(bytes + k::kvm_msrs::nmsrs.value) * k::kvm_msr_entry::struct_size.value;
  } else if (r == KVM_GET_SUPPORTED_CPUID || r == KVM_SET_CPUID2) {
    size +=
        load<uint32_t>(bytes + k::kvm_cpuid2::nent.value) * k::kvm_cpuid_entry2::struct_size.value;
  } else if (r == MSHV_IMPORT_ISOLATED_PAGES) {
    // guest_pfns is a __u64[].
    size += load<uint64_t>(bytes + k::mshv_import_isolated_pages::page_count.value) * 8;
  } else if (r == KVM_MEMORY_ENCRYPT_OP) {
    const bool tdx = call.name.rfind("KVM_TDX", 0) == 0;
    const size_t local = tdx ? sizeof(kvm_tdx_cmd) : sizeof(kvm_sev_cmd);
    const uint64_t kernel_size =
        tdx ? k::kvm_tdx_cmd::struct_size.value : k::kvm_sev_cmd::struct_size.value;
    need(local == kernel_size,
         sizeProblem("the command structure", local, tdx ? "kvm_tdx_cmd" : "kvm_sev_cmd",
                     kernel_size));
    size = std::min<size_t>(local, kernel_size);
  }
  call.arg = copyOf(arg, size);
  if (r == KVM_MEMORY_ENCRYPT_OP) {
    // What the kernel copies from the command's `data`: its structure for this command.
    const auto* data = reinterpret_cast<const std::byte*>(
        load<uint64_t>(bytes + k::kvm_sev_cmd::data.value));
    CommandPayload payload = commandPayload(call.name);
    if (payload.kernel != 0 && data != nullptr) {
      need(payload.local == payload.kernel,
           sizeProblem("the command data", payload.local, payload.name, payload.kernel));
      size_t n = std::min(payload.local, payload.kernel);
      if (call.name == "KVM_TDX_INIT_VM" || call.name == "KVM_TDX_CAPABILITIES") {
        const uint64_t cpuid = call.name == "KVM_TDX_INIT_VM"
                                   ? k::kvm_tdx_init_vm::cpuid.value
                                   : k::kvm_tdx_capabilities::cpuid.value;
        if (cpuid + 4 <= n) {
          n += load<uint32_t>(data + cpuid + k::kvm_cpuid2::nent.value) *
               k::kvm_cpuid_entry2::struct_size.value;
        }
      }
      call.payload = copyOf(data, n);
    }
  }
  if (r == MSHV_ROOT_HVCALL) {
    auto h = load<mshv_root_hvcall>(arg);
    const uint64_t register_value =
        k::hv_register_assoc::struct_size.value - k::hv_register_assoc::value.value;
    switch (h.code) {
      case kHvcallSetPartitionProperty:
        need(h.in_sz == k::hv_input_set_partition_property::struct_size.value,
             sizeProblem("in_sz", h.in_sz, "hv_input_set_partition_property",
                         k::hv_input_set_partition_property::struct_size.value));
        break;
      case kHvcallGetPartitionProperty:
        need(h.in_sz == k::hv_input_get_partition_property::struct_size.value,
             sizeProblem("in_sz", h.in_sz, "hv_input_get_partition_property",
                         k::hv_input_get_partition_property::struct_size.value));
        break;
      case kHvcallSetVpRegisters: {
        const uint64_t want_in = k::hv_input_set_vp_registers::struct_size.value +
                                 h.reps * k::hv_register_assoc::struct_size.value;
        need(h.in_sz == want_in,
             sizeProblem("in_sz", h.in_sz, "hv_input_set_vp_registers + reps hv_register_assoc",
                         want_in));
        break;
      }
      case kHvcallGetVpRegisters: {
        // hv_input_get_vp_registers has set's header (partition, vp, vtl, reserved) then u32
        // names; the output is reps hv_register_value (the value member of hv_register_assoc).
        const uint64_t want_in = k::hv_input_set_vp_registers::struct_size.value + h.reps * 4u;
        need(h.in_sz == want_in,
             sizeProblem("in_sz", h.in_sz, "hv_input_get_vp_registers + reps u32", want_in));
        need(h.out_sz == h.reps * register_value,
             sizeProblem("out_sz", h.out_sz, "hv_register_value[reps]", h.reps * register_value));
        break;
      }
      default:
        break;
    }
    if (h.in_ptr != 0 && h.in_sz <= 4096) {
      call.payload = copyOf(reinterpret_cast<const void*>(h.in_ptr), h.in_sz);
    }
  }
}

long FakeDevice::ioctl(int fd, unsigned long request, unsigned long value) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  FakeCall call;
  call.fd = fd;
  call.vcpu = vcpuOf(fd);
  call.request = request;
  call.value = value;
  call.name = decodeName(fd, request, nullptr);
  const KernelIoctl* known = kernelIoctl(request);
  if (known == nullptr || known->request.value != request) {
    violations_.push_back(call.name + ": not an ioctl of the kernel's table (kernel_abi_facts.h)");
    call.result = -EINVAL;
  } else if (iocSize(request) != 0) {
    violations_.push_back(call.name + ": takes a pointer, not a value");
    call.result = -EFAULT;
  } else {
    call.result = dispatch(call, nullptr);
  }
  calls_.push_back(call);
  for (const Observer& o : observers_) {
    o(calls_.back(), nullptr);
  }
  return call.result;
}

long FakeDevice::dispatch(FakeCall& call, void* arg) {
  std::vector<std::string> problems;
  validate(call, arg, problems);
  if (!problems.empty()) {
    violations_.insert(violations_.end(), problems.begin(), problems.end());
    return -EINVAL;
  }
  if (auto it = fail_once_.find(call.name); it != fail_once_.end()) {
    int err = it->second;
    fail_once_.erase(it);
    return -err;
  }
  if (auto it = scripts_.find(call.name); it != scripts_.end()) {
    if (std::optional<long> r = it->second(call, arg)) {
      return *r;
    }
  }
  return defaultAnswer(call, arg);
}

}  // namespace igvmkit::hv::testing
