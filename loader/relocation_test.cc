// Relocation (relocation.h) through plan(): writer-made images with hand-built 4-level page tables,
// checked by an independent page-table walker over the pages the plan loads.
#include "base/testing/matchers.h"
#include "loader/relocation.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "igvm/file.h"
#include "igvm/writer.h"
#include "loader/plan.h"
#include "loader/testing/igvm_images.h"

namespace igvmkit::loader {
namespace {

using ::igvmkit::testing::HasRule;

constexpr uint32_t kNative = 1, kVbs = 2, kSnp = 4;
constexpr uint64_t kRegion = 0x200000, kRegionSize = 0x3000;
constexpr uint64_t kTables = 0x10000, kTablesSize = 0x8000, kTablesUsed = 0x4000;
constexpr uint64_t kP = 1, kRw = 2, kPs = 0x80;
constexpr uint64_t kMiB = 1 << 20;

void put(ByteVector& page, int i, uint64_t v) { std::memcpy(page.data() + 8 * i, &v, 8); }

struct Spec {
  uint64_t region_size = kRegionSize;
  uint64_t alignment = 0x200000;
  uint64_t minimum = 0x200000, maximum = 0x40000000;
  uint8_t flags = igvm::kRelocationFlagApplyPc | igvm::kRelocationFlagApplyGdtr;
  uint64_t tables_size = kTablesSize;
  uint64_t pdpt_pointer = kTables + 0x1000;  // PML4[0]
  uint64_t cr0 = 0x80000011, cr4 = 0x20;
  bool snp = false;
  bool two_mib_region = false;  // the region is one 2 MiB page mapped by a 2 MiB leaf
};

// NATIVE + VSM_ISOLATION (+ SEV_SNP): a relocatable region at 2 MiB (three pattern pages mapped by
// 4 KiB leaves of PT 0x13000, GDT inside it, RIP inside it), identity map of [0, 2 MiB) by a
// 2 MiB leaf and of [1 GiB, 2 GiB) by a 1 GiB leaf, tables at 0x10000 (PML4, PDPT, PD, PT), a
// fixed page at 1 MiB.
Result<ByteVector> image(const Spec& s) {
  igvm::Model m;
  uint32_t reloc_mask = kNative | kVbs;
  m.add(igvm::platformEntry(igvm::PlatformType::kNative, kNative));
  m.add(igvm::platformEntry(igvm::PlatformType::kVsmIsolation, kVbs));
  if (s.snp) {
    m.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, kSnp));
    reloc_mask |= kSnp;
  }
  m.add(igvm::relocatableRegionEntry(reloc_mask, kRegion,
                                     s.two_mib_region ? 0x200000 : s.region_size, s.alignment,
                                     s.minimum, s.maximum, s.flags));
  m.add(igvm::pageTableRelocationEntry(kNative | kVbs, kTables, s.tables_size, kTablesUsed));
  ByteVector pml4(kPageSize), pdpt(kPageSize), pd(kPageSize), pt(kPageSize);
  put(pml4, 0, s.pdpt_pointer | kP | kRw);
  put(pdpt, 0, (kTables + 0x2000) | kP | kRw);
  put(pdpt, 1, 0x40000000 | kP | kRw | kPs);  // 1 GiB leaf
  put(pd, 0, 0 | kP | kRw | kPs);             // 2 MiB leaf [0, 2 MiB)
  if (s.two_mib_region) {
    put(pd, 1, 0x200000 | kP | kRw | kPs);
  } else {
    put(pd, 1, (kTables + 0x3000) | kP | kRw);
    for (int i = 0; i < 3; ++i) {
      put(pt, i, (kRegion + i * kPageSize) | kP | kRw);
    }
  }
  uint64_t t = kTables;
  for (ByteVector* page : {&pml4, &pdpt, &pd, &pt}) {
    m.add(igvm::pageDataEntry(t, kNative | kVbs, igvm::Blob(*page)));
    t += kPageSize;
  }
  for (int i = 0; i < 3; ++i) {
    m.add(igvm::pageDataEntry(kRegion + i * kPageSize, reloc_mask,
                              igvm::Blob(testing::patternPage(10 + i))));
  }
  m.add(igvm::pageDataEntry(0x100000, reloc_mask, igvm::Blob(testing::patternPage(1))));
  igvm::IgvmNativeVpContextX64 c = testing::nativeContextFor(0);
  c.rip = kRegion + 0x123;
  c.gdtr_base = kRegion + 0x1000;
  c.cr0 = s.cr0;
  c.cr3 = kTables;
  c.cr4 = s.cr4;
  c.efer = 0x500;
  ByteVector ctx(kPageSize);
  std::memcpy(ctx.data(), &c, sizeof(c));
  m.add(igvm::vpContextEntry(0, kNative, 0, igvm::Blob(ctx)));
  m.add(igvm::vpContextEntry(
      0, kVbs, 0, igvm::Blob(igvm::vbsRegisterList({{igvm::kHvX64RegisterRip, c.rip}}))));
  if (s.snp) {
    m.add(igvm::vpContextEntry(kKvmSnpVmsaGpa, kSnp, 0, igvm::Blob(testing::snpVmsaFor(0))));
  }
  return igvm::write(m, {.version = 2});
}

