#include "builder/x86.h"

#include <array>
#include <bit>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>

#include "builder/internal/bytes_io.h"
#include "igvm/defs.h"
#include "igvm/vp_state.h"

namespace igvmkit::builder {
namespace {

using internal::put;
constexpr uint64_t kPage = layout::kPageSize;

Error stateError(std::string message) { return invalid("x86.state", std::move(message)); }

x86::Segment flat(uint16_t selector, uint16_t attributes) {
  return {0, 0xFFFF'FFFF, selector, attributes};
}

}  // namespace

Result<PageTables> identityMap(const PageTableOptions& o) {
  const uint64_t large = layout::kLargePageSize;
  if (o.map_start % large != 0 || o.map_end % large != 0 || o.map_end <= o.map_start) {
    return invalid("x86.page_tables", "identity map [" + hex(o.map_start) + ", " + hex(o.map_end) +
                                          ") must be a nonempty range of 2 MiB multiples");
  }
  if (o.map_end > (1ull << 48)) {
    return invalid("x86.page_tables", "identity map end " + hex(o.map_end) +
                                          " exceeds the 4-level paging limit 0x1000000000000");
  }
  if (o.table_gpa % kPage != 0) {
    return invalid("x86.page_tables", "page tables at " + hex(o.table_gpa) + " are not page aligned");
  }
  if (o.encryption_mask != 0 &&
      (!std::has_single_bit(o.encryption_mask) || std::countr_zero(o.encryption_mask) < 32 ||
       std::countr_zero(o.encryption_mask) > 51)) {
    return invalid("x86.page_tables", "encryption mask " + hex(o.encryption_mask) +
                                          " must be one bit between 32 and 51");
  }
  const uint64_t gib = layout::kGiB;
  const uint64_t first_gib = o.map_start / gib;
  const uint64_t last_gib = (o.map_end - 1) / gib;
  const uint64_t first_pml4 = first_gib / 512;
  const uint64_t last_pml4 = last_gib / 512;
  const uint64_t n_pdpt = last_pml4 - first_pml4 + 1;
  const uint64_t n_pd = last_gib - first_gib + 1;
  const uint64_t n_pages = 1 + n_pdpt + n_pd;
  if (n_pages * kPage > o.max_bytes) {
    return invalid("x86.page_tables", "identity map [" + hex(o.map_start) + ", " + hex(o.map_end) +
                                          ") needs " + std::to_string(n_pages) +
                                          " table pages; only " +
                                          std::to_string(o.max_bytes / kPage) + " fit");
  }
  const uint64_t enc = o.encryption_mask;
  const uint64_t table_flags = kPtePresent | kPteWritable | enc;
  PageTables pt;
  pt.pages.resize(n_pages);
  for (uint64_t i = 0; i < n_pages; ++i) {
    pt.pages[i].gpa = o.table_gpa + i * kPage;
    pt.pages[i].bytes.assign(kPage, std::byte{0});
  }
  const uint64_t pdpt_base = o.table_gpa + kPage;
  const uint64_t pd_base = pdpt_base + n_pdpt * kPage;
  for (uint64_t p = first_pml4; p <= last_pml4; ++p) {
    put<uint64_t>(pt.pages[0].bytes, p * 8, (pdpt_base + (p - first_pml4) * kPage) | table_flags);
  }
  for (uint64_t g = first_gib; g <= last_gib; ++g) {
    Page& pdpt = pt.pages[1 + (g / 512 - first_pml4)];
    put<uint64_t>(pdpt.bytes, (g % 512) * 8, (pd_base + (g - first_gib) * kPage) | table_flags);
    Page& pd = pt.pages[1 + n_pdpt + (g - first_gib)];
    for (uint64_t e = 0; e < 512; ++e) {
      const uint64_t addr = g * gib + e * large;
      if (addr < o.map_start || addr >= o.map_end) {
        continue;
      }
      put<uint64_t>(pd.bytes, e * 8, addr | kPtePresent | kPteWritable | kPteLargePage | enc);
    }
  }
  pt.cr3 = o.table_gpa | enc;
  pt.map_start = o.map_start;
  pt.map_end = o.map_end;
  return pt;
}

Page makeGdtPage(uint64_t gpa) {
  Page p;
  p.gpa = gpa;
  p.bytes.assign(kPage, std::byte{0});
  put<uint64_t>(p.bytes, layout::kCodeSelector, kGdtCode64);
  put<uint64_t>(p.bytes, layout::kDataSelector, kGdtData);
  return p;
}

x86::VpState longModeState(const LongModeEntry& e) {
  x86::VpState s;
  s.rip = e.rip;
  s.rsp = e.rsp;
  s.rsi = e.rsi;
  s.cr0 = kCr0Pe | kCr0Et | kCr0Ne | kCr0Pg;
  s.cr3 = e.cr3;
  s.cr4 = kCr4Pae | kCr4Osfxsr | kCr4Osxmmexcpt;
  s.efer = kEferSce | kEferLme | kEferLma | kEferNxe;
  s.cs = flat(layout::kCodeSelector, kCode64Attributes);
  s.ds = s.es = s.fs = s.gs = s.ss = flat(layout::kDataSelector, kDataAttributes);
  s.tr = {0, 0x67, 0, kTss64BusyAttributes};
  s.gdtr = {e.gdt_gpa, layout::kGdtLimit};
  s.idtr = {0, 0};
  return s;
}

x86::VpState registersBaseState() {
  x86::VpState s;
  s.cr0 = 0;
  s.cs = flat(0, 0);
  s.ds = s.es = s.fs = s.gs = s.ss = flat(0, 0);
  return s;
}

void applyRegisters(x86::VpState& s, const std::map<Register, uint64_t>& registers) {
  for (const auto& [reg, v] : registers) {
    const auto v16 = static_cast<uint16_t>(v);
    switch (reg) {
      case Register::kRax: s.rax = v; break;
      case Register::kRcx: s.rcx = v; break;
      case Register::kRdx: s.rdx = v; break;
      case Register::kRbx: s.rbx = v; break;
      case Register::kRsp: s.rsp = v; break;
      case Register::kRbp: s.rbp = v; break;
      case Register::kRsi: s.rsi = v; break;
      case Register::kRdi: s.rdi = v; break;
      case Register::kR8: s.r8 = v; break;
      case Register::kR9: s.r9 = v; break;
      case Register::kR10: s.r10 = v; break;
      case Register::kR11: s.r11 = v; break;
      case Register::kR12: s.r12 = v; break;
      case Register::kR13: s.r13 = v; break;
      case Register::kR14: s.r14 = v; break;
      case Register::kR15: s.r15 = v; break;
      case Register::kRip: s.rip = v; break;
      case Register::kRflags: s.rflags = v; break;
      case Register::kCr0: s.cr0 = v; break;
      case Register::kCr3: s.cr3 = v; break;
      case Register::kCr4: s.cr4 = v; break;
      case Register::kEfer: s.efer = v; break;
      case Register::kGdtrBase: s.gdtr.base = v; break;
      case Register::kGdtrLimit: s.gdtr.limit = v16; break;
      case Register::kIdtrBase: s.idtr.base = v; break;
      case Register::kIdtrLimit: s.idtr.limit = v16; break;
      case Register::kCodeSelector: s.cs.selector = v16; break;
      case Register::kCodeAttributes: s.cs.attributes = v16; break;
      case Register::kDataSelector:
        s.ds.selector = s.es.selector = s.fs.selector = s.gs.selector = s.ss.selector = v16;
        break;
      case Register::kDataAttributes:
        s.ds.attributes = s.es.attributes = s.fs.attributes = s.gs.attributes =
            s.ss.attributes = v16;
        break;
    }
  }
}

Result<ByteVector> nativeVpContext(const x86::VpState& s) {
  for (const x86::Segment* seg : {&s.es, &s.fs, &s.ss}) {
    if (!(*seg == s.ds)) {
      return stateError("the native context has one data segment; es, fs and ss must equal ds");
    }
  }
  x86::Segment gs_without_base = s.gs;
  gs_without_base.base = s.ds.base;
  if (!(gs_without_base == s.ds)) {
    return stateError("the native context has one data segment; gs may differ from ds only in base");
  }
  if (s.cs.base > 0xFFFF'FFFF || s.ds.base > 0xFFFF'FFFF) {
    return stateError("the native context holds 32-bit segment bases");
  }
  if ((s.cs.attributes & 0x0F00) != 0 || (s.ds.attributes & 0x0F00) != 0) {
    return stateError("segment attribute bits 11:8 must be zero in the native context");
  }
  const igvm::IgvmNativeVpContextX64 c = igvm::nativeContextFromVpState(s);
  ByteVector page(kPage, std::byte{0});
  put(page, 0, c);
  return page;
}

Result<ByteVector> snpVmsa(const x86::VpState& s, const VmsaOptions& o) {
  if ((o.sev_features & 1) == 0) {
    return stateError("sev_features " + hex(o.sev_features) + " lack the SNP bit (bit 0)");
  }
  const bool vtom = (o.sev_features & kSevFeatureVtom) != 0;
  if (vtom != (o.virtual_tom != 0)) {
    return stateError("virtual_tom " + hex(o.virtual_tom) +
                      " must be set exactly when sev_features has the vTOM bit");
  }
  if (o.kvm) {
    // KVM builds the VMSA from vCPU state; it has no vTOM and runs the BSP at VMPL0
    // (openvmm's KVM SNP backend rejects both, loader-vmm.md §1.2).
    if (vtom) {
      return stateError("KVM cannot run a VMSA with the vTOM feature");
    }
    if (o.vmpl != 0) {
      return stateError("KVM starts VMSAs at VMPL0, not VMPL" + std::to_string(o.vmpl));
    }
  }
  if (o.vmpl > 3) {
    return stateError("vmpl " + std::to_string(o.vmpl) + " is not 0..3");
  }
  igvm::SevVmsa v = igvm::vmsaFromVpState(s);
  v.vmpl = o.vmpl;
  v.efer |= kEferSvme;
  v.sev_features = o.sev_features;
  v.virtual_tom = o.virtual_tom;
  ByteVector page(sizeof(v));
  put(page, 0, v);
  return page;
}

Result<ByteVector> vbsVpContext(const x86::VpState& s, uint8_t vtl) {
  if (vtl > 2) {
    return stateError("vtl " + std::to_string(vtl) + " is not 0..2");
  }
  const std::pair<const char*, uint64_t> refused[] = {
      {"rax", s.rax}, {"rbx", s.rbx}, {"rcx", s.rcx}, {"rdx", s.rdx},
      {"rdi", s.rdi}, {"r13", s.r13}, {"r14", s.r14}, {"r15", s.r15}};
  for (const auto& [name, value] : refused) {
    if (value != 0) {
      return stateError(std::string("a VBS context cannot set ") + name +
                        " (not an accepted VBS register name)");
    }
  }
  struct Entry {
    uint32_t name;
    std::array<std::byte, 16> value{};
  };
  std::vector<Entry> entries;
  auto u64 = [&](uint32_t name, uint64_t v) {
    Entry e{name, {}};
    std::memcpy(e.value.data(), &v, 8);
    entries.push_back(e);
  };
  auto seg = [&](uint32_t name, const x86::Segment& r) {
    Entry e{name, {}};
    std::memcpy(e.value.data(), &r.base, 8);
    std::memcpy(e.value.data() + 8, &r.limit, 4);
    std::memcpy(e.value.data() + 12, &r.selector, 2);
    std::memcpy(e.value.data() + 14, &r.attributes, 2);
    entries.push_back(e);
  };
  auto table = [&](uint32_t name, const x86::TableRegister& t) {
    Entry e{name, {}};
    std::memcpy(e.value.data() + 6, &t.limit, 2);
    std::memcpy(e.value.data() + 8, &t.base, 8);
    entries.push_back(e);
  };
  // Paging and segmentation first, then the instruction pointer and arguments.
  u64(igvm::kHvX64RegisterCr0, s.cr0);
  u64(igvm::kHvX64RegisterCr3, s.cr3);
  u64(igvm::kHvX64RegisterCr4, s.cr4);
  u64(igvm::kHvX64RegisterEfer, s.efer);
  u64(igvm::kHvX64RegisterPat, s.pat);
  table(igvm::kHvX64RegisterGdtr, s.gdtr);
  table(igvm::kHvX64RegisterIdtr, s.idtr);
  seg(igvm::kHvX64RegisterCs, s.cs);
  seg(igvm::kHvX64RegisterDs, s.ds);
  seg(igvm::kHvX64RegisterEs, s.es);
  seg(igvm::kHvX64RegisterFs, s.fs);
  seg(igvm::kHvX64RegisterGs, s.gs);
  seg(igvm::kHvX64RegisterSs, s.ss);
  if (s.tr.attributes != 0) {
    seg(igvm::kHvX64RegisterTr, s.tr);
  }
  u64(igvm::kHvX64RegisterRip, s.rip);
  u64(igvm::kHvX64RegisterRflags, s.rflags);
  u64(igvm::kHvX64RegisterRsp, s.rsp);
  const std::pair<uint32_t, uint64_t> optional[] = {
      {igvm::kHvX64RegisterRbp, s.rbp}, {igvm::kHvX64RegisterRsi, s.rsi},
      {igvm::kHvX64RegisterR8, s.r8},   {igvm::kHvX64RegisterR9, s.r9},
      {igvm::kHvX64RegisterR10, s.r10}, {igvm::kHvX64RegisterR11, s.r11},
      {igvm::kHvX64RegisterR12, s.r12}};
  for (const auto& [name, value] : optional) {
    if (value != 0) {
      u64(name, value);
    }
  }
  // VbsVpContextHeader, then packed 32-byte VbsVpContextRegister entries (igvm-format.md §5.3).
  ByteVector out(4 + entries.size() * 32, std::byte{0});
  put<uint32_t>(out, 0, static_cast<uint32_t>(entries.size()));
  for (size_t i = 0; i < entries.size(); ++i) {
    const size_t off = 4 + i * 32;
    put<uint8_t>(out, off, vtl);
    put<uint32_t>(out, off + 1, entries[i].name);  // unaligned u32 at byte 1
    std::memcpy(out.data() + off + 16, entries[i].value.data(), 16);
  }
  return out;
}

}  // namespace igvmkit::builder
