// Relocation: region placement, page-table fix-up, and the per-file Relocator (relocation.h).
#include "loader/relocation.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <set>

#include "igvm/defs.h"
#include "x86/arch.h"

namespace igvmkit::loader {
namespace {

Error relocationError(std::string message) {
  return unsupported("plan.relocation", std::move(message));
}
Error requestError(std::string message) {
  return Error{Code::kUsage, "plan.relocate", std::move(message), std::nullopt};
}
Error tableError(std::string message) { return invalid("plan.page_table", std::move(message)); }

bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a_size != 0 && b_size != 0 && a < b + b_size && b < a + a_size;
}
bool inside(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a >= b && a_size <= b_size && a - b <= b_size - a_size;
}

std::optional<uint64_t> parseNumber(std::string_view t) {
  int base = 10;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    t.remove_prefix(2);
    base = 16;
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v, base);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) {
    return std::nullopt;
  }
  return v;
}

// --- placement -----------------------------------------------------------------------------------

std::string describeRegion(const RegionPlacement& r) {
  return "relocatable region " + hex(r.gpa) + " (size " + hex(r.size) + ")";
}

// The first range of `taken` that overlaps [base, base + size), if any.
const GpaRange* conflict(const std::vector<GpaRange>& taken, uint64_t base, uint64_t size) {
  const GpaRange* best = nullptr;
  for (const GpaRange& t : taken) {
    if (overlaps(base, size, t.gpa, t.size) && (best == nullptr || t.gpa < best->gpa)) {
      best = &t;
    }
  }
  return best;
}

// Why `base` is not a valid, free base for `r`, or "" when it is.
std::string whyNot(const RegionPlacement& r, uint64_t base, const std::vector<GpaRange>& taken,
                   const std::vector<GpaRange>& ram) {
  if (base % r.alignment != 0) {
    return "base " + hex(base) + " is not a multiple of the alignment " + hex(r.alignment);
  }
  if (base < r.minimum || r.size > r.maximum - r.minimum || base - r.minimum > r.maximum -
                                                                                   r.minimum -
                                                                                   r.size) {
    return "base " + hex(base) + " puts the region outside [" + hex(r.minimum) + ", " +
           hex(r.maximum) + ")";
  }
  bool in_ram = std::any_of(ram.begin(), ram.end(), [&](const GpaRange& m) {
    return inside(base, r.size, m.gpa, m.size);
  });
  if (!in_ram) {
    return "base " + hex(base) + " puts the region outside guest ram";
  }
  if (const GpaRange* c = conflict(taken, base, r.size)) {
    return "base " + hex(base) + " overlaps " + hex(c->gpa) + "-" + hex(c->end() - 1) +
           ", which stays in place or was placed before";
  }
  return "";
}

std::optional<uint64_t> search(const RegionPlacement& r, const std::vector<GpaRange>& taken,
                               const std::vector<GpaRange>& ram, bool highest) {
  std::vector<GpaRange> order = ram;
  if (highest) {
    std::reverse(order.begin(), order.end());
  }
  const uint64_t a = r.alignment;
  for (const GpaRange& m : order) {
    uint64_t lo = std::max(m.gpa, r.minimum);
    uint64_t hi = std::min(m.end(), r.maximum);  // exclusive end for the region
    if (hi < lo || hi - lo < r.size) {
      continue;
    }
    if (highest) {
      uint64_t base = (hi - r.size) / a * a;
      while (base >= lo) {
        const GpaRange* c = conflict(taken, base, r.size);
        if (c == nullptr) {
          return base;
        }
        if (c->gpa < lo + r.size) {
          break;
        }
        base = (c->gpa - r.size) / a * a;
      }
    } else {
      uint64_t base = (lo + a - 1) / a * a;
      while (base >= lo && base <= hi - r.size) {
        const GpaRange* c = conflict(taken, base, r.size);
        if (c == nullptr) {
          return base;
        }
        if (c->end() > UINT64_MAX - a) {
          break;
        }
        base = (c->end() + a - 1) / a * a;
      }
    }
  }
  return std::nullopt;
}

