// vmm/internal/kvm_vcpu_setup.cc: per-vCPU setup of the KVM machine (kvm_machine.h), as
// Firecracker does it (loader-vmm.md §5.2): the kvm_run mapping, CPUID normalised per vCPU (APIC
// ID, topology, TSC deadline), the MSR defaults, the LAPIC in virtual-wire mode, and APs left
// waiting for INIT/SIPI. The boot vCPU's registers are kvm_registers.cc's.
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "vmm/internal/kvm_machine.h"

namespace igvmkit::vmm {
namespace {

using namespace hv::kvm;  // NOLINT: the ABI names read like the kernel's

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

unsigned bitsFor(unsigned n) {
  unsigned bits = 0;
  while ((1u << bits) < n) {
    ++bits;
  }
  return bits;
}

}  // namespace

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
  const uint32_t n = vcpu_count_;
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
  std::vector<x86::Msr> msrs = {
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

}  // namespace igvmkit::vmm