VmConfig config() {
  VmConfig c;
  c.memory_size = 256 * kMiB;
  return c;
}

// The pages the plan loads (zeros for pages without data) and vp 0's registers.
struct Loaded {
  std::map<uint64_t, ByteVector> pages;
  x86::VpState regs;
};

Loaded load(const Plan& p) {
  Loaded out;
  for (const LaunchOp& op : p.ops) {
    if (const auto* imp = std::get_if<ImportPages>(&op)) {
      for (uint64_t i = 0; i < imp->page_count; ++i) {
        ByteVector page(kPageSize);
        if (imp->data.size() > i * kPageSize) {
          size_t n = std::min<size_t>(kPageSize, imp->data.size() - i * kPageSize);
          std::memcpy(page.data(), imp->data.data() + i * kPageSize, n);
        }
        out.pages[imp->gpa + i * kPageSize] = page;
      }
    } else if (const auto* s = std::get_if<SetVpState>(&op)) {
      if (const auto* r = std::get_if<x86::VpState>(&s->state); r != nullptr && s->vp_index == 0) {
        out.regs = *r;
      }
    }
  }
  return out;
}

// An independent 4-level walk over the loaded pages: the physical address of `va`, or nullopt.
std::optional<uint64_t> translate(const Loaded& l, uint64_t va) {
  uint64_t table = l.regs.cr3 & 0x000FFFFFFFFFF000;
  for (int level = 4; level >= 1; --level) {
    auto it = l.pages.find(table);
    if (it == l.pages.end()) {
      return std::nullopt;
    }
    int shift = 12 + 9 * (level - 1);
    uint64_t e;
    std::memcpy(&e, it->second.data() + 8 * ((va >> shift) & 511), 8);
    if ((e & kP) == 0) {
      return std::nullopt;
    }
    if (level == 1 || (level <= 3 && (e & kPs) != 0)) {
      uint64_t size = uint64_t{1} << shift;
      return (e & 0x000FFFFFFFFFF000 & ~(size - 1)) + (va & (size - 1));
    }
    table = e & 0x000FFFFFFFFFF000;
  }
  return std::nullopt;
}

Result<Plan> planOf(const ByteVector& bytes, const VmConfig& c,
                    BackendKind backend = BackendKind::kKvm) {
  IGVMKIT_ASSIGN_OR_RETURN(igvm::File f, igvm::File::parse(bytes));
  return plan(f, backend, c);
}

// Plans `spec` (which must be a valid file) with `c`.
Result<Plan> planSpec(const Spec& spec, const VmConfig& c,
                      BackendKind backend = BackendKind::kKvm) {
  static std::vector<std::unique_ptr<ByteVector>> keep;  // plans keep views into the file
  Result<ByteVector> bytes = image(spec);
  if (!bytes.ok()) {
    return bytes.error();
  }
  keep.push_back(std::make_unique<ByteVector>(std::move(*bytes)));
  return planOf(*keep.back(), c, backend);
}