// --- page tables ---------------------------------------------------------------------------------

constexpr uint64_t kPresent = 1ull << 0;
constexpr uint64_t kWritable = 1ull << 1;
constexpr uint64_t kUser = 1ull << 2;
constexpr uint64_t kLargePage = 1ull << 7;  // PS in a PDPTE/PDE
constexpr uint64_t kPatSmall = 1ull << 7;   // PAT in a PTE
constexpr uint64_t kPatLarge = 1ull << 12;  // PAT in a large leaf
constexpr uint64_t kNoExecute = 1ull << 63;
constexpr uint64_t kAddressMask = 0x000F'FFFF'FFFF'F000;
constexpr uint64_t kHighFlags = 0xFFF0'0000'0000'0000;  // NX, protection keys, ignored bits
using x86::kCr0Pg;
using x86::kCr4La57;
using x86::kCr4Pae;
using x86::kEferLme;
constexpr int kEntries = 512;

uint64_t leafSize(int level) { return uint64_t{1} << (12 + 9 * (level - 1)); }

struct Leaf {
  uint64_t va = 0, pa = 0, size = 0;
  uint64_t table = 0;  // GPA of the table holding the entry (in the file's address space)
  int index = 0, level = 0;
  uint64_t entry = 0;
};

// The tables of one region, addressed by their GPA in the file.
class TableSpace {
 public:
  explicit TableSpace(const PageTables& t) : t_(t), bytes_(t.bytes) {}

  bool holds(uint64_t table) const {
    return table >= t_.gpa && table - t_.gpa < t_.size && table % kPageSize == 0;
  }
  uint64_t get(uint64_t table, int i) const {
    uint64_t v;
    std::memcpy(&v, bytes_.data() + (table - t_.gpa) + 8 * i, 8);
    return v;
  }
  void set(uint64_t table, int i, uint64_t v) {
    std::memcpy(bytes_.data() + (table - t_.gpa) + 8 * i, &v, 8);
  }

  // All leaves reachable from CR3; every table must lie in the region and be referenced once.
  Result<std::vector<Leaf>> walk() {
    std::vector<Leaf> leaves;
    std::set<uint64_t> seen;
    IGVMKIT_RETURN_IF_ERROR(walkTable(t_.cr3 & kAddressMask, 4, 0, leaves, seen));
    used_ = std::move(seen);
    return leaves;
  }

  // Non-leaf entries reachable from CR3: (table, index).
  std::vector<std::pair<uint64_t, int>> pointers() const {
    std::vector<std::pair<uint64_t, int>> out;
    collectPointers(t_.cr3 & kAddressMask, 4, out);
    return out;
  }

  Result<uint64_t> allocate() {
    for (uint64_t off = t_.used_size; off < t_.size; off += kPageSize) {
      uint64_t page = t_.gpa + off;
      if (used_.count(page) == 0) {
        used_.insert(page);
        std::memset(bytes_.data() + off, 0, kPageSize);
        ++allocated_;
        return page;
      }
    }
    return tableError("the page-table region " + hex(t_.gpa) + " (size " + hex(t_.size) +
                      ", used " + hex(t_.used_size) + ") has no free page for a new table");
  }

  // Replaces the large leaf at (table, i, level) by a table of 512 leaves one level down.
  Status split(uint64_t table, int i, int level) {
    uint64_t e = get(table, i);
    IGVMKIT_ASSIGN_OR_RETURN(uint64_t child, allocate());
    uint64_t size = leafSize(level);
    uint64_t child_size = size / kEntries;
    uint64_t pa = e & kAddressMask & ~(size - 1);
    for (int k = 0; k < kEntries; ++k) {
      uint64_t c = pa + k * child_size;
      if (level == 2) {  // 2 MiB -> 4 KiB: PS goes, PAT moves from bit 12 to bit 7
        c |= (e & 0xFFF & ~kLargePage) | ((e & kPatLarge) != 0 ? kPatSmall : 0);
      } else {  // 1 GiB -> 2 MiB: still large leaves
        c |= (e & 0xFFF) | (e & kPatLarge);
      }
      set(child, k, c | (e & kHighFlags));
    }
    set(table, i, child | (e & (kPresent | kWritable | kUser | (1ull << 5))) | (e & kNoExecute));
    return okStatus();
  }

