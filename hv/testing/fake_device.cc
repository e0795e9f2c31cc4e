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
#include "tests/oracles/kernel_abi_facts.h"

namespace igvmkit::hv::testing {
namespace {

using namespace kvm;   // NOLINT
using namespace mshv;  // NOLINT


template <class T>
T load(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

bool zero(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (b[i] != 0) {
      return false;
    }
  }
  return true;
}

ByteVector copyOf(const void* p, size_t n) {
  const auto* b = static_cast<const std::byte*>(p);
  return ByteVector(b, b + n);
}

// Requests without their size field, so that a request with the wrong _IOC_SIZE is still named
// (and then refused for its size).
constexpr unsigned long kIocSizeField = 0x3FFFul << 16;
constexpr unsigned long withoutSize(unsigned long request) { return request & ~kIocSizeField; }

// The local name of a request, found by its direction, type and number.
const std::string* requestName(unsigned long request);

const std::map<unsigned long, std::string>& requestNames() {
  static const std::map<unsigned long, std::string> names = {
      {KVM_GET_API_VERSION, "KVM_GET_API_VERSION"},
      {KVM_CREATE_VM, "KVM_CREATE_VM"},
      {KVM_CHECK_EXTENSION, "KVM_CHECK_EXTENSION"},
      {KVM_GET_SUPPORTED_CPUID, "KVM_GET_SUPPORTED_CPUID"},
      {KVM_CREATE_VCPU, "KVM_CREATE_VCPU"},
      {KVM_SET_USER_MEMORY_REGION, "KVM_SET_USER_MEMORY_REGION"},
      {KVM_SET_TSS_ADDR, "KVM_SET_TSS_ADDR"},
      {KVM_SET_USER_MEMORY_REGION2, "KVM_SET_USER_MEMORY_REGION2"},
      {KVM_CREATE_IRQCHIP, "KVM_CREATE_IRQCHIP"},
      {KVM_SET_REGS, "KVM_SET_REGS"},
      {KVM_GET_SREGS, "KVM_GET_SREGS"},
      {KVM_SET_SREGS, "KVM_SET_SREGS"},
      {KVM_SET_MSRS, "KVM_SET_MSRS"},
      {KVM_SET_FPU, "KVM_SET_FPU"},
      {KVM_SET_CPUID2, "KVM_SET_CPUID2"},
      {KVM_SET_DEBUGREGS, "KVM_SET_DEBUGREGS"},
      {KVM_ENABLE_CAP, "KVM_ENABLE_CAP"},
      {KVM_SET_XCRS, "KVM_SET_XCRS"},
      {KVM_MEMORY_ENCRYPT_OP, "KVM_MEMORY_ENCRYPT_OP"},
      {KVM_SET_MEMORY_ATTRIBUTES, "KVM_SET_MEMORY_ATTRIBUTES"},
      {KVM_CREATE_GUEST_MEMFD, "KVM_CREATE_GUEST_MEMFD"},
      {KVM_GET_VCPU_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE"},
      {KVM_SET_IDENTITY_MAP_ADDR, "KVM_SET_IDENTITY_MAP_ADDR"},
      {KVM_IRQ_LINE, "KVM_IRQ_LINE"},
      {KVM_CREATE_PIT2, "KVM_CREATE_PIT2"},
      {KVM_RUN, "KVM_RUN"},
      {KVM_GET_REGS, "KVM_GET_REGS"},
      {KVM_GET_LAPIC, "KVM_GET_LAPIC"},
      {KVM_SET_LAPIC, "KVM_SET_LAPIC"},
      {KVM_GET_MP_STATE, "KVM_GET_MP_STATE"},
      {KVM_SET_MP_STATE, "KVM_SET_MP_STATE"},
      {MSHV_CREATE_PARTITION, "MSHV_CREATE_PARTITION"},
      {MSHV_INITIALIZE_PARTITION, "MSHV_INITIALIZE_PARTITION"},
      {MSHV_CREATE_VP, "MSHV_CREATE_VP"},
      {MSHV_SET_GUEST_MEMORY, "MSHV_SET_GUEST_MEMORY"},
      {MSHV_ROOT_HVCALL, "MSHV_ROOT_HVCALL"},
      {MSHV_IMPORT_ISOLATED_PAGES, "MSHV_IMPORT_ISOLATED_PAGES"},
      {MSHV_GET_PARTITION_PROPERTY, "MSHV_GET_PARTITION_PROPERTY"},
      {MSHV_COMPLETE_ISOLATED_IMPORT, "MSHV_COMPLETE_ISOLATED_IMPORT"},
      {MSHV_RUN_VP, "MSHV_RUN_VP"},
  };
  return names;
}

const std::string* requestName(unsigned long request) {
  static const std::map<unsigned long, std::string> by_number = [] {
    std::map<unsigned long, std::string> m;
    for (const auto& [r, name] : requestNames()) {
      m.emplace(withoutSize(r), name);
    }
    return m;
  }();
  auto it = by_number.find(withoutSize(request));
  return it == by_number.end() ? nullptr : &it->second;
}

std::string sevName(uint32_t id) {
  switch (id) {
    case kSevInit2:
      return "KVM_SEV_INIT2";
    case kSevSnpLaunchStart:
      return "KVM_SEV_SNP_LAUNCH_START";
    case kSevSnpLaunchUpdate:
      return "KVM_SEV_SNP_LAUNCH_UPDATE";
    case kSevSnpLaunchFinish:
      return "KVM_SEV_SNP_LAUNCH_FINISH";
    default:
      return "KVM_SEV_CMD(" + std::to_string(id) + ")";
  }
}
std::string tdxName(uint32_t id) {
  switch (id) {
    case kTdxCapabilities:
      return "KVM_TDX_CAPABILITIES";
    case kTdxInitVm:
      return "KVM_TDX_INIT_VM";
    case kTdxInitVcpu:
      return "KVM_TDX_INIT_VCPU";
    case kTdxInitMemRegion:
      return "KVM_TDX_INIT_MEM_REGION";
    case kTdxFinalizeVm:
      return "KVM_TDX_FINALIZE_VM";
    default:
      return "KVM_TDX_CMD(" + std::to_string(id) + ")";
  }
}
std::string hvcallName(uint16_t code) {
  switch (code) {
    case kHvcallGetPartitionProperty:
      return "GET_PARTITION_PROPERTY";
    case kHvcallSetPartitionProperty:
      return "SET_PARTITION_PROPERTY";
    case kHvcallSetVpRegisters:
      return "SET_VP_REGISTERS";
    case kHvcallGetVpRegisters:
      return "GET_VP_REGISTERS";
    default:
      return hex(code);
  }
}

// The hypercalls upstream's MSHV_ROOT_HVCALL allow-list passes (loader-vmm.md §2.1) that we use.
bool allowedHvcall(uint16_t code) {
  return code == kHvcallGetPartitionProperty || code == kHvcallSetPartitionProperty ||
         code == kHvcallSetVpRegisters || code == kHvcallGetVpRegisters;
}

namespace k = ::igvmkit::oracles::kernel;

// What the kernel defines for each ioctl the fake answers, from the kernels' own headers
// (tests/oracles/kernel_abi_facts.h), never from hv/'s: its number, and the size of the structure
// its argument points to (for a variable-length argument, the fixed header; the entries follow).
// A caller's request must be the kernel's number, and the size _IOC_SIZE encodes the kernel's size.
struct KernelIoctl {
  const k::Fact& request;
  const k::Fact* arg;  // nullptr: the argument is a value (or, for ENCRYPT_OP, per command below)
  const char* arg_name;
};
const std::map<std::string, KernelIoctl>& kernelIoctls() {
  static const std::map<std::string, KernelIoctl> table = {
      {"KVM_GET_API_VERSION", {k::KVM_GET_API_VERSION, nullptr, ""}},
      {"KVM_CREATE_VM", {k::KVM_CREATE_VM, nullptr, ""}},
      {"KVM_CHECK_EXTENSION", {k::KVM_CHECK_EXTENSION, nullptr, ""}},
      {"KVM_GET_SUPPORTED_CPUID",
       {k::KVM_GET_SUPPORTED_CPUID, &k::kvm_cpuid2::struct_size, "kvm_cpuid2"}},
      {"KVM_CREATE_VCPU", {k::KVM_CREATE_VCPU, nullptr, ""}},
      {"KVM_SET_USER_MEMORY_REGION",
       {k::KVM_SET_USER_MEMORY_REGION, &k::kvm_userspace_memory_region::struct_size,
        "kvm_userspace_memory_region"}},
      {"KVM_SET_TSS_ADDR", {k::KVM_SET_TSS_ADDR, nullptr, ""}},
      {"KVM_SET_USER_MEMORY_REGION2",
       {k::KVM_SET_USER_MEMORY_REGION2, &k::kvm_userspace_memory_region2::struct_size,
        "kvm_userspace_memory_region2"}},
      {"KVM_CREATE_IRQCHIP", {k::KVM_CREATE_IRQCHIP, nullptr, ""}},
      {"KVM_SET_REGS", {k::KVM_SET_REGS, &k::kvm_regs::struct_size, "kvm_regs"}},
      {"KVM_GET_SREGS", {k::KVM_GET_SREGS, &k::kvm_sregs::struct_size, "kvm_sregs"}},
      {"KVM_SET_SREGS", {k::KVM_SET_SREGS, &k::kvm_sregs::struct_size, "kvm_sregs"}},
      {"KVM_SET_MSRS", {k::KVM_SET_MSRS, &k::kvm_msrs::struct_size, "kvm_msrs"}},
      {"KVM_SET_FPU", {k::KVM_SET_FPU, &k::kvm_fpu::struct_size, "kvm_fpu"}},
      {"KVM_SET_CPUID2", {k::KVM_SET_CPUID2, &k::kvm_cpuid2::struct_size, "kvm_cpuid2"}},
      {"KVM_SET_DEBUGREGS",
       {k::KVM_SET_DEBUGREGS, &k::kvm_debugregs::struct_size, "kvm_debugregs"}},
      {"KVM_ENABLE_CAP", {k::KVM_ENABLE_CAP, &k::kvm_enable_cap::struct_size, "kvm_enable_cap"}},
      {"KVM_SET_XCRS", {k::KVM_SET_XCRS, &k::kvm_xcrs::struct_size, "kvm_xcrs"}},
      {"KVM_MEMORY_ENCRYPT_OP", {k::KVM_MEMORY_ENCRYPT_OP, nullptr, ""}},
      {"KVM_SET_MEMORY_ATTRIBUTES",
       {k::KVM_SET_MEMORY_ATTRIBUTES, &k::kvm_memory_attributes::struct_size,
        "kvm_memory_attributes"}},
      {"KVM_CREATE_GUEST_MEMFD",
       {k::KVM_CREATE_GUEST_MEMFD, &k::kvm_create_guest_memfd::struct_size,
        "kvm_create_guest_memfd"}},
      {"KVM_GET_VCPU_MMAP_SIZE", {k::KVM_GET_VCPU_MMAP_SIZE, nullptr, ""}},
      // Its argument points to a __u64, the size _IOC_SIZE of the kernel's request encodes.
      {"KVM_SET_IDENTITY_MAP_ADDR", {k::KVM_SET_IDENTITY_MAP_ADDR, nullptr, ""}},
      {"KVM_IRQ_LINE", {k::KVM_IRQ_LINE, &k::kvm_irq_level::struct_size, "kvm_irq_level"}},
      {"KVM_CREATE_PIT2", {k::KVM_CREATE_PIT2, &k::kvm_pit_config::struct_size, "kvm_pit_config"}},
      {"KVM_RUN", {k::KVM_RUN, nullptr, ""}},
      {"KVM_GET_REGS", {k::KVM_GET_REGS, &k::kvm_regs::struct_size, "kvm_regs"}},
      {"KVM_GET_LAPIC", {k::KVM_GET_LAPIC, &k::kvm_lapic_state::struct_size, "kvm_lapic_state"}},
      {"KVM_SET_LAPIC", {k::KVM_SET_LAPIC, &k::kvm_lapic_state::struct_size, "kvm_lapic_state"}},
      {"KVM_GET_MP_STATE", {k::KVM_GET_MP_STATE, &k::kvm_mp_state::struct_size, "kvm_mp_state"}},
      {"KVM_SET_MP_STATE", {k::KVM_SET_MP_STATE, &k::kvm_mp_state::struct_size, "kvm_mp_state"}},
      {"MSHV_CREATE_PARTITION",
       {k::MSHV_CREATE_PARTITION, &k::mshv_create_partition::struct_size,
        "mshv_create_partition"}},
      {"MSHV_INITIALIZE_PARTITION", {k::MSHV_INITIALIZE_PARTITION, nullptr, ""}},
      {"MSHV_CREATE_VP", {k::MSHV_CREATE_VP, &k::mshv_create_vp::struct_size, "mshv_create_vp"}},
      {"MSHV_SET_GUEST_MEMORY",
       {k::MSHV_SET_GUEST_MEMORY, &k::mshv_user_mem_region::struct_size, "mshv_user_mem_region"}},
      {"MSHV_ROOT_HVCALL",
       {k::MSHV_ROOT_HVCALL, &k::mshv_root_hvcall::struct_size, "mshv_root_hvcall"}},
      {"MSHV_IMPORT_ISOLATED_PAGES",
       {k::MSHV_IMPORT_ISOLATED_PAGES, &k::mshv_import_isolated_pages::struct_size,
        "mshv_import_isolated_pages"}},
      {"MSHV_GET_PARTITION_PROPERTY",
       {k::MSHV_GET_PARTITION_PROPERTY, &k::mshv_partition_property::struct_size,
        "mshv_partition_property"}},
      {"MSHV_COMPLETE_ISOLATED_IMPORT",
       {k::MSHV_COMPLETE_ISOLATED_IMPORT, &k::mshv_complete_isolated_import::struct_size,
        "mshv_complete_isolated_import"}},
      {"MSHV_RUN_VP", {k::MSHV_RUN_VP, &k::mshv_run_vp::struct_size, "mshv_run_vp"}},
  };
  return table;
}

// The kernel's definition of the ioctl a request names (by its local name), or nullptr.
const KernelIoctl* kernelIoctl(unsigned long request) {
  const std::string* name = requestName(request);
  if (name == nullptr) {
    return nullptr;
  }
  auto it = kernelIoctls().find(*name);
  return it == kernelIoctls().end() ? nullptr : &it->second;
}

// The size of the structure a KVM_MEMORY_ENCRYPT_OP command's `data` points to, as the kernel
// defines it (0: `data` is not a structure), and the size of the local struct the backends pass.
struct CommandPayload {
  size_t kernel = 0, local = 0;
  const char* name = "";
};
CommandPayload commandPayload(const std::string& name) {
  if (name == "KVM_SEV_INIT2") {
    return {k::kvm_sev_init::struct_size.value, sizeof(kvm_sev_init), "kvm_sev_init"};
  }
  if (name == "KVM_SEV_SNP_LAUNCH_START") {
    return {k::kvm_sev_snp_launch_start::struct_size.value, sizeof(kvm_sev_snp_launch_start),
            "kvm_sev_snp_launch_start"};
  }
  if (name == "KVM_SEV_SNP_LAUNCH_UPDATE") {
    return {k::kvm_sev_snp_launch_update::struct_size.value, sizeof(kvm_sev_snp_launch_update),
            "kvm_sev_snp_launch_update"};
  }
  if (name == "KVM_SEV_SNP_LAUNCH_FINISH") {
    return {k::kvm_sev_snp_launch_finish::struct_size.value, sizeof(kvm_sev_snp_launch_finish),
            "kvm_sev_snp_launch_finish"};
  }
  if (name == "KVM_TDX_CAPABILITIES") {
    return {k::kvm_tdx_capabilities::struct_size.value, sizeof(kvm_tdx_capabilities),
            "kvm_tdx_capabilities"};
  }
  if (name == "KVM_TDX_INIT_VM") {
    return {k::kvm_tdx_init_vm::struct_size.value, sizeof(kvm_tdx_init_vm), "kvm_tdx_init_vm"};
  }
  if (name == "KVM_TDX_INIT_MEM_REGION") {
    return {k::kvm_tdx_init_mem_region::struct_size.value, sizeof(kvm_tdx_init_mem_region),
            "kvm_tdx_init_mem_region"};
  }
  return {};
}

std::string sizeProblem(const char* what, size_t got, const char* kernel_struct, uint64_t want) {
  return std::string(what) + " is " + std::to_string(got) + " bytes; the kernel's " +
         kernel_struct + " is " + std::to_string(want) + " (kernel_abi_facts.h)";
}

constexpr size_t iocSize(unsigned long request) { return (request >> 16) & 0x3FFF; }

}  // namespace

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

void FakeDevice::validate(FakeCall& call, void* arg, std::vector<std::string>& problems) {
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) {
      problems.push_back(call.name + ": " + what);
    }
  };
  auto fd_it = fds_.find(call.fd);
  if (fd_it == fds_.end()) {
    need(false, "unknown fd " + std::to_string(call.fd));
    return;
  }
  const FdInfo& fd = fd_it->second;
  auto on = [&](FdKind kind, const char* what) {
    need(fd.kind == kind, std::string("must be issued on ") + what);
  };
  const std::string& n = call.name;
  const unsigned long r = call.request;
  if (r == KVM_GET_API_VERSION || r == KVM_CREATE_VM || r == KVM_GET_SUPPORTED_CPUID ||
      r == KVM_GET_VCPU_MMAP_SIZE) {
    on(FdKind::kKvm, "/dev/kvm");
    if (r == KVM_CREATE_VM) {
      need(call.value == kVmDefault || call.value == kVmSnp || call.value == kVmTdx,
           "unknown vm type " + std::to_string(call.value));
    }
    if (r == KVM_GET_SUPPORTED_CPUID) {
      need(load<uint32_t>(arg) > 0 && load<uint32_t>(arg) <= 256, "nent must be 1..256");
    }
    return;
  }
  if (r == KVM_CHECK_EXTENSION) {
    need(fd.kind == FdKind::kKvm || fd.kind == FdKind::kVm, "must be issued on /dev/kvm or a vm");
    return;
  }
  if (r == KVM_CREATE_VCPU || r == KVM_SET_USER_MEMORY_REGION || r == KVM_SET_TSS_ADDR ||
      r == KVM_SET_USER_MEMORY_REGION2 || r == KVM_CREATE_IRQCHIP || r == KVM_ENABLE_CAP ||
      r == KVM_SET_MEMORY_ATTRIBUTES || r == KVM_CREATE_GUEST_MEMFD ||
      r == KVM_SET_IDENTITY_MAP_ADDR || r == KVM_CREATE_PIT2 || r == KVM_IRQ_LINE) {
    on(FdKind::kVm, "a vm fd");
  }
  if (r == KVM_SET_REGS || r == KVM_GET_SREGS || r == KVM_SET_SREGS || r == KVM_SET_MSRS ||
      r == KVM_SET_FPU || r == KVM_SET_CPUID2 || r == KVM_SET_DEBUGREGS || r == KVM_SET_XCRS ||
      r == KVM_RUN || r == KVM_GET_REGS || r == KVM_GET_LAPIC || r == KVM_SET_LAPIC ||
      r == KVM_GET_MP_STATE || r == KVM_SET_MP_STATE) {
    on(FdKind::kVcpu, "a vcpu fd");
  }
  if (r == KVM_CREATE_PIT2) {
    auto p = load<kvm_pit_config>(arg);
    need((p.flags & ~kPitSpeakerDummy) == 0 && zero(p.pad, sizeof(p.pad)),
         "unknown flags or nonzero pad");
  }
  if (r == KVM_SET_MP_STATE) {
    // KVM_MP_STATE_RUNNABLE .. KVM_MP_STATE_SUSPENDED (linux/kvm.h).
    need(load<kvm_mp_state>(arg).mp_state <= 9, "unknown mp_state");
  }
  if (r == KVM_SET_USER_MEMORY_REGION) {
    auto m = load<kvm_userspace_memory_region>(arg);
    need((m.flags & ~(kMemLogDirtyPages | kMemReadonly)) == 0, "unknown flags " + hex(m.flags));
    need(m.guest_phys_addr % 0x1000 == 0 && m.memory_size % 0x1000 == 0 &&
             m.userspace_addr % 0x1000 == 0,
         "addresses and size must be page aligned");
  }
  if (r == KVM_SET_USER_MEMORY_REGION2) {
    auto m = load<kvm_userspace_memory_region2>(arg);
    need((m.flags & ~(kMemLogDirtyPages | kMemReadonly | kMemGuestMemfd)) == 0,
         "unknown flags " + hex(m.flags));
    need(m.pad1 == 0 && zero(m.pad2, sizeof(m.pad2)), "padding must be zero");
    need(m.guest_phys_addr % 0x1000 == 0 && m.memory_size % 0x1000 == 0 &&
             m.userspace_addr % 0x1000 == 0 && m.guest_memfd_offset % 0x1000 == 0,
         "addresses, offset and size must be page aligned");
    if ((m.flags & kMemGuestMemfd) != 0) {
      auto g = fds_.find(static_cast<int>(m.guest_memfd));
      need(g != fds_.end() && g->second.kind == FdKind::kGuestMemfd && g->second.parent == call.fd,
           "guest_memfd " + std::to_string(m.guest_memfd) + " is not a guest_memfd of this vm");
      if (g != fds_.end()) {
        need(m.guest_memfd_offset + m.memory_size <= g->second.size,
             "slot runs past the guest_memfd");
      }
    } else {
      need(m.guest_memfd == 0 && m.guest_memfd_offset == 0,
           "guest_memfd fields set without the flag");
    }
  }
  if (r == KVM_CREATE_GUEST_MEMFD) {
    auto g = load<kvm_create_guest_memfd>(arg);
    need(zero(g.reserved, sizeof(g.reserved)), "reserved must be zero");
    need((g.flags & ~(kGuestMemfdFlagMmap | kGuestMemfdFlagInitShared)) == 0,
         "unknown flags " + hex(g.flags));
    need(g.size != 0 && g.size % 0x1000 == 0, "size must be a nonzero multiple of 4 KiB");
  }
  if (r == KVM_SET_MEMORY_ATTRIBUTES) {
    auto a = load<kvm_memory_attributes>(arg);
    need(a.flags == 0, "flags must be zero");
    need((a.attributes & ~kMemoryAttributePrivate) == 0, "unknown attributes " + hex(a.attributes));
    need(a.address % 0x1000 == 0 && a.size % 0x1000 == 0 && a.size != 0,
         "range must be whole pages");
    auto vm = fds_.find(call.fd);
    need(vm != fds_.end() && vm->second.type != kVmDefault,
         "memory attributes exist only for confidential vm types");
  }
  if (r == KVM_ENABLE_CAP) {
    auto c = load<kvm_enable_cap>(arg);
    need(c.flags == 0 && zero(c.pad, sizeof(c.pad)), "flags and pad must be zero");
  }
  if (r == KVM_CREATE_VCPU) {
    VmState& vm = vms_[call.fd];
    if (fd.type == kVmSnp) {
      need(vm.sev_initialized, "vcpus must be created after KVM_SEV_INIT2");
    }
    if (fd.type == kVmTdx) {
      need(vm.tdx_initialized, "vcpus must be created after KVM_TDX_INIT_VM");
    }
  }
  if (r == KVM_SET_SREGS) {
    auto s = load<kvm_sregs>(arg);
    for (const kvm_segment* seg : {&s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss, &s.tr, &s.ldt}) {
      need(seg->padding == 0, "segment padding must be zero");
      need(seg->type <= 0xF && seg->s <= 1 && seg->dpl <= 3 && seg->present <= 1 && seg->avl <= 1 &&
               seg->l <= 1 && seg->db <= 1 && seg->g <= 1 && seg->unusable <= 1,
           "segment fields out of range");
    }
    need(zero(s.gdt.padding, sizeof(s.gdt.padding)) && zero(s.idt.padding, sizeof(s.idt.padding)),
         "descriptor table padding must be zero");
  }
  if (r == KVM_SET_XCRS) {
    auto x = load<kvm_xcrs>(arg);
    need(x.nr_xcrs <= 16 && x.flags == 0 && zero(x.padding, sizeof(x.padding)),
         "nr_xcrs <= 16, flags and padding zero");
    for (uint32_t i = 0; i < std::min<uint32_t>(x.nr_xcrs, 16); ++i) {
      need(x.xcrs[i].reserved == 0, "xcr reserved must be zero");
    }
  }
  if (r == KVM_SET_DEBUGREGS) {
    auto d = load<kvm_debugregs>(arg);
    need(d.flags == 0 && zero(d.reserved, sizeof(d.reserved)), "flags and reserved must be zero");
  }
  if (r == KVM_SET_FPU) {
    auto f = load<kvm_fpu>(arg);
    need(f.pad1 == 0 && f.pad2 == 0, "padding must be zero");
  }
  if (r == KVM_SET_MSRS) {
    auto h = load<kvm_msrs>(arg);
    need(h.pad == 0 && h.nmsrs > 0, "nmsrs nonzero and pad zero");
    const auto* e = reinterpret_cast<const std::byte*>(arg) + sizeof(kvm_msrs);
    for (uint32_t i = 0; i < h.nmsrs; ++i) {
      need(load<kvm_msr_entry>(e + 16 * i).reserved == 0, "msr entry reserved must be zero");
    }
  }
  if (r == KVM_MEMORY_ENCRYPT_OP) {
    bool vcpu = fd.kind == FdKind::kVcpu;
    need(fd.kind == FdKind::kVm || vcpu, "must be issued on a vm or vcpu fd");
    int vm_fd = vcpu ? fd.parent : call.fd;
    unsigned long type = fds_.count(vm_fd) ? fds_[vm_fd].type : 0;
    VmState& vm = vms_[vm_fd];
    if (type == kVmSnp) {
      auto cmd = load<kvm_sev_cmd>(arg);
      need(!vcpu, "sev commands are vm ioctls");
      need(cmd.pad0 == 0, "pad0 must be zero");
      auto s = fds_.find(static_cast<int>(cmd.sev_fd));
      need(s != fds_.end() && s->second.kind == FdKind::kSev, "sev_fd must be an open /dev/sev");
      const void* data = reinterpret_cast<const void*>(cmd.data);
      need(data != nullptr, "data must point to the command's structure");
      if (data == nullptr) {
        return;
      }
      switch (cmd.id) {
        case kSevInit2: {
          auto i = load<kvm_sev_init>(data);
          need(i.flags == 0 && i.pad1 == 0 && zero(i.pad2, sizeof(i.pad2)),
               "flags and padding must be zero");
          need((i.vmsa_features & 1) == 0, "vmsa_features must not include snp_active");
          need(!vm.sev_initialized && vm.vcpus == 0, "INIT2 must come once, before any vcpu");
          break;
        }
        case kSevSnpLaunchStart: {
          auto l = load<kvm_sev_snp_launch_start>(data);
          need(l.flags == 0 && zero(l.pad0, sizeof(l.pad0)) && zero(l.pad1, sizeof(l.pad1)),
               "flags and padding must be zero");
          need((l.policy & (1ull << 17)) != 0, "policy bit 17 must be one");
          need(vm.sev_initialized && !vm.snp_started, "LAUNCH_START must follow INIT2, once");
          break;
        }
        case kSevSnpLaunchUpdate: {
          auto u = load<kvm_sev_snp_launch_update>(data);
          need(u.flags == 0 && u.pad0 == 0 && u.pad1 == 0 && zero(u.pad2, sizeof(u.pad2)),
               "flags and padding must be zero");
          need(u.type == kSnpPageNormal || u.type == kSnpPageZero || u.type == kSnpPageUnmeasured ||
                   u.type == kSnpPageSecrets || u.type == kSnpPageCpuid,
               "invalid page type " + std::to_string(u.type));
          need(u.uaddr % 0x1000 == 0 && u.len % 0x1000 == 0 && u.len != 0,
               "uaddr aligned, len a nonzero page multiple");
          need(vm.snp_started && !vm.snp_finished,
               "LAUNCH_UPDATE must come between LAUNCH_START and LAUNCH_FINISH");
          need(isPrivate(vm, u.gfn_start * 0x1000, u.len),
               "range " + hex(u.gfn_start * 0x1000) + " is not private guest_memfd memory");
          break;
        }
        case kSevSnpLaunchFinish: {
          auto f = load<kvm_sev_snp_launch_finish>(data);
          need(f.flags == 0 && zero(f.pad0, sizeof(f.pad0)) && zero(f.pad1, sizeof(f.pad1)),
               "flags and padding must be zero");
          need(f.id_block_en <= 1 && f.auth_key_en <= 1 && f.vcek_disabled <= 1,
               "booleans must be 0 or 1");
          need(f.auth_key_en == 0 || f.id_block_en == 1, "auth_key_en needs id_block_en");
          need(f.id_block_en == 0 || (f.id_block_uaddr != 0 && f.id_auth_uaddr != 0),
               "id block and auth addresses needed");
          need(vm.snp_started && !vm.snp_finished, "LAUNCH_FINISH must follow LAUNCH_START, once");
          break;
        }
        default:
          need(false, "unexpected sev command " + std::to_string(cmd.id));
      }
      return;
    }
    if (type == kVmTdx) {
      auto cmd = load<kvm_tdx_cmd>(arg);
      need(cmd.hw_error == 0, "hw_error must be zero on input");
      switch (cmd.id) {
        case kTdxCapabilities:
        case kTdxInitVm:
        case kTdxFinalizeVm:
          need(!vcpu, "a vm-scope tdx command on a vcpu fd");
          need(cmd.flags == 0, "flags must be zero");
          break;
        case kTdxInitVcpu:
        case kTdxInitMemRegion:
          need(vcpu, "a vcpu-scope tdx command on a vm fd");
          need((cmd.flags & ~(cmd.id == kTdxInitMemRegion ? kTdxMeasureMemoryRegion : 0u)) == 0,
               "unknown flags");
          break;
        default:
          need(false, "unexpected tdx command " + std::to_string(cmd.id));
      }
      if (cmd.id == kTdxInitVm) {
        const auto* i = reinterpret_cast<const kvm_tdx_init_vm*>(cmd.data);
        need(i != nullptr && zero(i->reserved, sizeof(i->reserved)) && i->cpuid.padding == 0,
             "reserved must be zero");
        need(!vm.tdx_initialized && vm.vcpus == 0, "INIT_VM must come once, before any vcpu");
      }
      if (cmd.id == kTdxInitMemRegion) {
        auto m = load<kvm_tdx_init_mem_region>(reinterpret_cast<const void*>(cmd.data));
        need(m.gpa % 0x1000 == 0 && m.source_addr % 0x1000 == 0 && m.nr_pages > 0,
             "aligned gpa and source, pages > 0");
        need(isPrivate(vm, m.gpa, m.nr_pages * 0x1000),
             "range " + hex(m.gpa) + " is not private guest_memfd memory");
        need(vm.tdx_initialized && !vm.tdx_finalized,
             "INIT_MEM_REGION must come between INIT_VM and FINALIZE_VM");
      }
      if (cmd.id == kTdxFinalizeVm) {
        need(cmd.data == 0, "data must be zero");
        need(!vm.tdx_finalized, "FINALIZE_VM once");
      }
      return;
    }
    need(false, "KVM_MEMORY_ENCRYPT_OP on a vm that is neither snp nor tdx");
    return;
  }
  // MSHV.
  if (r == MSHV_CREATE_PARTITION) {
    on(FdKind::kMshv, "/dev/mshv");
    auto p = load<mshv_create_partition>(arg);
    need((p.pt_flags & ~kKnownPtFlags) == 0, "unknown partition flags " + hex(p.pt_flags));
    need(p.pt_isolation == kIsolationNone || p.pt_isolation == kIsolationSnp, "unknown isolation");
  }
  if (r == MSHV_INITIALIZE_PARTITION || r == MSHV_CREATE_VP || r == MSHV_SET_GUEST_MEMORY ||
      r == MSHV_IMPORT_ISOLATED_PAGES || r == MSHV_GET_PARTITION_PROPERTY ||
      r == MSHV_COMPLETE_ISOLATED_IMPORT) {
    on(FdKind::kPartition, "a partition fd");
  }
  if (r == MSHV_RUN_VP) {
    on(FdKind::kVp, "a vp fd");
    need(arg != nullptr, "needs a 256-byte message buffer");
  }
  if (r == MSHV_ROOT_HVCALL) {
    need(fd.kind == FdKind::kPartition || fd.kind == FdKind::kVp,
         "must be issued on a partition or vp fd");
    auto h = load<mshv_root_hvcall>(arg);
    need(h.status == 0 && zero(h.rsvd, sizeof(h.rsvd)), "status and reserved must be zero");
    need(h.in_sz <= 4096 && h.out_sz <= 4096 && h.in_sz >= 8 && h.in_ptr != 0,
         "in_sz 8..4096 with input, out_sz <= 4096");
    need(allowedHvcall(h.code),
         "hypercall " + hex(h.code) + " is not on the pass-through allow-list");
    if (h.code == kHvcallSetVpRegisters && h.in_ptr != 0) {
      need(h.reps > 0, "reps must be nonzero");
      auto head = load<hv_input_set_vp_registers>(reinterpret_cast<const void*>(h.in_ptr));
      need(head.rsvd_z8 == 0 && head.rsvd_z16 == 0, "reserved must be zero");
      int partition = fd.kind == FdKind::kVp ? fd.parent : call.fd;
      need(head.vp_index < static_cast<uint32_t>(vms_[partition].vps),
           "vp_index " + std::to_string(head.vp_index) + " names no vp of this partition");
    }
    if (h.code == kHvcallGetVpRegisters && h.in_ptr != 0) {
      need(h.reps > 0 && h.out_ptr != 0, "reps nonzero, with an output buffer");
      auto head = load<hv_input_get_vp_registers>(reinterpret_cast<const void*>(h.in_ptr));
      need(head.rsvd_z8 == 0 && head.rsvd_z16 == 0, "reserved must be zero");
      int partition = fd.kind == FdKind::kVp ? fd.parent : call.fd;
      need(head.vp_index < static_cast<uint32_t>(vms_[partition].vps),
           "vp_index " + std::to_string(head.vp_index) + " names no vp of this partition");
    }
    if (h.code == kHvcallSetPartitionProperty) {
      need(h.reps == 0, "set property takes no reps");
    }
  }
  if (r == MSHV_SET_GUEST_MEMORY) {
    auto m = load<mshv_user_mem_region>(arg);
    need(zero(m.rsvd, sizeof(m.rsvd)), "rsvd must be zero");
    need((m.flags & ~(kMemWritable | kMemExecutable | kMemUnmap)) == 0, "unknown flags");
    need(m.size % 0x1000 == 0 && m.size != 0 && m.userspace_addr % 0x1000 == 0,
         "size and address page aligned");
  }
  if (r == MSHV_IMPORT_ISOLATED_PAGES) {
    auto h = load<mshv_import_isolated_pages>(arg);
    need(h.page_type <= kIsoPageCpuid, "unknown isolated page type " + std::to_string(h.page_type));
    need(zero(h.rsvd, sizeof(h.rsvd)) && h.page_count > 0, "rsvd zero and page_count > 0");
    need(fd.type == kIsolationSnp, "isolated imports need an snp partition");
  }
  if (r == MSHV_COMPLETE_ISOLATED_IMPORT) {
    const auto* d = static_cast<const hv_partition_complete_isolated_import_data*>(arg);
    need(d->psp_parameters.id_block_enabled <= 1 && d->psp_parameters.author_key_enabled <= 1,
         "booleans must be 0 or 1");
    need(fd.type == kIsolationSnp, "complete import needs an snp partition");
  }
  (void)n;
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

long FakeDevice::defaultAnswer(FakeCall& call, void* arg) {
  const unsigned long r = call.request;
  const FdInfo fd = fds_[call.fd];
  if (r == KVM_GET_API_VERSION) {
    return 12;
  }
  if (r == KVM_GET_VCPU_MMAP_SIZE) {
    return 3 * 0x1000;  // kvm_run, the PIO page, the coalesced MMIO ring (as on x86)
  }
  if (r == KVM_SET_USER_MEMORY_REGION) {
    auto m = load<kvm_userspace_memory_region>(arg);
    host_slots_.emplace_back(m.guest_phys_addr, m.memory_size, m.userspace_addr);
    return 0;
  }
  if (r == KVM_SET_REGS) {
    regs_set_[static_cast<unsigned>(fd.type)] = load<kvm_regs>(arg);
    return 0;
  }
  if (r == KVM_GET_REGS) {
    const unsigned vcpu = static_cast<unsigned>(fd.type);
    kvm_regs regs{};
    if (auto it = vcpu_regs_.find(vcpu); it != vcpu_regs_.end()) {
      regs = it->second;
    } else if (auto set = regs_set_.find(vcpu); set != regs_set_.end()) {
      regs = set->second;
    }
    std::memcpy(arg, &regs, sizeof(regs));
    return 0;
  }
  if (r == KVM_GET_MP_STATE) {
    auto it = mp_states_.find(static_cast<unsigned>(fd.type));
    static_cast<kvm_mp_state*>(arg)->mp_state =
        it == mp_states_.end() ? kMpStateRunnable : it->second;
    return 0;
  }
  if (r == KVM_RUN) {
    auto run = kvm_runs_.find(call.fd);
    if (run == kvm_runs_.end()) {
      return -EINVAL;  // the fake keeps no kvm_run the VMM has not mapped
    }
    auto& steps = kvm_run_steps_[static_cast<unsigned>(fd.type)];
    if (std::atomic_ref<uint8_t>(run->second->immediate_exit).load() != 0 || steps.empty()) {
      return -EINTR;  // ioctl() waits for the kick when nothing is scripted
    }
    KvmRunStep step = std::move(steps.front());
    steps.pop_front();
    KvmRun exit{run->second};
    return step(exit);
  }
  if (r == KVM_CHECK_EXTENSION) {
    return call.value == kCapVmTypes ? static_cast<long>(vm_types_) : 1;
  }
  if (r == KVM_CREATE_VM) {
    if ((vm_types_ & (1ull << call.value)) == 0) {
      return -EINVAL;
    }
    int vm = newFd({FdKind::kVm, -1, call.value});
    vms_[vm] = VmState{};
    return vm;
  }
  if (r == KVM_CREATE_VCPU) {
    vms_[call.fd].vcpus++;
    return newFd({FdKind::kVcpu, call.fd, call.value});
  }
  if (r == KVM_CREATE_GUEST_MEMFD) {
    return newFd({FdKind::kGuestMemfd, call.fd, 0, load<kvm_create_guest_memfd>(arg).size});
  }
  if (r == KVM_SET_USER_MEMORY_REGION2) {
    auto m = load<kvm_userspace_memory_region2>(arg);
    host_slots_.emplace_back(m.guest_phys_addr, m.memory_size, m.userspace_addr);
    vms_[call.fd].slots.emplace_back(
        m.guest_phys_addr, m.memory_size,
        (m.flags & kMemGuestMemfd) != 0 ? static_cast<int>(m.guest_memfd) : -1);
    return 0;
  }
  if (r == KVM_SET_MEMORY_ATTRIBUTES) {
    auto a = load<kvm_memory_attributes>(arg);
    vms_[call.fd].attributes.emplace_back(a.address, a.size, a.attributes != 0);
    return 0;
  }
  if (r == KVM_SET_MSRS) {
    return load<kvm_msrs>(arg).nmsrs;
  }
  if (r == KVM_GET_SUPPORTED_CPUID) {
    auto* c = static_cast<kvm_cpuid2*>(arg);
    auto* e = reinterpret_cast<kvm_cpuid_entry2*>(c + 1);
    e[0] = kvm_cpuid_entry2{0x0, 0, 0, 0xD, 0x756E6547, 0x6C65746E, 0x49656E69, {0, 0, 0}};
    e[1] = kvm_cpuid_entry2{0x1, 0, 0, 0x806F8, 0x800, 0xFEFA3223, 0x178BFBFF, {0, 0, 0}};
    c->nent = 2;
    return 0;
  }
  if (r == KVM_MEMORY_ENCRYPT_OP) {
    int vm_fd = fd.kind == FdKind::kVcpu ? fd.parent : call.fd;
    VmState& vm = vms_[vm_fd];
    auto* sev = static_cast<kvm_sev_cmd*>(arg);
    if (fds_[vm_fd].type == kVmSnp) {
      switch (sev->id) {
        case kSevInit2:
          vm.sev_initialized = true;
          break;
        case kSevSnpLaunchStart:
          vm.snp_started = true;
          break;
        case kSevSnpLaunchFinish:
          vm.snp_finished = true;
          break;
        case kSevSnpLaunchUpdate: {
          auto* u = reinterpret_cast<kvm_sev_snp_launch_update*>(sev->data);
          u->gfn_start += u->len / 0x1000;
          u->uaddr += u->len;
          u->len = 0;
          break;
        }
        default:
          break;
      }
      return 0;
    }
    auto* tdx = static_cast<kvm_tdx_cmd*>(arg);
    switch (tdx->id) {
      case kTdxCapabilities: {
        auto* caps = reinterpret_cast<kvm_tdx_capabilities*>(tdx->data);
        uint32_t room = caps->cpuid.nent;
        caps->supported_attrs = (1ull << 0) | (1ull << 28);
        caps->supported_xfam = 0x2E7;
        caps->cpuid.nent = std::min<uint32_t>(room, 1);
        if (room >= 1) {
          auto* e = reinterpret_cast<kvm_cpuid_entry2*>(caps + 1);
          e[0] = kvm_cpuid_entry2{0x1, 0, 0, 0, 0, 0x00000800, 0x00000000, {0, 0, 0}};
        }
        return 0;
      }
      case kTdxInitVm:
        vm.tdx_initialized = true;
        return 0;
      case kTdxFinalizeVm:
        vm.tdx_finalized = true;
        return 0;
      case kTdxInitMemRegion: {
        auto* m = reinterpret_cast<kvm_tdx_init_mem_region*>(tdx->data);
        m->gpa += m->nr_pages * 0x1000;
        m->source_addr += m->nr_pages * 0x1000;
        m->nr_pages = 0;
        return 0;
      }
      default:
        return 0;
    }
  }
  if (r == MSHV_CREATE_PARTITION) {
    auto p = load<mshv_create_partition>(arg);
    if (mshv_upstream_ && p.pt_isolation != kIsolationNone) {
      return -EINVAL;
    }
    return newFd({FdKind::kPartition, -1, p.pt_isolation});
  }
  if (r == MSHV_CREATE_VP) {
    vms_[call.fd].vps++;
    return newFd({FdKind::kVp, call.fd, load<mshv_create_vp>(arg).vp_index});
  }
  if (r == MSHV_RUN_VP) {
    auto& queue = run_vp_messages_[static_cast<uint32_t>(fd.type)];
    if (queue.empty()) {
      return -EINTR;
    }
    std::memcpy(arg, queue.front().data(), sizeof(hv_message));
    queue.pop_front();
    return 0;
  }
  if (r == MSHV_ROOT_HVCALL) {
    return hvcallAnswer(call, arg);
  }
  if (r == MSHV_GET_PARTITION_PROPERTY || r == MSHV_IMPORT_ISOLATED_PAGES ||
      r == MSHV_COMPLETE_ISOLATED_IMPORT) {
    return mshv_upstream_ ? -ENOTTY : 0;
  }
  return 0;
}

long FakeDevice::hvcallAnswer(FakeCall& call, void* arg) {
  auto h = load<mshv_root_hvcall>(arg);
  if (h.code != kHvcallSetVpRegisters && h.code != kHvcallGetVpRegisters) {
    return 0;
  }
  const FdInfo& fd = fds_[call.fd];
  int partition = fd.kind == FdKind::kVp ? fd.parent : call.fd;
  const auto* in = reinterpret_cast<const std::byte*>(h.in_ptr);
  auto head = load<hv_input_set_vp_registers>(in);
  auto& regs = vp_regs_[{partition, head.vp_index}];
  for (uint16_t i = 0; i < h.reps; ++i) {
    if (h.code == kHvcallSetVpRegisters) {
      auto a = load<hv_register_assoc>(in + sizeof(head) + i * sizeof(hv_register_assoc));
      std::memcpy(regs[a.name].data(), a.value, sizeof(a.value));
    } else {
      auto name = load<uint32_t>(in + sizeof(head) + i * 4u);
      std::array<std::byte, 16> value{};
      if (auto it = regs.find(name); it != regs.end()) {
        value = it->second;
      }
      std::memcpy(reinterpret_cast<std::byte*>(h.out_ptr) + i * kHvRegisterValueSize, value.data(),
                  value.size());
    }
  }
  auto* out = static_cast<mshv_root_hvcall*>(arg);
  out->reps = h.reps;  // every rep completed
  return 0;
}

}  // namespace igvmkit::hv::testing
