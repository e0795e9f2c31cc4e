#include "builder/x86.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <optional>

#include "base/testing/matchers.h"

namespace igvmkit::builder {
namespace {

using ::igvmkit::testing::HasRule;

template <class T>
T at(const ByteVector& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

// An independent 4-level walker (Intel SDM vol. 3 §4.5): follows present entries from CR3, stops
// at a PS entry in the PD (2 MiB) or PDPT (1 GiB). Returns the physical address, or nothing.
std::optional<uint64_t> translate(const std::vector<Page>& pages, uint64_t cr3, uint64_t va,
                                  uint64_t strip = 0) {
  std::map<uint64_t, const ByteVector*> mem;
  for (const Page& p : pages) {
    mem[p.gpa] = &p.bytes;
  }
  const uint64_t addr_mask = 0x000F'FFFF'FFFF'F000ull & ~strip;
  uint64_t table = cr3 & addr_mask;
  const int shifts[4] = {39, 30, 21, 12};
  for (int level = 0; level < 4; ++level) {
    auto it = mem.find(table);
    if (it == mem.end()) {
      return std::nullopt;
    }
    uint64_t entry = at<uint64_t>(*it->second, ((va >> shifts[level]) & 511) * 8);
    if ((entry & 1) == 0) {
      return std::nullopt;
    }
    if ((level == 1 || level == 2) && (entry & 0x80) != 0) {
      uint64_t size = 1ull << shifts[level];
      return (entry & addr_mask & ~(size - 1)) | (va & (size - 1));
    }
    table = entry & addr_mask;
  }
  return table | (va & 0xFFF);
}

TEST(PageTables, IdentityMapsFourGiB) {
  Result<PageTables> pt = identityMap({});
  ASSERT_TRUE(pt.ok()) << pt.error().describe();
  EXPECT_EQ(pt->cr3, layout::kPageTablesGpa);
  ASSERT_EQ(pt->pages.size(), 6u);  // PML4 + PDPT + 4 PDs
  for (size_t i = 0; i < pt->pages.size(); ++i) {
    EXPECT_EQ(pt->pages[i].gpa, layout::kPageTablesGpa + i * 0x1000);
    EXPECT_EQ(pt->pages[i].bytes.size(), 0x1000u);
  }
  EXPECT_EQ(pt->end(), layout::kPageTablesGpa + 6 * 0x1000);
  for (uint64_t va : {0x0ull, 0x1234ull, 0x1F'FFFFull, 0x20'0000ull, 0x7654'3210ull,
                      0xBFFF'FFFFull, 0xFFFF'F000ull, 0xFFFF'FFF0ull, 0xFFFF'FFFFull}) {
    EXPECT_EQ(translate(pt->pages, pt->cr3, va), va) << hex(va);
  }
  EXPECT_EQ(translate(pt->pages, pt->cr3, 0x1'0000'0000), std::nullopt);
  EXPECT_EQ(translate(pt->pages, pt->cr3, 0x80'0000'0000), std::nullopt);
  // Leaves are 2 MiB, present and writable.
  EXPECT_EQ(at<uint64_t>(pt->pages[2].bytes, 8), 0x20'0000u | 0x83);
}

TEST(PageTables, PartialRangesAcrossPdptBoundaries) {
  PageTableOptions o;
  o.map_start = 511 * layout::kGiB + 0x20'0000;
  o.map_end = 513 * layout::kGiB;
  o.table_gpa = 0x20'0000;
  Result<PageTables> pt = identityMap(o);
  ASSERT_TRUE(pt.ok()) << pt.error().describe();
  ASSERT_EQ(pt->pages.size(), 5u);  // PML4, 2 PDPTs, 2 PDs
  EXPECT_EQ(translate(pt->pages, pt->cr3, 511 * layout::kGiB), std::nullopt);
  for (uint64_t va : {511 * layout::kGiB + 0x20'0000, 512 * layout::kGiB - 1, 512 * layout::kGiB,
                      513 * layout::kGiB - 0x1000}) {
    EXPECT_EQ(translate(pt->pages, pt->cr3, va), va) << hex(va);
  }
  EXPECT_EQ(translate(pt->pages, pt->cr3, 513 * layout::kGiB), std::nullopt);
}

TEST(PageTables, EncryptionBitInEveryEntryAndCr3) {
  PageTableOptions o;
  o.encryption_mask = 1ull << 51;
  Result<PageTables> pt = identityMap(o);
  ASSERT_TRUE(pt.ok()) << pt.error().describe();
  EXPECT_EQ(pt->cr3, layout::kPageTablesGpa | (1ull << 51));
  EXPECT_NE(at<uint64_t>(pt->pages[0].bytes, 0) & (1ull << 51), 0u);  // PML4E
  EXPECT_NE(at<uint64_t>(pt->pages[1].bytes, 0) & (1ull << 51), 0u);  // PDPTE
  EXPECT_NE(at<uint64_t>(pt->pages[5].bytes, 511 * 8) & (1ull << 51), 0u);  // last leaf
  // With the C-bit stripped from table pointers the walk still gives identity; a leaf keeps it.
  EXPECT_EQ(translate(pt->pages, pt->cr3, 0x12'3456, 1ull << 51), 0x12'3456u);
  EXPECT_EQ(translate(pt->pages, pt->cr3 & ~(1ull << 51), 0x12'3456, 0), std::nullopt);
}

TEST(PageTables, Rejects) {
  PageTableOptions unaligned;
  unaligned.map_end = 0x1000;
  EXPECT_THAT(identityMap(unaligned), HasRule("x86.page_tables"));
  PageTableOptions too_big;
  too_big.map_end = 200 * layout::kGiB;
  Result<PageTables> r = identityMap(too_big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "identity map [0x0, 0x3200000000) needs 202 table pages; only 112 fit");
  PageTableOptions five_level;
  five_level.map_end = (1ull << 48) + layout::kGiB;
  five_level.max_bytes = 1ull << 30;
  EXPECT_FALSE(identityMap(five_level).ok());
  PageTableOptions bad_mask;
  bad_mask.encryption_mask = 3ull << 40;
  EXPECT_FALSE(identityMap(bad_mask).ok());
  bad_mask.encryption_mask = 1ull << 12;
  EXPECT_FALSE(identityMap(bad_mask).ok());
}

// Attributes in the 16-bit form from a raw descriptor: access byte, then flags nibble at 12.
uint16_t attributesOf(uint64_t desc) {
  return static_cast<uint16_t>(((desc >> 40) & 0xFF) | (((desc >> 52) & 0xF) << 12));
}

TEST(Gdt, CodeAndDataAtTheBootProtocolSelectors) {
  Page gdt = makeGdtPage();
  EXPECT_EQ(gdt.gpa, layout::kGdtGpa);
  EXPECT_EQ(at<uint64_t>(gdt.bytes, 0), 0u);
  EXPECT_EQ(at<uint64_t>(gdt.bytes, 8), 0u);
  const uint64_t code = at<uint64_t>(gdt.bytes, layout::kCodeSelector);
  const uint64_t data = at<uint64_t>(gdt.bytes, layout::kDataSelector);
  EXPECT_NE(code & (1ull << 47), 0u);  // present
  EXPECT_NE(code & (1ull << 53), 0u);  // L: 64-bit
  EXPECT_EQ(code & (1ull << 54), 0u);  // D must be 0 with L
  EXPECT_EQ((code >> 40) & 0xF, 0xBu);  // execute/read, accessed
  EXPECT_EQ((data >> 40) & 0xF, 0x3u);  // read/write, accessed
  EXPECT_NE(data & (1ull << 47), 0u);
  EXPECT_EQ(attributesOf(code), kCode64Attributes);
  EXPECT_EQ(attributesOf(data), kDataAttributes);
  EXPECT_TRUE(allZero(Bytes(gdt.bytes).subspan(0x20)));
}

x86::VpState sampleState() {
  x86::VpState s = longModeState({.rip = 0x10'0200, .rsp = 0x5000, .rsi = 0x2000, .cr3 = 0x1'0000});
  s.rbp = 0x77;
  s.r12 = 0x1212;
  return s;
}

TEST(State, LongMode) {
  x86::VpState s = sampleState();
  EXPECT_EQ(s.cr0, 0x8000'0031u);
  EXPECT_EQ(s.cr4, 0x620u);
  EXPECT_EQ(s.efer, 0xD01u);
  EXPECT_EQ(s.rflags, 2u);
  EXPECT_EQ(s.cs.selector, 0x10);
  EXPECT_EQ(s.ss.selector, 0x18);
  EXPECT_EQ(s.gdtr.base, layout::kGdtGpa);
  EXPECT_EQ(s.gdtr.limit, 31);
  std::map<Register, uint64_t> regs = {{Register::kDataSelector, 0x28}, {Register::kRdi, 9},
                                       {Register::kCodeAttributes, 0xA09B}};
  applyRegisters(s, regs);
  EXPECT_EQ(s.es.selector, 0x28);
  EXPECT_EQ(s.gs.selector, 0x28);
  EXPECT_EQ(s.rdi, 9u);
  x86::VpState base = registersBaseState();
  EXPECT_EQ(base.cs.limit, 0xFFFF'FFFFu);
  EXPECT_EQ(base.cr0, 0u);
}

TEST(NativeContext, FieldsAtSpecOffsets) {
  Result<ByteVector> page = nativeVpContext(sampleState());
  ASSERT_TRUE(page.ok()) << page.error().describe();
  const ByteVector& p = *page;
  ASSERT_EQ(p.size(), 4096u);
  // Offsets from igvm-format.md §5.4.
  EXPECT_EQ(at<uint64_t>(p, 0x20), 0x5000u);    // rsp
  EXPECT_EQ(at<uint64_t>(p, 0x28), 0x77u);      // rbp
  EXPECT_EQ(at<uint64_t>(p, 0x30), 0x2000u);    // rsi
  EXPECT_EQ(at<uint64_t>(p, 0x60), 0x1212u);    // r12
  EXPECT_EQ(at<uint64_t>(p, 0x80), 0x10'0200u);  // rip
  EXPECT_EQ(at<uint64_t>(p, 0x88), 2u);         // rflags
  EXPECT_EQ(at<uint16_t>(p, 0x9E), 31);         // gdtr_limit
  EXPECT_EQ(at<uint64_t>(p, 0xA0), 0x1000u);    // gdtr_base
  EXPECT_EQ(at<uint16_t>(p, 0xA8), 0x10);       // code_selector
  EXPECT_EQ(at<uint16_t>(p, 0xAA), 0xA09B);     // code_attributes
  EXPECT_EQ(at<uint32_t>(p, 0xB0), 0xFFFF'FFFFu);  // code_limit
  EXPECT_EQ(at<uint16_t>(p, 0xB4), 0x18);       // data_selector
  EXPECT_EQ(at<uint16_t>(p, 0xB6), 0xC093);     // data_attributes
  EXPECT_EQ(at<uint64_t>(p, 0xC8), 0x8000'0031u);  // cr0
  EXPECT_EQ(at<uint64_t>(p, 0xD0), 0x1'0000u);  // cr3
  EXPECT_EQ(at<uint64_t>(p, 0xD8), 0x620u);     // cr4
  EXPECT_EQ(at<uint64_t>(p, 0xE0), 0xD01u);     // efer
  EXPECT_TRUE(allZero(Bytes(p).subspan(0xE8)));
}

TEST(NativeContext, OneDataSegment) {
  x86::VpState s = sampleState();
  s.ss.selector = 0x20;
  Result<ByteVector> r = nativeVpContext(s);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, HasRule("x86.state"));
  s = sampleState();
  s.gs.base = 0x1234;  // gs_base has its own field
  Result<ByteVector> ok = nativeVpContext(s);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(at<uint64_t>(*ok, 0xC0), 0x1234u);
}

TEST(Vmsa, FieldsAtSpecOffsets) {
  Result<ByteVector> page =
      snpVmsa(sampleState(), {.sev_features = 0x9, .virtual_tom = 0, .vmpl = 0, .kvm = true});
  ASSERT_TRUE(page.ok()) << page.error().describe();
  const ByteVector& p = *page;
  ASSERT_EQ(p.size(), 4096u);
  // Offsets from igvm-format.md §5.2.
  EXPECT_EQ(at<uint16_t>(p, 0x10), 0x10);          // cs.selector
  EXPECT_EQ(at<uint16_t>(p, 0x12), 0xA9B);         // cs.attrib, compressed 0xA09B
  EXPECT_EQ(at<uint32_t>(p, 0x14), 0xFFFF'FFFFu);  // cs.limit
  EXPECT_EQ(at<uint16_t>(p, 0x20), 0x18);          // ss.selector
  EXPECT_EQ(at<uint16_t>(p, 0x22), 0xC93);         // ss.attrib
  EXPECT_EQ(at<uint32_t>(p, 0x64), 31u);           // gdtr.limit
  EXPECT_EQ(at<uint64_t>(p, 0x68), 0x1000u);       // gdtr.base
  EXPECT_EQ(at<uint16_t>(p, 0x92), 0x8B);          // tr.attrib (busy 64-bit TSS)
  EXPECT_EQ(at<uint8_t>(p, 0xCA), 0);              // vmpl
  EXPECT_EQ(at<uint64_t>(p, 0xD0), 0x1D01u);       // efer | SVME
  EXPECT_EQ(at<uint64_t>(p, 0x148), 0x620u);       // cr4
  EXPECT_EQ(at<uint64_t>(p, 0x150), 0x1'0000u);    // cr3
  EXPECT_EQ(at<uint64_t>(p, 0x158), 0x8000'0031u);  // cr0
  EXPECT_EQ(at<uint64_t>(p, 0x160), 0x400u);       // dr7
  EXPECT_EQ(at<uint64_t>(p, 0x168), 0xFFFF'0FF0u);  // dr6
  EXPECT_EQ(at<uint64_t>(p, 0x170), 2u);           // rflags
  EXPECT_EQ(at<uint64_t>(p, 0x178), 0x10'0200u);   // rip
  EXPECT_EQ(at<uint64_t>(p, 0x1D8), 0x5000u);      // rsp
  EXPECT_EQ(at<uint64_t>(p, 0x268), 0x0007'0406'0007'0406u);  // g_pat
  EXPECT_EQ(at<uint64_t>(p, 0x328), 0x77u);        // rbp
  EXPECT_EQ(at<uint64_t>(p, 0x330), 0x2000u);      // rsi
  EXPECT_EQ(at<uint64_t>(p, 0x360), 0x1212u);      // r12
  EXPECT_EQ(at<uint64_t>(p, 0x3B0), 0x9u);         // sev_features
  EXPECT_EQ(at<uint64_t>(p, 0x3E8), 1u);           // xcr0
  EXPECT_EQ(at<uint32_t>(p, 0x408), 0x1F80u);      // mxcsr
  EXPECT_EQ(at<uint16_t>(p, 0x410), 0x37F);        // x87 fcw
  EXPECT_TRUE(allZero(Bytes(p).subspan(0x420)));
}

TEST(Vmsa, KvmModeAndFeatureChecks) {
  x86::VpState s = sampleState();
  EXPECT_EQ(snpVmsa(s, {.sev_features = 0x8}).error().message,
            "sev_features 0x8 lack the SNP bit (bit 0)");
  EXPECT_EQ(snpVmsa(s, {.sev_features = 0x3, .virtual_tom = 0x40'0000'0000, .kvm = true})
                .error()
                .message,
            "KVM cannot run a VMSA with the vTOM feature");
  EXPECT_FALSE(snpVmsa(s, {.sev_features = 0x3, .virtual_tom = 0, .kvm = false}).ok());
  Result<ByteVector> vtom =
      snpVmsa(s, {.sev_features = 0x3, .virtual_tom = 0x40'0000'0000, .kvm = false});
  ASSERT_TRUE(vtom.ok());
  EXPECT_EQ(at<uint64_t>(*vtom, 0x3C8), 0x40'0000'0000u);
  EXPECT_FALSE(snpVmsa(s, {.sev_features = 1, .vmpl = 2, .kvm = true}).ok());
  Result<ByteVector> vmpl2 = snpVmsa(s, {.sev_features = 1, .vmpl = 2, .kvm = false});
  ASSERT_TRUE(vmpl2.ok());
  EXPECT_EQ(at<uint8_t>(*vmpl2, 0xCA), 2);
}

// Finds the 16-byte value of `name` in a VBS register list.
std::optional<ByteVector> vbsValue(const ByteVector& list, uint32_t name) {
  uint32_t count = at<uint32_t>(list, 0);
  for (uint32_t i = 0; i < count; ++i) {
    size_t off = 4 + 32 * size_t{i};
    if (at<uint32_t>(list, off + 1) == name) {
      return ByteVector(list.begin() + static_cast<std::ptrdiff_t>(off + 16),
                        list.begin() + static_cast<std::ptrdiff_t>(off + 32));
    }
  }
  return std::nullopt;
}

TEST(Vbs, RegisterList) {
  Result<ByteVector> list = vbsVpContext(sampleState(), 2);
  ASSERT_TRUE(list.ok()) << list.error().describe();
  const uint32_t count = at<uint32_t>(*list, 0);
  ASSERT_EQ(list->size(), 4 + 32 * size_t{count});
  for (uint32_t i = 0; i < count; ++i) {
    size_t off = 4 + 32 * size_t{i};
    EXPECT_EQ(at<uint8_t>(*list, off), 2);  // vtl
    EXPECT_TRUE(allZero(Bytes(*list).subspan(off + 5, 11)));  // mbz
  }
  EXPECT_EQ(at<uint64_t>(*vbsValue(*list, 0x00020010), 0), 0x10'0200u);  // Rip
  EXPECT_EQ(at<uint64_t>(*vbsValue(*list, 0x00020006), 0), 0x2000u);    // Rsi
  EXPECT_EQ(at<uint64_t>(*vbsValue(*list, 0x0002000C), 0), 0x1212u);    // R12
  EXPECT_EQ(at<uint64_t>(*vbsValue(*list, 0x00040002), 0), 0x1'0000u);  // Cr3
  EXPECT_EQ(at<uint64_t>(*vbsValue(*list, 0x00080001), 0), 0xD01u);     // Efer
  ByteVector cs = *vbsValue(*list, 0x00060001);
  EXPECT_EQ(at<uint64_t>(cs, 0), 0u);             // base
  EXPECT_EQ(at<uint32_t>(cs, 8), 0xFFFF'FFFFu);   // limit
  EXPECT_EQ(at<uint16_t>(cs, 12), 0x10);          // selector
  EXPECT_EQ(at<uint16_t>(cs, 14), 0xA09B);        // attributes
  ByteVector gdtr = *vbsValue(*list, 0x00070001);
  EXPECT_EQ(at<uint16_t>(gdtr, 6), 31);
  EXPECT_EQ(at<uint64_t>(gdtr, 8), 0x1000u);
  EXPECT_FALSE(vbsValue(*list, 0x00020008).has_value());  // r8 = 0: omitted
}

TEST(Vbs, RefusesRegistersTheFormatDoesNotAccept) {
  x86::VpState s = sampleState();
  s.rax = 1;
  Result<ByteVector> r = vbsVpContext(s, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "a VBS context cannot set rax (not an accepted VBS register name)");
  EXPECT_FALSE(vbsVpContext(sampleState(), 3).ok());
}

}  // namespace
}  // namespace igvmkit::builder
