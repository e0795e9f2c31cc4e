#include "hv/mshv_regs.h"

#include <cstring>

namespace igvmkit::hv::mshv {
namespace {

hv_register_assoc assoc(uint32_t name, const void* value, size_t size) {
  hv_register_assoc a{};
  a.name = name;
  std::memcpy(a.value, value, size);
  return a;
}

}  // namespace

hv_register_assoc register64(uint32_t name, uint64_t value) { return assoc(name, &value, 8); }

hv_register_assoc segmentRegister(uint32_t name, const x86::Segment& s) {
  const hv_x64_segment_register v{s.base, s.limit, s.selector, s.attributes};
  return assoc(name, &v, sizeof(v));
}

hv_register_assoc tableRegister(uint32_t name, const x86::TableRegister& t) {
  const hv_x64_table_register v{{0, 0, 0}, t.limit, t.base};
  return assoc(name, &v, sizeof(v));
}

std::vector<hv_register_assoc> registersFor(const x86::VpState& s) {
  const uint64_t gprs[] = {s.rax, s.rcx, s.rdx, s.rbx, s.rsp, s.rbp, s.rsi, s.rdi,
                           s.r8,  s.r9,  s.r10, s.r11, s.r12, s.r13, s.r14, s.r15};
  std::vector<hv_register_assoc> regs;
  regs.reserve(32);
  for (uint32_t i = 0; i < 16; ++i) {
    regs.push_back(register64(kRegRax + i, gprs[i]));
  }
  regs.push_back(register64(kRegRip, s.rip));
  regs.push_back(register64(kRegRflags, s.rflags));
  regs.push_back(register64(kRegCr0, s.cr0));
  regs.push_back(register64(kRegCr3, s.cr3));
  regs.push_back(register64(kRegCr4, s.cr4));
  regs.push_back(register64(kRegEfer, s.efer));
  regs.push_back(segmentRegister(kRegEs, s.es));
  regs.push_back(segmentRegister(kRegCs, s.cs));
  regs.push_back(segmentRegister(kRegSs, s.ss));
  regs.push_back(segmentRegister(kRegDs, s.ds));
  regs.push_back(segmentRegister(kRegFs, s.fs));
  regs.push_back(segmentRegister(kRegGs, s.gs));
  regs.push_back(segmentRegister(kRegLdtr, s.ldtr));
  regs.push_back(segmentRegister(kRegTr, s.tr));
  regs.push_back(tableRegister(kRegIdtr, s.idtr));
  regs.push_back(tableRegister(kRegGdtr, s.gdtr));
  return regs;
}

}  // namespace igvmkit::hv::mshv
