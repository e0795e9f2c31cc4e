// hv/testing/fake_device_validate.cc: FakeDevice::validate(), every recorded ioctl's argument
// checked against the kernel's structures and the order the kernel requires.
#include <cstring>

#include "hv/kvm_abi.h"
#include "hv/mshv_abi.h"
#include "hv/testing/fake_device.h"
#include "hv/testing/internal/kernel_ioctls.h"

namespace igvmkit::hv::testing {

using namespace detail;  // NOLINT
using namespace kvm;     // NOLINT
using namespace mshv;    // NOLINT

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

}  // namespace igvmkit::hv::testing
