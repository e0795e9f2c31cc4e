// loader/relocation.h: where relocatable IGVM regions go, and the fix-ups that moving them needs
// (igvm-format.md §2.6, RELOCATABLE_REGION and PAGE_TABLE_RELOCATION).
//
// plan() (plan.h) uses this for every file; the pieces are public so tests and tools can use them
// alone:
//
//   IGVMKIT_ASSIGN_OR_RETURN(loader::Relocator r,
//                            loader::Relocator::prepare(file, platform_bit, backend, config));
//   IGVMKIT_ASSIGN_OR_RETURN(uint64_t gpa, r.map(pd->gpa, 0x1000));    // a page's new GPA
//   if (std::optional<Bytes> t = r.tablePage(pd->gpa)) { /* load *t instead of the file's page */ }
//   ByteVector ctx = r.patchNativeContext(vp_index, file_context);    // RIP, GDTR, CR3
//
// Policy (VmConfig::relocation_policy, default kHighest; plan/run `--relocate`):
// * Non-confidential backends (kvm, mshv) place each region, in file order, at the highest (or
//   lowest) base that is a multiple of the alignment, lies in [minimum, maximum), sits wholly in
//   one guest RAM range, and overlaps neither what stays in place (page data and parameter areas
//   outside every region, the page-table region) nor a region placed before it. kKeep and a user
//   base (VmConfig::relocate) must satisfy the same conditions, or plan() refuses with one line.
// * Confidential backends (kvm-snp, mshv-snp, kvm-tdx) never move anything: SNP and TDX launch
//   digests cover GPAs and `igvmkit measure` computes them for the file's GPAs, so a region stays
//   at its file GPA ("measured"), must be a valid base there, and a user base is refused. The
//   parser only accepts relocation headers together with a VBS VP context anyway.
// * The page-table region stays at its file GPA unless VmConfig::page_table_base names another.
//
// Moving a region with delta d = base - gpa: every PAGE_DATA, PARAMETER_INSERT and
// REQUIRED_MEMORY inside it moves by d (a page that straddles the region's edge is refused); the
// native VP context of the region's vp_index gets RIP += d with APPLY_RIP and GDTR.base += d with
// APPLY_GDTR. The page tables of the PAGE_TABLE_RELOCATION region (x64 4-level paging, walked from
// the VP's CR3; 5-level paging is refused) are fixed up so that every moved range, the tables
// included, stays identity mapped at its new place: leaves that map a moved range are removed and
// re-created at VA = PA = old + d; large leaves (2 MiB, 1 GiB) that straddle a moved range or
// cannot move by d are split first; missing tables and split tables come from the region's free
// pages [used_size, size); a new leaf that the existing tables already map identically is not
// added twice. When the tables themselves move, every table pointer and CR3 move with them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/file.h"
#include "loader/plan.h"

namespace igvmkit::loader {

// "highest" | "lowest" | "keep" | "BASE" | "GPA=BASE" | "page-tables=BASE" (numbers in C syntax,
// 0x... or decimal) applied to `config`; a usage error otherwise.
Status parseRelocateOption(std::string_view text, VmConfig& config);

// Places `regions` (gpa, size, alignment, minimum, maximum, flags, vp_index, header_index filled;
// base and chosen_by are set here) by config's requests or policy, avoiding `fixed` ranges.
// Errors: "plan.relocation" (no base fits), "plan.relocate" (a user base that does not fit).
Status placeRegions(std::vector<RegionPlacement>& regions, const std::vector<GpaRange>& fixed,
                    const std::vector<GpaRange>& ram, const VmConfig& config);

// A PAGE_TABLE_RELOCATION region's contents and the paging registers of its VP.
struct PageTables {
  uint64_t gpa = 0, size = 0, used_size = 0;  // as in the file
  uint64_t base = 0;                          // where the tables go
  ByteVector bytes;                           // `size` bytes: the region's pages (zeros where none)
  uint64_t cr0 = 0, cr3 = 0, cr4 = 0, efer = 0;
};
struct FixedTables {
  ByteVector bytes;  // the region's new contents, to load at `base`
  uint64_t cr3 = 0;  // the VP's new CR3
  uint32_t entries_patched = 0;
  uint32_t tables_allocated = 0;
  std::vector<bool> page_used;  // per page of the region: holds a table (or came from the file)
};
// Rewrites the tables for the regions in `moved` (those with a nonzero delta) as described above.
// Errors ("plan.page_table"): paging off or 5-level, CR3 or a table pointer outside the region, a
// table referenced twice, no free page left, a moved mapping colliding with an existing one.
Result<FixedTables> relocatePageTables(const PageTables& tables,
                                       const std::vector<RegionPlacement>& moved);

// Everything plan() needs to load one platform of a file with its regions placed.
class Relocator {
 public:
  // Reads the relocation headers that apply to `platform_bit`, places the regions (see above) and
  // fixes up the page tables.
  static Result<Relocator> prepare(const igvm::File& file, uint32_t platform_bit,
                                   BackendKind backend, const VmConfig& config);

  // The GPA where [gpa, gpa + size) of the file is loaded (unchanged outside every region).
  Result<uint64_t> map(uint64_t gpa, uint64_t size) const;
  // For a page of the page-table region: the fixed-up contents (nullopt outside the region).
  std::optional<Bytes> tablePage(uint64_t gpa, uint64_t size = kPageSize) const;
  // Tables the fix-up allocated on pages the file has no PAGE_DATA for: (new GPA, page).
  std::vector<std::pair<uint64_t, Bytes>> allocatedTablePages() const;
  // A copy of a native VP context (IgvmNativeVpContextX64 page) with RIP, GDTR base and CR3
  // patched for `vp_index`.
  ByteVector patchNativeContext(uint16_t vp_index, Bytes context) const;
  // Keeps the fixed-up table bytes alive for ImportPages views.
  std::shared_ptr<const void> keepAlive() const { return tables_; }

  const std::vector<RegionPlacement>& placements() const { return placements_; }
  const std::optional<PageTablePlacement>& pageTables() const { return page_tables_; }

 private:
  std::vector<RegionPlacement> placements_;
  std::optional<PageTablePlacement> page_tables_;
  std::shared_ptr<FixedTables> tables_;
  std::vector<bool> file_has_page_;  // per page of the table region: a PAGE_DATA names it
};

}  // namespace igvmkit::loader