  // Maps va -> pa with a leaf of `size` carrying `flags` (the leaf's bits outside its address).
  Status map(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags) {
    int target = size == leafSize(1) ? 1 : size == leafSize(2) ? 2 : 3;
    uint64_t table = t_.cr3 & kAddressMask;
    for (int level = 4; level > target; --level) {
      int i = static_cast<int>((va >> (12 + 9 * (level - 1))) & 511);
      uint64_t e = get(table, i);
      if ((e & kPresent) == 0) {
        IGVMKIT_ASSIGN_OR_RETURN(uint64_t child, allocate());
        set(table, i, child | kPresent | kWritable | (flags & kUser));
        table = child;
        continue;
      }
      if (level <= 3 && (e & kLargePage) != 0) {
        uint64_t big = leafSize(level);
        uint64_t mapped = (e & kAddressMask & ~(big - 1)) + (va & (big - 1));
        constexpr uint64_t kAccess = kPresent | kWritable | kUser | kNoExecute;
        if (mapped == pa && (e & kAccess) == (flags & kAccess)) {
          return okStatus();  // already mapped the same way by a larger leaf
        }
        IGVMKIT_RETURN_IF_ERROR(split(table, i, level));
        e = get(table, i);
      }
      table = e & kAddressMask;
      if (!holds(table)) {
        return tableError("page table walk leaves the region: table " + hex(table) +
                          " is outside " + hex(t_.gpa) + "-" + hex(t_.gpa + t_.size - 1));
      }
    }
    int i = static_cast<int>((va >> (12 + 9 * (target - 1))) & 511);
    uint64_t want = pa | flags;
    uint64_t e = get(table, i);
    if ((e & kPresent) != 0 && e != want) {
      return tableError("the moved mapping of va " + hex(va) + " collides with an existing entry " +
                        hex(e));
    }
    set(table, i, want);
    return okStatus();
  }

  ByteVector& bytes() { return bytes_; }
  uint32_t allocated() const { return allocated_; }
  const std::set<uint64_t>& used() const { return used_; }

 private:
  Status walkTable(uint64_t table, int level, uint64_t va, std::vector<Leaf>& leaves,
                   std::set<uint64_t>& seen) {
    if (!holds(table)) {
      return tableError("page table walk leaves the region: level " + std::to_string(level) +
                        " table " + hex(table) + " is outside " + hex(t_.gpa) + "-" +
                        hex(t_.gpa + t_.size - 1));
    }
    if (!seen.insert(table).second) {
      return tableError("page table " + hex(table) + " is referenced twice");
    }
    for (int i = 0; i < kEntries; ++i) {
      uint64_t e = get(table, i);
      if ((e & kPresent) == 0) {
        continue;
      }
      uint64_t entry_va = va | (uint64_t(i) << (12 + 9 * (level - 1)));
      if (level == 4 && i >= 256) {
        entry_va |= 0xFFFF'0000'0000'0000;  // canonical upper half
      }
      if ((e & kLargePage) != 0 && level == 4) {
        return tableError("pml4 entry " + std::to_string(i) + " of table " + hex(table) +
                          " sets the large-page bit");
      }
      if (level == 1 || (e & kLargePage) != 0) {
        uint64_t size = leafSize(level);
        leaves.push_back(Leaf{entry_va, e & kAddressMask & ~(size - 1), size, table, i, level, e});
        continue;
      }
      IGVMKIT_RETURN_IF_ERROR(walkTable(e & kAddressMask, level - 1, entry_va, leaves, seen));
    }
    return okStatus();
  }

  void collectPointers(uint64_t table, int level, std::vector<std::pair<uint64_t, int>>& out) const {
    for (int i = 0; i < kEntries; ++i) {
      uint64_t e = get(table, i);
      if ((e & kPresent) == 0 || level == 1 || (e & kLargePage) != 0) {
        continue;
      }
      out.emplace_back(table, i);
      collectPointers(e & kAddressMask, level - 1, out);
    }
  }

