// The project's VMSA layout (igvm::SevVmsa, igvm/defs.h) and the loader's KVM encoder/decoder
// (loader/internal/vmsa.h) against the layout read from Linux's struct sev_es_save_area and
// microsoft/igvm's SevVmsa (vmsa_layout.h).
#include "tests/oracles/vmsa_layout.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/bytes.h"
#include "base/testing/matchers.h"
#include "igvm/defs.h"
#include "igvm/vp_state.h"
#include "loader/internal/vmsa.h"
#include "x86/vp_state.h"

namespace igvmkit::oracles {
namespace {

namespace v = vmsa;

// The two outside sources agree with each other, field by field.
constexpr v::Field kAll[] = {
    v::es,          v::cs,   v::ss,    v::ds,     v::fs,   v::gs,  v::gdtr, v::ldtr,
    v::idtr,        v::tr,   v::vmpl,  v::cpl,    v::efer, v::xss, v::cr4,  v::cr3,
    v::cr0,         v::dr7,  v::dr6,   v::rflags, v::rip,  v::rsp, v::rax,  v::cr2,
    v::g_pat,       v::rcx,  v::rdx,   v::rbx,    v::rbp,  v::rsi, v::rdi,  v::r8,
    v::r9,          v::r10,  v::r11,   v::r12,    v::r13,  v::r14, v::r15,  v::sev_features,
    v::virtual_tom, v::xcr0, v::mxcsr, v::x87_fcw};
constexpr bool sourcesAgree() {
  for (const v::Field& f : kAll) {
    if (f.linux_offset != f.igvm_offset || f.linux_offset + f.size > v::kLinuxSaveAreaSize) {
      return false;
    }
  }
  return true;
}
static_assert(sourcesAgree());

// The production layout, igvm::SevVmsa (igvm/defs.h), field by field: offset and size. Every
// reader and writer of VMSA bytes (builder, measure, loader) goes through that struct.
#define IGVMKIT_EXPECT_FIELD(ours, theirs)                                        \
  static_assert(offsetof(igvm::SevVmsa, ours) == v::theirs.linux_offset &&       \
                    sizeof(igvm::SevVmsa::ours) == v::theirs.size,               \
                "igvm::SevVmsa::" #ours " is not where Linux's " #theirs " is")
IGVMKIT_EXPECT_FIELD(es, es);
IGVMKIT_EXPECT_FIELD(cs, cs);
IGVMKIT_EXPECT_FIELD(ss, ss);
IGVMKIT_EXPECT_FIELD(ds, ds);
IGVMKIT_EXPECT_FIELD(fs, fs);
IGVMKIT_EXPECT_FIELD(gs, gs);
IGVMKIT_EXPECT_FIELD(gdtr, gdtr);
IGVMKIT_EXPECT_FIELD(ldtr, ldtr);
IGVMKIT_EXPECT_FIELD(idtr, idtr);
IGVMKIT_EXPECT_FIELD(tr, tr);
IGVMKIT_EXPECT_FIELD(vmpl, vmpl);
IGVMKIT_EXPECT_FIELD(cpl, cpl);
IGVMKIT_EXPECT_FIELD(efer, efer);
IGVMKIT_EXPECT_FIELD(xss, xss);
IGVMKIT_EXPECT_FIELD(cr4, cr4);
IGVMKIT_EXPECT_FIELD(cr3, cr3);
IGVMKIT_EXPECT_FIELD(cr0, cr0);
IGVMKIT_EXPECT_FIELD(dr7, dr7);
IGVMKIT_EXPECT_FIELD(dr6, dr6);
IGVMKIT_EXPECT_FIELD(rflags, rflags);
IGVMKIT_EXPECT_FIELD(rip, rip);
IGVMKIT_EXPECT_FIELD(rsp, rsp);
IGVMKIT_EXPECT_FIELD(rax, rax);
IGVMKIT_EXPECT_FIELD(cr2, cr2);
IGVMKIT_EXPECT_FIELD(pat, g_pat);
IGVMKIT_EXPECT_FIELD(rcx, rcx);
IGVMKIT_EXPECT_FIELD(rdx, rdx);
IGVMKIT_EXPECT_FIELD(rbx, rbx);
IGVMKIT_EXPECT_FIELD(rbp, rbp);
IGVMKIT_EXPECT_FIELD(rsi, rsi);
IGVMKIT_EXPECT_FIELD(rdi, rdi);
IGVMKIT_EXPECT_FIELD(r8, r8);
IGVMKIT_EXPECT_FIELD(r9, r9);
IGVMKIT_EXPECT_FIELD(r10, r10);
IGVMKIT_EXPECT_FIELD(r11, r11);
IGVMKIT_EXPECT_FIELD(r12, r12);
IGVMKIT_EXPECT_FIELD(r13, r13);
IGVMKIT_EXPECT_FIELD(r14, r14);
IGVMKIT_EXPECT_FIELD(r15, r15);
IGVMKIT_EXPECT_FIELD(sev_features, sev_features);
IGVMKIT_EXPECT_FIELD(virtual_tom, virtual_tom);
IGVMKIT_EXPECT_FIELD(xcr0, xcr0);
IGVMKIT_EXPECT_FIELD(mxcsr, mxcsr);
IGVMKIT_EXPECT_FIELD(x87_fcw, x87_fcw);
#undef IGVMKIT_EXPECT_FIELD
static_assert(sizeof(igvm::SevVmsa) == v::kPageSize);

template <class T>
void put(ByteVector& page, const v::Field& f, size_t within, T value) {
  ASSERT_LE(within + sizeof(T), f.size);
  std::memcpy(page.data() + f.linux_offset + within, &value, sizeof(T));
}
void putSegment(ByteVector& page, const v::Field& f, uint16_t selector, uint16_t attrib,
                uint32_t limit, uint64_t base) {
  put(page, f, v::kSegSelector, selector);
  put(page, f, v::kSegAttrib, attrib);
  put(page, f, v::kSegLimit, limit);
  put(page, f, v::kSegBase, base);
}

// A VMSA written at the outside table's offsets, with a distinct value in every field KVM can set.
ByteVector tableVmsa() {
  ByteVector page(v::kPageSize, std::byte{0});
  const v::Field* segments[] = {&v::es, &v::cs, &v::ss, &v::ds, &v::fs, &v::gs, &v::ldtr, &v::tr};
  for (size_t i = 0; i < std::size(segments); ++i) {
    putSegment(page, *segments[i], static_cast<uint16_t>(0x10 + i), static_cast<uint16_t>(0x93 + i),
               0xFFFF0u + static_cast<uint32_t>(i), 0x1000ull * (i + 1));
  }
  put(page, v::gdtr, v::kSegLimit, uint32_t{0x27});
  put(page, v::gdtr, v::kSegBase, uint64_t{0x7000});
  put(page, v::idtr, v::kSegLimit, uint32_t{0xFFF});
  put(page, v::idtr, v::kSegBase, uint64_t{0x8000});
  const v::Field* regs[] = {&v::cr4, &v::cr3, &v::cr0, &v::dr7,   &v::dr6, &v::rflags, &v::rip,
                            &v::rsp, &v::rax, &v::cr2, &v::g_pat, &v::rcx, &v::rdx,    &v::rbx,
                            &v::rbp, &v::rsi, &v::rdi, &v::r8,    &v::r9,  &v::r10,    &v::r11,
                            &v::r12, &v::r13, &v::r14, &v::r15};
  for (size_t i = 0; i < std::size(regs); ++i) {
    put(page, *regs[i], 0, uint64_t{0xA000 + i});
  }
  put(page, v::efer, 0, uint64_t{0x1D00});  // LME, LMA, NXE, SVME
  put(page, v::xcr0, 0, uint64_t{0x7});
  put(page, v::sev_features, 0, uint64_t{0x1});
  put(page, v::mxcsr, 0, uint32_t{0x1F80});
  put(page, v::x87_fcw, 0, uint16_t{0x37F});
  return page;
}

TEST(VmsaLayout, DecoderReadsEveryFieldWhereTheOutsideTableSaysItIs) {
  auto s = loader::detail::decodeKvmVmsa(tableVmsa(), 0x1);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  const x86::VpState& r = *s;
  EXPECT_EQ(r.es.selector, 0x10);
  EXPECT_EQ(r.cs.attributes, 0x94);
  EXPECT_EQ(r.ss.limit, 0xFFFF2u);
  EXPECT_EQ(r.ds.base, 0x4000u);
  EXPECT_EQ(r.fs.selector, 0x14);
  EXPECT_EQ(r.gs.base, 0x6000u);
  EXPECT_EQ(r.ldtr.selector, 0x16);
  EXPECT_EQ(r.tr.base, 0x8000u);
  EXPECT_EQ(r.gdtr.limit, 0x27);
  EXPECT_EQ(r.gdtr.base, 0x7000u);
  EXPECT_EQ(r.idtr.limit, 0xFFF);
  EXPECT_EQ(r.idtr.base, 0x8000u);
  EXPECT_EQ(r.cr4, 0xA000u);
  EXPECT_EQ(r.cr3, 0xA001u);
  EXPECT_EQ(r.cr0, 0xA002u);
  EXPECT_EQ(r.dr7, 0xA003u);
  EXPECT_EQ(r.dr6, 0xA004u);
  EXPECT_EQ(r.rflags, 0xA005u);
  EXPECT_EQ(r.rip, 0xA006u);
  EXPECT_EQ(r.rsp, 0xA007u);
  EXPECT_EQ(r.rax, 0xA008u);
  EXPECT_EQ(r.cr2, 0xA009u);
  EXPECT_EQ(r.pat, 0xA00Au);
  EXPECT_EQ(r.rcx, 0xA00Bu);
  EXPECT_EQ(r.rdx, 0xA00Cu);
  EXPECT_EQ(r.rbx, 0xA00Du);
  EXPECT_EQ(r.rbp, 0xA00Eu);
  EXPECT_EQ(r.rsi, 0xA00Fu);
  EXPECT_EQ(r.rdi, 0xA010u);
  EXPECT_EQ(r.r8, 0xA011u);
  EXPECT_EQ(r.r15, 0xA018u);
  EXPECT_EQ(r.efer, 0x1D00u);
  EXPECT_EQ(r.xcr0, 0x7u);
  // SEV_FEATURES is read where the table puts it (0x1): the decoder refuses any other launch value.
  EXPECT_FALSE(loader::detail::decodeKvmVmsa(tableVmsa(), 0x3).ok());
  EXPECT_EQ(r.mxcsr, 0x1F80u);
  EXPECT_EQ(r.fcw, 0x37F);
}

TEST(VmsaLayout, EncoderWritesTheSamePage) {
  ByteVector page = tableVmsa();
  auto s = loader::detail::decodeKvmVmsa(page, 0x1);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  igvm::SevVmsa v = igvm::vmsaFromVpState(*s);
  v.sev_features = 0x1;
  const Bytes b = asBytes(v);
  EXPECT_EQ(ByteVector(b.begin(), b.end()), page);
}

// A byte the outside table places in a field KVM cannot set (VMPL, XSS, VIRTUAL_TOM) is refused.
TEST(VmsaLayout, FieldsKvmCannotSetAreRefusedAtTheirTableOffsets) {
  for (const v::Field* f : {&v::vmpl, &v::xss, &v::virtual_tom}) {
    ByteVector page = tableVmsa();
    page[f->linux_offset] = std::byte{1};
    auto s = loader::detail::decodeKvmVmsa(page, 0x1);
    ASSERT_FALSE(s.ok()) << "offset " << f->linux_offset;
    EXPECT_THAT(s, igvmkit::testing::HasRule("kvm_snp.vmsa_field"));
  }
}

}  // namespace
}  // namespace igvmkit::oracles
