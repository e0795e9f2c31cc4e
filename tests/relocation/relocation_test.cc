// A builder-made relocatable image (manifest -> builder::build) loaded by the loader at another
// base: every moved page at its new GPA, the patched RIP, CR3 and page-table entries, checked
// against the file with an independent 4-level walk over the pages the plan loads.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/testing/matchers.h"
#include "builder/build.h"
#include "builder/manifest.h"
#include "builder/testing/test_images.h"
#include "igvm/defs.h"
#include "igvm/file.h"
#include "loader/plan.h"
#include "loader/relocation.h"

namespace igvmkit {
namespace {

using ::igvmkit::testing::HasRule;

constexpr uint64_t kPage = 0x1000;
constexpr uint64_t kP = 1, kRw = 2, kPs = 0x80;
constexpr uint64_t kEntry = 0x100040;
constexpr uint64_t kRegion = 0x100000, kRegionSize = 0x4000;  // the payload's pages
constexpr uint64_t kTables = 0x10000;

ByteVector pattern(size_t n, uint8_t seed) {
  ByteVector b(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = std::byte(static_cast<uint8_t>(seed + i * 7));
  }
  return b;
}

// The manifest: native + SNP + TDX + VBS, a relocatable payload (code page, data page + bss) and
// relocatable page tables.
constexpr const char* kManifest = R"(
[platform.native]
[platform.snp]
[platform.tdx]
[platform.vbs]
[memory]
size = "256M"
[payload]
elf = "payload.elf"
[payload.relocatable]
alignment = "1M"
minimum = "1M"
maximum = "1G"
[[parameter_area]]
gpa = 0x80000
vp_count = 0
[vp]
page_table_relocation = true
page_table_free_pages = 4
)";

struct Built {
  std::shared_ptr<ByteVector> bytes;  // the file views into it
  std::optional<igvm::File> parsed;
  const igvm::File& file() const { return *parsed; }
};

Built buildImage() {
  builder::testing::ElfSpec elf;
  elf.entry = kEntry;
  elf.segments.push_back({1, 5, 0x100000, 0x100000, pattern(0x1000, 1), 0x1000});
  elf.segments.push_back({1, 6, 0x101000, 0x101000, pattern(0x800, 2), 0x3000});
  ByteVector elf_bytes = builder::testing::makeElf(elf);
  Result<builder::Manifest> m = builder::parseManifest(kManifest, "relocatable.toml", "/m");
  EXPECT_TRUE(m.ok()) << m.error().describe();
  auto reader = [&](const std::string& path) -> Result<ByteVector> {
    if (path == "/m/payload.elf") {
      return elf_bytes;
    }
    return unreadable(path + ": not found");
  };
  Result<builder::BuildOutput> out = builder::build(*m, reader);
  EXPECT_TRUE(out.ok()) << out.error().describe();
  Built b;
  if (!out.ok()) {
    return b;
  }
  b.bytes = std::make_shared<ByteVector>(out->igvm);
  Result<igvm::File> f = igvm::File::parse(*b.bytes);
  EXPECT_TRUE(f.ok()) << f.error().describe();
  if (f.ok()) {
    b.parsed.emplace(std::move(*f));
  }
  return b;
}

// Pages and vp 0's registers as the plan loads them.
struct Loaded {
  std::map<uint64_t, ByteVector> pages;
  x86::VpState regs;
};

Loaded load(const loader::Plan& p) {
  Loaded out;
  for (const loader::LaunchOp& op : p.ops) {
    if (const auto* imp = std::get_if<loader::ImportPages>(&op)) {
      for (uint64_t i = 0; i < imp->page_count; ++i) {
        ByteVector page(kPage);
        if (imp->data.size() > i * kPage) {
          size_t n = std::min<size_t>(kPage, imp->data.size() - i * kPage);
          std::memcpy(page.data(), imp->data.data() + i * kPage, n);
        }
        out.pages[imp->gpa + i * kPage] = page;
      }
    } else if (const auto* s = std::get_if<loader::SetVpState>(&op)) {
      if (const auto* r = std::get_if<x86::VpState>(&s->state)) {
        out.regs = *r;
      }
    }
  }
  return out;
}

uint64_t entryAt(const Loaded& l, uint64_t table, int i) {
  uint64_t e = 0;
  auto it = l.pages.find(table);
  if (it != l.pages.end()) {
    std::memcpy(&e, it->second.data() + 8 * i, 8);
  }
  return e;
}

// Independent 4-level walk from CR3 over the loaded pages.
std::optional<uint64_t> translate(const Loaded& l, uint64_t va) {
  uint64_t table = l.regs.cr3 & 0x000FFFFFFFFFF000;
  for (int level = 4; level >= 1; --level) {
    if (l.pages.count(table) == 0) {
      return std::nullopt;
    }
    int shift = 12 + 9 * (level - 1);
    uint64_t e = entryAt(l, table, static_cast<int>((va >> shift) & 511));
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

// The native platform's PAGE_DATA of the file: gpa -> page (zeros for pages without data).
std::map<uint64_t, ByteVector> filePages(const igvm::File& f) {
  const uint32_t native = f.platform(igvm::PlatformType::kNative)->compatibility_mask;
  std::map<uint64_t, ByteVector> out;
  for (const igvm::Header& h : f.directives()) {
    const auto* pd = h.get<igvm::IGVM_VHS_PAGE_DATA>();
    if (pd == nullptr || !h.appliesTo(native)) {
      continue;
    }
    ByteVector page(kPage);
    if (!h.data.empty()) {
      std::memcpy(page.data(), h.data.data(), std::min<size_t>(h.data.size(), kPage));
    }
    out[pd->gpa] = page;
  }
  return out;
}

Result<loader::Plan> planWith(const igvm::File& f, std::vector<std::string> relocate,
                              loader::BackendKind backend = loader::BackendKind::kKvm) {
  loader::VmConfig c;
  c.memory_size = 256ull << 20;
  for (const std::string& r : relocate) {
    IGVMKIT_RETURN_IF_ERROR(loader::parseRelocateOption(r, c));
  }
  return loader::plan(f, backend, c);
}

TEST(BuilderImageRelocation, EveryPageRegisterAndEntryMoves) {
  Built b = buildImage();
  ASSERT_TRUE(b.parsed.has_value());
  constexpr uint64_t kBase = 0x4000000;
  constexpr uint64_t d = kBase - kRegion;
  Result<loader::Plan> p = planWith(b.file(), {"0x4000000"});
  ASSERT_TRUE(p.ok()) << p.error().describe();
  ASSERT_EQ(p->relocations.size(), 1u);
  EXPECT_EQ(p->relocations[0].gpa, kRegion);
  EXPECT_EQ(p->relocations[0].size, kRegionSize);
  EXPECT_EQ(p->relocations[0].base, kBase);
  Loaded l = load(*p);
  std::map<uint64_t, ByteVector> file = filePages(b.file());
  ASSERT_TRUE(p->page_tables.has_value());
  const uint64_t tables_end = kTables + p->page_tables->size;
  // Every page: moved pages at gpa + d with the file's bytes and gone from gpa; the others in place.
  int moved = 0;
  for (const auto& [gpa, page] : file) {
    if (gpa >= kRegion && gpa < kRegion + kRegionSize) {
      EXPECT_EQ(l.pages[gpa + d], page) << hex(gpa);
      EXPECT_EQ(l.pages.count(gpa), 0u) << hex(gpa);
      ++moved;
    } else if (gpa < kTables || gpa >= tables_end) {
      EXPECT_EQ(l.pages[gpa], page) << hex(gpa);
    }
  }
  EXPECT_EQ(moved, 4);
  // Registers: RIP moves (apply_rip), GDTR does not (the GDT is not in the payload), CR3 stays.
  EXPECT_EQ(l.regs.rip, kEntry + d);
  EXPECT_EQ(l.regs.gdtr.base, 0x1000u);
  EXPECT_EQ(l.regs.cr3, kTables);
  // Translation through the patched tables.
  EXPECT_EQ(translate(l, l.regs.rip), kEntry + d);
  for (uint64_t off = 0; off < kRegionSize; off += 0x800) {
    EXPECT_EQ(translate(l, kBase + off), kBase + off) << hex(off);
    EXPECT_EQ(translate(l, kRegion + off), std::nullopt) << hex(off);
  }
  for (uint64_t va : {0x1000ull, 0x4ff8ull, 0x80000ull, 0xfffffull, 0x104000ull, 0x3fffffffull,
                      0xfffff000ull}) {
    EXPECT_EQ(translate(l, va), va) << hex(va);
  }
  // The entries: PD 0 (0x12000) entry 0, a 2 MiB leaf, became a pointer to a new table at the
  // first free page (0x16000: PML4, PDPT and four PDs are used); that table maps [0, 2 MiB) with
  // 4 KiB leaves carrying the leaf's flags, except the four payload pages.
  uint64_t original;
  std::memcpy(&original, file.at(0x12000).data(), 8);
  ASSERT_EQ(original & kPs, kPs);
  ASSERT_EQ(original & 0x1000, 0u);  // no PAT bit to move
  EXPECT_EQ(entryAt(l, 0x12000, 0), 0x16000u | (original & 0x27));
  for (int k = 0; k < 512; ++k) {
    uint64_t want = (uint64_t(k) << 12) | (original & 0xFFF & ~kPs) | (original & 0xFFF0000000000000);
    if (k >= 256 && k < 260) {
      want = 0;
    }
    ASSERT_EQ(entryAt(l, 0x16000, k), want) << k;
  }
  // Every other table entry is what the file has (the destination is already identity mapped by
  // a 2 MiB leaf, so nothing is added there).
  for (uint64_t t = kTables; t < kTables + p->page_tables->used_size; t += kPage) {
    for (int i = 0; i < 512; ++i) {
      if (t == 0x12000 && i == 0) {
        continue;
      }
      uint64_t want;
      std::memcpy(&want, file.at(t).data() + 8 * i, 8);
      ASSERT_EQ(entryAt(l, t, i), want) << hex(t) << "[" << i << "]";
    }
  }
  EXPECT_EQ(p->page_tables->tables_allocated, 1u);
  EXPECT_EQ(p->page_tables->entries_patched, 1u + 508u);
  EXPECT_EQ(p->page_tables->new_cr3, kTables);
}

TEST(BuilderImageRelocation, PoliciesPickTheirBase) {
  Built b = buildImage();
  ASSERT_TRUE(b.parsed.has_value());
  Result<loader::Plan> p = planWith(b.file(), {});
  ASSERT_TRUE(p.ok()) << p.error().describe();
  // The highest 1 MiB boundary that leaves room for the 0x4000-byte region in 256 MiB of RAM.
  EXPECT_EQ(p->relocations[0].base, 0xFF00000u);
  EXPECT_EQ(p->relocations[0].chosen_by, "highest");
  Loaded l = load(*p);
  EXPECT_EQ(l.regs.rip, kEntry - kRegion + 0xFF00000);
  EXPECT_EQ(translate(l, l.regs.rip), l.regs.rip);

  // Lowest: the region's own place is free once it moves, so nothing changes at all.
  p = planWith(b.file(), {"lowest"});
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(p->relocations[0].base, kRegion);
  EXPECT_EQ(p->page_tables->entries_patched, 0u);
  l = load(*p);
  EXPECT_EQ(l.regs.rip, kEntry);
  EXPECT_EQ(translate(l, kEntry), kEntry);
}

TEST(BuilderImageRelocation, TablesMoveWithCr3) {
  Built b = buildImage();
  ASSERT_TRUE(b.parsed.has_value());
  Result<loader::Plan> p = planWith(b.file(), {"0x4000000", "page-tables=0x8000000"});
  ASSERT_TRUE(p.ok()) << p.error().describe();
  Loaded l = load(*p);
  EXPECT_EQ(l.regs.cr3, 0x8000000u);
  EXPECT_EQ(translate(l, l.regs.rip), l.regs.rip);
  EXPECT_EQ(translate(l, 0x8000000), 0x8000000u);
  EXPECT_EQ(translate(l, kTables), std::nullopt);
  EXPECT_EQ(translate(l, 0x1000), 0x1000u);
  EXPECT_EQ(l.pages.count(kTables), 0u);
}

TEST(BuilderImageRelocation, MeasuredPlatformsNeverMove) {
  Built b = buildImage();
  ASSERT_TRUE(b.parsed.has_value());
  for (loader::BackendKind k : {loader::BackendKind::kKvmSnp, loader::BackendKind::kMshvSnp,
                                loader::BackendKind::kKvmTdx}) {
    // The builder's relocation headers name native and vbs only.
    Result<loader::Plan> p = planWith(b.file(), {}, k);
    ASSERT_TRUE(p.ok()) << p.error().describe();
    EXPECT_TRUE(p->relocations.empty());
    EXPECT_FALSE(p->page_tables.has_value());
    p = planWith(b.file(), {"0x4000000"}, k);
    ASSERT_FALSE(p.ok());
    EXPECT_THAT(p, HasRule("plan.relocate"));
  }
}

}  // namespace
}  // namespace igvmkit
