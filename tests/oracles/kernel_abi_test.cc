// hv/{kvm,mshv}_abi.h against the kernels' own headers (kernel_abi_facts.h): every ioctl
// number, struct size and field offset the backends and the run loops use is a static_assert here,
// so a wrong number fails the build of this test, not only a fake device that shares the mistake.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/oracles/kernel_abi_facts.h"

// The ABI headers under test, and their namespace (hv/abi/ once the hv package owns them).
#include "hv/mshv_abi.h"  // includes kvm_abi.h
namespace ours = ::igvmkit::hv;

namespace {

namespace f = ::igvmkit::oracles::kernel;

// Struct sizes, field offsets and constants. Offsets of flexible array members (kvm_cpuid2.entries,
// kvm_msrs.entries, mshv_import_isolated_pages.guest_pfns) equal the local header's struct size:
// the local structs end where the kernel's array starts. Bit numbers (MSHV_PT_BIT_*,
// MSHV_SET_MEM_BIT_*) are compared as the masks the local header defines.
static_assert(sizeof(ours::kvm::kvm_userspace_memory_region) ==
              f::kvm_userspace_memory_region::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region, slot) ==
              f::kvm_userspace_memory_region::slot.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region, flags) ==
              f::kvm_userspace_memory_region::flags.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region, guest_phys_addr) ==
              f::kvm_userspace_memory_region::guest_phys_addr.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region, memory_size) ==
              f::kvm_userspace_memory_region::memory_size.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region, userspace_addr) ==
              f::kvm_userspace_memory_region::userspace_addr.value);
static_assert(sizeof(ours::kvm::kvm_userspace_memory_region2) ==
              f::kvm_userspace_memory_region2::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region2, slot) ==
              f::kvm_userspace_memory_region2::slot.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region2, flags) ==
              f::kvm_userspace_memory_region2::flags.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region2, guest_phys_addr) ==
              f::kvm_userspace_memory_region2::guest_phys_addr.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region2, memory_size) ==
              f::kvm_userspace_memory_region2::memory_size.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region2, userspace_addr) ==
              f::kvm_userspace_memory_region2::userspace_addr.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region2, guest_memfd_offset) ==
              f::kvm_userspace_memory_region2::guest_memfd_offset.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region2, guest_memfd) ==
              f::kvm_userspace_memory_region2::guest_memfd.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region2, pad1) ==
              f::kvm_userspace_memory_region2::pad1.value);
static_assert(offsetof(ours::kvm::kvm_userspace_memory_region2, pad2) ==
              f::kvm_userspace_memory_region2::pad2.value);
static_assert(sizeof(ours::kvm::kvm_create_guest_memfd) ==
              f::kvm_create_guest_memfd::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_create_guest_memfd, size) ==
              f::kvm_create_guest_memfd::size.value);
static_assert(offsetof(ours::kvm::kvm_create_guest_memfd, flags) ==
              f::kvm_create_guest_memfd::flags.value);
static_assert(offsetof(ours::kvm::kvm_create_guest_memfd, reserved) ==
              f::kvm_create_guest_memfd::reserved.value);
static_assert(sizeof(ours::kvm::kvm_memory_attributes) ==
              f::kvm_memory_attributes::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_memory_attributes, address) ==
              f::kvm_memory_attributes::address.value);
static_assert(offsetof(ours::kvm::kvm_memory_attributes, size) ==
              f::kvm_memory_attributes::size.value);
static_assert(offsetof(ours::kvm::kvm_memory_attributes, attributes) ==
              f::kvm_memory_attributes::attributes.value);
static_assert(offsetof(ours::kvm::kvm_memory_attributes, flags) ==
              f::kvm_memory_attributes::flags.value);
static_assert(sizeof(ours::kvm::kvm_enable_cap) == f::kvm_enable_cap::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_enable_cap, cap) == f::kvm_enable_cap::cap.value);
static_assert(offsetof(ours::kvm::kvm_enable_cap, flags) == f::kvm_enable_cap::flags.value);
static_assert(offsetof(ours::kvm::kvm_enable_cap, args) == f::kvm_enable_cap::args.value);
static_assert(offsetof(ours::kvm::kvm_enable_cap, pad) == f::kvm_enable_cap::pad.value);
static_assert(sizeof(ours::kvm::kvm_run) == f::kvm_run::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_run, request_interrupt_window) ==
              f::kvm_run::request_interrupt_window.value);
static_assert(offsetof(ours::kvm::kvm_run, immediate_exit) == f::kvm_run::immediate_exit.value);
static_assert(offsetof(ours::kvm::kvm_run, padding1) == f::kvm_run::padding1.value);
static_assert(offsetof(ours::kvm::kvm_run, exit_reason) == f::kvm_run::exit_reason.value);
static_assert(offsetof(ours::kvm::kvm_run, ready_for_interrupt_injection) ==
              f::kvm_run::ready_for_interrupt_injection.value);
static_assert(offsetof(ours::kvm::kvm_run, if_flag) == f::kvm_run::if_flag.value);
static_assert(offsetof(ours::kvm::kvm_run, flags) == f::kvm_run::flags.value);
static_assert(offsetof(ours::kvm::kvm_run, cr8) == f::kvm_run::cr8.value);
static_assert(offsetof(ours::kvm::kvm_run, apic_base) == f::kvm_run::apic_base.value);
static_assert(offsetof(ours::kvm::kvm_run, fail_entry.hardware_entry_failure_reason) ==
              f::kvm_run::fail_entry_hardware_entry_failure_reason.value);
static_assert(offsetof(ours::kvm::kvm_run, fail_entry.cpu) == f::kvm_run::fail_entry_cpu.value);
static_assert(offsetof(ours::kvm::kvm_run, io.direction) == f::kvm_run::io_direction.value);
static_assert(offsetof(ours::kvm::kvm_run, io.size) == f::kvm_run::io_size.value);
static_assert(offsetof(ours::kvm::kvm_run, io.port) == f::kvm_run::io_port.value);
static_assert(offsetof(ours::kvm::kvm_run, io.count) == f::kvm_run::io_count.value);
static_assert(offsetof(ours::kvm::kvm_run, io.data_offset) == f::kvm_run::io_data_offset.value);
static_assert(offsetof(ours::kvm::kvm_run, mmio.phys_addr) == f::kvm_run::mmio_phys_addr.value);
static_assert(offsetof(ours::kvm::kvm_run, mmio.data) == f::kvm_run::mmio_data.value);
static_assert(offsetof(ours::kvm::kvm_run, mmio.len) == f::kvm_run::mmio_len.value);
static_assert(offsetof(ours::kvm::kvm_run, mmio.is_write) == f::kvm_run::mmio_is_write.value);
static_assert(offsetof(ours::kvm::kvm_run, internal.suberror) ==
              f::kvm_run::internal_suberror.value);
static_assert(offsetof(ours::kvm::kvm_run, internal.ndata) == f::kvm_run::internal_ndata.value);
static_assert(offsetof(ours::kvm::kvm_run, internal.data) == f::kvm_run::internal_data.value);
static_assert(offsetof(ours::kvm::kvm_run, system_event.type) ==
              f::kvm_run::system_event_type.value);
static_assert(offsetof(ours::kvm::kvm_run, system_event.ndata) ==
              f::kvm_run::system_event_ndata.value);
static_assert(offsetof(ours::kvm::kvm_run, system_event.data) ==
              f::kvm_run::system_event_data.value);
