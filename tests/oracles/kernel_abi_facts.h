// tests/oracles/kernel_abi_facts.h: the kernel ABI the KVM and MSHV backends use, as facts read
// from the kernels' own headers (numbers, sizes, offsets; no kernel code). Every fact names the
// header it was read from (a Source: repository, commit, path) and the line that declares it.
// Struct sizes and field offsets are what a C compiler gives for the header's declaration (the
// kernel's ABI is C); ioctl numbers are the header's _IO/_IOR/_IOW/_IOWR macro expanded for x86-64.
//
// kernel_abi_test.cc checks hv/{kvm,mshv}_abi.h against these at compile time. README.md
// says which kernel each source is and why the MSHV rows come from a downstream Microsoft kernel.
#pragma once

#include <cstdint>

namespace igvmkit::oracles::kernel {

struct Source {
  const char* repository;
  const char* commit;
  const char* path;
};

struct Fact {
  uint64_t value;
  const Source& source;
  int line;  // 1-based line of the declaration in `source`
};

// Upstream Linux 6.12.118, read from Debian's linux-source-6.12 (6.12.118-1~deb12u1), the stable
// tree's v6.12.118 as Debian ships it. 6.12 has SNP, guest_memfd and memory attributes; TDX came in
// 6.16, so the x86 header is read from kvm-x86 below.
inline constexpr Source kLinux612KvmH{"git.kernel.org stable/linux (Debian linux-source-6.12)",
                                      "v6.12.118", "include/uapi/linux/kvm.h"};
inline constexpr Source kLinux612KvmParaH{"git.kernel.org stable/linux (Debian linux-source-6.12)",
                                          "v6.12.118", "include/uapi/linux/kvm_para.h"};
inline constexpr Source kLinux612MsrIndexH{"git.kernel.org stable/linux (Debian linux-source-6.12)",
                                           "v6.12.118", "arch/x86/include/asm/msr-index.h"};
// The KVM x86 maintainer tree (SNP, TDX; after the 6.16 TDX merge).
inline constexpr Source kKvmX86AsmKvmH{"kvm-x86/linux", "3cfc1a8ee2b98970e79417bdc661aa359ce70d11",
                                       "arch/x86/include/uapi/asm/kvm.h"};
// Microsoft's kernel with the downstream /dev/mshv ABI (SNP isolation, isolated imports).
inline constexpr Source kMarinerMshvH{"microsoft/CBL-Mariner-Linux-Kernel",
                                      "11c2e90a7bab097b15efcd7a4fab14ed8efa7432",
                                      "include/uapi/linux/mshv.h"};
// Microsoft's hypervisor definitions (hvgdk_mini.h, hvhdk.h, hvhdk_mini.h) as maintained for MSHV
// userspace by rust-vmm/mshv, whose bindings cloud-hypervisor uses; the kernel's own
// include/hyperv copies carry only what the kernel itself touches.
inline constexpr Source kRustVmmHvgdkMiniH{
    "rust-vmm/mshv", "1032a5dedff0c03bec076156ce960bf2ef5d1783", "hv-headers/hvgdk_mini.h"};
inline constexpr Source kRustVmmHvhdkH{"rust-vmm/mshv", "1032a5dedff0c03bec076156ce960bf2ef5d1783",
                                       "hv-headers/hvhdk.h"};
inline constexpr Source kRustVmmHvhdkMiniH{
    "rust-vmm/mshv", "1032a5dedff0c03bec076156ce960bf2ef5d1783", "hv-headers/hvhdk_mini.h"};

// Per struct: struct_size (line of `struct NAME {`) and one fact per field offset (nested members
// of kvm_run's exit union as member_field). Then the constants and ioctl numbers, by kernel name.
namespace kvm_userspace_memory_region {
inline constexpr Fact struct_size{32, kLinux612KvmH, 30};
inline constexpr Fact slot{0, kLinux612KvmH, 31};
inline constexpr Fact flags{4, kLinux612KvmH, 32};
inline constexpr Fact guest_phys_addr{8, kLinux612KvmH, 33};
inline constexpr Fact memory_size{16, kLinux612KvmH, 34};
inline constexpr Fact userspace_addr{24, kLinux612KvmH, 35};
}  // namespace kvm_userspace_memory_region
namespace kvm_userspace_memory_region2 {
inline constexpr Fact struct_size{160, kLinux612KvmH, 39};
inline constexpr Fact slot{0, kLinux612KvmH, 40};
inline constexpr Fact flags{4, kLinux612KvmH, 41};
inline constexpr Fact guest_phys_addr{8, kLinux612KvmH, 42};
inline constexpr Fact memory_size{16, kLinux612KvmH, 43};
inline constexpr Fact userspace_addr{24, kLinux612KvmH, 44};
inline constexpr Fact guest_memfd_offset{32, kLinux612KvmH, 45};
inline constexpr Fact guest_memfd{40, kLinux612KvmH, 46};
inline constexpr Fact pad1{44, kLinux612KvmH, 47};
inline constexpr Fact pad2{48, kLinux612KvmH, 48};
}  // namespace kvm_userspace_memory_region2
namespace kvm_create_guest_memfd {
inline constexpr Fact struct_size{64, kLinux612KvmH, 1570};
inline constexpr Fact size{0, kLinux612KvmH, 1571};
inline constexpr Fact flags{8, kLinux612KvmH, 1572};
inline constexpr Fact reserved{16, kLinux612KvmH, 1573};
}  // namespace kvm_create_guest_memfd
namespace kvm_memory_attributes {
inline constexpr Fact struct_size{32, kLinux612KvmH, 1559};
inline constexpr Fact address{0, kLinux612KvmH, 1560};
inline constexpr Fact size{8, kLinux612KvmH, 1561};
inline constexpr Fact attributes{16, kLinux612KvmH, 1562};
inline constexpr Fact flags{24, kLinux612KvmH, 1563};
}  // namespace kvm_memory_attributes
namespace kvm_enable_cap {
inline constexpr Fact struct_size{104, kLinux612KvmH, 631};
inline constexpr Fact cap{0, kLinux612KvmH, 633};
inline constexpr Fact flags{4, kLinux612KvmH, 634};
inline constexpr Fact args{8, kLinux612KvmH, 635};
inline constexpr Fact pad{40, kLinux612KvmH, 636};
}  // namespace kvm_enable_cap
namespace kvm_run {
inline constexpr Fact struct_size{2352, kLinux612KvmH, 214};
inline constexpr Fact request_interrupt_window{0, kLinux612KvmH, 216};
inline constexpr Fact immediate_exit{1, kLinux612KvmH, 217};
inline constexpr Fact padding1{2, kLinux612KvmH, 218};
inline constexpr Fact exit_reason{8, kLinux612KvmH, 221};
inline constexpr Fact ready_for_interrupt_injection{12, kLinux612KvmH, 222};
inline constexpr Fact if_flag{13, kLinux612KvmH, 223};
inline constexpr Fact flags{14, kLinux612KvmH, 224};
inline constexpr Fact cr8{16, kLinux612KvmH, 227};
inline constexpr Fact apic_base{24, kLinux612KvmH, 228};
inline constexpr Fact fail_entry_hardware_entry_failure_reason{32, kLinux612KvmH, 242};
inline constexpr Fact fail_entry_cpu{40, kLinux612KvmH, 243};
inline constexpr Fact io_direction{32, kLinux612KvmH, 254};
inline constexpr Fact io_size{33, kLinux612KvmH, 255};
inline constexpr Fact io_port{34, kLinux612KvmH, 256};
inline constexpr Fact io_count{36, kLinux612KvmH, 257};
inline constexpr Fact io_data_offset{40, kLinux612KvmH, 258};
inline constexpr Fact mmio_phys_addr{32, kLinux612KvmH, 266};
inline constexpr Fact mmio_data{40, kLinux612KvmH, 267};
inline constexpr Fact mmio_len{48, kLinux612KvmH, 268};
inline constexpr Fact mmio_is_write{52, kLinux612KvmH, 269};
inline constexpr Fact internal_suberror{32, kLinux612KvmH, 318};
inline constexpr Fact internal_ndata{36, kLinux612KvmH, 320};
inline constexpr Fact internal_data{40, kLinux612KvmH, 321};
inline constexpr Fact system_event_type{32, kLinux612KvmH, 383};
inline constexpr Fact system_event_ndata{36, kLinux612KvmH, 384};
inline constexpr Fact system_event_data{40, kLinux612KvmH, 389};
inline constexpr Fact kvm_valid_regs{288, kLinux612KvmH, 469};
inline constexpr Fact kvm_dirty_regs{296, kLinux612KvmH, 470};
inline constexpr Fact s{304, kLinux612KvmH, 474};
}  // namespace kvm_run
namespace kvm_mp_state {
inline constexpr Fact struct_size{4, kLinux612KvmH, 580};
inline constexpr Fact mp_state{0, kLinux612KvmH, 581};
}  // namespace kvm_mp_state
namespace kvm_pit_config {
inline constexpr Fact struct_size{64, kLinux612KvmH, 91};
inline constexpr Fact flags{0, kLinux612KvmH, 92};
inline constexpr Fact pad{4, kLinux612KvmH, 93};
}  // namespace kvm_pit_config
namespace kvm_irq_level {
inline constexpr Fact struct_size{8, kLinux612KvmH, 61};
inline constexpr Fact irq{0, kLinux612KvmH, 69};
inline constexpr Fact level{4, kLinux612KvmH, 72};
}  // namespace kvm_irq_level
namespace kvm_regs {
inline constexpr Fact struct_size{144, kKvmX86AsmKvmH, 117};
inline constexpr Fact rax{0, kKvmX86AsmKvmH, 119};
inline constexpr Fact rbx{8, kKvmX86AsmKvmH, 119};
inline constexpr Fact rcx{16, kKvmX86AsmKvmH, 119};
inline constexpr Fact rdx{24, kKvmX86AsmKvmH, 119};
inline constexpr Fact rsi{32, kKvmX86AsmKvmH, 120};
inline constexpr Fact rdi{40, kKvmX86AsmKvmH, 120};
inline constexpr Fact rsp{48, kKvmX86AsmKvmH, 120};
inline constexpr Fact rbp{56, kKvmX86AsmKvmH, 120};
inline constexpr Fact r8{64, kKvmX86AsmKvmH, 121};
inline constexpr Fact r9{72, kKvmX86AsmKvmH, 121};
inline constexpr Fact r10{80, kKvmX86AsmKvmH, 121};
inline constexpr Fact r11{88, kKvmX86AsmKvmH, 121};
inline constexpr Fact r12{96, kKvmX86AsmKvmH, 122};
inline constexpr Fact r13{104, kKvmX86AsmKvmH, 122};
inline constexpr Fact r14{112, kKvmX86AsmKvmH, 122};
inline constexpr Fact r15{120, kKvmX86AsmKvmH, 122};
inline constexpr Fact rip{128, kKvmX86AsmKvmH, 123};
inline constexpr Fact rflags{136, kKvmX86AsmKvmH, 123};
}  // namespace kvm_regs
namespace kvm_segment {
inline constexpr Fact struct_size{24, kKvmX86AsmKvmH, 132};
inline constexpr Fact base{0, kKvmX86AsmKvmH, 133};
inline constexpr Fact limit{8, kKvmX86AsmKvmH, 134};
inline constexpr Fact selector{12, kKvmX86AsmKvmH, 135};
inline constexpr Fact type{14, kKvmX86AsmKvmH, 136};
inline constexpr Fact present{15, kKvmX86AsmKvmH, 137};
inline constexpr Fact dpl{16, kKvmX86AsmKvmH, 137};
inline constexpr Fact db{17, kKvmX86AsmKvmH, 137};
inline constexpr Fact s{18, kKvmX86AsmKvmH, 137};
inline constexpr Fact l{19, kKvmX86AsmKvmH, 137};
inline constexpr Fact g{20, kKvmX86AsmKvmH, 137};
inline constexpr Fact avl{21, kKvmX86AsmKvmH, 137};
inline constexpr Fact unusable{22, kKvmX86AsmKvmH, 138};
inline constexpr Fact padding{23, kKvmX86AsmKvmH, 139};
}  // namespace kvm_segment
namespace kvm_dtable {
inline constexpr Fact struct_size{16, kKvmX86AsmKvmH, 142};
inline constexpr Fact base{0, kKvmX86AsmKvmH, 143};
inline constexpr Fact limit{8, kKvmX86AsmKvmH, 144};
inline constexpr Fact padding{10, kKvmX86AsmKvmH, 145};
}  // namespace kvm_dtable
namespace kvm_sregs {
inline constexpr Fact struct_size{312, kKvmX86AsmKvmH, 150};
inline constexpr Fact cs{0, kKvmX86AsmKvmH, 152};
inline constexpr Fact ds{24, kKvmX86AsmKvmH, 152};
inline constexpr Fact es{48, kKvmX86AsmKvmH, 152};
inline constexpr Fact fs{72, kKvmX86AsmKvmH, 152};
inline constexpr Fact gs{96, kKvmX86AsmKvmH, 152};
inline constexpr Fact ss{120, kKvmX86AsmKvmH, 152};
inline constexpr Fact tr{144, kKvmX86AsmKvmH, 153};
inline constexpr Fact ldt{168, kKvmX86AsmKvmH, 153};
inline constexpr Fact gdt{192, kKvmX86AsmKvmH, 154};
inline constexpr Fact idt{208, kKvmX86AsmKvmH, 154};
inline constexpr Fact cr0{224, kKvmX86AsmKvmH, 155};
inline constexpr Fact cr2{232, kKvmX86AsmKvmH, 155};
inline constexpr Fact cr3{240, kKvmX86AsmKvmH, 155};
inline constexpr Fact cr4{248, kKvmX86AsmKvmH, 155};
inline constexpr Fact cr8{256, kKvmX86AsmKvmH, 155};
inline constexpr Fact efer{264, kKvmX86AsmKvmH, 156};
inline constexpr Fact apic_base{272, kKvmX86AsmKvmH, 157};
inline constexpr Fact interrupt_bitmap{280, kKvmX86AsmKvmH, 158};
}  // namespace kvm_sregs
namespace kvm_fpu {
inline constexpr Fact struct_size{416, kKvmX86AsmKvmH, 175};
inline constexpr Fact fpr{0, kKvmX86AsmKvmH, 176};
inline constexpr Fact fcw{128, kKvmX86AsmKvmH, 177};
inline constexpr Fact fsw{130, kKvmX86AsmKvmH, 178};
inline constexpr Fact ftwx{132, kKvmX86AsmKvmH, 179};
inline constexpr Fact pad1{133, kKvmX86AsmKvmH, 180};
inline constexpr Fact last_opcode{134, kKvmX86AsmKvmH, 181};
inline constexpr Fact last_ip{136, kKvmX86AsmKvmH, 182};
inline constexpr Fact last_dp{144, kKvmX86AsmKvmH, 183};
inline constexpr Fact xmm{152, kKvmX86AsmKvmH, 184};
inline constexpr Fact mxcsr{408, kKvmX86AsmKvmH, 185};
inline constexpr Fact pad2{412, kKvmX86AsmKvmH, 186};
}  // namespace kvm_fpu
namespace kvm_xcr {
inline constexpr Fact struct_size{16, kKvmX86AsmKvmH, 406};
inline constexpr Fact xcr{0, kKvmX86AsmKvmH, 407};
inline constexpr Fact reserved{4, kKvmX86AsmKvmH, 408};
inline constexpr Fact value{8, kKvmX86AsmKvmH, 409};
}  // namespace kvm_xcr
namespace kvm_xcrs {
inline constexpr Fact struct_size{392, kKvmX86AsmKvmH, 412};
inline constexpr Fact nr_xcrs{0, kKvmX86AsmKvmH, 413};
inline constexpr Fact flags{4, kKvmX86AsmKvmH, 414};
inline constexpr Fact xcrs{8, kKvmX86AsmKvmH, 415};
inline constexpr Fact padding{264, kKvmX86AsmKvmH, 416};
}  // namespace kvm_xcrs
namespace kvm_debugregs {
inline constexpr Fact struct_size{128, kKvmX86AsmKvmH, 377};
inline constexpr Fact db{0, kKvmX86AsmKvmH, 378};
inline constexpr Fact dr6{32, kKvmX86AsmKvmH, 379};
inline constexpr Fact dr7{40, kKvmX86AsmKvmH, 380};
inline constexpr Fact flags{48, kKvmX86AsmKvmH, 381};
inline constexpr Fact reserved{56, kKvmX86AsmKvmH, 382};
}  // namespace kvm_debugregs
namespace kvm_msr_entry {
inline constexpr Fact struct_size{16, kKvmX86AsmKvmH, 189};
inline constexpr Fact index{0, kKvmX86AsmKvmH, 190};
inline constexpr Fact reserved{4, kKvmX86AsmKvmH, 191};
inline constexpr Fact data{8, kKvmX86AsmKvmH, 192};
}  // namespace kvm_msr_entry
namespace kvm_msrs {
inline constexpr Fact struct_size{8, kKvmX86AsmKvmH, 196};
inline constexpr Fact nmsrs{0, kKvmX86AsmKvmH, 197};
inline constexpr Fact pad{4, kKvmX86AsmKvmH, 198};
inline constexpr Fact entries{8, kKvmX86AsmKvmH, 200};
}  // namespace kvm_msrs
namespace kvm_cpuid_entry2 {
inline constexpr Fact struct_size{40, kKvmX86AsmKvmH, 251};
inline constexpr Fact function{0, kKvmX86AsmKvmH, 252};
inline constexpr Fact index{4, kKvmX86AsmKvmH, 253};
inline constexpr Fact flags{8, kKvmX86AsmKvmH, 254};
inline constexpr Fact eax{12, kKvmX86AsmKvmH, 255};
inline constexpr Fact ebx{16, kKvmX86AsmKvmH, 256};
inline constexpr Fact ecx{20, kKvmX86AsmKvmH, 257};
inline constexpr Fact edx{24, kKvmX86AsmKvmH, 258};
inline constexpr Fact padding{28, kKvmX86AsmKvmH, 259};
}  // namespace kvm_cpuid_entry2
namespace kvm_cpuid2 {
inline constexpr Fact struct_size{8, kKvmX86AsmKvmH, 267};
inline constexpr Fact nent{0, kKvmX86AsmKvmH, 268};
inline constexpr Fact padding{4, kKvmX86AsmKvmH, 269};
inline constexpr Fact entries{8, kKvmX86AsmKvmH, 270};
}  // namespace kvm_cpuid2
namespace kvm_lapic_state {
inline constexpr Fact struct_size{1024, kKvmX86AsmKvmH, 128};
inline constexpr Fact regs{0, kKvmX86AsmKvmH, 129};
}  // namespace kvm_lapic_state
namespace kvm_sev_cmd {
inline constexpr Fact struct_size{24, kKvmX86AsmKvmH, 753};
inline constexpr Fact id{0, kKvmX86AsmKvmH, 754};
inline constexpr Fact pad0{4, kKvmX86AsmKvmH, 755};
inline constexpr Fact data{8, kKvmX86AsmKvmH, 756};
inline constexpr Fact error{16, kKvmX86AsmKvmH, 757};
inline constexpr Fact sev_fd{20, kKvmX86AsmKvmH, 758};
}  // namespace kvm_sev_cmd
namespace kvm_sev_init {
inline constexpr Fact struct_size{48, kKvmX86AsmKvmH, 761};
inline constexpr Fact vmsa_features{0, kKvmX86AsmKvmH, 762};
inline constexpr Fact flags{8, kKvmX86AsmKvmH, 763};
inline constexpr Fact ghcb_version{12, kKvmX86AsmKvmH, 764};
inline constexpr Fact pad1{14, kKvmX86AsmKvmH, 765};
inline constexpr Fact pad2{16, kKvmX86AsmKvmH, 766};
}  // namespace kvm_sev_init
namespace kvm_sev_snp_launch_start {
inline constexpr Fact struct_size{64, kKvmX86AsmKvmH, 877};
inline constexpr Fact policy{0, kKvmX86AsmKvmH, 878};
inline constexpr Fact gosvw{8, kKvmX86AsmKvmH, 879};
inline constexpr Fact flags{24, kKvmX86AsmKvmH, 880};
inline constexpr Fact pad0{26, kKvmX86AsmKvmH, 881};
inline constexpr Fact pad1{32, kKvmX86AsmKvmH, 882};
}  // namespace kvm_sev_snp_launch_start
namespace kvm_sev_snp_launch_update {
inline constexpr Fact struct_size{64, kKvmX86AsmKvmH, 893};
inline constexpr Fact gfn_start{0, kKvmX86AsmKvmH, 894};
inline constexpr Fact uaddr{8, kKvmX86AsmKvmH, 895};
inline constexpr Fact len{16, kKvmX86AsmKvmH, 896};
inline constexpr Fact type{24, kKvmX86AsmKvmH, 897};
inline constexpr Fact pad0{25, kKvmX86AsmKvmH, 898};
inline constexpr Fact flags{26, kKvmX86AsmKvmH, 899};
inline constexpr Fact pad1{28, kKvmX86AsmKvmH, 900};
inline constexpr Fact pad2{32, kKvmX86AsmKvmH, 901};
}  // namespace kvm_sev_snp_launch_update
namespace kvm_sev_snp_launch_finish {
inline constexpr Fact struct_size{88, kKvmX86AsmKvmH, 908};
inline constexpr Fact id_block_uaddr{0, kKvmX86AsmKvmH, 909};
inline constexpr Fact id_auth_uaddr{8, kKvmX86AsmKvmH, 910};
inline constexpr Fact id_block_en{16, kKvmX86AsmKvmH, 911};
inline constexpr Fact auth_key_en{17, kKvmX86AsmKvmH, 912};
inline constexpr Fact vcek_disabled{18, kKvmX86AsmKvmH, 913};
inline constexpr Fact host_data{19, kKvmX86AsmKvmH, 914};
inline constexpr Fact pad0{51, kKvmX86AsmKvmH, 915};
inline constexpr Fact flags{54, kKvmX86AsmKvmH, 916};
inline constexpr Fact pad1{56, kKvmX86AsmKvmH, 917};
}  // namespace kvm_sev_snp_launch_finish
namespace kvm_tdx_cmd {
inline constexpr Fact struct_size{24, kKvmX86AsmKvmH, 987};
inline constexpr Fact id{0, kKvmX86AsmKvmH, 989};
inline constexpr Fact flags{4, kKvmX86AsmKvmH, 991};
inline constexpr Fact data{8, kKvmX86AsmKvmH, 997};
inline constexpr Fact hw_error{16, kKvmX86AsmKvmH, 1002};
}  // namespace kvm_tdx_cmd
namespace kvm_tdx_capabilities {
inline constexpr Fact struct_size{2056, kKvmX86AsmKvmH, 1005};
inline constexpr Fact supported_attrs{0, kKvmX86AsmKvmH, 1006};
inline constexpr Fact supported_xfam{8, kKvmX86AsmKvmH, 1007};
inline constexpr Fact kernel_tdvmcallinfo_1_r11{16, kKvmX86AsmKvmH, 1009};
inline constexpr Fact user_tdvmcallinfo_1_r11{24, kKvmX86AsmKvmH, 1010};
inline constexpr Fact kernel_tdvmcallinfo_1_r12{32, kKvmX86AsmKvmH, 1011};
inline constexpr Fact user_tdvmcallinfo_1_r12{40, kKvmX86AsmKvmH, 1012};
inline constexpr Fact reserved{48, kKvmX86AsmKvmH, 1014};
inline constexpr Fact cpuid{2048, kKvmX86AsmKvmH, 1017};
}  // namespace kvm_tdx_capabilities
namespace kvm_tdx_init_vm {
inline constexpr Fact struct_size{264, kKvmX86AsmKvmH, 1020};
inline constexpr Fact attributes{0, kKvmX86AsmKvmH, 1021};
inline constexpr Fact xfam{8, kKvmX86AsmKvmH, 1022};
inline constexpr Fact mrconfigid{16, kKvmX86AsmKvmH, 1023};
inline constexpr Fact mrowner{64, kKvmX86AsmKvmH, 1024};
inline constexpr Fact mrownerconfig{112, kKvmX86AsmKvmH, 1025};
inline constexpr Fact reserved{160, kKvmX86AsmKvmH, 1028};
inline constexpr Fact cpuid{256, kKvmX86AsmKvmH, 1040};
}  // namespace kvm_tdx_init_vm
namespace kvm_tdx_init_mem_region {
inline constexpr Fact struct_size{24, kKvmX86AsmKvmH, 1045};
inline constexpr Fact source_addr{0, kKvmX86AsmKvmH, 1046};
inline constexpr Fact gpa{8, kKvmX86AsmKvmH, 1047};
inline constexpr Fact nr_pages{16, kKvmX86AsmKvmH, 1048};
}  // namespace kvm_tdx_init_mem_region
namespace mshv_create_partition {
inline constexpr Fact struct_size{16, kMarinerMshvH, 182};
inline constexpr Fact pt_flags{0, kMarinerMshvH, 183};
inline constexpr Fact pt_isolation{8, kMarinerMshvH, 184};
}  // namespace mshv_create_partition
namespace mshv_create_vp {
inline constexpr Fact struct_size{4, kMarinerMshvH, 199};
inline constexpr Fact vp_index{0, kMarinerMshvH, 200};
}  // namespace mshv_create_vp
namespace mshv_user_mem_region {
inline constexpr Fact struct_size{32, kMarinerMshvH, 225};
inline constexpr Fact size{0, kMarinerMshvH, 226};
inline constexpr Fact guest_pfn{8, kMarinerMshvH, 227};
inline constexpr Fact userspace_addr{16, kMarinerMshvH, 228};
inline constexpr Fact flags{24, kMarinerMshvH, 229};
inline constexpr Fact rsvd{25, kMarinerMshvH, 230};
}  // namespace mshv_user_mem_region
namespace mshv_root_hvcall {
inline constexpr Fact struct_size{32, kMarinerMshvH, 380};
inline constexpr Fact code{0, kMarinerMshvH, 381};
inline constexpr Fact reps{2, kMarinerMshvH, 382};
inline constexpr Fact in_sz{4, kMarinerMshvH, 383};
inline constexpr Fact out_sz{6, kMarinerMshvH, 384};
inline constexpr Fact status{8, kMarinerMshvH, 385};
inline constexpr Fact rsvd{10, kMarinerMshvH, 386};
inline constexpr Fact in_ptr{16, kMarinerMshvH, 387};
inline constexpr Fact out_ptr{24, kMarinerMshvH, 388};
}  // namespace mshv_root_hvcall
namespace mshv_import_isolated_pages {
inline constexpr Fact struct_size{16, kMarinerMshvH, 359};
inline constexpr Fact page_type{0, kMarinerMshvH, 360};
inline constexpr Fact rsvd{1, kMarinerMshvH, 361};
inline constexpr Fact page_count{8, kMarinerMshvH, 362};
inline constexpr Fact guest_pfns{16, kMarinerMshvH, 363};
}  // namespace mshv_import_isolated_pages
namespace mshv_partition_property {
inline constexpr Fact struct_size{16, kMarinerMshvH, 59};
inline constexpr Fact property_code{0, kMarinerMshvH, 60};
inline constexpr Fact property_value{8, kMarinerMshvH, 61};
}  // namespace mshv_partition_property
namespace mshv_run_vp {
inline constexpr Fact struct_size{256, kMarinerMshvH, 444};
inline constexpr Fact msg_buf{0, kMarinerMshvH, 445};
}  // namespace mshv_run_vp
namespace mshv_complete_isolated_import {
inline constexpr Fact struct_size{3334, kMarinerMshvH, 130};
inline constexpr Fact import_data{0, kMarinerMshvH, 131};
}  // namespace mshv_complete_isolated_import
namespace hv_partition_complete_isolated_import_data {
inline constexpr Fact struct_size{3334, kRustVmmHvhdkMiniH, 164};
inline constexpr Fact psp_parameters{0, kRustVmmHvhdkMiniH, 166};
}  // namespace hv_partition_complete_isolated_import_data
namespace hv_psp_launch_finish_data {
inline constexpr Fact struct_size{3334, kRustVmmHvhdkMiniH, 156};
inline constexpr Fact id_block{0, kRustVmmHvhdkMiniH, 157};
inline constexpr Fact id_auth_info{96, kRustVmmHvhdkMiniH, 158};
inline constexpr Fact host_data{3300, kRustVmmHvhdkMiniH, 159};
inline constexpr Fact id_block_enabled{3332, kRustVmmHvhdkMiniH, 160};
inline constexpr Fact author_key_enabled{3333, kRustVmmHvhdkMiniH, 161};
}  // namespace hv_psp_launch_finish_data
namespace hv_snp_id_block {
inline constexpr Fact struct_size{96, kRustVmmHvhdkMiniH, 136};
inline constexpr Fact launch_digest{0, kRustVmmHvhdkMiniH, 137};
inline constexpr Fact family_id{48, kRustVmmHvhdkMiniH, 138};
inline constexpr Fact image_id{64, kRustVmmHvhdkMiniH, 139};
inline constexpr Fact version{80, kRustVmmHvhdkMiniH, 140};
inline constexpr Fact guest_svn{84, kRustVmmHvhdkMiniH, 141};
inline constexpr Fact policy{88, kRustVmmHvhdkMiniH, 142};
}  // namespace hv_snp_id_block
namespace hv_snp_id_auth_info {
inline constexpr Fact struct_size{3204, kRustVmmHvhdkMiniH, 145};
inline constexpr Fact id_key_algorithm{0, kRustVmmHvhdkMiniH, 146};
inline constexpr Fact auth_key_algorithm{4, kRustVmmHvhdkMiniH, 147};
inline constexpr Fact reserved0{8, kRustVmmHvhdkMiniH, 148};
inline constexpr Fact id_block_signature{64, kRustVmmHvhdkMiniH, 149};
inline constexpr Fact id_key{576, kRustVmmHvhdkMiniH, 150};
inline constexpr Fact reserved1{1604, kRustVmmHvhdkMiniH, 151};
inline constexpr Fact id_key_signature{1664, kRustVmmHvhdkMiniH, 152};
inline constexpr Fact author_key{2176, kRustVmmHvhdkMiniH, 153};
}  // namespace hv_snp_id_auth_info
namespace hv_input_set_partition_property {
inline constexpr Fact struct_size{24, kRustVmmHvhdkH, 523};
inline constexpr Fact partition_id{0, kRustVmmHvhdkH, 524};
inline constexpr Fact property_code{8, kRustVmmHvhdkH, 525};
inline constexpr Fact padding{12, kRustVmmHvhdkH, 526};
inline constexpr Fact property_value{16, kRustVmmHvhdkH, 527};
}  // namespace hv_input_set_partition_property
namespace hv_input_get_partition_property {
inline constexpr Fact struct_size{16, kRustVmmHvhdkH, 513};
inline constexpr Fact partition_id{0, kRustVmmHvhdkH, 514};
inline constexpr Fact property_code{8, kRustVmmHvhdkH, 515};
inline constexpr Fact padding{12, kRustVmmHvhdkH, 516};
}  // namespace hv_input_get_partition_property
namespace hv_input_set_vp_registers {
inline constexpr Fact struct_size{16, kRustVmmHvgdkMiniH, 1811};
inline constexpr Fact partition_id{0, kRustVmmHvgdkMiniH, 1812};
inline constexpr Fact vp_index{8, kRustVmmHvgdkMiniH, 1813};
inline constexpr Fact input_vtl{12, kRustVmmHvgdkMiniH, 1814};
inline constexpr Fact rsvd_z8{13, kRustVmmHvgdkMiniH, 1815};
inline constexpr Fact rsvd_z16{14, kRustVmmHvgdkMiniH, 1816};
}  // namespace hv_input_set_vp_registers
namespace hv_register_assoc {
inline constexpr Fact struct_size{32, kRustVmmHvgdkMiniH, 1795};
inline constexpr Fact name{0, kRustVmmHvgdkMiniH, 1796};
inline constexpr Fact reserved1{4, kRustVmmHvgdkMiniH, 1797};
inline constexpr Fact reserved2{8, kRustVmmHvgdkMiniH, 1798};
inline constexpr Fact value{16, kRustVmmHvgdkMiniH, 1799};
}  // namespace hv_register_assoc
namespace hv_x64_segment_register {
inline constexpr Fact struct_size{16, kRustVmmHvgdkMiniH, 356};
inline constexpr Fact base{0, kRustVmmHvgdkMiniH, 357};
inline constexpr Fact limit{8, kRustVmmHvgdkMiniH, 358};
inline constexpr Fact selector{12, kRustVmmHvgdkMiniH, 359};
inline constexpr Fact attributes{14, kRustVmmHvgdkMiniH, 372};
}  // namespace hv_x64_segment_register
namespace hv_x64_table_register {
inline constexpr Fact struct_size{16, kRustVmmHvgdkMiniH, 376};
inline constexpr Fact pad{0, kRustVmmHvgdkMiniH, 377};
inline constexpr Fact limit{6, kRustVmmHvgdkMiniH, 378};
inline constexpr Fact base{8, kRustVmmHvgdkMiniH, 379};
}  // namespace hv_x64_table_register
namespace hv_message_header {
inline constexpr Fact struct_size{16, kRustVmmHvgdkMiniH, 338};
inline constexpr Fact message_type{0, kRustVmmHvgdkMiniH, 339};
inline constexpr Fact payload_size{4, kRustVmmHvgdkMiniH, 340};
inline constexpr Fact message_flags{5, kRustVmmHvgdkMiniH, 341};
inline constexpr Fact reserved{6, kRustVmmHvgdkMiniH, 342};
inline constexpr Fact sender{8, kRustVmmHvgdkMiniH, 344};
}  // namespace hv_message_header
namespace hv_message {
inline constexpr Fact struct_size{256, kRustVmmHvgdkMiniH, 349};
inline constexpr Fact header{0, kRustVmmHvgdkMiniH, 350};
inline constexpr Fact u{16, kRustVmmHvgdkMiniH, 353};
}  // namespace hv_message
namespace hv_x64_intercept_message_header {
inline constexpr Fact struct_size{40, kRustVmmHvhdkH, 848};
inline constexpr Fact vp_index{0, kRustVmmHvhdkH, 849};
inline constexpr Fact intercept_access_type{5, kRustVmmHvhdkH, 852};
inline constexpr Fact execution_state{6, kRustVmmHvhdkH, 853};
inline constexpr Fact cs_segment{8, kRustVmmHvhdkH, 854};
inline constexpr Fact rip{24, kRustVmmHvhdkH, 855};
inline constexpr Fact rflags{32, kRustVmmHvhdkH, 856};
inline constexpr Fact instruction_length{4, kRustVmmHvhdkH, 850};
}  // namespace hv_x64_intercept_message_header
namespace hv_x64_io_port_intercept_message {
inline constexpr Fact struct_size{128, kRustVmmHvhdkH, 960};
inline constexpr Fact header{0, kRustVmmHvhdkH, 961};
inline constexpr Fact port_number{40, kRustVmmHvhdkH, 962};
inline constexpr Fact access_info{42, kRustVmmHvhdkH, 963};
inline constexpr Fact instruction_byte_count{43, kRustVmmHvhdkH, 964};
inline constexpr Fact reserved{44, kRustVmmHvhdkH, 965};
inline constexpr Fact rax{48, kRustVmmHvhdkH, 966};
inline constexpr Fact instruction_bytes{56, kRustVmmHvhdkH, 967};
inline constexpr Fact ds_segment{72, kRustVmmHvhdkH, 968};
inline constexpr Fact es_segment{88, kRustVmmHvhdkH, 969};
inline constexpr Fact rcx{104, kRustVmmHvhdkH, 970};
inline constexpr Fact rsi{112, kRustVmmHvhdkH, 971};
inline constexpr Fact rdi{120, kRustVmmHvhdkH, 972};
}  // namespace hv_x64_io_port_intercept_message
namespace hv_x64_memory_intercept_message {
inline constexpr Fact struct_size{80, kRustVmmHvhdkH, 928};
inline constexpr Fact header{0, kRustVmmHvhdkH, 929};
inline constexpr Fact cache_type{40, kRustVmmHvhdkH, 930};
inline constexpr Fact instruction_byte_count{44, kRustVmmHvhdkH, 931};
inline constexpr Fact memory_access_info{45, kRustVmmHvhdkH, 932};
inline constexpr Fact tpr_priority{46, kRustVmmHvhdkH, 933};
inline constexpr Fact reserved1{47, kRustVmmHvhdkH, 934};
inline constexpr Fact guest_virtual_address{48, kRustVmmHvhdkH, 935};
inline constexpr Fact guest_physical_address{56, kRustVmmHvhdkH, 936};
inline constexpr Fact instruction_bytes{64, kRustVmmHvhdkH, 937};
}  // namespace hv_x64_memory_intercept_message
inline constexpr Fact KVMIO{0xAE, kLinux612KvmH, 639};
inline constexpr Fact KVM_MEM_LOG_DIRTY_PAGES{1, kLinux612KvmH, 56};
inline constexpr Fact KVM_MEM_READONLY{2, kLinux612KvmH, 57};
inline constexpr Fact KVM_MEM_GUEST_MEMFD{4, kLinux612KvmH, 58};
inline constexpr Fact KVM_MEMORY_ATTRIBUTE_PRIVATE{8, kLinux612KvmH, 1566};
inline constexpr Fact KVM_EXIT_IO{2, kLinux612KvmH, 148};
inline constexpr Fact KVM_EXIT_HLT{5, kLinux612KvmH, 151};
inline constexpr Fact KVM_EXIT_MMIO{6, kLinux612KvmH, 152};
inline constexpr Fact KVM_EXIT_IRQ_WINDOW_OPEN{7, kLinux612KvmH, 153};
inline constexpr Fact KVM_EXIT_SHUTDOWN{8, kLinux612KvmH, 154};
inline constexpr Fact KVM_EXIT_FAIL_ENTRY{9, kLinux612KvmH, 155};
inline constexpr Fact KVM_EXIT_INTR{0xA, kLinux612KvmH, 156};
inline constexpr Fact KVM_EXIT_INTERNAL_ERROR{0x11, kLinux612KvmH, 163};
inline constexpr Fact KVM_EXIT_SYSTEM_EVENT{0x18, kLinux612KvmH, 170};
inline constexpr Fact KVM_EXIT_IO_IN{0, kLinux612KvmH, 252};
inline constexpr Fact KVM_EXIT_IO_OUT{1, kLinux612KvmH, 253};
inline constexpr Fact KVM_SYSTEM_EVENT_SHUTDOWN{1, kLinux612KvmH, 377};
inline constexpr Fact KVM_SYSTEM_EVENT_RESET{2, kLinux612KvmH, 378};
inline constexpr Fact KVM_MP_STATE_RUNNABLE{0, kLinux612KvmH, 568};
inline constexpr Fact KVM_MP_STATE_UNINITIALIZED{1, kLinux612KvmH, 569};
inline constexpr Fact KVM_MP_STATE_INIT_RECEIVED{2, kLinux612KvmH, 570};
inline constexpr Fact KVM_MP_STATE_HALTED{3, kLinux612KvmH, 571};
inline constexpr Fact KVM_PIT_SPEAKER_DUMMY{1, kLinux612KvmH, 96};
inline constexpr Fact KVM_CAP_IMMEDIATE_EXIT{0x88, kLinux612KvmH, 838};
inline constexpr Fact KVM_CAP_EXIT_HYPERCALL{0xC9, kLinux612KvmH, 903};
inline constexpr Fact KVM_CAP_USER_MEMORY2{0xE7, kLinux612KvmH, 933};
inline constexpr Fact KVM_CAP_MEMORY_ATTRIBUTES{0xE9, kLinux612KvmH, 935};
inline constexpr Fact KVM_CAP_GUEST_MEMFD{0xEA, kLinux612KvmH, 936};
inline constexpr Fact KVM_CAP_VM_TYPES{0xEB, kLinux612KvmH, 937};
inline constexpr Fact KVM_GET_API_VERSION{0xAE00, kLinux612KvmH, 667};
inline constexpr Fact KVM_CREATE_VM{0xAE01, kLinux612KvmH, 668};
inline constexpr Fact KVM_CHECK_EXTENSION{0xAE03, kLinux612KvmH, 676};
inline constexpr Fact KVM_GET_SUPPORTED_CPUID{0xC008AE05, kLinux612KvmH, 681};
inline constexpr Fact KVM_GET_VCPU_MMAP_SIZE{0xAE04, kLinux612KvmH, 680};
inline constexpr Fact KVM_CREATE_VCPU{0xAE41, kLinux612KvmH, 1178};
inline constexpr Fact KVM_SET_USER_MEMORY_REGION{0x4020AE46, kLinux612KvmH, 1182};
inline constexpr Fact KVM_SET_TSS_ADDR{0xAE47, kLinux612KvmH, 1184};
inline constexpr Fact KVM_SET_IDENTITY_MAP_ADDR{0x4008AE48, kLinux612KvmH, 1185};
inline constexpr Fact KVM_SET_USER_MEMORY_REGION2{0x40A0AE49, kLinux612KvmH, 1186};
inline constexpr Fact KVM_CREATE_IRQCHIP{0xAE60, kLinux612KvmH, 1195};
inline constexpr Fact KVM_IRQ_LINE{0x4008AE61, kLinux612KvmH, 1196};
inline constexpr Fact KVM_CREATE_PIT2{0x4040AE77, kLinux612KvmH, 1210};
inline constexpr Fact KVM_RUN{0xAE80, kLinux612KvmH, 1270};
inline constexpr Fact KVM_GET_REGS{0x8090AE81, kLinux612KvmH, 1271};
inline constexpr Fact KVM_SET_REGS{0x4090AE82, kLinux612KvmH, 1272};
inline constexpr Fact KVM_GET_SREGS{0x8138AE83, kLinux612KvmH, 1273};
inline constexpr Fact KVM_SET_SREGS{0x4138AE84, kLinux612KvmH, 1274};
inline constexpr Fact KVM_GET_MSRS{0xC008AE88, kLinux612KvmH, 1277};
inline constexpr Fact KVM_SET_MSRS{0x4008AE89, kLinux612KvmH, 1278};
inline constexpr Fact KVM_SET_FPU{0x41A0AE8D, kLinux612KvmH, 1282};
inline constexpr Fact KVM_GET_LAPIC{0x8400AE8E, kLinux612KvmH, 1283};
inline constexpr Fact KVM_SET_LAPIC{0x4400AE8F, kLinux612KvmH, 1284};
inline constexpr Fact KVM_SET_CPUID2{0x4008AE90, kLinux612KvmH, 1285};
inline constexpr Fact KVM_GET_MP_STATE{0x8004AE98, kLinux612KvmH, 1301};
inline constexpr Fact KVM_SET_MP_STATE{0x4004AE99, kLinux612KvmH, 1302};
inline constexpr Fact KVM_SET_DEBUGREGS{0x4080AEA2, kLinux612KvmH, 1316};
inline constexpr Fact KVM_ENABLE_CAP{0x4068AEA3, kLinux612KvmH, 1321};
inline constexpr Fact KVM_SET_XCRS{0x4188AEA7, kLinux612KvmH, 1327};
inline constexpr Fact KVM_MEMORY_ENCRYPT_OP{0xC008AEBA, kLinux612KvmH, 1354};
inline constexpr Fact KVM_SET_MEMORY_ATTRIBUTES{0x4020AED2, kLinux612KvmH, 1557};
inline constexpr Fact KVM_CREATE_GUEST_MEMFD{0xC040AED4, kLinux612KvmH, 1568};
inline constexpr Fact KVM_SEV_INIT2{0x16, kKvmX86AsmKvmH, 742};
inline constexpr Fact KVM_SEV_SNP_LAUNCH_START{0x64, kKvmX86AsmKvmH, 745};
inline constexpr Fact KVM_SEV_SNP_LAUNCH_UPDATE{0x65, kKvmX86AsmKvmH, 746};
inline constexpr Fact KVM_SEV_SNP_LAUNCH_FINISH{0x66, kKvmX86AsmKvmH, 747};
inline constexpr Fact KVM_SEV_SNP_PAGE_TYPE_NORMAL{1, kKvmX86AsmKvmH, 887};
inline constexpr Fact KVM_SEV_SNP_PAGE_TYPE_ZERO{3, kKvmX86AsmKvmH, 888};
inline constexpr Fact KVM_SEV_SNP_PAGE_TYPE_UNMEASURED{4, kKvmX86AsmKvmH, 889};
inline constexpr Fact KVM_SEV_SNP_PAGE_TYPE_SECRETS{5, kKvmX86AsmKvmH, 890};
inline constexpr Fact KVM_SEV_SNP_PAGE_TYPE_CPUID{6, kKvmX86AsmKvmH, 891};
inline constexpr Fact KVM_SEV_SNP_ID_BLOCK_SIZE{0x60, kKvmX86AsmKvmH, 904};
inline constexpr Fact KVM_SEV_SNP_ID_AUTH_SIZE{0x1000, kKvmX86AsmKvmH, 905};
inline constexpr Fact KVM_X86_DEFAULT_VM{0, kKvmX86AsmKvmH, 968};
inline constexpr Fact KVM_X86_SNP_VM{4, kKvmX86AsmKvmH, 972};
inline constexpr Fact KVM_X86_TDX_VM{5, kKvmX86AsmKvmH, 973};
inline constexpr Fact KVM_TDX_CAPABILITIES{0, kKvmX86AsmKvmH, 977};
inline constexpr Fact KVM_TDX_INIT_VM{1, kKvmX86AsmKvmH, 978};
inline constexpr Fact KVM_TDX_INIT_VCPU{2, kKvmX86AsmKvmH, 979};
inline constexpr Fact KVM_TDX_INIT_MEM_REGION{3, kKvmX86AsmKvmH, 980};
inline constexpr Fact KVM_TDX_FINALIZE_VM{4, kKvmX86AsmKvmH, 981};
inline constexpr Fact KVM_TDX_MEASURE_MEMORY_REGION{1, kKvmX86AsmKvmH, 1043};
inline constexpr Fact KVM_HC_MAP_GPA_RANGE{0xC, kLinux612KvmParaH, 32};
inline constexpr Fact MSR_IA32_CR_PAT{0x277, kLinux612MsrIndexH, 388};
inline constexpr Fact MSHV_IOCTL{0xB8, kMarinerMshvH, 25};
inline constexpr Fact MSHV_PT_BIT_LAPIC{0, kMarinerMshvH, 158};
inline constexpr Fact MSHV_PT_BIT_X2APIC{1, kMarinerMshvH, 159};
inline constexpr Fact MSHV_PT_BIT_GPA_SUPER_PAGES{2, kMarinerMshvH, 160};
inline constexpr Fact MSHV_PT_BIT_COUNT{3, kMarinerMshvH, 161};
inline constexpr Fact MSHV_PT_ISOLATION_NONE{0, kMarinerMshvH, 166};
inline constexpr Fact MSHV_PT_ISOLATION_SNP{1, kMarinerMshvH, 167};
inline constexpr Fact MSHV_SET_MEM_BIT_WRITABLE{0, kMarinerMshvH, 204};
inline constexpr Fact MSHV_SET_MEM_BIT_EXECUTABLE{1, kMarinerMshvH, 205};
inline constexpr Fact MSHV_SET_MEM_BIT_UNMAP{2, kMarinerMshvH, 206};
inline constexpr Fact MSHV_ISOLATED_PAGE_NORMAL{0, kMarinerMshvH, 341};
inline constexpr Fact MSHV_ISOLATED_PAGE_VMSA{1, kMarinerMshvH, 342};
inline constexpr Fact MSHV_ISOLATED_PAGE_ZERO{2, kMarinerMshvH, 343};
inline constexpr Fact MSHV_ISOLATED_PAGE_UNMEASURED{3, kMarinerMshvH, 344};
inline constexpr Fact MSHV_ISOLATED_PAGE_SECRETS{4, kMarinerMshvH, 345};
inline constexpr Fact MSHV_ISOLATED_PAGE_CPUID{5, kMarinerMshvH, 346};
inline constexpr Fact MSHV_RUN_VP_BUF_SZ{0x100, kMarinerMshvH, 426};
inline constexpr Fact MSHV_CREATE_PARTITION{0x4010B800, kMarinerMshvH, 188};
inline constexpr Fact MSHV_INITIALIZE_PARTITION{0xB800, kMarinerMshvH, 392};
inline constexpr Fact MSHV_CREATE_VP{0x4004B801, kMarinerMshvH, 393};
inline constexpr Fact MSHV_SET_GUEST_MEMORY{0x4020B802, kMarinerMshvH, 394};
inline constexpr Fact MSHV_ROOT_HVCALL{0xC020B807, kMarinerMshvH, 400};
inline constexpr Fact MSHV_IMPORT_ISOLATED_PAGES{0x4010B80A, kMarinerMshvH, 405};
inline constexpr Fact MSHV_GET_PARTITION_PROPERTY{0xC010B8F3, kMarinerMshvH, 410};
inline constexpr Fact MSHV_COMPLETE_ISOLATED_IMPORT{0x4D06B8F4, kMarinerMshvH, 411};
inline constexpr Fact MSHV_RUN_VP{0x8100B800, kMarinerMshvH, 472};
inline constexpr Fact HVCALL_GET_PARTITION_PROPERTY{0x44, kRustVmmHvgdkMiniH, 157};
inline constexpr Fact HVCALL_SET_PARTITION_PROPERTY{0x45, kRustVmmHvgdkMiniH, 158};
inline constexpr Fact HVCALL_GET_VP_REGISTERS{0x50, kRustVmmHvgdkMiniH, 162};
inline constexpr Fact HVCALL_SET_VP_REGISTERS{0x51, kRustVmmHvgdkMiniH, 163};
inline constexpr Fact HVMSG_NONE{0, kRustVmmHvgdkMiniH, 275};
inline constexpr Fact HVMSG_UNMAPPED_GPA{0x80000000, kRustVmmHvgdkMiniH, 278};
inline constexpr Fact HVMSG_GPA_INTERCEPT{0x80000001, kRustVmmHvgdkMiniH, 279};
inline constexpr Fact HVMSG_TIMER_EXPIRED{0x80000010, kRustVmmHvgdkMiniH, 284};
inline constexpr Fact HVMSG_INVALID_VP_REGISTER_VALUE{0x80000020, kRustVmmHvgdkMiniH, 287};
inline constexpr Fact HVMSG_UNRECOVERABLE_EXCEPTION{0x80000021, kRustVmmHvgdkMiniH, 288};
inline constexpr Fact HVMSG_UNSUPPORTED_FEATURE{0x80000022, kRustVmmHvgdkMiniH, 289};
inline constexpr Fact HVMSG_X64_IO_PORT_INTERCEPT{0x80010000, kRustVmmHvgdkMiniH, 316};
inline constexpr Fact HVMSG_X64_MSR_INTERCEPT{0x80010001, kRustVmmHvgdkMiniH, 317};
inline constexpr Fact HVMSG_X64_CPUID_INTERCEPT{0x80010002, kRustVmmHvgdkMiniH, 318};
inline constexpr Fact HVMSG_X64_EXCEPTION_INTERCEPT{0x80010003, kRustVmmHvgdkMiniH, 319};
inline constexpr Fact HVMSG_X64_HALT{0x80010007, kRustVmmHvgdkMiniH, 323};
inline constexpr Fact HV_X64_REGISTER_RAX{0x20000, kRustVmmHvgdkMiniH, 654};
inline constexpr Fact HV_X64_REGISTER_RCX{0x20001, kRustVmmHvgdkMiniH, 655};
inline constexpr Fact HV_X64_REGISTER_RDX{0x20002, kRustVmmHvgdkMiniH, 656};
inline constexpr Fact HV_X64_REGISTER_RBX{0x20003, kRustVmmHvgdkMiniH, 657};
inline constexpr Fact HV_X64_REGISTER_RSP{0x20004, kRustVmmHvgdkMiniH, 658};
inline constexpr Fact HV_X64_REGISTER_RBP{0x20005, kRustVmmHvgdkMiniH, 659};
inline constexpr Fact HV_X64_REGISTER_RSI{0x20006, kRustVmmHvgdkMiniH, 660};
inline constexpr Fact HV_X64_REGISTER_RDI{0x20007, kRustVmmHvgdkMiniH, 661};
inline constexpr Fact HV_X64_REGISTER_R8{0x20008, kRustVmmHvgdkMiniH, 662};
inline constexpr Fact HV_X64_REGISTER_RIP{0x20010, kRustVmmHvgdkMiniH, 670};
inline constexpr Fact HV_X64_REGISTER_RFLAGS{0x20011, kRustVmmHvgdkMiniH, 671};
inline constexpr Fact HV_X64_REGISTER_CR0{0x40000, kRustVmmHvgdkMiniH, 702};
inline constexpr Fact HV_X64_REGISTER_CR3{0x40002, kRustVmmHvgdkMiniH, 704};
inline constexpr Fact HV_X64_REGISTER_CR4{0x40003, kRustVmmHvgdkMiniH, 705};
inline constexpr Fact HV_X64_REGISTER_ES{0x60000, kRustVmmHvgdkMiniH, 724};
inline constexpr Fact HV_X64_REGISTER_CS{0x60001, kRustVmmHvgdkMiniH, 725};
inline constexpr Fact HV_X64_REGISTER_SS{0x60002, kRustVmmHvgdkMiniH, 726};
inline constexpr Fact HV_X64_REGISTER_DS{0x60003, kRustVmmHvgdkMiniH, 727};
inline constexpr Fact HV_X64_REGISTER_FS{0x60004, kRustVmmHvgdkMiniH, 728};
inline constexpr Fact HV_X64_REGISTER_GS{0x60005, kRustVmmHvgdkMiniH, 729};
inline constexpr Fact HV_X64_REGISTER_LDTR{0x60006, kRustVmmHvgdkMiniH, 730};
inline constexpr Fact HV_X64_REGISTER_TR{0x60007, kRustVmmHvgdkMiniH, 731};
inline constexpr Fact HV_X64_REGISTER_IDTR{0x70000, kRustVmmHvgdkMiniH, 734};
inline constexpr Fact HV_X64_REGISTER_GDTR{0x70001, kRustVmmHvgdkMiniH, 735};
inline constexpr Fact HV_X64_REGISTER_EFER{0x80001, kRustVmmHvgdkMiniH, 739};
inline constexpr Fact HV_X64_REGISTER_SEV_CONTROL{0x90040, kRustVmmHvgdkMiniH, 898};
inline constexpr Fact HV_INTERCEPT_ACCESS_READ{0, kRustVmmHvgdkMiniH, 1895};
inline constexpr Fact HV_INTERCEPT_ACCESS_WRITE{1, kRustVmmHvgdkMiniH, 1896};
inline constexpr Fact HV_INTERCEPT_ACCESS_EXECUTE{2, kRustVmmHvgdkMiniH, 1897};
inline constexpr Fact HV_PARTITION_ISOLATION_SECURE{3, kRustVmmHvhdkH, 487};
inline constexpr Fact HV_PARTITION_PROPERTY_ISOLATION_STATE{0x5000C, kRustVmmHvhdkMiniH, 53};
inline constexpr Fact HV_PARTITION_PROPERTY_ISOLATION_POLICY{0x50014, kRustVmmHvhdkMiniH, 60};

// The older downstream numbering of the isolated-import ioctls (before July 2024), for the README's
// comparison; the backend does not use it.
inline constexpr Source kRustVmmIoctlsBefore{
    "rust-vmm/mshv", "e7cbfcab3b9fa9532161341d680e8f5855a5c105", "mshv-ioctls/src/mshv_ioctls.rs"};
inline constexpr Fact MSHV_IMPORT_ISOLATED_PAGES_nr_before_2024_07{0x29, kRustVmmIoctlsBefore, 114};
inline constexpr Fact MSHV_COMPLETE_ISOLATED_IMPORT_nr_before_2024_07{0x30, kRustVmmIoctlsBefore,
                                                                      120};

}  // namespace igvmkit::oracles::kernel
