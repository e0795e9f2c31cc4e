// hv/mshv_regs.h: x86::VpState as the Hyper-V register list HvCallSetVpRegisters takes (through
// MSHV_ROOT_HVCALL), the one translation of VP state for /dev/mshv.
//
//   std::vector<hv::mshv::hv_register_assoc> regs = hv::mshv::registersFor(state);
//   // split into HvCallSetVpRegisters calls of at most 127 entries
#pragma once

#include <cstdint>
#include <vector>

#include "hv/mshv_abi.h"
#include "x86/vp_state.h"

namespace igvmkit::hv::mshv {

// A segment as HV_X64_SEGMENT_REGISTER: the descriptor-form attributes go across unchanged
// (hv_x64_segment_register in hv/mshv_abi.h).
hv_register_assoc segmentRegister(uint32_t name, const x86::Segment& segment);
hv_register_assoc tableRegister(uint32_t name, const x86::TableRegister& table);
hv_register_assoc register64(uint32_t name, uint64_t value);

// RAX..R15, RIP, RFLAGS, CR0, CR3, CR4, EFER, ES, CS, SS, DS, FS, GS, LDTR, TR, IDTR, GDTR, in
// that order. CR2, XCR0, PAT, the debug registers, MXCSR/FCW and `msrs` are not in the list: a
// new VP holds their reset values, and no mshv caller sets them today.
std::vector<hv_register_assoc> registersFor(const x86::VpState& state);

}  // namespace igvmkit::hv::mshv