static_assert(offsetof(ours::kvm::kvm_run, kvm_valid_regs) == f::kvm_run::kvm_valid_regs.value);
static_assert(offsetof(ours::kvm::kvm_run, kvm_dirty_regs) == f::kvm_run::kvm_dirty_regs.value);
static_assert(offsetof(ours::kvm::kvm_run, sync_regs) == f::kvm_run::s.value);
static_assert(sizeof(ours::kvm::kvm_mp_state) == f::kvm_mp_state::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_mp_state, mp_state) == f::kvm_mp_state::mp_state.value);
static_assert(sizeof(ours::kvm::kvm_pit_config) == f::kvm_pit_config::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_pit_config, flags) == f::kvm_pit_config::flags.value);
static_assert(offsetof(ours::kvm::kvm_pit_config, pad) == f::kvm_pit_config::pad.value);
static_assert(sizeof(ours::kvm::kvm_irq_level) == f::kvm_irq_level::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_irq_level, irq) == f::kvm_irq_level::irq.value);
static_assert(offsetof(ours::kvm::kvm_irq_level, level) == f::kvm_irq_level::level.value);
static_assert(sizeof(ours::kvm::kvm_regs) == f::kvm_regs::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_regs, rax) == f::kvm_regs::rax.value);
static_assert(offsetof(ours::kvm::kvm_regs, rbx) == f::kvm_regs::rbx.value);
static_assert(offsetof(ours::kvm::kvm_regs, rcx) == f::kvm_regs::rcx.value);
static_assert(offsetof(ours::kvm::kvm_regs, rdx) == f::kvm_regs::rdx.value);
static_assert(offsetof(ours::kvm::kvm_regs, rsi) == f::kvm_regs::rsi.value);
static_assert(offsetof(ours::kvm::kvm_regs, rdi) == f::kvm_regs::rdi.value);
static_assert(offsetof(ours::kvm::kvm_regs, rsp) == f::kvm_regs::rsp.value);
static_assert(offsetof(ours::kvm::kvm_regs, rbp) == f::kvm_regs::rbp.value);
static_assert(offsetof(ours::kvm::kvm_regs, r8) == f::kvm_regs::r8.value);
static_assert(offsetof(ours::kvm::kvm_regs, r9) == f::kvm_regs::r9.value);
static_assert(offsetof(ours::kvm::kvm_regs, r10) == f::kvm_regs::r10.value);
static_assert(offsetof(ours::kvm::kvm_regs, r11) == f::kvm_regs::r11.value);
static_assert(offsetof(ours::kvm::kvm_regs, r12) == f::kvm_regs::r12.value);
static_assert(offsetof(ours::kvm::kvm_regs, r13) == f::kvm_regs::r13.value);
static_assert(offsetof(ours::kvm::kvm_regs, r14) == f::kvm_regs::r14.value);
static_assert(offsetof(ours::kvm::kvm_regs, r15) == f::kvm_regs::r15.value);
static_assert(offsetof(ours::kvm::kvm_regs, rip) == f::kvm_regs::rip.value);
static_assert(offsetof(ours::kvm::kvm_regs, rflags) == f::kvm_regs::rflags.value);
static_assert(sizeof(ours::kvm::kvm_segment) == f::kvm_segment::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_segment, base) == f::kvm_segment::base.value);
static_assert(offsetof(ours::kvm::kvm_segment, limit) == f::kvm_segment::limit.value);
static_assert(offsetof(ours::kvm::kvm_segment, selector) == f::kvm_segment::selector.value);
static_assert(offsetof(ours::kvm::kvm_segment, type) == f::kvm_segment::type.value);
static_assert(offsetof(ours::kvm::kvm_segment, present) == f::kvm_segment::present.value);
static_assert(offsetof(ours::kvm::kvm_segment, dpl) == f::kvm_segment::dpl.value);
static_assert(offsetof(ours::kvm::kvm_segment, db) == f::kvm_segment::db.value);
static_assert(offsetof(ours::kvm::kvm_segment, s) == f::kvm_segment::s.value);
static_assert(offsetof(ours::kvm::kvm_segment, l) == f::kvm_segment::l.value);
static_assert(offsetof(ours::kvm::kvm_segment, g) == f::kvm_segment::g.value);
static_assert(offsetof(ours::kvm::kvm_segment, avl) == f::kvm_segment::avl.value);
static_assert(offsetof(ours::kvm::kvm_segment, unusable) == f::kvm_segment::unusable.value);
static_assert(offsetof(ours::kvm::kvm_segment, padding) == f::kvm_segment::padding.value);
static_assert(sizeof(ours::kvm::kvm_dtable) == f::kvm_dtable::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_dtable, base) == f::kvm_dtable::base.value);
static_assert(offsetof(ours::kvm::kvm_dtable, limit) == f::kvm_dtable::limit.value);
static_assert(offsetof(ours::kvm::kvm_dtable, padding) == f::kvm_dtable::padding.value);
static_assert(sizeof(ours::kvm::kvm_sregs) == f::kvm_sregs::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_sregs, cs) == f::kvm_sregs::cs.value);
static_assert(offsetof(ours::kvm::kvm_sregs, ds) == f::kvm_sregs::ds.value);
static_assert(offsetof(ours::kvm::kvm_sregs, es) == f::kvm_sregs::es.value);
static_assert(offsetof(ours::kvm::kvm_sregs, fs) == f::kvm_sregs::fs.value);
static_assert(offsetof(ours::kvm::kvm_sregs, gs) == f::kvm_sregs::gs.value);
static_assert(offsetof(ours::kvm::kvm_sregs, ss) == f::kvm_sregs::ss.value);
static_assert(offsetof(ours::kvm::kvm_sregs, tr) == f::kvm_sregs::tr.value);
static_assert(offsetof(ours::kvm::kvm_sregs, ldt) == f::kvm_sregs::ldt.value);
static_assert(offsetof(ours::kvm::kvm_sregs, gdt) == f::kvm_sregs::gdt.value);
static_assert(offsetof(ours::kvm::kvm_sregs, idt) == f::kvm_sregs::idt.value);
static_assert(offsetof(ours::kvm::kvm_sregs, cr0) == f::kvm_sregs::cr0.value);
static_assert(offsetof(ours::kvm::kvm_sregs, cr2) == f::kvm_sregs::cr2.value);
static_assert(offsetof(ours::kvm::kvm_sregs, cr3) == f::kvm_sregs::cr3.value);
static_assert(offsetof(ours::kvm::kvm_sregs, cr4) == f::kvm_sregs::cr4.value);
static_assert(offsetof(ours::kvm::kvm_sregs, cr8) == f::kvm_sregs::cr8.value);
static_assert(offsetof(ours::kvm::kvm_sregs, efer) == f::kvm_sregs::efer.value);
static_assert(offsetof(ours::kvm::kvm_sregs, apic_base) == f::kvm_sregs::apic_base.value);
static_assert(offsetof(ours::kvm::kvm_sregs, interrupt_bitmap) ==
              f::kvm_sregs::interrupt_bitmap.value);
static_assert(sizeof(ours::kvm::kvm_fpu) == f::kvm_fpu::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_fpu, fpr) == f::kvm_fpu::fpr.value);
static_assert(offsetof(ours::kvm::kvm_fpu, fcw) == f::kvm_fpu::fcw.value);
static_assert(offsetof(ours::kvm::kvm_fpu, fsw) == f::kvm_fpu::fsw.value);
static_assert(offsetof(ours::kvm::kvm_fpu, ftwx) == f::kvm_fpu::ftwx.value);
static_assert(offsetof(ours::kvm::kvm_fpu, pad1) == f::kvm_fpu::pad1.value);
static_assert(offsetof(ours::kvm::kvm_fpu, last_opcode) == f::kvm_fpu::last_opcode.value);
static_assert(offsetof(ours::kvm::kvm_fpu, last_ip) == f::kvm_fpu::last_ip.value);
static_assert(offsetof(ours::kvm::kvm_fpu, last_dp) == f::kvm_fpu::last_dp.value);
static_assert(offsetof(ours::kvm::kvm_fpu, xmm) == f::kvm_fpu::xmm.value);
static_assert(offsetof(ours::kvm::kvm_fpu, mxcsr) == f::kvm_fpu::mxcsr.value);
static_assert(offsetof(ours::kvm::kvm_fpu, pad2) == f::kvm_fpu::pad2.value);
static_assert(sizeof(ours::kvm::kvm_xcr) == f::kvm_xcr::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_xcr, xcr) == f::kvm_xcr::xcr.value);
static_assert(offsetof(ours::kvm::kvm_xcr, reserved) == f::kvm_xcr::reserved.value);
static_assert(offsetof(ours::kvm::kvm_xcr, value) == f::kvm_xcr::value.value);
static_assert(sizeof(ours::kvm::kvm_xcrs) == f::kvm_xcrs::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_xcrs, nr_xcrs) == f::kvm_xcrs::nr_xcrs.value);
static_assert(offsetof(ours::kvm::kvm_xcrs, flags) == f::kvm_xcrs::flags.value);
static_assert(offsetof(ours::kvm::kvm_xcrs, xcrs) == f::kvm_xcrs::xcrs.value);
static_assert(offsetof(ours::kvm::kvm_xcrs, padding) == f::kvm_xcrs::padding.value);
static_assert(sizeof(ours::kvm::kvm_debugregs) == f::kvm_debugregs::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_debugregs, db) == f::kvm_debugregs::db.value);
static_assert(offsetof(ours::kvm::kvm_debugregs, dr6) == f::kvm_debugregs::dr6.value);
static_assert(offsetof(ours::kvm::kvm_debugregs, dr7) == f::kvm_debugregs::dr7.value);
static_assert(offsetof(ours::kvm::kvm_debugregs, flags) == f::kvm_debugregs::flags.value);
static_assert(offsetof(ours::kvm::kvm_debugregs, reserved) == f::kvm_debugregs::reserved.value);
static_assert(sizeof(ours::kvm::kvm_msr_entry) == f::kvm_msr_entry::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_msr_entry, index) == f::kvm_msr_entry::index.value);
static_assert(offsetof(ours::kvm::kvm_msr_entry, reserved) == f::kvm_msr_entry::reserved.value);
static_assert(offsetof(ours::kvm::kvm_msr_entry, data) == f::kvm_msr_entry::data.value);
static_assert(sizeof(ours::kvm::kvm_msrs) == f::kvm_msrs::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_msrs, nmsrs) == f::kvm_msrs::nmsrs.value);
static_assert(offsetof(ours::kvm::kvm_msrs, pad) == f::kvm_msrs::pad.value);
static_assert(sizeof(ours::kvm::kvm_msrs) == f::kvm_msrs::entries.value);
static_assert(sizeof(ours::kvm::kvm_cpuid_entry2) == f::kvm_cpuid_entry2::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_cpuid_entry2, function) ==
              f::kvm_cpuid_entry2::function.value);