  const PageTables& t_;
  ByteVector bytes_;
  std::set<uint64_t> used_;
  uint32_t allocated_ = 0;
};

struct Move {
  uint64_t gpa, size, delta;
};

const Move* moveOf(const std::vector<Move>& moves, uint64_t pa, uint64_t size) {
  for (const Move& m : moves) {
    if (overlaps(pa, size, m.gpa, m.size)) {
      return &m;
    }
  }
  return nullptr;
}

}  // namespace

std::string_view relocationPolicyName(RelocationPolicy policy) {
  switch (policy) {
    case RelocationPolicy::kHighest:
      return "highest";
    case RelocationPolicy::kLowest:
      return "lowest";
    case RelocationPolicy::kKeep:
      return "keep";
  }
  return "?";
}

Status parseRelocateOption(std::string_view text, VmConfig& config) {
  if (text == "highest" || text == "lowest" || text == "keep") {
    config.relocation_policy = text == "highest"  ? RelocationPolicy::kHighest
                               : text == "lowest" ? RelocationPolicy::kLowest
                                                  : RelocationPolicy::kKeep;
    return okStatus();
  }
  size_t eq = text.find('=');
  std::string_view value = eq == std::string_view::npos ? text : text.substr(eq + 1);
  std::optional<uint64_t> base = parseNumber(value);
  if (!base) {
    return usage("--relocate " + std::string(text) +
                 ": expected highest, lowest, keep, BASE, REGION_GPA=BASE or page-tables=BASE");
  }
  if (eq == std::string_view::npos) {
    config.relocate.push_back(RelocationRequest{std::nullopt, *base});
    return okStatus();
  }
  std::string_view key = text.substr(0, eq);
  if (key == "page-tables") {
    config.page_table_base = *base;
    return okStatus();
  }
  std::optional<uint64_t> region = parseNumber(key);
  if (!region) {
    return usage("--relocate " + std::string(text) + ": " + std::string(key) +
                 " is neither a region gpa nor page-tables");
  }
  config.relocate.push_back(RelocationRequest{*region, *base});
  return okStatus();
}

Status placeRegions(std::vector<RegionPlacement>& regions, const std::vector<GpaRange>& fixed,
                    const std::vector<GpaRange>& ram, const VmConfig& config) {
  for (const RelocationRequest& q : config.relocate) {
    if (!q.region_gpa) {
      if (regions.size() != 1) {
        return requestError("--relocate " + hex(q.base) + " needs a file with exactly one " +
                            "relocatable region; this one has " + std::to_string(regions.size()) +
                            " (name the region: REGION_GPA=BASE)");
      }
      continue;
    }
    bool known = std::any_of(regions.begin(), regions.end(),
                             [&](const RegionPlacement& r) { return r.gpa == *q.region_gpa; });
    if (!known) {
      return requestError("--relocate names region " + hex(*q.region_gpa) +
                          ", but the file has no relocatable region at that gpa");
    }
  }
  std::vector<GpaRange> taken = fixed;
  for (RegionPlacement& r : regions) {
    std::optional<uint64_t> requested;
    for (const RelocationRequest& q : config.relocate) {
      if (!q.region_gpa || *q.region_gpa == r.gpa) {
        requested = q.base;
      }
    }
    if (requested) {
      if (std::string why = whyNot(r, *requested, taken, ram); !why.empty()) {
        return requestError(describeRegion(r) + ": " + why);
      }
      r.base = *requested;
      r.chosen_by = "user";
    } else if (config.relocation_policy == RelocationPolicy::kKeep) {
      if (std::string why = whyNot(r, r.gpa, taken, ram); !why.empty()) {
        return relocationError(describeRegion(r) + " cannot stay at its gpa: " + why);
      }
      r.base = r.gpa;
      r.chosen_by = "keep";
    } else {
      bool highest = config.relocation_policy == RelocationPolicy::kHighest;
      std::optional<uint64_t> base = search(r, taken, ram, highest);
      if (!base) {
        return relocationError(describeRegion(r) + ": no base that is a multiple of " +
                               hex(r.alignment) + " in [" + hex(r.minimum) + ", " +
                               hex(r.maximum) + ") lies in free guest ram");
      }
      r.base = *base;
      r.chosen_by = std::string(relocationPolicyName(config.relocation_policy));
    }
    taken.push_back(GpaRange{r.base, r.size});
  }
  return okStatus();
}

