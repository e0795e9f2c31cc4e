// The KVM machine: VM and vCPU setup in Firecracker's order (loader-vmm.md §5.1-5.2), and KvmVcpu,
// the KVM side of the vCPU-run seam (vmm/internal/vcpu_runner.h): KVM_RUN, struct kvm_run exits,
// and KVM_GET_MP_STATE for the halt polls. The threads, the supervisor and the exit handling are
// RunLoop's (vmm/internal/run_loop.cc), shared with MSHV (vmm/internal/mshv_vcpu.cc).
#include "vmm/internal/kvm_machine.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>

#include "hv/kvm_abi.h"
#include "vmm/internal/exit.h"
#include "vmm/internal/layout.h"
#include "vmm/internal/vcpu_runner.h"

namespace igvmkit::vmm {
namespace {

using namespace hv::kvm;  // NOLINT: the ABI names read like the kernel's

constexpr int kKvmApiVersion = 12;
using x86::kPageSize;

// CPUID.1:ECX.CX16 (Intel SDM vol. 2A, CPUID), which RunConfig::emulator_safe_cpuid clears.
constexpr uint32_t kCpuid1EcxCx16 = 1u << 13;
constexpr uint32_t kCpuid1EcxPdcm = 1u << 15, kCpuid1EcxTscDeadline = 1u << 24;

// MSR indices (Intel SDM vol. 4) and the values Firecracker gives them (§5.2 item 2).
constexpr uint32_t kMsrTsc = 0x10, kMsrSysenterCs = 0x174, kMsrSysenterEsp = 0x175,
                   kMsrSysenterEip = 0x176, kMsrPat = 0x277, kMsrMtrrDefType = 0x2FF,
                   kMsrMiscEnable = 0x1A0, kMsrStar = 0xC0000081, kMsrLstar = 0xC0000082,
                   kMsrCstar = 0xC0000083, kMsrSfmask = 0xC0000084, kMsrKernelGsBase = 0xC0000102;
constexpr uint64_t kMiscEnableFastString = 1;
constexpr uint64_t kMtrrEnableWriteBack = (1u << 11) | 6;

// LAPIC register offsets in the KVM_GET_LAPIC image and the LVT delivery modes (§5.2 item 6).
constexpr size_t kApicLvt0 = 0x350, kApicLvt1 = 0x360;
constexpr uint32_t kDeliveryExtInt = 7, kDeliveryNmi = 4;

constexpr uint64_t kRflagsIf = 1u << 9;


// strerror-style text for an errno value, e.g. "permission denied (errno 13)".
std::string errnoText(int error) {
  char buf[128];
  // GNU strerror_r returns the message pointer (thread-safe, unlike strerror).
  std::string text = strerror_r(error, buf, sizeof(buf));
  if (!text.empty()) {
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text + " (errno " + std::to_string(error) + ")";
}

Error kvmError(const std::string& what, long r) {
  return Error{Code::kInternal, "vmm.kvm_ioctl",
               what + " failed: " + errnoText(static_cast<int>(-r)), std::nullopt};
}

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

// The KVM side of the vCPU-run seam: one vCPU fd and its kvm_run mapping.
class KvmVcpu final : public VcpuRunner {
 public:
  KvmVcpu(hv::Device& sys, unsigned index) : sys_(sys), index_(index) {}

  unsigned index() const override { return index_; }
  Result<std::optional<Exit>> run() override;
  Status complete(const Exit&) override { return okStatus(); }  // data lives in kvm_run
  uint64_t rip() override;
  bool canPoll() const override { return true; }
  Exit pollState() override;
  void requestExit() override { std::atomic_ref<uint8_t>(run_->immediate_exit).store(1); }
  void clearExitRequest() override { std::atomic_ref<uint8_t>(run_->immediate_exit).store(0); }

  Fd fd;
  Mapping run_map;

  void attach(size_t run_size) {
    run_size_ = run_size;
    run_ = reinterpret_cast<kvm_run*>(run_map.data());
  }

 private:
  Exit translate(bool* ok);

  hv::Device& sys_;
  unsigned index_;
  kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
};

struct RamLayout {
  uint64_t low = 0;
  uint64_t high = 0;
  // Host offset of [gpa, gpa + size), or nullopt when it is not entirely inside one RAM range.
  std::optional<uint64_t> offsetOf(uint64_t gpa, uint64_t size) const {
    if (gpa <= low && size <= low - gpa) {
      return gpa;
    }
    if (gpa >= layout::kMmioGapEnd && gpa - layout::kMmioGapEnd <= high &&
        size <= high - (gpa - layout::kMmioGapEnd)) {
      return low + (gpa - layout::kMmioGapEnd);
    }
    return std::nullopt;
  }
};

RamLayout ramLayout(uint64_t memory_bytes) {
  RamLayout r;
  r.low = std::min(memory_bytes, layout::kMmioGapStart);
  r.high = memory_bytes - r.low;
  return r;
}

Status checkSetup(const GuestSetup& setup) {
  if (setup.memory_bytes < layout::kMinMemory || setup.memory_bytes > layout::kMaxMemory ||
      setup.memory_bytes % kPageSize != 0) {
    return usage("memory size " + hex(setup.memory_bytes) +
                 " must be a multiple of 4 KiB between 1 MiB and 1 TiB");
  }
  if (setup.vcpus < 1 || setup.vcpus > igvm::kMaxVcpus) {
    return usage("vcpu count " + std::to_string(setup.vcpus) + " must be between 1 and " +
                 std::to_string(igvm::kMaxVcpus));
  }
  RamLayout ram = ramLayout(setup.memory_bytes);
  for (size_t i = 0; i < setup.loads.size(); ++i) {
    const Load& load = setup.loads[i];
    if (!ram.offsetOf(load.gpa, load.data.size())) {
      return invalid("vmm.load_outside_ram", "load #" + std::to_string(i) + " at gpa " +
                                                 hex(load.gpa) + " size " + hex(load.data.size()) +
                                                 " is not inside guest ram");
    }
  }
  return okStatus();
}

void toKvmSegment(const Segment& s, kvm_segment& k) {
  if (s == Segment{}) {
    return;  // keep KVM's reset value
  }
  uint16_t a = s.attributes;
  k.base = s.base;
  k.limit = s.limit;
  k.selector = s.selector;
  k.type = a & 0xF;
  k.s = (a >> 4) & 1;
  k.dpl = (a >> 5) & 3;
  k.present = (a >> 7) & 1;
  k.avl = (a >> 12) & 1;
  k.l = (a >> 13) & 1;
  k.db = (a >> 14) & 1;
  k.g = (a >> 15) & 1;
  k.unusable = k.present ? 0 : 1;
}

unsigned bitsFor(unsigned n) {
  unsigned bits = 0;
  while ((1u << bits) < n) {
    ++bits;
  }
  return bits;
}

}  // namespace


namespace {

class Machine {
 public:
  Machine(hv::Device& sys, const GuestSetup& setup, const RunConfig& config)
      : sys_(sys),
        setup_(setup),
        bsp_(setup.bsp),
        config_(config),
        devices_(
            config.serial, [this](bool level) { setIrq4(level); }, setup.vcpus) {}
  Machine(hv::Device& sys, const VpState& bsp, unsigned vcpus, const RunConfig& config)
      : sys_(sys),
        setup_(empty_setup_),
        bsp_(bsp),
        config_(config),
        devices_(
            config.serial, [this](bool level) { setIrq4(level); }, vcpus) {}