static_assert(offsetof(ours::kvm::kvm_cpuid_entry2, index) == f::kvm_cpuid_entry2::index.value);
static_assert(offsetof(ours::kvm::kvm_cpuid_entry2, flags) == f::kvm_cpuid_entry2::flags.value);
static_assert(offsetof(ours::kvm::kvm_cpuid_entry2, eax) == f::kvm_cpuid_entry2::eax.value);
static_assert(offsetof(ours::kvm::kvm_cpuid_entry2, ebx) == f::kvm_cpuid_entry2::ebx.value);
static_assert(offsetof(ours::kvm::kvm_cpuid_entry2, ecx) == f::kvm_cpuid_entry2::ecx.value);
static_assert(offsetof(ours::kvm::kvm_cpuid_entry2, edx) == f::kvm_cpuid_entry2::edx.value);
static_assert(offsetof(ours::kvm::kvm_cpuid_entry2, padding) == f::kvm_cpuid_entry2::padding.value);
static_assert(sizeof(ours::kvm::kvm_cpuid2) == f::kvm_cpuid2::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_cpuid2, nent) == f::kvm_cpuid2::nent.value);
static_assert(offsetof(ours::kvm::kvm_cpuid2, padding) == f::kvm_cpuid2::padding.value);
static_assert(sizeof(ours::kvm::kvm_cpuid2) == f::kvm_cpuid2::entries.value);
static_assert(sizeof(ours::kvm::kvm_lapic_state) == f::kvm_lapic_state::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_lapic_state, regs) == f::kvm_lapic_state::regs.value);
static_assert(sizeof(ours::kvm::kvm_sev_cmd) == f::kvm_sev_cmd::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_sev_cmd, id) == f::kvm_sev_cmd::id.value);
static_assert(offsetof(ours::kvm::kvm_sev_cmd, pad0) == f::kvm_sev_cmd::pad0.value);
static_assert(offsetof(ours::kvm::kvm_sev_cmd, data) == f::kvm_sev_cmd::data.value);
static_assert(offsetof(ours::kvm::kvm_sev_cmd, error) == f::kvm_sev_cmd::error.value);
static_assert(offsetof(ours::kvm::kvm_sev_cmd, sev_fd) == f::kvm_sev_cmd::sev_fd.value);
static_assert(sizeof(ours::kvm::kvm_sev_init) == f::kvm_sev_init::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_sev_init, vmsa_features) ==
              f::kvm_sev_init::vmsa_features.value);
static_assert(offsetof(ours::kvm::kvm_sev_init, flags) == f::kvm_sev_init::flags.value);
static_assert(offsetof(ours::kvm::kvm_sev_init, ghcb_version) ==
              f::kvm_sev_init::ghcb_version.value);
static_assert(offsetof(ours::kvm::kvm_sev_init, pad1) == f::kvm_sev_init::pad1.value);
static_assert(offsetof(ours::kvm::kvm_sev_init, pad2) == f::kvm_sev_init::pad2.value);
static_assert(sizeof(ours::kvm::kvm_sev_snp_launch_start) ==
              f::kvm_sev_snp_launch_start::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_start, policy) ==
              f::kvm_sev_snp_launch_start::policy.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_start, gosvw) ==
              f::kvm_sev_snp_launch_start::gosvw.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_start, flags) ==
              f::kvm_sev_snp_launch_start::flags.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_start, pad0) ==
              f::kvm_sev_snp_launch_start::pad0.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_start, pad1) ==
              f::kvm_sev_snp_launch_start::pad1.value);
static_assert(sizeof(ours::kvm::kvm_sev_snp_launch_update) ==
              f::kvm_sev_snp_launch_update::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_update, gfn_start) ==
              f::kvm_sev_snp_launch_update::gfn_start.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_update, uaddr) ==
              f::kvm_sev_snp_launch_update::uaddr.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_update, len) ==
              f::kvm_sev_snp_launch_update::len.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_update, type) ==
              f::kvm_sev_snp_launch_update::type.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_update, pad0) ==
              f::kvm_sev_snp_launch_update::pad0.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_update, flags) ==
              f::kvm_sev_snp_launch_update::flags.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_update, pad1) ==
              f::kvm_sev_snp_launch_update::pad1.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_update, pad2) ==
              f::kvm_sev_snp_launch_update::pad2.value);
static_assert(sizeof(ours::kvm::kvm_sev_snp_launch_finish) ==
              f::kvm_sev_snp_launch_finish::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_finish, id_block_uaddr) ==
              f::kvm_sev_snp_launch_finish::id_block_uaddr.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_finish, id_auth_uaddr) ==
              f::kvm_sev_snp_launch_finish::id_auth_uaddr.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_finish, id_block_en) ==
              f::kvm_sev_snp_launch_finish::id_block_en.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_finish, auth_key_en) ==
              f::kvm_sev_snp_launch_finish::auth_key_en.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_finish, vcek_disabled) ==
              f::kvm_sev_snp_launch_finish::vcek_disabled.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_finish, host_data) ==
              f::kvm_sev_snp_launch_finish::host_data.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_finish, pad0) ==
              f::kvm_sev_snp_launch_finish::pad0.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_finish, flags) ==
              f::kvm_sev_snp_launch_finish::flags.value);
static_assert(offsetof(ours::kvm::kvm_sev_snp_launch_finish, pad1) ==
              f::kvm_sev_snp_launch_finish::pad1.value);
static_assert(sizeof(ours::kvm::kvm_tdx_cmd) == f::kvm_tdx_cmd::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_tdx_cmd, id) == f::kvm_tdx_cmd::id.value);
static_assert(offsetof(ours::kvm::kvm_tdx_cmd, flags) == f::kvm_tdx_cmd::flags.value);
static_assert(offsetof(ours::kvm::kvm_tdx_cmd, data) == f::kvm_tdx_cmd::data.value);
static_assert(offsetof(ours::kvm::kvm_tdx_cmd, hw_error) == f::kvm_tdx_cmd::hw_error.value);
static_assert(sizeof(ours::kvm::kvm_tdx_capabilities) ==
              f::kvm_tdx_capabilities::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_tdx_capabilities, supported_attrs) ==
              f::kvm_tdx_capabilities::supported_attrs.value);
static_assert(offsetof(ours::kvm::kvm_tdx_capabilities, supported_xfam) ==
              f::kvm_tdx_capabilities::supported_xfam.value);
static_assert(offsetof(ours::kvm::kvm_tdx_capabilities, kernel_tdvmcallinfo_1_r11) ==
              f::kvm_tdx_capabilities::kernel_tdvmcallinfo_1_r11.value);
static_assert(offsetof(ours::kvm::kvm_tdx_capabilities, user_tdvmcallinfo_1_r11) ==
              f::kvm_tdx_capabilities::user_tdvmcallinfo_1_r11.value);
static_assert(offsetof(ours::kvm::kvm_tdx_capabilities, kernel_tdvmcallinfo_1_r12) ==
              f::kvm_tdx_capabilities::kernel_tdvmcallinfo_1_r12.value);
static_assert(offsetof(ours::kvm::kvm_tdx_capabilities, user_tdvmcallinfo_1_r12) ==
              f::kvm_tdx_capabilities::user_tdvmcallinfo_1_r12.value);
static_assert(offsetof(ours::kvm::kvm_tdx_capabilities, reserved) ==
              f::kvm_tdx_capabilities::reserved.value);
static_assert(sizeof(ours::kvm::kvm_tdx_init_vm) == f::kvm_tdx_init_vm::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_tdx_init_vm, attributes) ==
              f::kvm_tdx_init_vm::attributes.value);
static_assert(offsetof(ours::kvm::kvm_tdx_init_vm, xfam) == f::kvm_tdx_init_vm::xfam.value);
static_assert(offsetof(ours::kvm::kvm_tdx_init_vm, mrconfigid) ==
              f::kvm_tdx_init_vm::mrconfigid.value);
static_assert(offsetof(ours::kvm::kvm_tdx_init_vm, mrowner) == f::kvm_tdx_init_vm::mrowner.value);
static_assert(offsetof(ours::kvm::kvm_tdx_init_vm, mrownerconfig) ==
              f::kvm_tdx_init_vm::mrownerconfig.value);
static_assert(offsetof(ours::kvm::kvm_tdx_init_vm, reserved) == f::kvm_tdx_init_vm::reserved.value);
static_assert(sizeof(ours::kvm::kvm_tdx_init_mem_region) ==
              f::kvm_tdx_init_mem_region::struct_size.value);