TEST(Relocation, UserBaseMovesPagesRegistersAndPageTables) {
  VmConfig c = config();
  c.relocate.push_back({std::nullopt, 0x8000000});
  Result<Plan> p = planSpec({}, c);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  ASSERT_EQ(p->relocations.size(), 1u);
  EXPECT_EQ(p->relocations[0].base, 0x8000000u);
  EXPECT_EQ(p->relocations[0].chosen_by, "user");
  Loaded l = load(*p);
  const uint64_t d = 0x8000000 - kRegion;
  // Every moved page at its new GPA, nothing left at the old one, the fixed page in place.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(l.pages[kRegion + d + i * kPageSize], testing::patternPage(10 + i)) << i;
    EXPECT_EQ(l.pages.count(kRegion + i * kPageSize), 0u) << i;
  }
  EXPECT_EQ(l.pages[0x100000], testing::patternPage(1));
  // RIP and GDTR by the delta; CR3 unchanged (the tables stay).
  EXPECT_EQ(l.regs.rip, kRegion + 0x123 + d);
  EXPECT_EQ(l.regs.gdtr.base, kRegion + 0x1000 + d);
  EXPECT_EQ(l.regs.cr3, kTables);
  // The moved region is identity mapped at its new place; the old VAs are gone; the rest stays.
  for (uint64_t off : {0x0ull, 0x123ull, 0x1000ull, 0x2FFFull}) {
    EXPECT_EQ(translate(l, kRegion + d + off), kRegion + d + off) << hex(off);
    EXPECT_EQ(translate(l, kRegion + off), std::nullopt) << hex(off);
  }
  EXPECT_EQ(translate(l, l.regs.rip), l.regs.rip);
  EXPECT_EQ(translate(l, 0x1234), 0x1234u);
  EXPECT_EQ(translate(l, 0x40000000 + 0x5678), 0x40005678u);
  // The exact entries: PT entries 0..2 cleared, a new PT (the first free page, 0x14000) under
  // PD[64] with entries 0..2.
  ASSERT_TRUE(p->page_tables.has_value());
  EXPECT_EQ(p->page_tables->tables_allocated, 1u);
  EXPECT_EQ(p->page_tables->entries_patched, 3u + 1u + 3u);
  auto entry = [&](uint64_t table, int i) {
    uint64_t e;
    std::memcpy(&e, l.pages[table].data() + 8 * i, 8);
    return e;
  };
  EXPECT_EQ(entry(0x13000, 0), 0u);
  EXPECT_EQ(entry(0x12000, 64), 0x14000u | kP | kRw);
  EXPECT_EQ(entry(0x14000, 2), (0x8002000u) | kP | kRw);
}

TEST(Relocation, DefaultPolicyIsTheHighestFreeAlignedBaseInRam) {
  Result<Plan> p = planSpec({}, config());
  ASSERT_TRUE(p.ok()) << p.error().describe();
  // 256 MiB of RAM, 2 MiB alignment, 0x3000 bytes: the last 2 MiB boundary below the end.
  EXPECT_EQ(p->relocations[0].base, 256 * kMiB - 2 * kMiB);
  EXPECT_EQ(p->relocations[0].chosen_by, "highest");
  VmConfig low = config();
  low.relocation_policy = RelocationPolicy::kLowest;
  p = planSpec({}, low);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(p->relocations[0].base, 0x200000u);  // its own gpa is free after it moves
  VmConfig keep = config();
  keep.relocation_policy = RelocationPolicy::kKeep;
  p = planSpec({}, keep);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(p->relocations[0].base, kRegion);
  EXPECT_EQ(p->page_tables->entries_patched, 0u);
  // A maximum that leaves one aligned base.
  Spec s;
  s.maximum = 0x400000;
  p = planSpec(s, config());
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(p->relocations[0].base, 0x200000u);
}

