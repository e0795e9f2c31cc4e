// hv/testing/fake_device_answers.cc: what FakeDevice answers an ioctl (and an MSHV hypercall)
// that no test scripted, as a cooperative kernel would (and what it keeps for later calls).
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "hv/kvm_abi.h"
#include "hv/mshv_abi.h"
#include "hv/testing/fake_device.h"
#include "hv/testing/internal/kernel_ioctls.h"

namespace igvmkit::hv::testing {

using namespace detail;  // NOLINT
using namespace kvm;     // NOLINT
using namespace mshv;    // NOLINT

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