static_assert(offsetof(ours::kvm::kvm_tdx_init_mem_region, source_addr) ==
              f::kvm_tdx_init_mem_region::source_addr.value);
static_assert(offsetof(ours::kvm::kvm_tdx_init_mem_region, gpa) ==
              f::kvm_tdx_init_mem_region::gpa.value);
static_assert(offsetof(ours::kvm::kvm_tdx_init_mem_region, nr_pages) ==
              f::kvm_tdx_init_mem_region::nr_pages.value);
static_assert(sizeof(ours::mshv::mshv_create_partition) ==
              f::mshv_create_partition::struct_size.value);
static_assert(offsetof(ours::mshv::mshv_create_partition, pt_flags) ==
              f::mshv_create_partition::pt_flags.value);
static_assert(offsetof(ours::mshv::mshv_create_partition, pt_isolation) ==
              f::mshv_create_partition::pt_isolation.value);
static_assert(sizeof(ours::mshv::mshv_create_vp) == f::mshv_create_vp::struct_size.value);
static_assert(offsetof(ours::mshv::mshv_create_vp, vp_index) == f::mshv_create_vp::vp_index.value);
static_assert(sizeof(ours::mshv::mshv_user_mem_region) ==
              f::mshv_user_mem_region::struct_size.value);
static_assert(offsetof(ours::mshv::mshv_user_mem_region, size) ==
              f::mshv_user_mem_region::size.value);
static_assert(offsetof(ours::mshv::mshv_user_mem_region, guest_pfn) ==
              f::mshv_user_mem_region::guest_pfn.value);
static_assert(offsetof(ours::mshv::mshv_user_mem_region, userspace_addr) ==
              f::mshv_user_mem_region::userspace_addr.value);
static_assert(offsetof(ours::mshv::mshv_user_mem_region, flags) ==
              f::mshv_user_mem_region::flags.value);
static_assert(offsetof(ours::mshv::mshv_user_mem_region, rsvd) ==
              f::mshv_user_mem_region::rsvd.value);
static_assert(sizeof(ours::mshv::mshv_root_hvcall) == f::mshv_root_hvcall::struct_size.value);
static_assert(offsetof(ours::mshv::mshv_root_hvcall, code) == f::mshv_root_hvcall::code.value);
static_assert(offsetof(ours::mshv::mshv_root_hvcall, reps) == f::mshv_root_hvcall::reps.value);
static_assert(offsetof(ours::mshv::mshv_root_hvcall, in_sz) == f::mshv_root_hvcall::in_sz.value);
static_assert(offsetof(ours::mshv::mshv_root_hvcall, out_sz) == f::mshv_root_hvcall::out_sz.value);
static_assert(offsetof(ours::mshv::mshv_root_hvcall, status) == f::mshv_root_hvcall::status.value);
static_assert(offsetof(ours::mshv::mshv_root_hvcall, rsvd) == f::mshv_root_hvcall::rsvd.value);
static_assert(offsetof(ours::mshv::mshv_root_hvcall, in_ptr) == f::mshv_root_hvcall::in_ptr.value);
static_assert(offsetof(ours::mshv::mshv_root_hvcall, out_ptr) ==
              f::mshv_root_hvcall::out_ptr.value);
static_assert(sizeof(ours::mshv::mshv_import_isolated_pages) ==
              f::mshv_import_isolated_pages::struct_size.value);
static_assert(offsetof(ours::mshv::mshv_import_isolated_pages, page_type) ==
              f::mshv_import_isolated_pages::page_type.value);
static_assert(offsetof(ours::mshv::mshv_import_isolated_pages, rsvd) ==
              f::mshv_import_isolated_pages::rsvd.value);
static_assert(offsetof(ours::mshv::mshv_import_isolated_pages, page_count) ==
              f::mshv_import_isolated_pages::page_count.value);
static_assert(sizeof(ours::mshv::mshv_import_isolated_pages) ==
              f::mshv_import_isolated_pages::guest_pfns.value);
static_assert(sizeof(ours::mshv::mshv_partition_property) ==
              f::mshv_partition_property::struct_size.value);
static_assert(offsetof(ours::mshv::mshv_partition_property, property_code) ==
              f::mshv_partition_property::property_code.value);
static_assert(offsetof(ours::mshv::mshv_partition_property, property_value) ==
              f::mshv_partition_property::property_value.value);
static_assert(sizeof(ours::mshv::hv_message) == f::mshv_run_vp::struct_size.value);
static_assert(sizeof(ours::mshv::hv_partition_complete_isolated_import_data) ==
              f::mshv_complete_isolated_import::struct_size.value);
static_assert(offsetof(ours::mshv::hv_partition_complete_isolated_import_data, psp_parameters) ==
              f::mshv_complete_isolated_import::import_data.value);
static_assert(sizeof(ours::mshv::hv_partition_complete_isolated_import_data) ==
              f::hv_partition_complete_isolated_import_data::struct_size.value);
static_assert(offsetof(ours::mshv::hv_partition_complete_isolated_import_data, psp_parameters) ==
              f::hv_partition_complete_isolated_import_data::psp_parameters.value);
static_assert(sizeof(ours::mshv::hv_psp_launch_finish_data) ==
              f::hv_psp_launch_finish_data::struct_size.value);
static_assert(offsetof(ours::mshv::hv_psp_launch_finish_data, id_block) ==
              f::hv_psp_launch_finish_data::id_block.value);
static_assert(offsetof(ours::mshv::hv_psp_launch_finish_data, id_auth_info) ==
              f::hv_psp_launch_finish_data::id_auth_info.value);
static_assert(offsetof(ours::mshv::hv_psp_launch_finish_data, host_data) ==
              f::hv_psp_launch_finish_data::host_data.value);
static_assert(offsetof(ours::mshv::hv_psp_launch_finish_data, id_block_enabled) ==
              f::hv_psp_launch_finish_data::id_block_enabled.value);
static_assert(offsetof(ours::mshv::hv_psp_launch_finish_data, author_key_enabled) ==
              f::hv_psp_launch_finish_data::author_key_enabled.value);
static_assert(sizeof(ours::mshv::hv_snp_id_block) == f::hv_snp_id_block::struct_size.value);
static_assert(offsetof(ours::mshv::hv_snp_id_block, launch_digest) ==
              f::hv_snp_id_block::launch_digest.value);
static_assert(offsetof(ours::mshv::hv_snp_id_block, family_id) ==
              f::hv_snp_id_block::family_id.value);
static_assert(offsetof(ours::mshv::hv_snp_id_block, image_id) ==
              f::hv_snp_id_block::image_id.value);
static_assert(offsetof(ours::mshv::hv_snp_id_block, version) == f::hv_snp_id_block::version.value);
static_assert(offsetof(ours::mshv::hv_snp_id_block, guest_svn) ==
              f::hv_snp_id_block::guest_svn.value);
static_assert(offsetof(ours::mshv::hv_snp_id_block, policy) == f::hv_snp_id_block::policy.value);
static_assert(sizeof(ours::mshv::hv_psp_id_auth_info) == f::hv_snp_id_auth_info::struct_size.value);
static_assert(offsetof(ours::mshv::hv_psp_id_auth_info, id_key_algorithm) ==
              f::hv_snp_id_auth_info::id_key_algorithm.value);
static_assert(offsetof(ours::mshv::hv_psp_id_auth_info, auth_key_algorithm) ==
              f::hv_snp_id_auth_info::auth_key_algorithm.value);
static_assert(offsetof(ours::mshv::hv_psp_id_auth_info, rsvd1) ==
              f::hv_snp_id_auth_info::reserved0.value);
static_assert(offsetof(ours::mshv::hv_psp_id_auth_info, id_block_signature) ==
              f::hv_snp_id_auth_info::id_block_signature.value);
static_assert(offsetof(ours::mshv::hv_psp_id_auth_info, id_key) ==
              f::hv_snp_id_auth_info::id_key.value);
static_assert(offsetof(ours::mshv::hv_psp_id_auth_info, rsvd2) ==
              f::hv_snp_id_auth_info::reserved1.value);
static_assert(offsetof(ours::mshv::hv_psp_id_auth_info, id_key_signature) ==
              f::hv_snp_id_auth_info::id_key_signature.value);
static_assert(offsetof(ours::mshv::hv_psp_id_auth_info, author_key) ==
              f::hv_snp_id_auth_info::author_key.value);
static_assert(sizeof(ours::mshv::hv_input_set_partition_property) ==
              f::hv_input_set_partition_property::struct_size.value);
static_assert(offsetof(ours::mshv::hv_input_set_partition_property, partition_id) ==
              f::hv_input_set_partition_property::partition_id.value);
static_assert(offsetof(ours::mshv::hv_input_set_partition_property, property_code) ==
              f::hv_input_set_partition_property::property_code.value);
static_assert(offsetof(ours::mshv::hv_input_set_partition_property, padding) ==
              f::hv_input_set_partition_property::padding.value);
static_assert(offsetof(ours::mshv::hv_input_set_partition_property, property_value) ==
              f::hv_input_set_partition_property::property_value.value);
