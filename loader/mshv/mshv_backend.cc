// The mshv and mshv-snp backends (/dev/mshv; loader-vmm.md §2).
//
// Both flavours of the uAPI are supported where they can be (§2.1): partitions, vCPUs, guest
// memory, and register and property writes through the MSHV_ROOT_HVCALL pass-through exist
// upstream and downstream. SNP isolation and the isolated-import ioctls (0x0A, 0xF4) exist only
// in Microsoft's downstream kernels; on upstream, mshv-snp fails with a message saying so.
#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include "loader/internal/backends.h"
#include "hv/mshv_abi.h"
#include "hv/mshv_regs.h"

namespace igvmkit::loader::detail {
namespace {

using namespace hv::mshv;  // NOLINT: the ABI names read like the kernel's

inline constexpr int kMaxRetries = 1000;
// Register writes per SET_VP_REGISTERS call: (4096 - 16) / 32 fits the pass-through page.
inline constexpr size_t kMaxRegsPerCall = 127;

class MshvBackend final : public Backend {
 public:
  MshvBackend(BackendKind kind, hv::Device& device) : kind_(kind), res_(device) {}
  BackendKind kind() const override { return kind_; }
  const LoadedVm& vm() const override { return vm_; }
  MshvFlavor flavor() const { return flavor_; }

  Status start(const Plan& plan) override {
    if (started_) {
      return internal("backend already started");
    }
    started_ = true;
    setup_ = plan.setup;
    hv::Device& dev = res_.device();
    int mshv_fd = dev.open("/dev/mshv", O_RDWR | O_CLOEXEC);
    if (mshv_fd < 0) {
      return hv::errnoError("open /dev/mshv", mshv_fd);
    }
    res_.ownFd(mshv_fd);
    bool snp = kind_ == BackendKind::kMshvSnp;
    mshv_create_partition args{};
    args.pt_flags = kPtBitLapic | kPtBitX2apic | kPtBitGpaSuperPages;
    args.pt_isolation = snp ? kIsolationSnp : kIsolationNone;
    long pt = dev.ioctl(mshv_fd, MSHV_CREATE_PARTITION, &args);
    if (pt < 0) {
      if (snp && pt == -EINVAL) {
        return unsupported("mshv.no_snp",
                           "/dev/mshv refused an snp-isolated partition: upstream mshv has no snp "
                           "isolation; mshv-snp needs a downstream (Microsoft) kernel");
      }
      return hv::errnoError("MSHV_CREATE_PARTITION", pt);
    }
    res_.ownFd(static_cast<int>(pt));
    vm_.vm_fd = static_cast<int>(pt);
    // Downstream kernels answer the partition-property ioctl (0xF3); upstream ones do not know it.
    mshv_partition_property probe{kPropIsolationState, 0};
    long rc = dev.ioctl(vm_.vm_fd, MSHV_GET_PARTITION_PROPERTY, &probe);
    flavor_ = rc == -ENOTTY || rc == -EINVAL ? MshvFlavor::kUpstream : MshvFlavor::kDownstream;
    if (snp && flavor_ == MshvFlavor::kUpstream) {
      return unsupported("mshv.no_snp",
                         "this /dev/mshv is the upstream flavour, which has no "
                         "isolated-import ioctls; mshv-snp needs a downstream "
                         "(Microsoft) kernel");
    }
    IGVMKIT_RETURN_IF_ERROR(
        check("MSHV_INITIALIZE_PARTITION", dev.ioctl(vm_.vm_fd, MSHV_INITIALIZE_PARTITION, 0ul)));
    if (snp) {
      IGVMKIT_RETURN_IF_ERROR(setProperty(kPropIsolationPolicy, setup_.snp_policy));
    }
    for (uint32_t i = 0; i < plan.config.vcpus; ++i) {
      mshv_create_vp vp{i};
      long fd = dev.ioctl(vm_.vm_fd, MSHV_CREATE_VP, &vp);
      if (fd < 0) {
        return hv::errnoError("MSHV_CREATE_VP(" + std::to_string(i) + ")", fd);
      }
      res_.ownFd(static_cast<int>(fd));
      vm_.vcpu_fds.push_back(static_cast<int>(fd));
    }
    vmsa_gpa_.assign(plan.config.vcpus, std::nullopt);
    if (snp) {
      IGVMKIT_RETURN_IF_ERROR(setProperty(kPropIsolationState, kIsolationStateSecure));
    }
    return okStatus();
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

  // MSHV_ROOT_HVCALL: the kernel fills in the partition id and deposits memory on -EAGAIN.
  Status hvcall(const char* name, uint16_t code, uint16_t reps, ByteVector& input) {
    mshv_root_hvcall call{};
    call.code = code;
    call.reps = reps;
    call.in_sz = static_cast<uint16_t>(input.size());
    call.in_ptr = reinterpret_cast<uint64_t>(input.data());
    for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
      call.status = 0;
      long rc = res_.device().ioctl(vm_.vm_fd, MSHV_ROOT_HVCALL, &call);
      if (rc == -EAGAIN) {
        continue;
      }
      if (rc < 0) {
        Error e = hv::errnoError(std::string("MSHV_ROOT_HVCALL(") + name + ")", rc);
        e.message += ", hv status " + hex(call.status);
        return e;
      }
      return okStatus();
    }
    return internal(std::string(name) + " kept returning EAGAIN");
  }