TEST(Relocation, MovingThePageTablesMovesCr3AndEveryPointer) {
  VmConfig c = config();
  c.relocate.push_back({kRegion, 0x8000000});
  c.page_table_base = 0x4000000;
  Result<Plan> p = planSpec({}, c);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  Loaded l = load(*p);
  EXPECT_EQ(l.regs.cr3, 0x4000000u);
  EXPECT_EQ(p->page_tables->new_cr3, 0x4000000u);
  // Old table pages are not loaded; the tables are identity mapped at their new place.
  EXPECT_EQ(l.pages.count(kTables), 0u);
  EXPECT_EQ(translate(l, 0x4000000), 0x4000000u);
  EXPECT_EQ(translate(l, 0x4003008), 0x4003008u);
  EXPECT_EQ(translate(l, kTables), std::nullopt);
  // Splitting the 2 MiB leaf [0, 2 MiB) kept the rest of it mapped.
  EXPECT_EQ(translate(l, 0x1234), 0x1234u);
  EXPECT_EQ(translate(l, 0x100000), 0x100000u);
  EXPECT_EQ(translate(l, 0x8000000 + 0x123), 0x8000123u);
  EXPECT_EQ(translate(l, 0x40000000), 0x40000000u);
  // The split table, the region's new PT and the tables' new PT.
  EXPECT_EQ(p->page_tables->tables_allocated, 3u);
  // Every page-table pointer in the loaded tables points into the new region.
  for (uint64_t t = 0x4000000; t < 0x4000000 + kTablesSize; t += kPageSize) {
    ASSERT_EQ(l.pages.count(t), t < 0x4000000 + kTablesUsed + 3 * kPageSize ? 1u : 0u) << hex(t);
  }
}

TEST(Relocation, TwoMibLeafMovesWhole) {
  Spec s;
  s.two_mib_region = true;
  VmConfig c = config();
  c.relocate.push_back({std::nullopt, 0x6000000});
  // The file still has three 4 KiB pages in the region; only the mapping differs.
  Result<Plan> p = planSpec(s, c);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  Loaded l = load(*p);
  EXPECT_EQ(p->page_tables->tables_allocated, 0u);
  EXPECT_EQ(translate(l, 0x6000000 + 0x1FFFFF), 0x61FFFFFu);
  EXPECT_EQ(translate(l, kRegion), std::nullopt);
  uint64_t e;
  std::memcpy(&e, l.pages[0x12000].data() + 8 * 48, 8);
  EXPECT_EQ(e, 0x6000000u | kP | kRw | kPs);
}

TEST(Relocation, FlagsDecideWhichRegistersMove) {
  Spec s;
  s.flags = 0;
  VmConfig c = config();
  c.relocate.push_back({std::nullopt, 0x8000000});
  Result<Plan> p = planSpec(s, c);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  Loaded l = load(*p);
  EXPECT_EQ(l.regs.rip, kRegion + 0x123);
  EXPECT_EQ(l.regs.gdtr.base, kRegion + 0x1000);
}

TEST(Relocation, MeasuredBackendsKeepFileGpas) {
  Spec s;
  s.snp = true;
  Result<Plan> p = planSpec(s, config(), BackendKind::kKvmSnp);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  ASSERT_EQ(p->relocations.size(), 1u);
  EXPECT_EQ(p->relocations[0].base, kRegion);
  EXPECT_EQ(p->relocations[0].chosen_by, "measured");
  VmConfig c = config();
  c.relocate.push_back({std::nullopt, 0x8000000});
  p = planSpec(s, c, BackendKind::kKvmSnp);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p, HasRule("plan.relocate"));
  // The native platform of the same file still relocates.
  p = planSpec(s, c, BackendKind::kKvm);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(p->relocations[0].base, 0x8000000u);
}

struct BadCase {
  std::string name;
  Spec spec;
  std::vector<std::string> relocate;
  uint64_t memory = 256 * kMiB;
  std::string rule;
  Code code;
  std::string message;
};