static_assert(sizeof(ours::mshv::hv_input_get_partition_property) ==
              f::hv_input_get_partition_property::struct_size.value);
static_assert(offsetof(ours::mshv::hv_input_get_partition_property, partition_id) ==
              f::hv_input_get_partition_property::partition_id.value);
static_assert(offsetof(ours::mshv::hv_input_get_partition_property, property_code) ==
              f::hv_input_get_partition_property::property_code.value);
static_assert(offsetof(ours::mshv::hv_input_get_partition_property, padding) ==
              f::hv_input_get_partition_property::padding.value);
static_assert(sizeof(ours::mshv::hv_input_set_vp_registers) ==
              f::hv_input_set_vp_registers::struct_size.value);
static_assert(offsetof(ours::mshv::hv_input_set_vp_registers, partition_id) ==
              f::hv_input_set_vp_registers::partition_id.value);
static_assert(offsetof(ours::mshv::hv_input_set_vp_registers, vp_index) ==
              f::hv_input_set_vp_registers::vp_index.value);
static_assert(offsetof(ours::mshv::hv_input_set_vp_registers, input_vtl) ==
              f::hv_input_set_vp_registers::input_vtl.value);
static_assert(offsetof(ours::mshv::hv_input_set_vp_registers, rsvd_z8) ==
              f::hv_input_set_vp_registers::rsvd_z8.value);
static_assert(offsetof(ours::mshv::hv_input_set_vp_registers, rsvd_z16) ==
              f::hv_input_set_vp_registers::rsvd_z16.value);
static_assert(sizeof(ours::mshv::hv_register_assoc) == f::hv_register_assoc::struct_size.value);
static_assert(offsetof(ours::mshv::hv_register_assoc, name) == f::hv_register_assoc::name.value);
static_assert(offsetof(ours::mshv::hv_register_assoc, reserved1) ==
              f::hv_register_assoc::reserved1.value);
static_assert(offsetof(ours::mshv::hv_register_assoc, reserved2) ==
              f::hv_register_assoc::reserved2.value);
static_assert(offsetof(ours::mshv::hv_register_assoc, value) == f::hv_register_assoc::value.value);
static_assert(sizeof(ours::mshv::hv_x64_segment_register) ==
              f::hv_x64_segment_register::struct_size.value);
static_assert(offsetof(ours::mshv::hv_x64_segment_register, base) ==
              f::hv_x64_segment_register::base.value);
static_assert(offsetof(ours::mshv::hv_x64_segment_register, limit) ==
              f::hv_x64_segment_register::limit.value);
static_assert(offsetof(ours::mshv::hv_x64_segment_register, selector) ==
              f::hv_x64_segment_register::selector.value);
static_assert(offsetof(ours::mshv::hv_x64_segment_register, attributes) ==
              f::hv_x64_segment_register::attributes.value);
static_assert(sizeof(ours::mshv::hv_x64_table_register) ==
              f::hv_x64_table_register::struct_size.value);
static_assert(offsetof(ours::mshv::hv_x64_table_register, pad) ==
              f::hv_x64_table_register::pad.value);
static_assert(offsetof(ours::mshv::hv_x64_table_register, limit) ==
              f::hv_x64_table_register::limit.value);
static_assert(offsetof(ours::mshv::hv_x64_table_register, base) ==
              f::hv_x64_table_register::base.value);
static_assert(sizeof(ours::mshv::hv_message_header) == f::hv_message_header::struct_size.value);
static_assert(offsetof(ours::mshv::hv_message_header, message_type) ==
              f::hv_message_header::message_type.value);
static_assert(offsetof(ours::mshv::hv_message_header, payload_size) ==
              f::hv_message_header::payload_size.value);
static_assert(offsetof(ours::mshv::hv_message_header, message_flags) ==
              f::hv_message_header::message_flags.value);
static_assert(offsetof(ours::mshv::hv_message_header, reserved) ==
              f::hv_message_header::reserved.value);
static_assert(offsetof(ours::mshv::hv_message_header, sender) ==
              f::hv_message_header::sender.value);
static_assert(sizeof(ours::mshv::hv_message) == f::hv_message::struct_size.value);
static_assert(offsetof(ours::mshv::hv_message, header) == f::hv_message::header.value);
static_assert(offsetof(ours::mshv::hv_message, payload) == f::hv_message::u.value);
static_assert(sizeof(ours::mshv::hv_x64_intercept_message_header) ==
              f::hv_x64_intercept_message_header::struct_size.value);
static_assert(offsetof(ours::mshv::hv_x64_intercept_message_header, vp_index) ==
              f::hv_x64_intercept_message_header::vp_index.value);
static_assert(offsetof(ours::mshv::hv_x64_intercept_message_header, intercept_access_type) ==
              f::hv_x64_intercept_message_header::intercept_access_type.value);
static_assert(offsetof(ours::mshv::hv_x64_intercept_message_header, execution_state) ==
              f::hv_x64_intercept_message_header::execution_state.value);
static_assert(offsetof(ours::mshv::hv_x64_intercept_message_header, cs_segment) ==
              f::hv_x64_intercept_message_header::cs_segment.value);
static_assert(offsetof(ours::mshv::hv_x64_intercept_message_header, rip) ==
              f::hv_x64_intercept_message_header::rip.value);
static_assert(offsetof(ours::mshv::hv_x64_intercept_message_header, rflags) ==
              f::hv_x64_intercept_message_header::rflags.value);
static_assert(offsetof(ours::mshv::hv_x64_intercept_message_header, instruction_length_cr8) ==
              f::hv_x64_intercept_message_header::instruction_length.value);
static_assert(sizeof(ours::mshv::hv_x64_io_port_intercept_message) ==
              f::hv_x64_io_port_intercept_message::struct_size.value);
static_assert(offsetof(ours::mshv::hv_x64_io_port_intercept_message, header) ==
              f::hv_x64_io_port_intercept_message::header.value);
static_assert(offsetof(ours::mshv::hv_x64_io_port_intercept_message, port_number) ==
              f::hv_x64_io_port_intercept_message::port_number.value);
static_assert(offsetof(ours::mshv::hv_x64_io_port_intercept_message, access_info) ==
              f::hv_x64_io_port_intercept_message::access_info.value);
static_assert(offsetof(ours::mshv::hv_x64_io_port_intercept_message, instruction_byte_count) ==
              f::hv_x64_io_port_intercept_message::instruction_byte_count.value);
static_assert(offsetof(ours::mshv::hv_x64_io_port_intercept_message, reserved) ==
              f::hv_x64_io_port_intercept_message::reserved.value);
static_assert(offsetof(ours::mshv::hv_x64_io_port_intercept_message, rax) ==
              f::hv_x64_io_port_intercept_message::rax.value);
static_assert(offsetof(ours::mshv::hv_x64_io_port_intercept_message, instruction_bytes) ==
              f::hv_x64_io_port_intercept_message::instruction_bytes.value);
static_assert(offsetof(ours::mshv::hv_x64_io_port_intercept_message, ds_segment) ==
              f::hv_x64_io_port_intercept_message::ds_segment.value);
static_assert(offsetof(ours::mshv::hv_x64_io_port_intercept_message, es_segment) ==
              f::hv_x64_io_port_intercept_message::es_segment.value);
static_assert(offsetof(ours::mshv::hv_x64_io_port_intercept_message, rcx) ==
              f::hv_x64_io_port_intercept_message::rcx.value);
static_assert(offsetof(ours::mshv::hv_x64_io_port_intercept_message, rsi) ==
              f::hv_x64_io_port_intercept_message::rsi.value);
static_assert(offsetof(ours::mshv::hv_x64_io_port_intercept_message, rdi) ==
              f::hv_x64_io_port_intercept_message::rdi.value);
static_assert(sizeof(ours::mshv::hv_x64_memory_intercept_message) ==
              f::hv_x64_memory_intercept_message::struct_size.value);
static_assert(offsetof(ours::mshv::hv_x64_memory_intercept_message, header) ==
              f::hv_x64_memory_intercept_message::header.value);
static_assert(offsetof(ours::mshv::hv_x64_memory_intercept_message, cache_type) ==
              f::hv_x64_memory_intercept_message::cache_type.value);
static_assert(offsetof(ours::mshv::hv_x64_memory_intercept_message, instruction_byte_count) ==
              f::hv_x64_memory_intercept_message::instruction_byte_count.value);
static_assert(offsetof(ours::mshv::hv_x64_memory_intercept_message, memory_access_info) ==
              f::hv_x64_memory_intercept_message::memory_access_info.value);
static_assert(offsetof(ours::mshv::hv_x64_memory_intercept_message, tpr_priority) ==
              f::hv_x64_memory_intercept_message::tpr_priority.value);
static_assert(offsetof(ours::mshv::hv_x64_memory_intercept_message, reserved1) ==
              f::hv_x64_memory_intercept_message::reserved1.value);
