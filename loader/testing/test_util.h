// loader/testing/test_util.h: small builders for hand-made plans in the loader's tests.
#pragma once

#include <cstring>
#include <memory>

#include "igvm/vp_state.h"
#include "loader/internal/vmsa.h"
#include "loader/plan.h"

namespace igvmkit::loader::testing {

inline constexpr uint64_t kTestMemory = 16ull << 20;

inline Plan basePlan(BackendKind backend, uint32_t vcpus = 1) {
  Plan p;
  p.backend = backend;
  p.config.memory_size = kTestMemory;
  p.config.vcpus = vcpus;
  return p;
}

inline bool confidential(BackendKind b) {
  return b == BackendKind::kKvmSnp || b == BackendKind::kKvmTdx || b == BackendKind::kMshvSnp;
}

inline MapMemory mapAll(BackendKind backend) {
  MapMemory m;
  m.gpa = 0;
  m.size = kTestMemory;
  m.is_private = confidential(backend);
  return m;
}

// Pages of `byte` repeated, owned by the op.
inline ImportPages filledPages(uint64_t gpa, uint64_t pages, uint8_t byte,
                               PageType type = PageType::kNormal) {
  auto data = std::make_shared<ByteVector>(pages * kPageSize, std::byte{byte});
  ImportPages op;
  op.gpa = gpa;
  op.page_count = pages;
  op.type = type;
  op.data = *data;
  op.keep_alive = data;
  return op;
}

inline ImportPages zeroPages(uint64_t gpa, uint64_t pages, PageType type) {
  ImportPages op;
  op.gpa = gpa;
  op.page_count = pages;
  op.type = type;
  return op;
}

// The state of a VMSA KVM can reproduce: 64-bit code segment, flat data segments, paging on.
inline x86::VpState sampleVmsaState() {
  x86::VpState r;
  r.cs = {0, 0xFFFFFFFF, 0x08, 0x209B};  // P, S, type 0xB, L (0x029B in the VMSA)
  r.ds = r.es = r.fs = r.gs = r.ss = {0, 0xFFFFFFFF, 0x10, 0xC093};  // 0x0C93 in the VMSA
  r.tr = {0x1000, 0x67, 0x18, 0x008B};
  r.gdtr = {0x5000, 0x1F};
  r.idtr = {0x6000, 0xFFF};
  r.cr0 = 0x80010033;
  r.cr3 = 0x9000;
  r.cr4 = 0x668;
  r.efer = 0x1D00;  // SVME | LMA | LME | NXE
  r.rip = 0x100000;
  r.rsp = 0x8FF0;
  r.rsi = 0x7000;
  r.rflags = 2;
  r.r15 = 0x1515;
  r.cr2 = 0;
  r.dr6 = 0xFFFF0FF0;
  r.dr7 = 0x400;
  r.xcr0 = 1;
  r.pat = 0x0007040600070406;
  r.fcw = 0x37F;
  r.mxcsr = 0x1F80;
  return r;
}

// The VMSA page of `state` (igvm's codec) with `sev_features`.
inline ByteVector vmsaPage(const x86::VpState& state,
                           uint64_t sev_features = kSevFeatureSnpActive) {
  igvm::SevVmsa v = igvm::vmsaFromVpState(state);
  v.sev_features = sev_features;
  const Bytes b = asBytes(v);
  return ByteVector(b.begin(), b.end());
}

inline SetVpState vmsaOp(uint32_t vp, uint64_t gpa, ByteVector page) {
  SetVpState s;
  s.vp_index = vp;
  s.state = SnpVmsa{gpa, std::move(page)};
  return s;
}

inline SetVpState registersOp(uint32_t vp) {
  SetVpState s;
  s.vp_index = vp;
  s.state = sampleVmsaState();
  return s;
}

}  // namespace igvmkit::loader::testing
