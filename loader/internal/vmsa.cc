#include "loader/internal/vmsa.h"

#include <cstring>
#include <utility>
#include <vector>

#include "igvm/vp_state.h"
#include "loader/plan.h"

namespace igvmkit::loader::detail {
namespace {

using igvm::SevVmsa;
using igvm::SevVmsaSegment;

// The page without every field decodeKvmVmsa() reads; all other bytes must be zero.
SevVmsa withoutKnownFields(SevVmsa v) {
  v.es = v.cs = v.ss = v.ds = v.fs = v.gs = v.gdtr = v.ldtr = v.idtr = v.tr = {};
  v.efer = v.cr4 = v.cr3 = v.cr0 = v.dr7 = v.dr6 = v.rflags = v.rip = 0;
  v.rsp = v.rax = v.cr2 = v.pat = 0;
  v.rcx = v.rdx = v.rbx = 0;
  v.rbp = v.rsi = v.rdi = v.r8 = v.r9 = v.r10 = v.r11 = v.r12 = v.r13 = v.r14 = v.r15 = 0;
  v.sev_features = v.xcr0 = 0;
  v.mxcsr = 0;
  v.x87_fcw = 0;
  return v;
}

Error fieldError(std::string message) {
  return unsupported("kvm_snp.vmsa_field", std::move(message));
}

}  // namespace

Result<x86::VpState> decodeKvmVmsa(Bytes page, uint64_t sev_features) {
  if (page.size() != sizeof(SevVmsa)) {
    return invalid("vmsa.size", "vmsa is " + hex(page.size()) + " bytes, expected 0x1000");
  }
  IGVMKIT_ASSIGN_OR_RETURN(const SevVmsa v, readStruct<SevVmsa>(page, 0));
  const SevVmsa rest = withoutKnownFields(v);
  const Bytes left = asBytes(rest);
  for (size_t i = 0; i < left.size(); ++i) {
    if (left[i] != std::byte{0}) {
      return fieldError("vmsa byte at offset " + hex(i) +
                        " is nonzero but kvm cannot set that field from vcpu registers");
    }
  }
  const std::pair<const char*, const SevVmsaSegment*> kSegments[] = {
      {"es", &v.es}, {"cs", &v.cs}, {"ss", &v.ss},     {"ds", &v.ds},
      {"fs", &v.fs}, {"gs", &v.gs}, {"ldtr", &v.ldtr}, {"tr", &v.tr}};
  for (const auto& [name, seg] : kSegments) {
    if ((seg->attrib & 0xF000) != 0) {
      return fieldError(std::string("vmsa ") + name + " attributes " + hex(seg->attrib) +
                        " have bits above 11, which kvm segments cannot express");
    }
  }
  const std::pair<const char*, const SevVmsaSegment*> kTables[] = {{"gdtr", &v.gdtr},
                                                                   {"idtr", &v.idtr}};
  for (const auto& [name, t] : kTables) {
    if (t->limit > 0xFFFF || t->selector != 0 || t->attrib != 0) {
      return fieldError(std::string("vmsa ") + name + " limit " + hex(t->limit) + " selector " +
                        hex(t->selector) + " attributes " + hex(t->attrib) +
                        ": kvm takes only a 16-bit limit and a base");
    }
  }
  if ((v.efer & kEferSvme) == 0) {
    return fieldError("vmsa efer " + hex(v.efer) +
                      " lacks svme (0x1000), which kvm always sets: the measured vmsa would "
                      "differ from the file's");
  }
  if ((v.xcr0 & 1) == 0) {
    return fieldError("vmsa xcr0 " + hex(v.xcr0) +
                      " lacks x87 (bit 0), which kvm requires: KVM_SET_XCRS would refuse it");
  }
  if (v.sev_features != sev_features) {
    return fieldError("vmsa sev_features " + hex(v.sev_features) + " differ from the launch's " +
                      hex(sev_features) + ": kvm gives every vcpu the same features");
  }
  if ((v.sev_features & kSevFeatureSnpActive) == 0) {
    return fieldError("vmsa sev_features " + hex(v.sev_features) + " lack snp_active (bit 0)");
  }
  return igvm::vpStateFromVmsa(v);
}

}  // namespace igvmkit::loader::detail

namespace igvmkit::loader {

Result<x86::VpState> registersFromVmsa(Bytes page, uint64_t sev_features) {
  IGVMKIT_ASSIGN_OR_RETURN(x86::VpState s, detail::decodeKvmVmsa(page, sev_features));
  s.efer &= ~detail::kEferSvme;
  return s;
}

}  // namespace igvmkit::loader
