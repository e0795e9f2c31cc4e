// The kvm, kvm-snp and kvm-tdx backends (loader-vmm.md §3, §5.1).
#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "loader/internal/backends.h"
#include "hv/kvm_abi.h"
#include "hv/kvm_regs.h"
#include "loader/internal/vmsa.h"

namespace igvmkit::loader::detail {
namespace {

using namespace hv::kvm;  // NOLINT: the ABI names read like the kernel's

inline constexpr unsigned long kCapSplitIrqchip = 121;
inline constexpr int kMaxRetries = 1000;
inline constexpr uint32_t kMaxCpuidEntries = 256;

class KvmBackend final : public Backend {
 public:
  KvmBackend(BackendKind kind, hv::Device& device) : kind_(kind), res_(device) {}

  BackendKind kind() const override { return kind_; }
  const LoadedVm& vm() const override { return vm_; }

  Status start(const Plan& plan) override {
    if (started_) {
      return internal("backend already started");
    }
    started_ = true;
    setup_ = plan.setup;
    vcpus_ = plan.config.vcpus;
    hv::Device& dev = res_.device();
    int kvm_fd = dev.open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) {
      return hv::errnoError("open /dev/kvm", kvm_fd);
    }
    res_.ownFd(kvm_fd);
    kvm_fd_ = kvm_fd;
    long api = dev.ioctl(kvm_fd, KVM_GET_API_VERSION, 0ul);
    if (api != 12) {
      return unsupported("kvm.api_version",
                         "kvm api version is " + std::to_string(api) + ", expected 12");
    }
    unsigned long type = kind_ == BackendKind::kKvmSnp   ? kVmSnp
                         : kind_ == BackendKind::kKvmTdx ? kVmTdx
                                                         : kVmDefault;
    if (type != kVmDefault) {
      long types = dev.ioctl(kvm_fd, KVM_CHECK_EXTENSION, kCapVmTypes);
      if (types <= 0 || (types & (1l << type)) == 0) {
        return unsupported("kvm.vm_type",
                           "this kernel's kvm does not offer vm type " + std::to_string(type) +
                               " (" + std::string(backendName(kind_)) + "): KVM_CAP_VM_TYPES is " +
                               hex(types < 0 ? 0 : static_cast<uint64_t>(types)));
      }
    }
    long vm = dev.ioctl(kvm_fd, KVM_CREATE_VM, type);
    if (vm < 0) {
      return hv::errnoError("KVM_CREATE_VM(" + std::to_string(type) + ")", vm);
    }
    res_.ownFd(static_cast<int>(vm));
    vm_.vm_fd = static_cast<int>(vm);
    switch (kind_) {
      case BackendKind::kKvm:
        IGVMKIT_RETURN_IF_ERROR(
            check("KVM_SET_TSS_ADDR", dev.ioctl(vm_.vm_fd, KVM_SET_TSS_ADDR, kTssAddress)));
        IGVMKIT_RETURN_IF_ERROR(
            check("KVM_CREATE_IRQCHIP", dev.ioctl(vm_.vm_fd, KVM_CREATE_IRQCHIP, 0ul)));
        return createVcpus();
      case BackendKind::kKvmSnp:
        return startSnp();
      case BackendKind::kKvmTdx:
        return startTdx();
      default:
        return internal("kvm backend built for a non-kvm kind");
    }
  }

  Status apply(const LaunchOp& op) override {
    if (!started_) {
      return internal("backend not started");
    }
    return std::visit([&](const auto& v) { return applyOp(v); }, op);
  }

 private:
  static Status check(const std::string& what, long rc) {
    return rc < 0 ? Status(hv::errnoError(what, rc)) : okStatus();
  }

  Status enableCap(unsigned long cap, uint64_t arg0) {
    kvm_enable_cap c{};
    c.cap = static_cast<uint32_t>(cap);
    c.args[0] = arg0;
    return check("KVM_ENABLE_CAP(" + std::to_string(cap) + ")",
                 res_.device().ioctl(vm_.vm_fd, KVM_ENABLE_CAP, &c));
  }

