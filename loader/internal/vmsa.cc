#include "loader/internal/vmsa.h"

#include <cstring>
#include <utility>
#include <vector>

namespace igvmkit::loader::detail {
namespace {

using O = VmsaOffsets;

template <class T>
T get(Bytes page, size_t off) {
  T v;
  std::memcpy(&v, page.data() + off, sizeof(T));
  return v;
}
template <class T>
void put(ByteVector& page, size_t off, T v) {
  std::memcpy(page.data() + off, &v, sizeof(T));
}

// Every byte range decodeKvmVmsa() reads; all other bytes must be zero.
struct Field {
  size_t offset;
  size_t size;
};
std::vector<Field> knownFields() {
  std::vector<Field> f;
  for (size_t seg = 0; seg <= O::kTr; seg += 16) {
    f.push_back({seg, 16});
  }
  for (size_t off : {O::kEfer, O::kCr4, O::kCr3, O::kCr0, O::kDr7,         O::kDr6, O::kRflags,
                     O::kRip,  O::kRsp, O::kRax, O::kCr2, O::kGPat,        O::kRcx, O::kRdx,
                     O::kRbx,  O::kRbp, O::kRsi, O::kRdi, O::kSevFeatures, O::kXcr0}) {
    f.push_back({off, 8});
  }
  f.push_back({O::kR8, 64});
  f.push_back({O::kMxcsr, 4});
  f.push_back({O::kX87Fcw, 2});
  return f;
}

X64Segment readSegment(Bytes page, size_t off) {
  return X64Segment{.base = get<uint64_t>(page, off + 8),
                    .limit = get<uint32_t>(page, off + 4),
                    .selector = get<uint16_t>(page, off),
                    .attributes = get<uint16_t>(page, off + 2)};
}
void writeSegment(ByteVector& page, size_t off, const X64Segment& s) {
  put(page, off, s.selector);
  put(page, off + 2, s.attributes);
  put(page, off + 4, s.limit);
  put(page, off + 8, s.base);
}

Error fieldError(std::string message) {
  return unsupported("kvm_snp.vmsa_field", std::move(message));
}

}  // namespace

Result<KvmVmsaState> decodeKvmVmsa(Bytes page, uint64_t sev_features) {
  if (page.size() != kVmsaSize) {
    return invalid("vmsa.size", "vmsa is " + hex(page.size()) + " bytes, expected 0x1000");
  }
  std::vector<bool> known(kVmsaSize, false);
  for (const Field& f : knownFields()) {
    for (size_t i = 0; i < f.size; ++i) {
      known[f.offset + i] = true;
    }
  }
  for (size_t i = 0; i < kVmsaSize; ++i) {
    if (!known[i] && page[i] != std::byte{0}) {
      return fieldError("vmsa byte at offset " + hex(i) +
                        " is nonzero but kvm cannot set that field from vcpu registers");
    }
  }
  KvmVmsaState s;
  X64Registers& r = s.regs;
  r.es = readSegment(page, O::kEs);
  r.cs = readSegment(page, O::kCs);
  r.ss = readSegment(page, O::kSs);
  r.ds = readSegment(page, O::kDs);
  r.fs = readSegment(page, O::kFs);
  r.gs = readSegment(page, O::kGs);
  r.ldtr = readSegment(page, O::kLdtr);
  r.tr = readSegment(page, O::kTr);
  const std::pair<const char*, size_t> kSegments[] = {
      {"es", O::kEs}, {"cs", O::kCs}, {"ss", O::kSs},     {"ds", O::kDs},
      {"fs", O::kFs}, {"gs", O::kGs}, {"ldtr", O::kLdtr}, {"tr", O::kTr}};
  for (const auto& [name, off] : kSegments) {
    uint16_t attrib = get<uint16_t>(page, off + 2);
    if ((attrib & 0xF000) != 0) {
      return fieldError(std::string("vmsa ") + name + " attributes " + hex(attrib) +
                        " have bits above 11, which kvm segments cannot express");
    }
  }
  const std::pair<const char*, size_t> kTables[] = {{"gdtr", O::kGdtr}, {"idtr", O::kIdtr}};
  for (const auto& [name, off] : kTables) {
    X64Segment t = readSegment(page, off);
    if (t.limit > 0xFFFF || t.selector != 0 || t.attributes != 0) {
      return fieldError(std::string("vmsa ") + name + " limit " + hex(t.limit) + " selector " +
                        hex(t.selector) + " attributes " + hex(t.attributes) +
                        ": kvm takes only a 16-bit limit and a base");
    }
  }
  r.gdtr = {get<uint64_t>(page, O::kGdtr + 8),
            static_cast<uint16_t>(get<uint32_t>(page, O::kGdtr + 4))};
  r.idtr = {get<uint64_t>(page, O::kIdtr + 8),
            static_cast<uint16_t>(get<uint32_t>(page, O::kIdtr + 4))};
  r.efer = get<uint64_t>(page, O::kEfer);
  r.cr4 = get<uint64_t>(page, O::kCr4);
  r.cr3 = get<uint64_t>(page, O::kCr3);
  r.cr0 = get<uint64_t>(page, O::kCr0);
  r.rflags = get<uint64_t>(page, O::kRflags);
  r.rip = get<uint64_t>(page, O::kRip);
  r.rsp = get<uint64_t>(page, O::kRsp);
  r.rax = get<uint64_t>(page, O::kRax);
  r.rcx = get<uint64_t>(page, O::kRcx);
  r.rdx = get<uint64_t>(page, O::kRdx);
  r.rbx = get<uint64_t>(page, O::kRbx);
  r.rbp = get<uint64_t>(page, O::kRbp);
  r.rsi = get<uint64_t>(page, O::kRsi);
  r.rdi = get<uint64_t>(page, O::kRdi);
  uint64_t* high[] = {&r.r8, &r.r9, &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15};
  for (size_t i = 0; i < 8; ++i) {
    *high[i] = get<uint64_t>(page, O::kR8 + 8 * i);
  }
  s.cr2 = get<uint64_t>(page, O::kCr2);
  s.dr6 = get<uint64_t>(page, O::kDr6);
  s.dr7 = get<uint64_t>(page, O::kDr7);
  s.xcr0 = get<uint64_t>(page, O::kXcr0);
  s.pat = get<uint64_t>(page, O::kGPat);
  s.fcw = get<uint16_t>(page, O::kX87Fcw);
  s.mxcsr = get<uint32_t>(page, O::kMxcsr);
  s.sev_features = get<uint64_t>(page, O::kSevFeatures);
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
  ByteVector page(kVmsaSize, std::byte{0});
  const X64Registers& r = s.regs;
  writeSegment(page, O::kEs, r.es);
  writeSegment(page, O::kCs, r.cs);
  writeSegment(page, O::kSs, r.ss);
  writeSegment(page, O::kDs, r.ds);
  writeSegment(page, O::kFs, r.fs);
  writeSegment(page, O::kGs, r.gs);
  writeSegment(page, O::kLdtr, r.ldtr);
  writeSegment(page, O::kTr, r.tr);
  put(page, O::kGdtr + 4, static_cast<uint32_t>(r.gdtr.limit));
  put(page, O::kGdtr + 8, r.gdtr.base);
  put(page, O::kIdtr + 4, static_cast<uint32_t>(r.idtr.limit));
  put(page, O::kIdtr + 8, r.idtr.base);
  put(page, O::kEfer, r.efer);
  put(page, O::kCr4, r.cr4);
  put(page, O::kCr3, r.cr3);
  put(page, O::kCr0, r.cr0);
  put(page, O::kRflags, r.rflags);
  put(page, O::kRip, r.rip);
  put(page, O::kRsp, r.rsp);
  put(page, O::kRax, r.rax);
  put(page, O::kRcx, r.rcx);
  put(page, O::kRdx, r.rdx);
  put(page, O::kRbx, r.rbx);
  put(page, O::kRbp, r.rbp);
  put(page, O::kRsi, r.rsi);
  put(page, O::kRdi, r.rdi);
  const uint64_t high[] = {r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15};
  for (size_t i = 0; i < 8; ++i) {
    put(page, O::kR8 + 8 * i, high[i]);
  }
  put(page, O::kCr2, s.cr2);
  put(page, O::kDr6, s.dr6);
  put(page, O::kDr7, s.dr7);
  put(page, O::kXcr0, s.xcr0);
  put(page, O::kGPat, s.pat);
  put(page, O::kX87Fcw, s.fcw);
  put(page, O::kMxcsr, s.mxcsr);
  put(page, O::kSevFeatures, s.sev_features);
  return page;
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