Result<FixedTables> relocatePageTables(const PageTables& t, const std::vector<RegionPlacement>& moved) {
  if (t.bytes.size() != t.size) {
    return internal("page-table bytes do not cover the region");
  }
  if ((t.cr0 & kCr0Pg) == 0 || (t.cr4 & kCr4Pae) == 0 || (t.efer & kEferLme) == 0) {
    return tableError("the vp does not use 4-level paging (cr0 " + hex(t.cr0) + ", cr4 " +
                      hex(t.cr4) + ", efer " + hex(t.efer) + "), so its page tables cannot be " +
                      "fixed up");
  }
  if ((t.cr4 & kCr4La57) != 0) {
    return unsupported("plan.page_table", "5-level paging (cr4.la57) is not supported");
  }
  uint64_t root = t.cr3 & kAddressMask;
  if (root < t.gpa || root - t.gpa >= t.used_size) {
    return tableError("cr3 " + hex(t.cr3) + " is outside the used page-table region " +
                      hex(t.gpa) + " + " + hex(t.used_size));
  }
  std::vector<Move> moves;
  for (const RegionPlacement& r : moved) {
    if (r.delta() != 0) {
      moves.push_back(Move{r.gpa, r.size, r.delta()});
    }
  }
  uint64_t table_delta = t.base - t.gpa;
  if (table_delta != 0) {
    moves.push_back(Move{t.gpa, t.size, table_delta});
  }

  TableSpace space(t);
  // Split large leaves until every leaf that maps a moved range lies inside it and can move by
  // its delta. Each split takes a free page, so this ends.
  std::vector<Leaf> leaves;
  for (;;) {
    IGVMKIT_ASSIGN_OR_RETURN(leaves, space.walk());
    const Leaf* to_split = nullptr;
    for (const Leaf& l : leaves) {
      const Move* m = moveOf(moves, l.pa, l.size);
      if (m == nullptr || l.level == 1) {
        continue;
      }
      bool contained = inside(l.pa, l.size, m->gpa, m->size);
      bool aligned = (m->delta & (l.size - 1)) == 0;
      if (!contained || !aligned) {
        to_split = &l;
        break;
      }
    }
    if (to_split == nullptr) {
      break;
    }
    IGVMKIT_RETURN_IF_ERROR(space.split(to_split->table, to_split->index, to_split->level));
  }
  // Move the leaves: remove them all first (old and new ranges may overlap), then map.
  struct NewLeaf {
    uint64_t va, pa, size, flags;
  };
  std::vector<NewLeaf> add;
  for (const Leaf& l : leaves) {
    const Move* m = moveOf(moves, l.pa, l.size);
    if (m == nullptr) {
      continue;
    }
    uint64_t address_bits = kAddressMask & ~(l.size - 1);
    add.push_back(NewLeaf{l.va + m->delta, l.pa + m->delta, l.size, l.entry & ~address_bits});
    space.set(l.table, l.index, 0);
  }
  for (const NewLeaf& n : add) {
    IGVMKIT_RETURN_IF_ERROR(space.map(n.va, n.pa, n.size, n.flags));
  }
  // Moving the tables: every table pointer (CR3's too) follows.
  if (table_delta != 0) {
    for (auto [table, i] : space.pointers()) {
      uint64_t e = space.get(table, i);
      space.set(table, i, ((e & kAddressMask) + table_delta) | (e & ~kAddressMask));
    }
  }
  FixedTables out;
  out.cr3 = ((t.cr3 & kAddressMask) + table_delta) | (t.cr3 & ~kAddressMask);
  out.tables_allocated = space.allocated();
  out.bytes = std::move(space.bytes());
  for (size_t off = 0; off < t.size; off += 8) {
    if (std::memcmp(out.bytes.data() + off, t.bytes.data() + off, 8) != 0) {
      ++out.entries_patched;
    }
  }
  out.page_used.assign(t.size / kPageSize, false);
  for (uint64_t page : space.used()) {
    out.page_used[(page - t.gpa) / kPageSize] = true;
  }
  return out;
}

