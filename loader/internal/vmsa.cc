#include "loader/internal/vmsa.h"

#include <cstring>
#include <utility>
#include <vector>

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

X64Segment readSegment(const SevVmsaSegment& s) {
  return X64Segment{
      .base = s.base, .limit = s.limit, .selector = s.selector, .attributes = s.attrib};
}
SevVmsaSegment writeSegment(const X64Segment& s) {
  return SevVmsaSegment{
      .selector = s.selector, .attrib = s.attributes, .limit = s.limit, .base = s.base};
}
SevVmsaSegment writeTable(const X64Table& t) {
  return SevVmsaSegment{.selector = 0, .attrib = 0, .limit = t.limit, .base = t.base};
}

Error fieldError(std::string message) {
  return unsupported("kvm_snp.vmsa_field", std::move(message));
}

}  // namespace

Result<KvmVmsaState> decodeKvmVmsa(Bytes page, uint64_t sev_features) {
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
  KvmVmsaState s;
  X64Registers& r = s.regs;
  r.es = readSegment(v.es);
  r.cs = readSegment(v.cs);
  r.ss = readSegment(v.ss);
  r.ds = readSegment(v.ds);
  r.fs = readSegment(v.fs);
  r.gs = readSegment(v.gs);
  r.ldtr = readSegment(v.ldtr);
  r.tr = readSegment(v.tr);
  r.gdtr = {v.gdtr.base, static_cast<uint16_t>(v.gdtr.limit)};
  r.idtr = {v.idtr.base, static_cast<uint16_t>(v.idtr.limit)};
  r.efer = v.efer;
  r.cr4 = v.cr4;
  r.cr3 = v.cr3;
  r.cr0 = v.cr0;
  r.rflags = v.rflags;
  r.rip = v.rip;
  r.rsp = v.rsp;
  r.rax = v.rax;
  r.rcx = v.rcx;
  r.rdx = v.rdx;
  r.rbx = v.rbx;
  r.rbp = v.rbp;
  r.rsi = v.rsi;
  r.rdi = v.rdi;
  r.r8 = v.r8;
  r.r9 = v.r9;
  r.r10 = v.r10;
  r.r11 = v.r11;
  r.r12 = v.r12;
  r.r13 = v.r13;
  r.r14 = v.r14;
  r.r15 = v.r15;
  s.cr2 = v.cr2;
  s.dr6 = v.dr6;
  s.dr7 = v.dr7;
  s.xcr0 = v.xcr0;
  s.pat = v.pat;
  s.fcw = v.x87_fcw;
  s.mxcsr = v.mxcsr;
  s.sev_features = v.sev_features;
  if ((r.efer & kEferSvme) == 0) {
    return fieldError("vmsa efer " + hex(r.efer) +
                      " lacks svme (0x1000), which kvm always sets: the measured vmsa would "
                      "differ from the file's");
  }
  if ((s.xcr0 & 1) == 0) {
    return fieldError("vmsa xcr0 " + hex(s.xcr0) +
                      " lacks x87 (bit 0), which kvm requires: KVM_SET_XCRS would refuse it");
  }
  if (s.sev_features != sev_features) {
    return fieldError("vmsa sev_features " + hex(s.sev_features) + " differ from the launch's " +
                      hex(sev_features) + ": kvm gives every vcpu the same features");
  }
  if ((s.sev_features & kSevFeatureSnpActive) == 0) {
    return fieldError("vmsa sev_features " + hex(s.sev_features) + " lack snp_active (bit 0)");
  }
  return s;
}

ByteVector encodeVmsa(const KvmVmsaState& s) {
  const X64Registers& r = s.regs;
  SevVmsa v{};
  v.es = writeSegment(r.es);
  v.cs = writeSegment(r.cs);
  v.ss = writeSegment(r.ss);
  v.ds = writeSegment(r.ds);
  v.fs = writeSegment(r.fs);
  v.gs = writeSegment(r.gs);
  v.ldtr = writeSegment(r.ldtr);
  v.tr = writeSegment(r.tr);
  v.gdtr = writeTable(r.gdtr);
  v.idtr = writeTable(r.idtr);
  v.efer = r.efer;
  v.cr4 = r.cr4;
  v.cr3 = r.cr3;
  v.cr0 = r.cr0;
  v.rflags = r.rflags;
  v.rip = r.rip;
  v.rsp = r.rsp;
  v.rax = r.rax;
  v.rcx = r.rcx;
  v.rdx = r.rdx;
  v.rbx = r.rbx;
  v.rbp = r.rbp;
  v.rsi = r.rsi;
  v.rdi = r.rdi;
  v.r8 = r.r8;
  v.r9 = r.r9;
  v.r10 = r.r10;
  v.r11 = r.r11;
  v.r12 = r.r12;
  v.r13 = r.r13;
  v.r14 = r.r14;
  v.r15 = r.r15;
  v.cr2 = s.cr2;
  v.dr6 = s.dr6;
  v.dr7 = s.dr7;
  v.xcr0 = s.xcr0;
  v.pat = s.pat;
  v.x87_fcw = s.fcw;
  v.mxcsr = s.mxcsr;
  v.sev_features = s.sev_features;
  const Bytes b = asBytes(v);
  return ByteVector(b.begin(), b.end());
}

}  // namespace igvmkit::loader::detail

namespace igvmkit::loader {

Result<X64Registers> registersFromVmsa(Bytes page, uint64_t sev_features) {
  IGVMKIT_ASSIGN_OR_RETURN(detail::KvmVmsaState st, detail::decodeKvmVmsa(page, sev_features));
  X64Registers r = st.regs;
  r.efer &= ~detail::kEferSvme;
  r.cr2 = st.cr2;
  r.xcr0 = st.xcr0;
  r.pat = st.pat;
  return r;
}

}  // namespace igvmkit::loader