static_assert(offsetof(ours::mshv::hv_x64_memory_intercept_message, guest_virtual_address) ==
              f::hv_x64_memory_intercept_message::guest_virtual_address.value);
static_assert(offsetof(ours::mshv::hv_x64_memory_intercept_message, guest_physical_address) ==
              f::hv_x64_memory_intercept_message::guest_physical_address.value);
static_assert(offsetof(ours::mshv::hv_x64_memory_intercept_message, instruction_bytes) ==
              f::hv_x64_memory_intercept_message::instruction_bytes.value);
static_assert(ours::kvm::kKvmIo == f::KVMIO.value);
static_assert(ours::kvm::kMemLogDirtyPages == f::KVM_MEM_LOG_DIRTY_PAGES.value);
static_assert(ours::kvm::kMemReadonly == f::KVM_MEM_READONLY.value);
static_assert(ours::kvm::kMemGuestMemfd == f::KVM_MEM_GUEST_MEMFD.value);
static_assert(ours::kvm::kMemoryAttributePrivate == f::KVM_MEMORY_ATTRIBUTE_PRIVATE.value);
static_assert(ours::kvm::kExitIo == f::KVM_EXIT_IO.value);
static_assert(ours::kvm::kExitHlt == f::KVM_EXIT_HLT.value);
static_assert(ours::kvm::kExitMmio == f::KVM_EXIT_MMIO.value);
static_assert(ours::kvm::kExitIrqWindowOpen == f::KVM_EXIT_IRQ_WINDOW_OPEN.value);
static_assert(ours::kvm::kExitShutdown == f::KVM_EXIT_SHUTDOWN.value);
static_assert(ours::kvm::kExitFailEntry == f::KVM_EXIT_FAIL_ENTRY.value);
static_assert(ours::kvm::kExitIntr == f::KVM_EXIT_INTR.value);
static_assert(ours::kvm::kExitInternalError == f::KVM_EXIT_INTERNAL_ERROR.value);
static_assert(ours::kvm::kExitSystemEvent == f::KVM_EXIT_SYSTEM_EVENT.value);
static_assert(ours::kvm::kExitIoIn == f::KVM_EXIT_IO_IN.value);
static_assert(ours::kvm::kExitIoOut == f::KVM_EXIT_IO_OUT.value);
static_assert(ours::kvm::kSystemEventShutdown == f::KVM_SYSTEM_EVENT_SHUTDOWN.value);
static_assert(ours::kvm::kSystemEventReset == f::KVM_SYSTEM_EVENT_RESET.value);
static_assert(ours::kvm::kMpStateRunnable == f::KVM_MP_STATE_RUNNABLE.value);
static_assert(ours::kvm::kMpStateUninitialized == f::KVM_MP_STATE_UNINITIALIZED.value);
static_assert(ours::kvm::kMpStateInitReceived == f::KVM_MP_STATE_INIT_RECEIVED.value);
static_assert(ours::kvm::kMpStateHalted == f::KVM_MP_STATE_HALTED.value);
static_assert(ours::kvm::kPitSpeakerDummy == f::KVM_PIT_SPEAKER_DUMMY.value);
static_assert(ours::kvm::kCapImmediateExit == f::KVM_CAP_IMMEDIATE_EXIT.value);
static_assert(ours::kvm::kCapExitHypercall == f::KVM_CAP_EXIT_HYPERCALL.value);
static_assert(ours::kvm::kCapUserMemory2 == f::KVM_CAP_USER_MEMORY2.value);
static_assert(ours::kvm::kCapMemoryAttributes == f::KVM_CAP_MEMORY_ATTRIBUTES.value);
static_assert(ours::kvm::kCapGuestMemfd == f::KVM_CAP_GUEST_MEMFD.value);
static_assert(ours::kvm::kCapVmTypes == f::KVM_CAP_VM_TYPES.value);
static_assert(ours::kvm::KVM_GET_API_VERSION == f::KVM_GET_API_VERSION.value);
static_assert(ours::kvm::KVM_CREATE_VM == f::KVM_CREATE_VM.value);
static_assert(ours::kvm::KVM_CHECK_EXTENSION == f::KVM_CHECK_EXTENSION.value);
static_assert(ours::kvm::KVM_GET_SUPPORTED_CPUID == f::KVM_GET_SUPPORTED_CPUID.value);
static_assert(ours::kvm::KVM_GET_VCPU_MMAP_SIZE == f::KVM_GET_VCPU_MMAP_SIZE.value);
static_assert(ours::kvm::KVM_CREATE_VCPU == f::KVM_CREATE_VCPU.value);
static_assert(ours::kvm::KVM_SET_USER_MEMORY_REGION == f::KVM_SET_USER_MEMORY_REGION.value);
static_assert(ours::kvm::KVM_SET_TSS_ADDR == f::KVM_SET_TSS_ADDR.value);
static_assert(ours::kvm::KVM_SET_IDENTITY_MAP_ADDR == f::KVM_SET_IDENTITY_MAP_ADDR.value);
static_assert(ours::kvm::KVM_SET_USER_MEMORY_REGION2 == f::KVM_SET_USER_MEMORY_REGION2.value);
static_assert(ours::kvm::KVM_CREATE_IRQCHIP == f::KVM_CREATE_IRQCHIP.value);
static_assert(ours::kvm::KVM_IRQ_LINE == f::KVM_IRQ_LINE.value);
static_assert(ours::kvm::KVM_CREATE_PIT2 == f::KVM_CREATE_PIT2.value);
static_assert(ours::kvm::KVM_RUN == f::KVM_RUN.value);
static_assert(ours::kvm::KVM_GET_REGS == f::KVM_GET_REGS.value);
static_assert(ours::kvm::KVM_SET_REGS == f::KVM_SET_REGS.value);
static_assert(ours::kvm::KVM_GET_SREGS == f::KVM_GET_SREGS.value);
static_assert(ours::kvm::KVM_SET_SREGS == f::KVM_SET_SREGS.value);
static_assert(ours::kvm::KVM_GET_MSRS == f::KVM_GET_MSRS.value);
static_assert(ours::kvm::KVM_SET_MSRS == f::KVM_SET_MSRS.value);
static_assert(ours::kvm::KVM_SET_FPU == f::KVM_SET_FPU.value);
static_assert(ours::kvm::KVM_GET_LAPIC == f::KVM_GET_LAPIC.value);
static_assert(ours::kvm::KVM_SET_LAPIC == f::KVM_SET_LAPIC.value);
static_assert(ours::kvm::KVM_SET_CPUID2 == f::KVM_SET_CPUID2.value);
static_assert(ours::kvm::KVM_GET_MP_STATE == f::KVM_GET_MP_STATE.value);
static_assert(ours::kvm::KVM_SET_MP_STATE == f::KVM_SET_MP_STATE.value);
static_assert(ours::kvm::KVM_SET_DEBUGREGS == f::KVM_SET_DEBUGREGS.value);
static_assert(ours::kvm::KVM_ENABLE_CAP == f::KVM_ENABLE_CAP.value);
static_assert(ours::kvm::KVM_SET_XCRS == f::KVM_SET_XCRS.value);
static_assert(ours::kvm::KVM_MEMORY_ENCRYPT_OP == f::KVM_MEMORY_ENCRYPT_OP.value);
static_assert(ours::kvm::KVM_SET_MEMORY_ATTRIBUTES == f::KVM_SET_MEMORY_ATTRIBUTES.value);
static_assert(ours::kvm::KVM_CREATE_GUEST_MEMFD == f::KVM_CREATE_GUEST_MEMFD.value);
static_assert(ours::kvm::kSevInit2 == f::KVM_SEV_INIT2.value);
static_assert(ours::kvm::kSevSnpLaunchStart == f::KVM_SEV_SNP_LAUNCH_START.value);
static_assert(ours::kvm::kSevSnpLaunchUpdate == f::KVM_SEV_SNP_LAUNCH_UPDATE.value);
static_assert(ours::kvm::kSevSnpLaunchFinish == f::KVM_SEV_SNP_LAUNCH_FINISH.value);
static_assert(ours::kvm::kSnpPageNormal == f::KVM_SEV_SNP_PAGE_TYPE_NORMAL.value);
static_assert(ours::kvm::kSnpPageZero == f::KVM_SEV_SNP_PAGE_TYPE_ZERO.value);
static_assert(ours::kvm::kSnpPageUnmeasured == f::KVM_SEV_SNP_PAGE_TYPE_UNMEASURED.value);
static_assert(ours::kvm::kSnpPageSecrets == f::KVM_SEV_SNP_PAGE_TYPE_SECRETS.value);
static_assert(ours::kvm::kSnpPageCpuid == f::KVM_SEV_SNP_PAGE_TYPE_CPUID.value);
static_assert(ours::kvm::kSnpIdBlockSize == f::KVM_SEV_SNP_ID_BLOCK_SIZE.value);
static_assert(ours::kvm::kSnpIdAuthSize == f::KVM_SEV_SNP_ID_AUTH_SIZE.value);
static_assert(ours::kvm::kVmDefault == f::KVM_X86_DEFAULT_VM.value);
static_assert(ours::kvm::kVmSnp == f::KVM_X86_SNP_VM.value);
static_assert(ours::kvm::kVmTdx == f::KVM_X86_TDX_VM.value);
static_assert(ours::kvm::kTdxCapabilities == f::KVM_TDX_CAPABILITIES.value);
static_assert(ours::kvm::kTdxInitVm == f::KVM_TDX_INIT_VM.value);
static_assert(ours::kvm::kTdxInitVcpu == f::KVM_TDX_INIT_VCPU.value);
static_assert(ours::kvm::kTdxInitMemRegion == f::KVM_TDX_INIT_MEM_REGION.value);
static_assert(ours::kvm::kTdxFinalizeVm == f::KVM_TDX_FINALIZE_VM.value);
static_assert(ours::kvm::kTdxMeasureMemoryRegion == f::KVM_TDX_MEASURE_MEMORY_REGION.value);
static_assert(ours::kvm::kHcMapGpaRange == f::KVM_HC_MAP_GPA_RANGE.value);
static_assert(ours::kvm::kMsrPat == f::MSR_IA32_CR_PAT.value);
static_assert(ours::mshv::kMshvIo == f::MSHV_IOCTL.value);
static_assert(ours::mshv::kPtBitLapic == (1ull << f::MSHV_PT_BIT_LAPIC.value));
static_assert(ours::mshv::kPtBitX2apic == (1ull << f::MSHV_PT_BIT_X2APIC.value));
static_assert(ours::mshv::kPtBitGpaSuperPages == (1ull << f::MSHV_PT_BIT_GPA_SUPER_PAGES.value));
static_assert(ours::mshv::kIsolationNone == f::MSHV_PT_ISOLATION_NONE.value);
static_assert(ours::mshv::kIsolationSnp == f::MSHV_PT_ISOLATION_SNP.value);
static_assert(ours::mshv::kMemWritable == (1ull << f::MSHV_SET_MEM_BIT_WRITABLE.value));
static_assert(ours::mshv::kMemExecutable == (1ull << f::MSHV_SET_MEM_BIT_EXECUTABLE.value));
static_assert(ours::mshv::kMemUnmap == (1ull << f::MSHV_SET_MEM_BIT_UNMAP.value));
static_assert(ours::mshv::kIsoPageNormal == f::MSHV_ISOLATED_PAGE_NORMAL.value);
static_assert(ours::mshv::kIsoPageVmsa == f::MSHV_ISOLATED_PAGE_VMSA.value);
static_assert(ours::mshv::kIsoPageZero == f::MSHV_ISOLATED_PAGE_ZERO.value);
static_assert(ours::mshv::kIsoPageUnmeasured == f::MSHV_ISOLATED_PAGE_UNMEASURED.value);
static_assert(ours::mshv::kIsoPageSecrets == f::MSHV_ISOLATED_PAGE_SECRETS.value);
static_assert(ours::mshv::kIsoPageCpuid == f::MSHV_ISOLATED_PAGE_CPUID.value);
static_assert(sizeof(ours::mshv::hv_message) == f::MSHV_RUN_VP_BUF_SZ.value);
static_assert(ours::mshv::MSHV_CREATE_PARTITION == f::MSHV_CREATE_PARTITION.value);
static_assert(ours::mshv::MSHV_INITIALIZE_PARTITION == f::MSHV_INITIALIZE_PARTITION.value);
static_assert(ours::mshv::MSHV_CREATE_VP == f::MSHV_CREATE_VP.value);
static_assert(ours::mshv::MSHV_SET_GUEST_MEMORY == f::MSHV_SET_GUEST_MEMORY.value);
static_assert(ours::mshv::MSHV_ROOT_HVCALL == f::MSHV_ROOT_HVCALL.value);
static_assert(ours::mshv::MSHV_IMPORT_ISOLATED_PAGES == f::MSHV_IMPORT_ISOLATED_PAGES.value);
static_assert(ours::mshv::MSHV_GET_PARTITION_PROPERTY == f::MSHV_GET_PARTITION_PROPERTY.value);
static_assert(ours::mshv::MSHV_COMPLETE_ISOLATED_IMPORT == f::MSHV_COMPLETE_ISOLATED_IMPORT.value);
static_assert(ours::mshv::MSHV_RUN_VP == f::MSHV_RUN_VP.value);
static_assert(ours::mshv::kHvcallGetPartitionProperty == f::HVCALL_GET_PARTITION_PROPERTY.value);
static_assert(ours::mshv::kHvcallSetPartitionProperty == f::HVCALL_SET_PARTITION_PROPERTY.value);
static_assert(ours::mshv::kHvcallGetVpRegisters == f::HVCALL_GET_VP_REGISTERS.value);
static_assert(ours::mshv::kHvcallSetVpRegisters == f::HVCALL_SET_VP_REGISTERS.value);
static_assert(ours::mshv::kHvMsgNone == f::HVMSG_NONE.value);
static_assert(ours::mshv::kHvMsgUnmappedGpa == f::HVMSG_UNMAPPED_GPA.value);
static_assert(ours::mshv::kHvMsgGpaIntercept == f::HVMSG_GPA_INTERCEPT.value);
static_assert(ours::mshv::kHvMsgTimerExpired == f::HVMSG_TIMER_EXPIRED.value);
static_assert(ours::mshv::kHvMsgInvalidVpRegisterValue == f::HVMSG_INVALID_VP_REGISTER_VALUE.value);
static_assert(ours::mshv::kHvMsgUnrecoverableException == f::HVMSG_UNRECOVERABLE_EXCEPTION.value);
static_assert(ours::mshv::kHvMsgUnsupportedFeature == f::HVMSG_UNSUPPORTED_FEATURE.value);
static_assert(ours::mshv::kHvMsgX64IoPortIntercept == f::HVMSG_X64_IO_PORT_INTERCEPT.value);
static_assert(ours::mshv::kHvMsgX64MsrIntercept == f::HVMSG_X64_MSR_INTERCEPT.value);
static_assert(ours::mshv::kHvMsgX64CpuidIntercept == f::HVMSG_X64_CPUID_INTERCEPT.value);
static_assert(ours::mshv::kHvMsgX64ExceptionIntercept == f::HVMSG_X64_EXCEPTION_INTERCEPT.value);
static_assert(ours::mshv::kHvMsgX64Halt == f::HVMSG_X64_HALT.value);
static_assert(ours::mshv::kRegRax == f::HV_X64_REGISTER_RAX.value);
static_assert(ours::mshv::kRegRcx == f::HV_X64_REGISTER_RCX.value);
static_assert(ours::mshv::kRegRdx == f::HV_X64_REGISTER_RDX.value);
static_assert(ours::mshv::kRegRbx == f::HV_X64_REGISTER_RBX.value);
static_assert(ours::mshv::kRegRsp == f::HV_X64_REGISTER_RSP.value);
static_assert(ours::mshv::kRegRbp == f::HV_X64_REGISTER_RBP.value);
static_assert(ours::mshv::kRegRsi == f::HV_X64_REGISTER_RSI.value);
static_assert(ours::mshv::kRegRdi == f::HV_X64_REGISTER_RDI.value);
static_assert(ours::mshv::kRegR8 == f::HV_X64_REGISTER_R8.value);
static_assert(ours::mshv::kRegRip == f::HV_X64_REGISTER_RIP.value);
static_assert(ours::mshv::kRegRflags == f::HV_X64_REGISTER_RFLAGS.value);
static_assert(ours::mshv::kRegCr0 == f::HV_X64_REGISTER_CR0.value);
static_assert(ours::mshv::kRegCr3 == f::HV_X64_REGISTER_CR3.value);
static_assert(ours::mshv::kRegCr4 == f::HV_X64_REGISTER_CR4.value);
static_assert(ours::mshv::kRegEs == f::HV_X64_REGISTER_ES.value);
static_assert(ours::mshv::kRegCs == f::HV_X64_REGISTER_CS.value);
static_assert(ours::mshv::kRegSs == f::HV_X64_REGISTER_SS.value);
static_assert(ours::mshv::kRegDs == f::HV_X64_REGISTER_DS.value);
static_assert(ours::mshv::kRegFs == f::HV_X64_REGISTER_FS.value);
static_assert(ours::mshv::kRegGs == f::HV_X64_REGISTER_GS.value);
static_assert(ours::mshv::kRegLdtr == f::HV_X64_REGISTER_LDTR.value);
static_assert(ours::mshv::kRegTr == f::HV_X64_REGISTER_TR.value);
static_assert(ours::mshv::kRegIdtr == f::HV_X64_REGISTER_IDTR.value);
static_assert(ours::mshv::kRegGdtr == f::HV_X64_REGISTER_GDTR.value);
static_assert(ours::mshv::kRegEfer == f::HV_X64_REGISTER_EFER.value);
static_assert(ours::mshv::kRegSevControl == f::HV_X64_REGISTER_SEV_CONTROL.value);
static_assert(ours::mshv::kHvInterceptRead == f::HV_INTERCEPT_ACCESS_READ.value);
static_assert(ours::mshv::kHvInterceptWrite == f::HV_INTERCEPT_ACCESS_WRITE.value);
static_assert(ours::mshv::kHvInterceptExecute == f::HV_INTERCEPT_ACCESS_EXECUTE.value);
static_assert(ours::mshv::kIsolationStateSecure == f::HV_PARTITION_ISOLATION_SECURE.value);
static_assert(ours::mshv::kPropIsolationState == f::HV_PARTITION_PROPERTY_ISOLATION_STATE.value);
static_assert(ours::mshv::kPropIsolationPolicy == f::HV_PARTITION_PROPERTY_ISOLATION_POLICY.value);

