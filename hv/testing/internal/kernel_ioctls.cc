// hv/testing/internal/kernel_ioctls.cc: the fake's tables of the kernel's ioctls
// (kernel_ioctls.h).
#include "hv/testing/internal/kernel_ioctls.h"

#include "hv/kvm_abi.h"
#include "hv/mshv_abi.h"

namespace igvmkit::hv::testing::detail {

using namespace kvm;   // NOLINT
using namespace mshv;  // NOLINT

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

namespace {

// Requests without their size field, so that a request with the wrong _IOC_SIZE is still named
// (and then refused for its size).
constexpr unsigned long kIocSizeField = 0x3FFFul << 16;
constexpr unsigned long withoutSize(unsigned long request) { return request & ~kIocSizeField; }

// Every request the fake names, by its local name.
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

}  // namespace

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

namespace {

// The kernel's definition of every ioctl the fake answers, by local name.
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
       {k::MSHV_CREATE_PARTITION, &k::mshv_create_partition::struct_size, "mshv_create_partition"}},
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

}  // namespace

// The kernel's definition of the ioctl a request names (by its local name), or nullptr.
const KernelIoctl* kernelIoctl(unsigned long request) {
  const std::string* name = requestName(request);
  if (name == nullptr) {
    return nullptr;
  }
  auto it = kernelIoctls().find(*name);
  return it == kernelIoctls().end() ? nullptr : &it->second;
}

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

}  // namespace igvmkit::hv::testing::detail