  Status createVcpus() {
    for (uint32_t i = 0; i < vcpus_; ++i) {
      long fd = res_.device().ioctl(vm_.vm_fd, KVM_CREATE_VCPU, static_cast<unsigned long>(i));
      if (fd < 0) {
        return hv::errnoError("KVM_CREATE_VCPU(" + std::to_string(i) + ")", fd);
      }
      res_.ownFd(static_cast<int>(fd));
      vm_.vcpu_fds.push_back(static_cast<int>(fd));
    }
    vp_state_set_.assign(vcpus_, false);
    return okStatus();
  }

  // KVM_MEMORY_ENCRYPT_OP with a kvm_sev_cmd.
  Status sevCommand(const char* name, uint32_t id, void* data) {
    kvm_sev_cmd cmd{};
    cmd.id = id;
    cmd.data = reinterpret_cast<uint64_t>(data);
    cmd.sev_fd = static_cast<uint32_t>(sev_fd_);
    for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
      long rc = res_.device().ioctl(vm_.vm_fd, KVM_MEMORY_ENCRYPT_OP, &cmd);
      if (rc == -EAGAIN) {
        continue;
      }
      if (rc < 0) {
        Error e = hv::errnoError(name, rc);
        e.message += ", firmware error " + hex(cmd.error);
        return e;
      }
      return okStatus();
    }
    return internal(std::string(name) + " kept returning EAGAIN");
  }