  Status setProperty(uint32_t code, uint64_t value) {
    hv_input_set_partition_property in{};
    in.property_code = code;
    in.property_value = value;
    ByteVector bytes;
    appendStruct(bytes, in);
    return hvcall("SET_PARTITION_PROPERTY", kHvcallSetPartitionProperty, 0, bytes);
  }

  Status setRegisters(uint32_t vp, const std::vector<hv_register_assoc>& regs) {
    for (size_t first = 0; first < regs.size(); first += kMaxRegsPerCall) {
      size_t n = std::min(kMaxRegsPerCall, regs.size() - first);
      hv_input_set_vp_registers head{};
      head.vp_index = vp;
      ByteVector bytes;
      appendStruct(bytes, head);
      for (size_t i = 0; i < n; ++i) {
        appendStruct(bytes, regs[first + i]);
      }
      IGVMKIT_RETURN_IF_ERROR(
          hvcall("SET_VP_REGISTERS", kHvcallSetVpRegisters, static_cast<uint16_t>(n), bytes));
    }
    return okStatus();
  }

  Status importIsolated(uint64_t gpa, uint64_t pages, uint8_t type) {
    ByteVector arg;
    mshv_import_isolated_pages head{};
    head.page_type = type;
    head.page_count = pages;
    appendStruct(arg, head);
    for (uint64_t i = 0; i < pages; ++i) {
      appendStruct(arg, gpa / kPageSize + i);
    }
    return check("MSHV_IMPORT_ISOLATED_PAGES",
                 res_.device().ioctl(vm_.vm_fd, MSHV_IMPORT_ISOLATED_PAGES, arg.data()));
  }

  static uint8_t isoType(PageType t) {
    switch (t) {
      case PageType::kNormal:
        return kIsoPageNormal;
      case PageType::kZero:
        return kIsoPageZero;
      case PageType::kUnmeasured:
        return kIsoPageUnmeasured;
      case PageType::kSecrets:
        return kIsoPageSecrets;
      case PageType::kCpuid:
        return kIsoPageCpuid;
      case PageType::kVmsa:
        return kIsoPageVmsa;
    }
    return kIsoPageNormal;
  }

  Status applyOp(const MapMemory& m) {
    IGVMKIT_ASSIGN_OR_RETURN(std::byte * host, res_.mapAnonymous(m.size));
    mshv_user_mem_region r{};
    r.size = m.size;
    r.guest_pfn = m.gpa / kPageSize;
    r.userspace_addr = reinterpret_cast<uint64_t>(host);
    r.flags = kMemWritable | kMemExecutable;
    IGVMKIT_RETURN_IF_ERROR(
        check("MSHV_SET_GUEST_MEMORY", res_.device().ioctl(vm_.vm_fd, MSHV_SET_GUEST_MEMORY, &r)));
    GuestRegion region;
    region.gpa = m.gpa;
    region.size = m.size;
    region.host = host;
    vm_.memory.push_back(region);
    return okStatus();
  }