  Status build();
  // Takes over a VM the loader built (fds borrowed, memory left to the loader).
  Status adopt(const loader::LoadedVm& vm);
  RunOutcome run();

 private:
  Status openKvm();
  Status createVm();
  Status setupMemory();
  Status createVcpu(unsigned index, const std::vector<kvm_cpuid_entry2>& cpuid);
  Status setupVcpu(std::unique_ptr<KvmVcpu> v, const std::vector<kvm_cpuid_entry2>& cpuid);
  Status createPit();
  Status setCpuid(KvmVcpu& v, std::vector<kvm_cpuid_entry2> cpuid);
  Status setMsrs(KvmVcpu& v);
  Status setLapic(KvmVcpu& v);
  Status setBspRegisters(KvmVcpu& v);
  Result<std::vector<kvm_cpuid_entry2>> supportedCpuid();
  long vmIoctl(unsigned long request, uintptr_t arg) { return sys_.ioctl(vm_.get(), request, arg); }

  void setIrq4(bool level);

  hv::Device& sys_;
  const GuestSetup empty_setup_;
  const GuestSetup& setup_;
  const VpState& bsp_;
  const RunConfig& config_;
  Fd kvm_;
  Mapping ram_;  // unmapped after the VM is closed (declared before vm_)
  Fd vm_;
  size_t run_size_ = 0;
  bool tsc_deadline_ = false;  // KVM_CAP_TSC_DEADLINE_TIMER
  std::vector<std::unique_ptr<KvmVcpu>> vcpus_;