  // KVM_MEMORY_ENCRYPT_OP with a kvm_tdx_cmd on the VM or a vCPU fd.
  Status tdxCommand(const char* name, int fd, uint32_t id, uint32_t flags, uint64_t data) {
    kvm_tdx_cmd cmd{};
    cmd.id = id;
    cmd.flags = flags;
    cmd.data = data;
    for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
      long rc = res_.device().ioctl(fd, KVM_MEMORY_ENCRYPT_OP, &cmd);
      if (rc == -EAGAIN) {
        continue;
      }
      if (rc < 0) {
        Error e = hv::errnoError(name, rc);
        e.message += ", tdx module status " + hex(cmd.hw_error);
        return e;
      }
      return okStatus();
    }
    return internal(std::string(name) + " kept returning EAGAIN");
  }

  Status startSnp() {
    int sev = res_.device().open("/dev/sev", O_RDWR | O_CLOEXEC);
    if (sev < 0) {
      return hv::errnoError("open /dev/sev", sev);
    }
    res_.ownFd(sev);
    sev_fd_ = sev;
    IGVMKIT_RETURN_IF_ERROR(enableCap(kCapExitHypercall, 1ull << kHcMapGpaRange));
    IGVMKIT_RETURN_IF_ERROR(enableCap(kCapSplitIrqchip, 24));
    // INIT2 before any vCPU; KVM adds SNP_ACTIVE itself (loader-vmm.md §3.3 step 2).
    kvm_sev_init init{};
    init.vmsa_features = setup_.sev_features & ~kSevFeatureSnpActive;
    IGVMKIT_RETURN_IF_ERROR(sevCommand("KVM_SEV_INIT2", kSevInit2, &init));
    IGVMKIT_RETURN_IF_ERROR(createVcpus());
    kvm_sev_snp_launch_start start{};
    start.policy = setup_.snp_policy;
    return sevCommand("KVM_SEV_SNP_LAUNCH_START", kSevSnpLaunchStart, &start);
  }

  Status startTdx() {
    hv::Device& dev = res_.device();
    // Capabilities: supported attributes, XFAM, and the configurable CPUID bits.
    std::vector<uint64_t> caps_buf(
        (sizeof(kvm_tdx_capabilities) + kMaxCpuidEntries * sizeof(kvm_cpuid_entry2)) / 8 + 1, 0);
    auto* caps = reinterpret_cast<kvm_tdx_capabilities*>(caps_buf.data());
    caps->cpuid.nent = kMaxCpuidEntries;
    IGVMKIT_RETURN_IF_ERROR(tdxCommand("KVM_TDX_CAPABILITIES", vm_.vm_fd, kTdxCapabilities, 0,
                                       reinterpret_cast<uint64_t>(caps)));
    if ((setup_.tdx_attributes & ~caps->supported_attrs) != 0) {
      return unsupported("kvm_tdx.attributes", "td attributes " + hex(setup_.tdx_attributes) +
                                                   " are not within the supported " +
                                                   hex(caps->supported_attrs));
    }
    if ((setup_.tdx_xfam & ~caps->supported_xfam) != 0) {
      return unsupported("kvm_tdx.xfam", "td xfam " + hex(setup_.tdx_xfam) +
                                             " is not within the supported " +
                                             hex(caps->supported_xfam));
    }
    uint32_t configurable = std::min(caps->cpuid.nent, kMaxCpuidEntries);
    const auto* conf = reinterpret_cast<const kvm_cpuid_entry2*>(caps + 1);
    // The host's supported CPUID, masked by what the TDX module lets the VMM configure.
    std::vector<uint64_t> sup_buf(
        (sizeof(kvm_cpuid2) + kMaxCpuidEntries * sizeof(kvm_cpuid_entry2)) / 8 + 1, 0);
    auto* sup = reinterpret_cast<kvm_cpuid2*>(sup_buf.data());
    sup->nent = kMaxCpuidEntries;
    IGVMKIT_RETURN_IF_ERROR(
        check("KVM_GET_SUPPORTED_CPUID", dev.ioctl(kvm_fd_, KVM_GET_SUPPORTED_CPUID, sup)));
    const auto* sup_entries = reinterpret_cast<const kvm_cpuid_entry2*>(sup + 1);
    uint32_t supported = std::min(sup->nent, kMaxCpuidEntries);
    std::vector<uint64_t> init_buf(
        (sizeof(kvm_tdx_init_vm) + kMaxCpuidEntries * sizeof(kvm_cpuid_entry2)) / 8 + 1, 0);
    auto* init = reinterpret_cast<kvm_tdx_init_vm*>(init_buf.data());
    init->attributes = setup_.tdx_attributes;
    init->xfam = setup_.tdx_xfam;
    auto* out = reinterpret_cast<kvm_cpuid_entry2*>(init + 1);
    uint32_t n = 0;
    for (uint32_t i = 0; i < configurable; ++i) {
      const kvm_cpuid_entry2& c = conf[i];
      for (uint32_t j = 0; j < supported; ++j) {
        const kvm_cpuid_entry2& s = sup_entries[j];
        if (s.function == c.function && s.index == c.index) {
          kvm_cpuid_entry2 e{};
          e.function = c.function;
          e.index = c.index;
          e.flags = s.flags;
          e.eax = s.eax & c.eax;
          e.ebx = s.ebx & c.ebx;
          e.ecx = s.ecx & c.ecx;
          e.edx = s.edx & c.edx;
          out[n++] = e;
          break;
        }
      }
    }
    init->cpuid.nent = n;
    IGVMKIT_RETURN_IF_ERROR(enableCap(kCapSplitIrqchip, 24));
    IGVMKIT_RETURN_IF_ERROR(
        tdxCommand("KVM_TDX_INIT_VM", vm_.vm_fd, kTdxInitVm, 0, reinterpret_cast<uint64_t>(init)));
    IGVMKIT_RETURN_IF_ERROR(createVcpus());
    for (uint32_t i = 0; i < vcpus_; ++i) {
      IGVMKIT_RETURN_IF_ERROR(tdxCommand("KVM_TDX_INIT_VCPU", vm_.vcpu_fds[i], kTdxInitVcpu, 0, 0));
    }
    return okStatus();
  }

  const GuestRegion* regionOf(uint64_t gpa) const {
    for (const GuestRegion& r : vm_.memory) {
      if (gpa >= r.gpa && gpa - r.gpa < r.size) {
        return &r;
      }
    }
    return nullptr;
  }

  Status setAttributes(uint64_t gpa, uint64_t size, bool is_private) {
    kvm_memory_attributes a{};
    a.address = gpa;
    a.size = size;
    a.attributes = is_private ? kMemoryAttributePrivate : 0;
    return check("KVM_SET_MEMORY_ATTRIBUTES",
                 res_.device().ioctl(vm_.vm_fd, KVM_SET_MEMORY_ATTRIBUTES, &a));
  }

  Status applyOp(const MapMemory& m) {
    hv::Device& dev = res_.device();
    IGVMKIT_ASSIGN_OR_RETURN(std::byte * host, res_.mapAnonymous(m.size));
    GuestRegion region;
    region.gpa = m.gpa;
    region.size = m.size;
    region.host = host;
    uint32_t slot = next_slot_++;
    if (kind_ == BackendKind::kKvm) {
      kvm_userspace_memory_region r{};
      r.slot = slot;
      r.guest_phys_addr = m.gpa;
      r.memory_size = m.size;
      r.userspace_addr = reinterpret_cast<uint64_t>(host);
      IGVMKIT_RETURN_IF_ERROR(check("KVM_SET_USER_MEMORY_REGION",
                                    dev.ioctl(vm_.vm_fd, KVM_SET_USER_MEMORY_REGION, &r)));
      vm_.memory.push_back(region);
      return okStatus();
    }
    kvm_userspace_memory_region2 r{};
    r.slot = slot;
    r.guest_phys_addr = m.gpa;
    r.memory_size = m.size;
    r.userspace_addr = reinterpret_cast<uint64_t>(host);
    if (m.is_private) {
      kvm_create_guest_memfd g{};
      g.size = m.size;
      long gmem = dev.ioctl(vm_.vm_fd, KVM_CREATE_GUEST_MEMFD, &g);
      if (gmem < 0) {
        return hv::errnoError("KVM_CREATE_GUEST_MEMFD", gmem);
      }
      res_.ownFd(static_cast<int>(gmem));
      region.guest_memfd = static_cast<int>(gmem);
      r.flags = kMemGuestMemfd;
      r.guest_memfd = static_cast<uint32_t>(gmem);
    }
    IGVMKIT_RETURN_IF_ERROR(check("KVM_SET_USER_MEMORY_REGION2",
                                  dev.ioctl(vm_.vm_fd, KVM_SET_USER_MEMORY_REGION2, &r)));
    vm_.memory.push_back(region);
    if (m.is_private) {
      // Initial guest memory is private, as QEMU makes it; imports then measure into it.
      IGVMKIT_RETURN_IF_ERROR(setAttributes(m.gpa, m.size, true));
    }
    return okStatus();
  }

  Status snpUpdate(uint64_t gpa, uint64_t pages, uint8_t type) {
    IGVMKIT_ASSIGN_OR_RETURN(std::byte * host, hostAddress(vm_, gpa, pages * kPageSize));
    kvm_sev_snp_launch_update u{};
    u.gfn_start = gpa / kPageSize;
    u.uaddr = reinterpret_cast<uint64_t>(host);
    u.len = pages * kPageSize;
    u.type = type;
    // KVM may process part of the range; it advances gfn_start/uaddr/len (§3.3 step 5).
    for (int round = 0; round < kMaxRetries && u.len != 0; ++round) {
      uint64_t before = u.len;
      IGVMKIT_RETURN_IF_ERROR(sevCommand("KVM_SEV_SNP_LAUNCH_UPDATE", kSevSnpLaunchUpdate, &u));
      if (u.len >= before) {
        return internal("KVM_SEV_SNP_LAUNCH_UPDATE at " + hex(gpa) + " made no progress");
      }
    }
    if (u.len != 0) {
      return internal("KVM_SEV_SNP_LAUNCH_UPDATE at " + hex(gpa) + " did not finish");
    }
    return okStatus();
  }

  Status tdxAdd(uint64_t gpa, uint64_t pages, bool measured) {
    IGVMKIT_ASSIGN_OR_RETURN(std::byte * host, hostAddress(vm_, gpa, pages * kPageSize));
    kvm_tdx_init_mem_region r{};
    r.source_addr = reinterpret_cast<uint64_t>(host);
    r.gpa = gpa;
    r.nr_pages = pages;
    for (int round = 0; round < kMaxRetries && r.nr_pages != 0; ++round) {
      uint64_t before = r.nr_pages;
      IGVMKIT_RETURN_IF_ERROR(tdxCommand("KVM_TDX_INIT_MEM_REGION", vm_.vcpu_fds.at(0),
                                         kTdxInitMemRegion, measured ? kTdxMeasureMemoryRegion : 0,
                                         reinterpret_cast<uint64_t>(&r)));
      if (r.nr_pages >= before) {
        return internal("KVM_TDX_INIT_MEM_REGION at " + hex(gpa) + " made no progress");
      }
    }
    if (r.nr_pages != 0) {
      return internal("KVM_TDX_INIT_MEM_REGION at " + hex(gpa) + " did not finish");
    }
    return okStatus();
  }

  Status requirePrivate(uint64_t gpa) {
    const GuestRegion* r = regionOf(gpa);
    if (r == nullptr || r->guest_memfd < 0) {
      return unsupported("kvm.import_shared_memory",
                         "pages at " + hex(gpa) +
                             " are measured but lie in memory mapped without " +
                             "private (guest_memfd) backing");
    }
    return okStatus();
  }

  static uint8_t snpType(PageType t) {
    switch (t) {
      case PageType::kNormal:
        return kSnpPageNormal;
      case PageType::kZero:
        return kSnpPageZero;
      case PageType::kUnmeasured:
        return kSnpPageUnmeasured;
      case PageType::kSecrets:
        return kSnpPageSecrets;
      case PageType::kCpuid:
        return kSnpPageCpuid;
      case PageType::kVmsa:
        return 0;
    }
    return 0;
  }

  Status applyOp(const ImportPages& p) {
    IGVMKIT_RETURN_IF_ERROR(writePages(vm_, p.gpa, p.page_count, p.data));
    if (kind_ == BackendKind::kKvm) {
      return okStatus();
    }
    if ((p.flags & kPageFlagShared) != 0) {
      return setAttributes(p.gpa, p.page_count * kPageSize, false);
    }
    IGVMKIT_RETURN_IF_ERROR(requirePrivate(p.gpa));
    if (kind_ == BackendKind::kKvmSnp) {
      if (p.type == PageType::kVmsa) {
        return unsupported("kvm_snp.vmsa_import", "kvm has no vmsa page import");
      }
      return snpUpdate(p.gpa, p.page_count, snpType(p.type));
    }
    if (p.type != PageType::kNormal && p.type != PageType::kUnmeasured) {
      return unsupported("plan.page_type",
                         "kvm-tdx has no " + std::string(pageTypeName(p.type)) + " pages");
    }
    return tdxAdd(p.gpa, p.page_count, p.type == PageType::kNormal);
  }

  Status applyOp(const FillParameter& f) {
    uint64_t pages = f.size / kPageSize;
    IGVMKIT_RETURN_IF_ERROR(writeArea(vm_, f));
    if (kind_ == BackendKind::kKvm) {
      return okStatus();
    }
    IGVMKIT_RETURN_IF_ERROR(requirePrivate(f.gpa));
    if (kind_ == BackendKind::kKvmSnp) {
      return snpUpdate(f.gpa, pages, kSnpPageUnmeasured);
    }
    return tdxAdd(f.gpa, pages, false);
  }

  // The state's registers through hv/kvm_regs.h. `unusable_when_not_present`: a plain vCPU
  // needs non-present segments marked unusable; the kvm-snp backend copies the VMSA's as they are.
  Status setSregsAndRegs(int fd, const x86::VpState& state, bool unusable_when_not_present) {
    hv::Device& dev = res_.device();
    kvm_sregs s{};
    IGVMKIT_RETURN_IF_ERROR(check("KVM_GET_SREGS", dev.ioctl(fd, KVM_GET_SREGS, &s)));
    hv::kvm::setSregs(state, s, {.unusable_when_not_present = unusable_when_not_present});
    IGVMKIT_RETURN_IF_ERROR(check("KVM_SET_SREGS", dev.ioctl(fd, KVM_SET_SREGS, &s)));
    kvm_regs g = hv::kvm::toKvmRegs(state);
    return check("KVM_SET_REGS", dev.ioctl(fd, KVM_SET_REGS, &g));
  }

  Status applyOp(const SetVpState& s) {
    if (s.vp_index >= vm_.vcpu_fds.size()) {
      return invalid("plan.vp_index", "vp index " + std::to_string(s.vp_index) + " has no vcpu");
    }
    int fd = vm_.vcpu_fds[s.vp_index];
    if (const auto* regs = std::get_if<x86::VpState>(&s.state)) {
      if (kind_ != BackendKind::kKvm) {
        return unsupported("plan.vp_registers",
                           std::string(backendName(kind_)) + " cannot load vcpu registers");
      }
      // Only the registers the native context carries: XCR0, PAT and the rest keep the vCPU's
      // reset values (the state holds exactly those).
      IGVMKIT_RETURN_IF_ERROR(setSregsAndRegs(fd, *regs, true));
      vp_state_set_[s.vp_index] = true;
      return okStatus();
    }
    const SnpVmsa& vmsa = std::get<SnpVmsa>(s.state);
    if (kind_ != BackendKind::kKvmSnp) {
      return unsupported("plan.vp_vmsa",
                         std::string(backendName(kind_)) + " cannot load an snp vmsa");
    }
    if (vmsa.gpa != kKvmSnpVmsaGpa) {
      return unsupported(
          "kvm_snp.vmsa_gpa",
          "vmsa at " + hex(vmsa.gpa) + ", but kvm places every vmsa at " + hex(kKvmSnpVmsaGpa));
    }
    IGVMKIT_ASSIGN_OR_RETURN(x86::VpState st, decodeKvmVmsa(vmsa.page, setup_.sev_features));
    // KVM sets EFER.SVME itself; openvmm clears it before KVM_SET_SREGS (loader-vmm.md §1.2).
    st.efer &= ~kEferSvme;
    IGVMKIT_RETURN_IF_ERROR(setSregsAndRegs(fd, st, false));
    hv::Device& dev = res_.device();
    kvm_xcrs x{};
    x.nr_xcrs = 1;
    x.xcrs[0].xcr = 0;
    x.xcrs[0].value = st.xcr0;
    IGVMKIT_RETURN_IF_ERROR(check("KVM_SET_XCRS", dev.ioctl(fd, KVM_SET_XCRS, &x)));
    struct {
      kvm_msrs header;
      kvm_msr_entry entry;
    } msrs{};
    msrs.header.nmsrs = 1;
    msrs.entry.index = kMsrPat;
    msrs.entry.data = st.pat;
    long rc = dev.ioctl(fd, KVM_SET_MSRS, &msrs);
    if (rc != 1) {
      return rc < 0 ? Status(hv::errnoError("KVM_SET_MSRS", rc))
                    : Status(internal("KVM_SET_MSRS set " + std::to_string(rc) + " of 1 msrs"));
    }
    kvm_debugregs d{};
    d.dr6 = st.dr6;
    d.dr7 = st.dr7;
    IGVMKIT_RETURN_IF_ERROR(check("KVM_SET_DEBUGREGS", dev.ioctl(fd, KVM_SET_DEBUGREGS, &d)));
    kvm_fpu f{};
    f.fcw = st.fcw;
    f.mxcsr = st.mxcsr;
    IGVMKIT_RETURN_IF_ERROR(check("KVM_SET_FPU", dev.ioctl(fd, KVM_SET_FPU, &f)));
    vp_state_set_[s.vp_index] = true;
    return okStatus();
  }

  Status applyOp(const Finalize& f) {
    if (kind_ == BackendKind::kKvm) {
      return okStatus();
    }
    if (kind_ == BackendKind::kKvmTdx) {
      return tdxCommand("KVM_TDX_FINALIZE_VM", vm_.vm_fd, kTdxFinalizeVm, 0, 0);
    }
    for (uint32_t i = 0; i < vcpus_; ++i) {
      if (!vp_state_set_[i]) {
        return invalid(
            "kvm_snp.vp_missing",
            "vcpu " + std::to_string(i) + " has no vmsa, but kvm measures one for every vcpu");
      }
    }
    kvm_sev_snp_launch_finish fin{};
    std::memcpy(fin.host_data, f.host_data.data(), sizeof(fin.host_data));
    if (f.snp_id) {
      fin.id_block_uaddr = reinterpret_cast<uint64_t>(f.snp_id->id_block.data());
      fin.id_auth_uaddr = reinterpret_cast<uint64_t>(f.snp_id->id_auth.data());
      fin.id_block_en = 1;
      fin.auth_key_en = f.snp_id->author_key_enabled ? 1 : 0;
    }
    return sevCommand("KVM_SEV_SNP_LAUNCH_FINISH", kSevSnpLaunchFinish, &fin);
  }

  BackendKind kind_;
  Resources res_;
  LoadedVm vm_;
  LaunchSetup setup_;
  uint32_t vcpus_ = 0;
  int kvm_fd_ = -1;
  int sev_fd_ = -1;
  uint32_t next_slot_ = 0;
  bool started_ = false;
  std::vector<bool> vp_state_set_;
};

}  // namespace

std::unique_ptr<Backend> makeKvmBackend(BackendKind kind, hv::Device& device) {
  return std::make_unique<KvmBackend>(kind, device);
}

}  // namespace igvmkit::loader::detail