TEST(Relocation, RefusalsAreOneLineWithTheRule) {
  Spec ok;
  Spec outside_tables = ok;
  outside_tables.pdpt_pointer = 0x900000;
  Spec full = ok;
  full.tables_size = kTablesUsed;
  Spec paging_off = ok;
  paging_off.cr0 = 0x11;
  Spec la57 = ok;
  la57.cr4 = 0x20 | 0x1000;
  Spec twice = ok;
  twice.pdpt_pointer = kTables;  // PML4[0] points at the PML4 itself
  const std::vector<BadCase> cases = {
      {"misaligned", ok, {"0x8001000"}, 256 * kMiB, "plan.relocate", Code::kUsage,
       "relocatable region 0x200000 (size 0x3000): base 0x8001000 is not a multiple of the "
       "alignment 0x200000"},
      {"outside range", ok, {"0x40000000"}, 2048 * kMiB, "plan.relocate", Code::kUsage,
       "relocatable region 0x200000 (size 0x3000): base 0x40000000 puts the region outside "
       "[0x200000, 0x40000000)"},
      {"outside ram", ok, {"0x10000000"}, 256 * kMiB, "plan.relocate", Code::kUsage,
       "relocatable region 0x200000 (size 0x3000): base 0x10000000 puts the region outside "
       "guest ram"},
      {"overlaps tables", ok, {"0x200000", "page-tables=0x200000"}, 256 * kMiB, "plan.relocate",
       Code::kUsage,
       "relocatable region 0x200000 (size 0x3000): base 0x200000 overlaps 0x200000-0x207fff, "
       "which stays in place or was placed before"},
      {"unknown region", ok, {"0x300000=0x400000"}, 256 * kMiB, "plan.relocate", Code::kUsage,
       "--relocate names region 0x300000, but the file has no relocatable region at that gpa"},
      {"no base fits", ok, {}, 2 * kMiB, "plan.relocation", Code::kUnsupported,
       "relocatable region 0x200000 (size 0x3000): no base that is a multiple of 0x200000 in "
       "[0x200000, 0x40000000) lies in free guest ram"},
      {"walk leaves the region", outside_tables, {}, 256 * kMiB, "plan.page_table",
       Code::kInvalidInput,
       "page table walk leaves the region: level 3 table 0x900000 is outside 0x10000-0x17fff"},
      {"no free page", full, {"0x8000000"}, 256 * kMiB, "plan.page_table", Code::kInvalidInput,
       "the page-table region 0x10000 (size 0x4000, used 0x4000) has no free page for a new "
       "table"},
      {"paging off", paging_off, {}, 256 * kMiB, "plan.page_table", Code::kInvalidInput,
       "the vp does not use 4-level paging (cr0 0x11, cr4 0x20, efer 0x500), so its page "
       "tables cannot be fixed up"},
      {"5-level", la57, {}, 256 * kMiB, "plan.page_table", Code::kUnsupported,
       "5-level paging (cr4.la57) is not supported"},
      {"table twice", twice, {}, 256 * kMiB, "plan.page_table", Code::kInvalidInput,
       "page table 0x10000 is referenced twice"},
  };
  for (const BadCase& bc : cases) {
    VmConfig c = config();
    c.memory_size = bc.memory;
    for (const std::string& r : bc.relocate) {
      ASSERT_TRUE(parseRelocateOption(r, c).ok()) << bc.name;
    }
    Result<Plan> p = planSpec(bc.spec, c);
    ASSERT_FALSE(p.ok()) << bc.name;
    EXPECT_THAT(p, HasRule(bc.rule)) << bc.name;
    EXPECT_EQ(p.error().code, bc.code) << bc.name;
    EXPECT_EQ(p.error().message, bc.message) << bc.name;
  }
}

TEST(Relocation, ParseRelocateOption) {
  VmConfig c;
  EXPECT_TRUE(parseRelocateOption("lowest", c).ok());
  EXPECT_EQ(c.relocation_policy, RelocationPolicy::kLowest);
  EXPECT_TRUE(parseRelocateOption("0x200000=0x4000000", c).ok());
  EXPECT_TRUE(parseRelocateOption("8388608", c).ok());
  EXPECT_TRUE(parseRelocateOption("page-tables=0x20000", c).ok());
  ASSERT_EQ(c.relocate.size(), 2u);
  EXPECT_EQ(c.relocate[0], (RelocationRequest{0x200000, 0x4000000}));
  EXPECT_EQ(c.relocate[1], (RelocationRequest{std::nullopt, 0x800000}));
  EXPECT_EQ(c.page_table_base, 0x20000u);
  for (const char* bad : {"", "up", "0x", "0xZZ", "tables=0x1000", "=0x1000", "0x1000="}) {
    Status s = parseRelocateOption(bad, c);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().code, Code::kUsage) << bad;
  }
}

}  // namespace
}  // namespace igvmkit::loader