// The two args the kernel declares as a plain integer type: KVM_SET_IDENTITY_MAP_ADDR (__u64) and
// KVM_MEMORY_ENCRYPT_OP (unsigned long), both 8 bytes on x86-64.
constexpr uint64_t kU64Argument = 8;

struct IoctlArgument {
  const char* name;
  const f::Fact& number;
  uint64_t argument_size;  // 0: _IO, no argument
};
const IoctlArgument kIoctls[] = {
    {"KVM_GET_API_VERSION", f::KVM_GET_API_VERSION, 0},
    {"KVM_CREATE_VM", f::KVM_CREATE_VM, 0},
    {"KVM_CHECK_EXTENSION", f::KVM_CHECK_EXTENSION, 0},
    {"KVM_GET_SUPPORTED_CPUID", f::KVM_GET_SUPPORTED_CPUID, f::kvm_cpuid2::struct_size.value},
    {"KVM_GET_VCPU_MMAP_SIZE", f::KVM_GET_VCPU_MMAP_SIZE, 0},
    {"KVM_CREATE_VCPU", f::KVM_CREATE_VCPU, 0},
    {"KVM_SET_USER_MEMORY_REGION", f::KVM_SET_USER_MEMORY_REGION,
     f::kvm_userspace_memory_region::struct_size.value},
    {"KVM_SET_TSS_ADDR", f::KVM_SET_TSS_ADDR, 0},
    {"KVM_SET_IDENTITY_MAP_ADDR", f::KVM_SET_IDENTITY_MAP_ADDR, kU64Argument},
    {"KVM_SET_USER_MEMORY_REGION2", f::KVM_SET_USER_MEMORY_REGION2,
     f::kvm_userspace_memory_region2::struct_size.value},
    {"KVM_CREATE_IRQCHIP", f::KVM_CREATE_IRQCHIP, 0},
    {"KVM_IRQ_LINE", f::KVM_IRQ_LINE, f::kvm_irq_level::struct_size.value},
    {"KVM_CREATE_PIT2", f::KVM_CREATE_PIT2, f::kvm_pit_config::struct_size.value},
    {"KVM_RUN", f::KVM_RUN, 0},
    {"KVM_GET_REGS", f::KVM_GET_REGS, f::kvm_regs::struct_size.value},
    {"KVM_SET_REGS", f::KVM_SET_REGS, f::kvm_regs::struct_size.value},
    {"KVM_GET_SREGS", f::KVM_GET_SREGS, f::kvm_sregs::struct_size.value},
    {"KVM_SET_SREGS", f::KVM_SET_SREGS, f::kvm_sregs::struct_size.value},
    {"KVM_GET_MSRS", f::KVM_GET_MSRS, f::kvm_msrs::struct_size.value},
    {"KVM_SET_MSRS", f::KVM_SET_MSRS, f::kvm_msrs::struct_size.value},
    {"KVM_SET_FPU", f::KVM_SET_FPU, f::kvm_fpu::struct_size.value},
    {"KVM_GET_LAPIC", f::KVM_GET_LAPIC, f::kvm_lapic_state::struct_size.value},
    {"KVM_SET_LAPIC", f::KVM_SET_LAPIC, f::kvm_lapic_state::struct_size.value},
    {"KVM_SET_CPUID2", f::KVM_SET_CPUID2, f::kvm_cpuid2::struct_size.value},
    {"KVM_GET_MP_STATE", f::KVM_GET_MP_STATE, f::kvm_mp_state::struct_size.value},
    {"KVM_SET_MP_STATE", f::KVM_SET_MP_STATE, f::kvm_mp_state::struct_size.value},
    {"KVM_SET_DEBUGREGS", f::KVM_SET_DEBUGREGS, f::kvm_debugregs::struct_size.value},
    {"KVM_ENABLE_CAP", f::KVM_ENABLE_CAP, f::kvm_enable_cap::struct_size.value},
    {"KVM_SET_XCRS", f::KVM_SET_XCRS, f::kvm_xcrs::struct_size.value},
    {"KVM_MEMORY_ENCRYPT_OP", f::KVM_MEMORY_ENCRYPT_OP, kU64Argument},
    {"KVM_SET_MEMORY_ATTRIBUTES", f::KVM_SET_MEMORY_ATTRIBUTES,
     f::kvm_memory_attributes::struct_size.value},
    {"KVM_CREATE_GUEST_MEMFD", f::KVM_CREATE_GUEST_MEMFD,
     f::kvm_create_guest_memfd::struct_size.value},
    {"MSHV_CREATE_PARTITION", f::MSHV_CREATE_PARTITION,
     f::mshv_create_partition::struct_size.value},
    {"MSHV_INITIALIZE_PARTITION", f::MSHV_INITIALIZE_PARTITION, 0},
    {"MSHV_CREATE_VP", f::MSHV_CREATE_VP, f::mshv_create_vp::struct_size.value},
    {"MSHV_SET_GUEST_MEMORY", f::MSHV_SET_GUEST_MEMORY, f::mshv_user_mem_region::struct_size.value},
    {"MSHV_ROOT_HVCALL", f::MSHV_ROOT_HVCALL, f::mshv_root_hvcall::struct_size.value},
    {"MSHV_IMPORT_ISOLATED_PAGES", f::MSHV_IMPORT_ISOLATED_PAGES,
     f::mshv_import_isolated_pages::struct_size.value},
    {"MSHV_GET_PARTITION_PROPERTY", f::MSHV_GET_PARTITION_PROPERTY,
     f::mshv_partition_property::struct_size.value},
    {"MSHV_COMPLETE_ISOLATED_IMPORT", f::MSHV_COMPLETE_ISOLATED_IMPORT,
     f::mshv_complete_isolated_import::struct_size.value},
    {"MSHV_RUN_VP", f::MSHV_RUN_VP, f::mshv_run_vp::struct_size.value},
};