  Status applyOp(const ImportPages& p) {
    IGVMKIT_RETURN_IF_ERROR(writePages(vm_, p.gpa, p.page_count, p.data));
    if (kind_ == BackendKind::kMshv || (p.flags & kPageFlagShared) != 0) {
      return okStatus();  // host-visible pages are simply written
    }
    return importIsolated(p.gpa, p.page_count, isoType(p.type));
  }

  Status applyOp(const FillParameter& f) {
    uint64_t pages = f.size / kPageSize;
    IGVMKIT_RETURN_IF_ERROR(writeArea(vm_, f));
    if (kind_ == BackendKind::kMshv) {
      return okStatus();
    }
    return importIsolated(f.gpa, pages, kIsoPageUnmeasured);
  }

  Status applyOp(const SetVpState& s) {
    if (s.vp_index >= vm_.vcpu_fds.size()) {
      return invalid("plan.vp_index", "vp index " + std::to_string(s.vp_index) + " has no vp");
    }
    if (const auto* r = std::get_if<x86::VpState>(&s.state)) {
      if (kind_ != BackendKind::kMshv) {
        return unsupported("plan.vp_registers", "mshv-snp cannot load vcpu registers");
      }
      return setRegisters(s.vp_index, registersFor(*r));
    }
    const SnpVmsa& vmsa = std::get<SnpVmsa>(s.state);
    if (kind_ != BackendKind::kMshvSnp) {
      return unsupported("plan.vp_vmsa", "mshv cannot load an snp vmsa");
    }
    // The hypervisor measures the VMSA page itself, at the file's GPA and in this position.
    IGVMKIT_RETURN_IF_ERROR(writePages(vm_, vmsa.gpa, 1, vmsa.page));
    IGVMKIT_RETURN_IF_ERROR(importIsolated(vmsa.gpa, 1, kIsoPageVmsa));
    vmsa_gpa_[s.vp_index] = vmsa.gpa;
    return okStatus();
  }

  Status applyOp(const Finalize& f) {
    if (kind_ == BackendKind::kMshv) {
      return okStatus();
    }
    auto data = std::make_unique<hv_partition_complete_isolated_import_data>();
    std::memset(data.get(), 0, sizeof(*data));
    hv_psp_launch_finish_data& psp = data->psp_parameters;
    std::memcpy(psp.host_data, f.host_data.data(), sizeof(psp.host_data));
    if (f.snp_id) {
      const auto& blk = f.snp_id->id_block;
      const auto& auth = f.snp_id->id_auth;
      std::memcpy(&psp.id_block, blk.data(), sizeof(psp.id_block));
      // Firmware ID_AUTH_INFO (4096 B) -> the hypervisor's packed 3204-byte form: the same
      // fields up to the author key (measurement.md §2.2, loader-vmm.md §2.3).
      std::memcpy(&psp.id_auth_info, auth.data(), sizeof(psp.id_auth_info));
      psp.id_block_enabled = 1;
      psp.author_key_enabled = f.snp_id->author_key_enabled ? 1 : 0;
    }
    IGVMKIT_RETURN_IF_ERROR(
        check("MSHV_COMPLETE_ISOLATED_IMPORT",
              res_.device().ioctl(vm_.vm_fd, MSHV_COMPLETE_ISOLATED_IMPORT, data.get())));
    // Point each VP with a VMSA at it: SEV_CONTROL bit 0 enables, bits 12-63 hold the GPN.
    for (uint32_t i = 0; i < vmsa_gpa_.size(); ++i) {
      if (vmsa_gpa_[i]) {
        IGVMKIT_RETURN_IF_ERROR(setRegisters(i, {register64(kRegSevControl, *vmsa_gpa_[i] | 1)}));
      }
    }
    return okStatus();
  }

  BackendKind kind_;
  Resources res_;
  LoadedVm vm_;
  LaunchSetup setup_;
  MshvFlavor flavor_ = MshvFlavor::kUnknown;
  bool started_ = false;
  std::vector<std::optional<uint64_t>> vmsa_gpa_;
};

}  // namespace

std::unique_ptr<Backend> makeMshvBackend(BackendKind kind, hv::Device& device) {
  return std::make_unique<MshvBackend>(kind, device);
}

MshvFlavor mshvFlavorOf(const Backend& backend) {
  return static_cast<const MshvBackend&>(backend).flavor();
}

}  // namespace igvmkit::loader::detail