// --- Relocator -----------------------------------------------------------------------------------

namespace {

bool isMeasured(BackendKind backend) {
  return backend == BackendKind::kKvmSnp || backend == BackendKind::kMshvSnp ||
         backend == BackendKind::kKvmTdx;
}

uint64_t pageSizeOf(const igvm::IGVM_VHS_PAGE_DATA& pd) {
  return (pd.flags & igvm::kPageDataFlagIs2MbPage) != 0 ? 0x200000 : kPageSize;
}

}  // namespace

Result<Relocator> Relocator::prepare(const igvm::File& file, uint32_t bit, BackendKind backend,
                                     const VmConfig& config) {
  Relocator r;
  std::optional<igvm::IGVM_VHS_PAGE_TABLE_RELOCATION> pt;
  uint32_t pt_index = 0;
  for (const igvm::Header& h : file.initializationHeaders()) {
    if (!h.appliesTo(bit)) {
      continue;
    }
    if (const auto* rr = h.get<igvm::IGVM_VHS_RELOCATABLE_REGION>()) {
      RegionPlacement p;
      p.header_index = h.index;
      p.gpa = rr->relocation_region_gpa;
      p.size = rr->relocation_region_size;
      p.alignment = rr->relocation_alignment;
      p.minimum = rr->minimum_relocation_gpa;
      p.maximum = rr->maximum_relocation_gpa;
      p.flags = rr->flags;
      p.vp_index = rr->vp_index;
      if (!isMeasured(backend) &&
          (rr->vtl != 0 || (rr->flags & igvm::kRelocationFlagIsVtl2) != 0)) {
        return unsupported("plan.relocation",
                           "the region describes vtl " + std::to_string(rr->vtl) +
                               " memory; this loader runs vtl 0 guests only",
                           h.location());
      }
      r.placements_.push_back(p);
    } else if (const auto* p = h.get<igvm::IGVM_VHS_PAGE_TABLE_RELOCATION>()) {
      pt = *p;
      pt_index = h.index;
    }
  }

  if (isMeasured(backend)) {
    // The launch digest covers the file's GPAs: nothing moves (relocation.h).
    if (!config.relocate.empty() || config.page_table_base) {
      return Error(unsupported("plan.relocate",
                               "relocation changes the launch measurement; " +
                                   std::string(backendName(backend)) +
                                   " loads relocatable regions at their file gpa"));
    }
    for (RegionPlacement& p : r.placements_) {
      if (p.gpa < p.minimum || p.size > p.maximum - p.minimum ||
          p.gpa - p.minimum > p.maximum - p.minimum - p.size) {
        return relocationError("relocatable region at " + hex(p.gpa) + " must be moved into [" +
                               hex(p.minimum) + ", " + hex(p.maximum) + "); " +
                               std::string(backendName(backend)) +
                               " does not relocate (the launch measurement covers file gpas)");
      }
      p.base = p.gpa;
      p.chosen_by = "measured";
    }
    if (pt) {
      r.page_tables_ = PageTablePlacement{pt_index, pt->gpa, pt->size, pt->used_size,
                                          pt->vp_index, pt->gpa, 0, 0, 0, 0};
    }
    return r;
  }
  if (r.placements_.empty() && !config.relocate.empty()) {
    return Error(requestError("--relocate: the file has no relocatable region for this platform"));
  }
  if (!pt && config.page_table_base) {
    return Error(requestError("--relocate page-tables: the file has no page-table region"));
  }
  if (r.placements_.empty() && !pt) {
    return r;
  }

  // What stays in place, and the page-table region's pages and VP state.
  auto inRegion = [&](uint64_t gpa, uint64_t size) {
    return std::any_of(r.placements_.begin(), r.placements_.end(), [&](const RegionPlacement& p) {
      return overlaps(gpa, size, p.gpa, p.size);
    });
  };
  PageTables tables;
  if (pt) {
    tables.gpa = pt->gpa;
    tables.size = pt->size;
    tables.used_size = pt->used_size;
    tables.base = config.page_table_base.value_or(pt->gpa);
    tables.bytes.assign(pt->size, std::byte{0});
    r.file_has_page_.assign(pt->size / kPageSize, false);
  }
  std::vector<GpaRange> fixed;
  std::map<uint32_t, uint64_t> area_sizes;
  std::optional<igvm::IgvmNativeVpContextX64> pt_vp;
  for (const igvm::Header& h : file.directives()) {
    if (!h.appliesTo(bit)) {
      if (const auto* pa = h.get<igvm::IGVM_VHS_PARAMETER_AREA>()) {
        area_sizes[pa->parameter_area_index] = pa->number_of_bytes;
      }
      continue;
    }
    if (const auto* pd = h.get<igvm::IGVM_VHS_PAGE_DATA>()) {
      uint64_t size = pageSizeOf(*pd);
      if (pt && overlaps(pd->gpa, size, pt->gpa, pt->size)) {
        if (!inside(pd->gpa, size, pt->gpa, pt->size)) {
          Error e = tableError("page " + hex(pd->gpa) + " straddles the edge of the " +
                               "page-table region");
          e.location = h.location();
          return e;
        }
        size_t off = pd->gpa - pt->gpa;
        if (!h.data.empty()) {  // no data: a page of zeros
          std::memcpy(tables.bytes.data() + off, h.data.data(),
                      std::min<size_t>(h.data.size(), size));
        }
        for (uint64_t p = 0; p < size; p += kPageSize) {
          r.file_has_page_[(off + p) / kPageSize] = true;
        }
      } else if (!inRegion(pd->gpa, size)) {
        fixed.push_back(GpaRange{pd->gpa, size});
      }
    } else if (const auto* pa = h.get<igvm::IGVM_VHS_PARAMETER_AREA>()) {
      area_sizes[pa->parameter_area_index] = pa->number_of_bytes;
    } else if (const auto* pi = h.get<igvm::IGVM_VHS_PARAMETER_INSERT>()) {
      uint64_t size = area_sizes.count(pi->parameter_area_index) != 0
                          ? area_sizes[pi->parameter_area_index]
                          : kPageSize;
      if (!inRegion(pi->gpa, size)) {
        fixed.push_back(GpaRange{pi->gpa, size});
      }
    } else if (const auto* vp = h.get<igvm::IGVM_VHS_VP_CONTEXT>()) {
      if (pt && h.vp_format == igvm::VpContextFormat::kNativeX64 && vp->vp_index == pt->vp_index) {
        IGVMKIT_ASSIGN_OR_RETURN(pt_vp, readStruct<igvm::IgvmNativeVpContextX64>(h.data, 0));
      }
    }
  }
  if (pt) {
    if (tables.base % kPageSize != 0) {
      return Error(requestError("--relocate page-tables=" + hex(tables.base) +
                                ": not 4 KiB aligned"));
    }
    IGVMKIT_ASSIGN_OR_RETURN(std::vector<GpaRange> ram, config.ramLayout());
    bool in_ram = std::any_of(ram.begin(), ram.end(), [&](const GpaRange& m) {
      return inside(tables.base, tables.size, m.gpa, m.size);
    });
    if (config.page_table_base) {
      if (!in_ram) {
        return Error(requestError("--relocate page-tables=" + hex(tables.base) +
                                  " puts the page-table region outside guest ram"));
      }
      if (const GpaRange* c = conflict(fixed, tables.base, tables.size)) {
        return Error(requestError("--relocate page-tables=" + hex(tables.base) + " overlaps " +
                                  hex(c->gpa) + "-" + hex(c->end() - 1) +
                                  ", which stays in place"));
      }
    }
    fixed.push_back(GpaRange{tables.base, tables.size});
  }
  if (!r.placements_.empty()) {
    IGVMKIT_ASSIGN_OR_RETURN(std::vector<GpaRange> ram, config.ramLayout());
    IGVMKIT_RETURN_IF_ERROR(placeRegions(r.placements_, fixed, ram, config));
  }
  if (!pt) {
    return r;
  }
  if (!pt_vp) {
    return Error(tableError("the page-table region names vp " + std::to_string(pt->vp_index) +
                            ", which has no native vp context to take cr3 from"));
  }
  tables.cr0 = pt_vp->cr0;
  tables.cr3 = pt_vp->cr3;
  tables.cr4 = pt_vp->cr4;
  tables.efer = pt_vp->efer;
  IGVMKIT_ASSIGN_OR_RETURN(FixedTables fixed_tables, relocatePageTables(tables, r.placements_));
  r.page_tables_ = PageTablePlacement{pt_index,
                                      pt->gpa,
                                      pt->size,
                                      pt->used_size,
                                      pt->vp_index,
                                      tables.base,
                                      tables.cr3,
                                      fixed_tables.cr3,
                                      fixed_tables.entries_patched,
                                      fixed_tables.tables_allocated};
  r.tables_ = std::make_shared<FixedTables>(std::move(fixed_tables));
  return r;
}