// The table cross-checks itself: each ioctl number (expanded from the header's _IOx macro) encodes
// the size of the struct the same header declares as its argument, the ioctl type of that header,
// and a direction that agrees with having an argument at all.
TEST(KernelAbiFacts, IoctlNumbersEncodeTheirArgumentStructs) {
  for (const IoctlArgument& io : kIoctls) {
    SCOPED_TRACE(io.name);
    const uint64_t n = io.number.value;
    const uint64_t dir = n >> 30, size = (n >> 16) & 0x3FFF, type = (n >> 8) & 0xFF;
    EXPECT_EQ(size, io.argument_size);
    EXPECT_EQ(dir == 0, io.argument_size == 0);
    const bool is_kvm = std::string(io.name).rfind("KVM_", 0) == 0;
    EXPECT_EQ(type, is_kvm ? f::KVMIO.value : f::MSHV_IOCTL.value);
  }
}

// Every fact cites a line inside its header (none of the headers is longer than 2000 lines) and a
// commit.
TEST(KernelAbiFacts, EveryIoctlCitesALine) {
  for (const IoctlArgument& io : kIoctls) {
    EXPECT_GT(io.number.line, 0) << io.name;
    EXPECT_LT(io.number.line, 2000) << io.name;
    EXPECT_NE(std::string(io.number.source.commit), "") << io.name;
  }
}

// What the backend targets where the downstream kernels disagree (README.md): the current
// numbering, not the pre-July-2024 one.
TEST(KernelAbiFacts, MshvIsolatedImportUsesTheCurrentDownstreamNumbers) {
  EXPECT_EQ((ours::mshv::MSHV_IMPORT_ISOLATED_PAGES & 0xFF), 0x0Au);
  EXPECT_EQ((ours::mshv::MSHV_COMPLETE_ISOLATED_IMPORT & 0xFF), 0xF4u);
  EXPECT_NE((ours::mshv::MSHV_IMPORT_ISOLATED_PAGES & 0xFF),
            f::MSHV_IMPORT_ISOLATED_PAGES_nr_before_2024_07.value);
  EXPECT_NE((ours::mshv::MSHV_COMPLETE_ISOLATED_IMPORT & 0xFF),
            f::MSHV_COMPLETE_ISOLATED_IMPORT_nr_before_2024_07.value);
}

}  // namespace