  std::mutex device_mutex_;  // guards devices_
  Devices devices_;
};

Status Machine::openKvm() {
  int fd = sys_.open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return unsupported("vmm.no_kvm", "cannot open /dev/kvm: " + errnoText(-fd));
  }
  kvm_ = Fd(&sys_, fd);
  long version = sys_.ioctl(kvm_.get(), KVM_GET_API_VERSION, uintptr_t{0});
  if (version != kKvmApiVersion) {
    return unsupported("vmm.kvm_api_version",
                       "kvm api version " + std::to_string(version) + " is not 12");
  }
  // The supervisor's way of stopping vCPUs needs kvm_run.immediate_exit (Linux 4.11+).
  if (sys_.ioctl(kvm_.get(), KVM_CHECK_EXTENSION, uintptr_t{kCapImmediateExit}) <= 0) {
    return unsupported("vmm.kvm_capability", "kvm lacks kCapImmediateExit");
  }
  long size = sys_.ioctl(kvm_.get(), KVM_GET_VCPU_MMAP_SIZE, uintptr_t{0});
  if (size < static_cast<long>(sizeof(kvm_run))) {
    return kvmError("KVM_GET_VCPU_MMAP_SIZE", size < 0 ? size : -EINVAL);
  }
  run_size_ = static_cast<size_t>(size);
  tsc_deadline_ = sys_.ioctl(kvm_.get(), KVM_CHECK_EXTENSION, uintptr_t{kCapTscDeadlineTimer}) > 0;
  return okStatus();
}

Status Machine::createVm() {
  long fd;
  do {
    fd = sys_.ioctl(kvm_.get(), KVM_CREATE_VM, uintptr_t{0});
  } while (fd == -EINTR);
  if (fd < 0) {
    return kvmError("KVM_CREATE_VM", fd);
  }
  vm_ = Fd(&sys_, static_cast<int>(fd));
  // Intel needs these in the 32-bit gap before any vCPU exists (§5.1 items 5-6).
  if (long r = vmIoctl(KVM_SET_TSS_ADDR, layout::kTssAddr); r < 0) {
    return kvmError("KVM_SET_TSS_ADDR", r);
  }
  uint64_t identity = layout::kIdentityMapAddr;
  if (long r = sys_.ioctl(vm_.get(), KVM_SET_IDENTITY_MAP_ADDR, &identity); r < 0) {
    return kvmError("KVM_SET_IDENTITY_MAP_ADDR", r);
  }
  return okStatus();
}

Status Machine::setupMemory() {
  int error = 0;
  void* p = sys_.mmap(setup_.memory_bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0, &error);
  if (p == nullptr) {
    return Error{
        Code::kInternal, "vmm.ram",
        "cannot map " + hex(setup_.memory_bytes) + " bytes of guest ram: " + errnoText(error),
        std::nullopt};
  }
  ram_ = Mapping(&sys_, p, setup_.memory_bytes);
  RamLayout ram = ramLayout(setup_.memory_bytes);
  struct Slot {
    uint64_t gpa, size, offset;
  };
  Slot slots[2] = {{0, ram.low, 0}, {layout::kMmioGapEnd, ram.high, ram.low}};
  for (uint32_t i = 0; i < 2; ++i) {
    if (slots[i].size == 0) {
      continue;
    }
    kvm_userspace_memory_region region{};
    region.slot = i;
    region.guest_phys_addr = slots[i].gpa;
    region.memory_size = slots[i].size;
    region.userspace_addr = reinterpret_cast<uint64_t>(ram_.data() + slots[i].offset);
    if (long r = sys_.ioctl(vm_.get(), KVM_SET_USER_MEMORY_REGION, &region); r < 0) {
      return kvmError("KVM_SET_USER_MEMORY_REGION", r);
    }
  }
  for (size_t i = 0; i < setup_.loads.size(); ++i) {
    const Load& load = setup_.loads[i];
    std::optional<uint64_t> off = ram.offsetOf(load.gpa, load.data.size());
    if (!off) {  // checkSetup() already refused it
      return internal("load #" + std::to_string(i) + " left guest ram");
    }
    std::memcpy(ram_.data() + *off, load.data.data(), load.data.size());
  }
  return okStatus();
}

Result<std::vector<kvm_cpuid_entry2>> Machine::supportedCpuid() {
  for (uint32_t n = 128; n <= 4096; n *= 2) {
    VarStruct<kvm_cpuid2, kvm_cpuid_entry2> buf(n);
    buf.header()->nent = n;
    long r = sys_.ioctl(kvm_.get(), KVM_GET_SUPPORTED_CPUID, buf.header());
    if (r == -E2BIG) {
      continue;
    }
    if (r < 0) {
      return kvmError("KVM_GET_SUPPORTED_CPUID", r);
    }
    uint32_t count = std::min(buf.header()->nent, n);
    return std::vector<kvm_cpuid_entry2>(buf.entries(), buf.entries() + count);
  }
  return kvmError("KVM_GET_SUPPORTED_CPUID", -E2BIG);
}

// Per-vCPU CPUID: the host's supported list with this vCPU's APIC ID and the machine's topology
// (one thread per core, `vcpus` cores in one package), as Firecracker's normalization (§5.2).
Status Machine::setCpuid(KvmVcpu& v, std::vector<kvm_cpuid_entry2> cpuid) {
  const uint32_t apic_id = v.index();
  const uint32_t n = setup_.vcpus;
  const bool emulator_safe_cpuid =
      config_.emulator_safe_cpuid == RunConfig::EmulatorSafeCpuid::kOn ||
      (config_.emulator_safe_cpuid == RunConfig::EmulatorSafeCpuid::kAuto &&
       hostEmulatesGuestKernel());
  for (kvm_cpuid_entry2& e : cpuid) {
    switch (e.function) {
      case 0x1:
        // EBX: CLFLUSH line size 8 qwords, logical processor count, initial APIC ID.
        e.ebx = (e.ebx & 0xFF) | (8u << 8) | (std::min(n, 255u) << 16) | (apic_id << 24);
        e.ecx |= 1u << 31;  // running on a hypervisor
        // Firecracker's normalization (loader-vmm.md §5.2 item 1): no PDCM (there is no
        // IA32_PERF_CAPABILITIES here), TSC-deadline when KVM emulates it. Without it Linux
        // calibrates the LAPIC timer against the PIT and, on a slow (emulated) host, disables it.
        e.ecx &= ~kCpuid1EcxPdcm;
        if (tsc_deadline_) {
          e.ecx |= kCpuid1EcxTscDeadline;
        }
        if (n > 1) {
          e.edx |= 1u << 28;  // HTT: the logical processor count field is valid
        } else {
          e.edx &= ~(1u << 28);
        }
        break;
      case 0x4:
        // EAX 31:26: cores per package - 1; 25:14: threads sharing this cache - 1 (= 0).
        e.eax = (e.eax & 0x3FFF) | ((n - 1) << 26);
        break;
      case 0xB:
      case 0x1F:
        // Extended topology: level 0 = SMT (1 thread), level 1 = core (n cores), then invalid.
        if (e.index == 0) {
          e.eax = 0;
          e.ebx = 1;
          e.ecx = (1u << 8) | 0;
        } else if (e.index == 1) {
          e.eax = bitsFor(n);
          e.ebx = n;
          e.ecx = (2u << 8) | 1;
        } else {
          e.eax = 0;
          e.ebx = 0;
          e.ecx = e.index;
        }
        e.edx = apic_id;
        break;
      case 0x8000001E:
        e.eax = apic_id;  // AMD extended APIC ID
        break;
      default:
        break;
    }
    if (emulator_safe_cpuid && e.function == 0x1) {
      // KVM's emulator refuses CMPXCHG16B (em_cmpxchg8b: 16 bytes -> X86EMUL_UNHANDLEABLE);
      // without CX16 Linux's SLUB takes its slab lock instead. (kvm-pvm keeps this bit as set
      // but forces XSAVE/AVX on whatever we set: those need the guest's `noxsave`, README.md.)
      e.ecx &= ~kCpuid1EcxCx16;
    }
  }
  VarStruct<kvm_cpuid2, kvm_cpuid_entry2> buf(cpuid.size());
  buf.header()->nent = static_cast<uint32_t>(cpuid.size());
  std::copy(cpuid.begin(), cpuid.end(), buf.entries());
  if (long r = sys_.ioctl(v.fd.get(), KVM_SET_CPUID2, buf.header()); r < 0) {
    return kvmError("KVM_SET_CPUID2", r);
  }
  return okStatus();
}

Status Machine::setMsrs(KvmVcpu& v) {
  std::vector<Msr> msrs = {
      {kMsrSysenterCs, 0},
      {kMsrSysenterEsp, 0},
      {kMsrSysenterEip, 0},
      {kMsrStar, 0},
      {kMsrCstar, 0},
      {kMsrKernelGsBase, 0},
      {kMsrSfmask, 0},
      {kMsrLstar, 0},
      {kMsrTsc, 0},
      {kMsrMiscEnable, kMiscEnableFastString},
      {kMsrMtrrDefType, kMtrrEnableWriteBack},
  };
  if (v.index() == 0) {
    msrs.push_back({kMsrPat, bsp_.pat});
    msrs.insert(msrs.end(), bsp_.msrs.begin(), bsp_.msrs.end());
  }
  VarStruct<kvm_msrs, kvm_msr_entry> buf(msrs.size());
  buf.header()->nmsrs = static_cast<uint32_t>(msrs.size());
  for (size_t i = 0; i < msrs.size(); ++i) {
    buf.entries()[i] = kvm_msr_entry{};
    buf.entries()[i].index = msrs[i].index;
    buf.entries()[i].data = msrs[i].value;
  }
  long r = sys_.ioctl(v.fd.get(), KVM_SET_MSRS, buf.header());
  if (r < 0) {
    return kvmError("KVM_SET_MSRS", r);
  }
  // KVM sets MSRs in order and stops at the first it refuses.
  if (static_cast<size_t>(r) < msrs.size()) {
    return invalid("vmm.msr_refused", "kvm refused msr " + hex(msrs[r].index) + " = " +
                                          hex(msrs[r].value) + " on vcpu " +
                                          std::to_string(v.index()));
  }
  return okStatus();
}

Status Machine::setLapic(KvmVcpu& v) {
  kvm_lapic_state lapic{};
  if (long r = sys_.ioctl(v.fd.get(), KVM_GET_LAPIC, &lapic); r < 0) {
    return kvmError("KVM_GET_LAPIC", r);
  }
  auto setMode = [&lapic](size_t offset, uint32_t mode) {
    uint32_t value;
    std::memcpy(&value, lapic.regs + offset, 4);
    value = (value & ~(7u << 8)) | (mode << 8);
    std::memcpy(lapic.regs + offset, &value, 4);
  };
  // Virtual-wire mode: the 8259 PIC delivers through LINT0, NMIs through LINT1.
  setMode(kApicLvt0, kDeliveryExtInt);
  setMode(kApicLvt1, kDeliveryNmi);
  if (long r = sys_.ioctl(v.fd.get(), KVM_SET_LAPIC, &lapic); r < 0) {
    return kvmError("KVM_SET_LAPIC", r);
  }
  return okStatus();
}

Status Machine::setBspRegisters(KvmVcpu& v) {
  const VpState& s = bsp_;
  kvm_fpu fpu{};
  fpu.fcw = 0x37F;     // x87 reset control word
  fpu.mxcsr = 0x1F80;  // SSE: all exceptions masked
  if (long r = sys_.ioctl(v.fd.get(), KVM_SET_FPU, &fpu); r < 0) {
    return kvmError("KVM_SET_FPU", r);
  }
  kvm_sregs sregs{};
  if (long r = sys_.ioctl(v.fd.get(), KVM_GET_SREGS, &sregs); r < 0) {
    return kvmError("KVM_GET_SREGS", r);
  }
  toKvmSegment(s.cs, sregs.cs);
  toKvmSegment(s.ds, sregs.ds);
  toKvmSegment(s.es, sregs.es);
  toKvmSegment(s.fs, sregs.fs);
  toKvmSegment(s.gs, sregs.gs);
  toKvmSegment(s.ss, sregs.ss);
  toKvmSegment(s.tr, sregs.tr);
  toKvmSegment(s.ldtr, sregs.ldt);
  sregs.gdt.base = s.gdtr.base;
  sregs.gdt.limit = s.gdtr.limit;
  sregs.idt.base = s.idtr.base;
  sregs.idt.limit = s.idtr.limit;
  sregs.cr0 = s.cr0;
  sregs.cr2 = s.cr2;
  sregs.cr3 = s.cr3;
  sregs.cr4 = s.cr4;
  sregs.efer = s.efer;
  if (long r = sys_.ioctl(v.fd.get(), KVM_SET_SREGS, &sregs); r < 0) {
    return invalid("vmm.bad_vp_state", "kvm refused the boot vcpu's special registers (cr0 " +
                                           hex(s.cr0) + " cr4 " + hex(s.cr4) + " efer " +
                                           hex(s.efer) + "): " + errnoText(static_cast<int>(-r)));
  }
  if (s.xcr0 != 1) {
    kvm_xcrs xcrs{};
    xcrs.nr_xcrs = 1;
    xcrs.xcrs[0].xcr = 0;
    xcrs.xcrs[0].value = s.xcr0;
    if (long r = sys_.ioctl(v.fd.get(), KVM_SET_XCRS, &xcrs); r < 0) {
      return invalid("vmm.bad_vp_state",
                     "kvm refused xcr0 " + hex(s.xcr0) + ": " + errnoText(static_cast<int>(-r)));
    }
  }
  kvm_regs regs{};
  regs.rax = s.rax;
  regs.rcx = s.rcx;
  regs.rdx = s.rdx;
  regs.rbx = s.rbx;
  regs.rsp = s.rsp;
  regs.rbp = s.rbp;
  regs.rsi = s.rsi;
  regs.rdi = s.rdi;
  regs.r8 = s.r8;
  regs.r9 = s.r9;
  regs.r10 = s.r10;
  regs.r11 = s.r11;
  regs.r12 = s.r12;
  regs.r13 = s.r13;
  regs.r14 = s.r14;
  regs.r15 = s.r15;
  regs.rip = s.rip;
  regs.rflags = s.rflags | 0x2;
  if (long r = sys_.ioctl(v.fd.get(), KVM_SET_REGS, &regs); r < 0) {
    return kvmError("KVM_SET_REGS", r);
  }
  return okStatus();
}

Status Machine::createVcpu(unsigned index, const std::vector<kvm_cpuid_entry2>& cpuid) {
  auto v = std::make_unique<KvmVcpu>(sys_, index);
  long fd = sys_.ioctl(vm_.get(), KVM_CREATE_VCPU, uintptr_t{index});
  if (fd < 0) {
    return kvmError("KVM_CREATE_VCPU " + std::to_string(index), fd);
  }
  v->fd = Fd(&sys_, static_cast<int>(fd));
  return setupVcpu(std::move(v), cpuid);
}

Status Machine::setupVcpu(std::unique_ptr<KvmVcpu> v, const std::vector<kvm_cpuid_entry2>& cpuid) {
  const unsigned index = v->index();
  int error = 0;
  void* p =
      sys_.mmap(run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd.get(), 0, &error);
  if (p == nullptr) {
    return kvmError("mmap of kvm_run", -error);
  }
  v->run_map = Mapping(&sys_, p, run_size_);
  v->attach(run_size_);
  IGVMKIT_RETURN_IF_ERROR(setCpuid(*v, cpuid));
  IGVMKIT_RETURN_IF_ERROR(setMsrs(*v));
  IGVMKIT_RETURN_IF_ERROR(setLapic(*v));
  if (index == 0) {
    IGVMKIT_RETURN_IF_ERROR(setBspRegisters(*v));
  } else {
    // Application processors wait for INIT/SIPI from the guest, as on real hardware.
    kvm_mp_state mp{kMpStateInitReceived};
    if (long r = sys_.ioctl(v->fd.get(), KVM_SET_MP_STATE, &mp); r < 0) {
      return kvmError("KVM_SET_MP_STATE", r);
    }
  }
  vcpus_.push_back(std::move(v));
  return okStatus();
}

Status Machine::build() {
  IGVMKIT_RETURN_IF_ERROR(checkSetup(setup_));
  IGVMKIT_RETURN_IF_ERROR(openKvm());
  IGVMKIT_RETURN_IF_ERROR(createVm());
  IGVMKIT_RETURN_IF_ERROR(setupMemory());
  // The interrupt controllers must exist before the vCPUs (§5.1 item 8).
  if (long r = vmIoctl(KVM_CREATE_IRQCHIP, 0); r < 0) {
    return kvmError("KVM_CREATE_IRQCHIP", r);
  }
  IGVMKIT_RETURN_IF_ERROR(createPit());
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<kvm_cpuid_entry2> cpuid, supportedCpuid());
  for (unsigned i = 0; i < setup_.vcpus; ++i) {
    IGVMKIT_RETURN_IF_ERROR(createVcpu(i, cpuid));
  }
  return okStatus();
}

Status Machine::createPit() {
  kvm_pit_config pit{};
  pit.flags = kPitSpeakerDummy;
  if (long r = sys_.ioctl(vm_.get(), KVM_CREATE_PIT2, &pit); r < 0) {
    return kvmError("KVM_CREATE_PIT2", r);
  }
  return okStatus();
}

Status Machine::adopt(const loader::LoadedVm& vm) {
  if (vm.vm_fd < 0 || vm.vcpu_fds.empty() || vm.vcpu_fds.size() > igvm::kMaxVcpus) {
    return usage("the loaded vm has no vm fd or " + std::to_string(vm.vcpu_fds.size()) +
                 " vcpus (1.." + std::to_string(igvm::kMaxVcpus) + ")");
  }
  IGVMKIT_RETURN_IF_ERROR(openKvm());
  vm_ = Fd::borrowed(vm.vm_fd);
  // The loader made the irqchip; the PIT is the VMM's (it is a device of this machine model).
  IGVMKIT_RETURN_IF_ERROR(createPit());
  IGVMKIT_ASSIGN_OR_RETURN(std::vector<kvm_cpuid_entry2> cpuid, supportedCpuid());
  for (size_t i = 0; i < vm.vcpu_fds.size(); ++i) {
    auto v = std::make_unique<KvmVcpu>(sys_, static_cast<unsigned>(i));
    v->fd = Fd::borrowed(vm.vcpu_fds[i]);
    IGVMKIT_RETURN_IF_ERROR(setupVcpu(std::move(v), cpuid));
  }
  return okStatus();
}

void Machine::setIrq4(bool level) {
  kvm_irq_level irq{};
  irq.irq = layout::kCom1Irq;
  irq.level = level ? 1 : 0;
  (void)sys_.ioctl(vm_.get(), KVM_IRQ_LINE, &irq);
}

uint64_t KvmVcpu::rip() {
  kvm_regs regs{};
  if (sys_.ioctl(fd.get(), KVM_GET_REGS, &regs) < 0) {
    return 0;
  }
  return regs.rip;
}

Result<std::optional<Exit>> KvmVcpu::run() {
  // Interruptible: the supervisor's kick must come back as EINTR, not be retried.
  long r = sys_.ioctlInterruptible(fd.get(), KVM_RUN, nullptr);
  if (r == -EINTR || r == -EAGAIN) {
    return std::optional<Exit>();
  }
  if (r < 0) {
    return Error{Code::kInternal, "vmm.kvm_ioctl",
                 "KVM_RUN failed on vcpu " + std::to_string(index_) + ": " +
                     errnoText(static_cast<int>(-r)),
                 std::nullopt};
  }
  bool ok = false;
  Exit e = translate(&ok);
  if (!ok) {
    return std::optional<Exit>();
  }
  return std::optional<Exit>(e);
}

RunOutcome Machine::run() {
  std::vector<VcpuRunner*> runners;
  for (auto& v : vcpus_) {
    runners.push_back(v.get());
  }
  return RunLoop(runners, devices_, device_mutex_, config_).run();
}


Exit KvmVcpu::translate(bool* ok) {
  kvm_run& run = *run_;
  Exit e;
  e.vcpu = index_;
  *ok = true;
  switch (run.exit_reason) {
    case kExitIo: {
      e.kind = Exit::Kind::kIo;
      e.port = run.io.port;
      e.size = run.io.size;
      e.count = run.io.count;
      e.is_write = run.io.direction == kExitIoOut;
      // The data lives inside the kvm_run mapping; refuse an offset that points outside it.
      uint64_t bytes = static_cast<uint64_t>(run.io.size) * run.io.count;
      if (run.io.data_offset > run_size_ || bytes > run_size_ - run.io.data_offset) {
        e.kind = Exit::Kind::kOther;
        e.detail = kExitIo;
        break;
      }
      e.data = std::span<uint8_t>(run_map.data() + run.io.data_offset, bytes);
      return e;
    }
    case kExitMmio:
      e.kind = Exit::Kind::kMmio;
      e.address = run.mmio.phys_addr;
      e.is_write = run.mmio.is_write != 0;
      e.data = std::span<uint8_t>(run.mmio.data, std::min<uint32_t>(run.mmio.len, 8));
      return e;
    case kExitIntr:
      *ok = false;  // nothing happened; just run again
      return e;
    case kExitHlt:
      e.kind = Exit::Kind::kHlt;
      break;
    case kExitShutdown:
      e.kind = Exit::Kind::kShutdown;
      break;
    case kExitSystemEvent:
      e.kind = Exit::Kind::kSystemEvent;
      e.detail = run.system_event.type;
      break;
    case kExitFailEntry:
      e.kind = Exit::Kind::kFailEntry;
      e.detail = run.fail_entry.hardware_entry_failure_reason;
      break;
    case kExitInternalError:
      e.kind = Exit::Kind::kInternalError;
      e.detail = run.internal.suberror;
      break;
    default:
      e.kind = Exit::Kind::kOther;
      e.detail = run.exit_reason;
      break;
  }
  // Everything but I/O may end the run and must say where the vCPU was.
  kvm_regs regs{};
  if (sys_.ioctl(fd.get(), KVM_GET_REGS, &regs) >= 0) {
    e.rip = regs.rip;
    e.interrupts_enabled = (regs.rflags & kRflagsIf) != 0;
  }
  return e;
}

Exit KvmVcpu::pollState() {
  Exit e;
  e.vcpu = index_;
  kvm_mp_state mp{};
  if (sys_.ioctl(fd.get(), KVM_GET_MP_STATE, &mp) >= 0) {
    switch (mp.mp_state) {
      case kMpStateHalted: {
        e.kind = Exit::Kind::kHlt;
        kvm_regs regs{};
        if (sys_.ioctl(fd.get(), KVM_GET_REGS, &regs) >= 0) {
          e.rip = regs.rip;
          e.interrupts_enabled = (regs.rflags & kRflagsIf) != 0;
        } else {
          e.interrupts_enabled = true;  // unknown: assume it may still wake up
        }
        break;
      }
      case kMpStateUninitialized:
      case kMpStateInitReceived:
        e.kind = Exit::Kind::kWaitForSipi;
        break;
      default:
        e.kind = Exit::Kind::kRunning;
        break;
    }
  } else {
    e.kind = Exit::Kind::kRunning;
  }
  return e;
}


}  // namespace

Result<RunOutcome> runKvm(hv::Device& sys, const GuestSetup& setup, const RunConfig& config) {
  Machine machine(sys, setup, config);
  IGVMKIT_RETURN_IF_ERROR(machine.build());
  return machine.run();
}

Result<RunOutcome> runKvm(hv::Device& sys, const loader::LoadedVm& vm, const VpState& bsp,
                          const RunConfig& config) {
  Machine machine(sys, bsp, static_cast<unsigned>(vm.vcpu_fds.size()), config);
  IGVMKIT_RETURN_IF_ERROR(machine.adopt(vm));
  return machine.run();
}

}  // namespace igvmkit::vmm