Result<uint64_t> Relocator::map(uint64_t gpa, uint64_t size) const {
  for (const RegionPlacement& p : placements_) {
    if (!overlaps(gpa, size, p.gpa, p.size)) {
      continue;
    }
    if (!inside(gpa, size, p.gpa, p.size)) {
      return Error(relocationError(hex(gpa) + " + " + hex(size) + " straddles the edge of " +
                                   describeRegion(p)));
    }
    return gpa - p.gpa + p.base;
  }
  if (page_tables_ && overlaps(gpa, size, page_tables_->gpa, page_tables_->size)) {
    if (!inside(gpa, size, page_tables_->gpa, page_tables_->size)) {
      return Error(tableError(hex(gpa) + " + " + hex(size) +
                              " straddles the edge of the page-table region"));
    }
    return gpa - page_tables_->gpa + page_tables_->base;
  }
  return gpa;
}

std::optional<Bytes> Relocator::tablePage(uint64_t gpa, uint64_t size) const {
  if (!tables_ || !page_tables_ || !inside(gpa, size, page_tables_->gpa, page_tables_->size)) {
    return std::nullopt;
  }
  return Bytes(tables_->bytes).subspan(gpa - page_tables_->gpa, size);
}

std::vector<std::pair<uint64_t, Bytes>> Relocator::allocatedTablePages() const {
  std::vector<std::pair<uint64_t, Bytes>> out;
  if (!tables_ || !page_tables_) {
    return out;
  }
  for (size_t i = 0; i < tables_->page_used.size(); ++i) {
    if (tables_->page_used[i] && !file_has_page_[i]) {
      out.emplace_back(page_tables_->base + i * kPageSize,
                       Bytes(tables_->bytes).subspan(i * kPageSize, kPageSize));
    }
  }
  return out;
}

ByteVector Relocator::patchNativeContext(uint16_t vp_index, Bytes context) const {
  ByteVector out(context.begin(), context.end());
  if (out.size() < sizeof(igvm::IgvmNativeVpContextX64)) {
    return out;  // PlanBuilder refuses a short context
  }
  igvm::IgvmNativeVpContextX64 c;
  std::memcpy(&c, out.data(), sizeof(c));
  for (const RegionPlacement& p : placements_) {
    if (p.vp_index != vp_index) {
      continue;
    }
    if ((p.flags & igvm::kRelocationFlagApplyPc) != 0) {
      c.rip += p.delta();
    }
    if ((p.flags & igvm::kRelocationFlagApplyGdtr) != 0) {
      c.gdtr_base += p.delta();
    }
  }
  if (tables_ && page_tables_ && page_tables_->vp_index == vp_index) {
    c.cr3 = tables_->cr3;
  }
  std::memcpy(out.data(), &c, sizeof(c));
  return out;
}

}  // namespace igvmkit::loader
