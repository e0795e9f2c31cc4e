// loader/plan.h: launch plans, the loader's backend-neutral description of how to start a guest.
//
// A plan is an ordered list of LaunchOps (map memory, import pages, fill a parameter area, set a
// vCPU's state, finalize) plus the VM configuration and the few launch settings a backend needs
// before its first operation. plan(const igvm::File&, ...) turns IGVM directives into a plan; the
// backends in backend.h turn a plan into hypervisor calls; `igvmkit plan` prints it.
//
//   loader::Plan p{.backend = BackendKind::kKvmSnp, .config = config};
//   p.ops.push_back(loader::MapMemory{.gpa = 0, .size = config.memory_size, .is_private = true});
//   p.ops.push_back(loader::ImportPages{.gpa = 0x100000, .page_count = 4, .type =
//   PageType::kNormal,
//                                       .data = kernel_bytes});
//   p.ops.push_back(loader::Finalize{});
//   coalesce(p);                          // merge runs of identical consecutive page imports
//   IGVMKIT_RETURN_IF_ERROR(checkPlan(p));  // bounds, overlaps, backend rules: before any ioctl
//   std::cout << renderText(p);
//
// checkPlan() is the single place that refuses a plan; every backend calls it before it issues
// its first hypervisor call, so a bad plan never half-creates a VM.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/defs.h"
#include "igvm/file.h"
#include "x86/arch.h"
#include "x86/vp_state.h"

namespace igvmkit::loader {

using x86::kPageSize;
// KVM places every SNP VMSA at this GPA (INITIAL_VMSA_GPA, loader-vmm.md §1.5); a kvm-snp plan
// must name it for its VMSAs.
inline constexpr uint64_t kKvmSnpVmsaGpa = x86::kKvmVmsaGpa;
// SEV_FEATURES bit 0: SNP active (measurement.md §1.5).
inline constexpr uint64_t kSevFeatureSnpActive = igvm::kSevFeatureSnp;

// The five backends (cli-contract.md `plan --backend`).
enum class BackendKind { kKvm, kKvmSnp, kKvmTdx, kMshv, kMshvSnp };

// "kvm", "kvm-snp", "kvm-tdx", "mshv", "mshv-snp".
std::string_view backendName(BackendKind kind);
// The inverse of backendName(); a usage error names the accepted values.
Result<BackendKind> parseBackend(std::string_view name);
bool isSnp(BackendKind kind);

// [gpa, gpa + size).
struct GpaRange {
  uint64_t gpa = 0;
  uint64_t size = 0;
  uint64_t end() const { return gpa + size; }
  bool operator==(const GpaRange&) const = default;
};

// The 32-bit MMIO hole [3 GiB, 4 GiB) (IOAPIC, LAPIC, the flash and reset vector area).
std::vector<GpaRange> defaultMmioGaps();

// How plan() places a RELOCATABLE_REGION on a non-confidential backend (loader/relocation.h).
enum class RelocationPolicy {
  kHighest,  // the highest aligned base in [minimum, maximum) that lies in RAM and is free
  kLowest,   // the lowest such base
  kKeep,     // the region's own GPA in the file (refused when that is not a valid, free base)
};
std::string_view relocationPolicyName(RelocationPolicy policy);  // "highest", "lowest", "keep"

// A base the user chose: for the region whose file GPA is `region_gpa`, or, without it, for the
// file's only relocatable region.
struct RelocationRequest {
  std::optional<uint64_t> region_gpa;
  uint64_t base = 0;
  bool operator==(const RelocationRequest&) const = default;
};

struct VmConfig {
  uint64_t memory_size = 512ull << 20;  // bytes of RAM, a multiple of 4 KiB
  uint32_t vcpus = 1;
  std::string cmdline;
  // Guest-physical ranges that are not RAM; RAM fills the address space from GPA 0 around them.
  std::vector<GpaRange> mmio_gaps = defaultMmioGaps();
  // Relocation (non-confidential backends only; confidential ones load every region at its file
  // GPA, which is what the launch measurement covers).
  RelocationPolicy relocation_policy = RelocationPolicy::kHighest;
  std::vector<RelocationRequest> relocate;  // user bases, override the policy
  std::optional<uint64_t> page_table_base;  // where the PAGE_TABLE_RELOCATION region goes

  // RAM as sorted, disjoint ranges: memory_size bytes laid out from GPA 0, skipping the gaps.
  // Fails on a malformed configuration (unaligned or overlapping gaps, zero memory or vCPUs).
  Result<std::vector<GpaRange>> ramLayout() const;
};

// How the hardware treats an imported page. The SNP numbering differs between KVM and MSHV; each
// backend translates (loader-vmm.md §2.4).
enum class PageType : uint8_t { kNormal, kZero, kUnmeasured, kSecrets, kCpuid, kVmsa };
std::string_view pageTypeName(PageType type);  // "normal", "zero", ...

// ImportPages::flags: the pages are shared with the host (not private, not accepted).
inline constexpr uint32_t kPageFlagShared = 1u << 0;
inline constexpr uint32_t kKnownPageFlags = kPageFlagShared;

// Creates guest memory for [gpa, gpa + size); private memory is guest_memfd-backed on KVM. The
// range lies inside one RAM range, or wholly outside RAM: an extra region that holds file data
// (firmware below 4 GiB in the MMIO hole), which the memory map does not list as RAM.
struct MapMemory {
  uint64_t gpa = 0;
  uint64_t size = 0;
  bool is_private = false;
};

// Loads page_count 4 KiB pages at gpa. `data` holds the contents in order; bytes missing at the end
// (or all of them when data is empty) are zeros. The plan does not own `data` unless keep_alive
// does; plan() points it into the mapped IGVM file.
struct ImportPages {
  uint64_t gpa = 0;
  uint64_t page_count = 1;
  PageType type = PageType::kNormal;
  uint32_t flags = 0;
  Bytes data;
  std::shared_ptr<const void> keep_alive;
};

// What a parameter area holds (igvm-format.md §4.2).
enum class ParameterKind {
  kVpCount,
  kMemoryMap,
  kCommandLine,
  kMadt,
  kSrat,
  kSlit,
  kPptt,
  kMmioRanges,
  kDeviceTree,
  kEnvironmentInfo,
};
std::string_view parameterKindName(ParameterKind kind);

// Bytes written into a parameter area at `offset`: its initial data, or one parameter's value.
struct AreaWrite {
  uint64_t offset = 0;
  ByteVector bytes;
};

// Writes a filled parameter area (a whole number of pages) at gpa. Confidential backends import it
// as unmeasured pages, every page of the area, at this point of the order (measurement.md §1.6).
// The area is never held whole: it is `size` bytes of zeros except where `writes` (in order, later
// ones win) put bytes, so a plan costs what the file and its parameters really hold, not what an
// area header claims.
struct FillParameter {
  std::vector<ParameterKind> kinds;  // what the area holds, for display
  uint64_t gpa = 0;
  uint64_t size = 0;
  std::vector<AreaWrite> writes;

  // The area's bytes, materialized (tests, small areas).
  ByteVector contents() const;
};

// An SEV-SNP VMSA page (4096 bytes) and the GPA the file names for it.
struct SnpVmsa {
  uint64_t gpa = 0;
  ByteVector page;
};
// A vCPU's starting state: registers (x86::VpState, decoded from the IGVM native context by
// igvm::vpStateFromNativeContext) for the plain backends, an SNP VMSA page for the SNP ones.
struct SetVpState {
  uint32_t vp_index = 0;
  std::variant<x86::VpState, SnpVmsa> state;
};

// The registers that start a plain vCPU where an SNP VMSA page would (EFER.SVME cleared), for
// running an SNP image without SNP (`igvmkit run --insecure`). Refuses what KVM could not load
// from registers (rule "kvm_snp.vmsa_field"), as the kvm-snp backend does. Every field the VMSA
// holds for the state is taken as the page has it (igvm::vpStateFromVmsa).
Result<x86::VpState> registersFromVmsa(Bytes page, uint64_t sev_features);

// SNP_LAUNCH_FINISH's ID block and ID authentication structure, in firmware layout
// (measurement.md §2.1-2.2).
struct SnpIdBlock {
  std::array<uint8_t, 96> id_block{};
  std::array<uint8_t, 4096> id_auth{};
  bool author_key_enabled = false;
};
// Completes the launch: SNP LAUNCH_FINISH / MSHV complete-import with the optional ID block; TDX
// FINALIZE_VM; plain backends only check that the plan ended.
struct Finalize {
  std::optional<SnpIdBlock> snp_id;
  std::array<uint8_t, 32> host_data{};
};

using LaunchOp = std::variant<MapMemory, ImportPages, FillParameter, SetVpState, Finalize>;

// What a backend needs before its first operation (VM creation and launch start).
struct LaunchSetup {
  uint64_t snp_policy = 0x30000;                 // SNP guest policy: bit 17 must be one, bit 16 SMT
  uint64_t sev_features = kSevFeatureSnpActive;  // the VMSAs' SEV_FEATURES (SNP_ACTIVE included)
  uint64_t tdx_attributes = 0;  // TD ATTRIBUTES (bit 0 debug, bit 28 SEPT_VE_DISABLE)
  uint64_t tdx_xfam = 0x3;      // x87 | SSE
};

// Where plan() put one RELOCATABLE_REGION (igvm-format.md §2.6).
struct RegionPlacement {
  uint32_t header_index = 0;  // the RELOCATABLE_REGION header
  uint64_t gpa = 0;           // the region in the file
  uint64_t size = 0;
  uint64_t alignment = 0, minimum = 0, maximum = 0;  // valid bases: aligned, [minimum, maximum)
  uint8_t flags = 0;                                 // igvm::kRelocationFlag*
  uint16_t vp_index = 0;
  uint64_t base = 0;        // where the region is loaded
  std::string chosen_by;    // "highest", "lowest", "keep", "user", "measured" (file GPA kept)
  uint64_t delta() const { return base - gpa; }  // modulo 2^64
};

// Where plan() put the PAGE_TABLE_RELOCATION region and what it patched.
struct PageTablePlacement {
  uint32_t header_index = 0;
  uint64_t gpa = 0, size = 0, used_size = 0;  // the region in the file
  uint16_t vp_index = 0;
  uint64_t base = 0;                          // where the tables are loaded
  uint64_t cr3 = 0, new_cr3 = 0;
  uint32_t entries_patched = 0;   // 8-byte entries whose value changed
  uint32_t tables_allocated = 0;  // new tables taken from [used_size, size)
};

struct Plan {
  BackendKind backend = BackendKind::kKvm;
  VmConfig config;
  LaunchSetup setup;
  std::vector<LaunchOp> ops;
  std::vector<RegionPlacement> relocations;      // file order; empty when the file has none
  std::optional<PageTablePlacement> page_tables;
};

// Every refusal a backend would make, before any hypervisor call: configuration, alignment, pages
// outside RAM or outside mapped memory, overlapping imports, ops the backend cannot express (e.g.
// a VMSA under kvm at a GPA other than kKvmSnpVmsaGpa, a VMSA field KVM cannot set, registers on
// TDX), and the Finalize that must end the plan. Errors name the op index ("op #3").
Status checkPlan(const Plan& plan);

// Whether `backend` can import several pages of `type` in one call (secrets, CPUID and VMSA pages
// are always imported one at a time).
bool allowsMultiPageImport(BackendKind backend, PageType type);

// Merges runs of consecutive ImportPages with the same type and flags, contiguous GPAs, and either
// no data or adjacent data (whole pages), where the backend allows it. Order is kept.
void coalesce(Plan& plan);
// Appends `op` to `ops`, merged into the last op when coalesce() would merge the two (so a plan
// built one page at a time never holds one op per page).
void appendCoalesced(std::vector<LaunchOp>& ops, BackendKind backend, LaunchOp op);

// The IGVM platform a backend runs: NATIVE for kvm and mshv (mshv runs no VBS/VSM guests: VTL
// support is out of scope), SEV_SNP for kvm-snp and mshv-snp, TDX for kvm-tdx.
igvm::PlatformType platformFor(BackendKind backend);

// The plan for `file` on `backend`: picks the file's platform header for platformFor(backend)
// (refused with rule "plan.platform" when the file has none, "plan.vtl" for VTL 2 images,
// "plan.vtom" for a shared GPA boundary), then feeds every initialization header and directive
// whose compatibility mask selects that platform to a PlanBuilder, in file order; parameter areas
// are filled from `config`. Relocation (loader/relocation.h): on kvm and mshv every
// RELOCATABLE_REGION is placed by config's policy or the user's base, its pages, parameter inserts
// and required memory move with it, the VP's RIP/GDTR are patched per the header's flags, and the
// PAGE_TABLE_RELOCATION region's tables are fixed up (CR3 too when they move); confidential
// backends keep every region at its file GPA (refused, "plan.relocation", when that is not a valid
// base) because the launch measurement covers the file's GPAs. Every refusal happens here or in checkPlan(), before any
// hypervisor call; errors name the header. Page data stays a view into file.bytes(): keep the
// file's bytes alive while the plan is used.
Result<Plan> plan(const igvm::File& file, BackendKind backend, const VmConfig& config);

// One line per op, e.g. "3 import gpa=0x100000 pages=16 type=normal data=0x10000".
std::string renderText(const Plan& plan);
// {"backend":..., "memory_size":..., "vcpus":..., "ram":[...], "ops":[{"op":"import",...}]}.
nlohmann::ordered_json renderJson(const Plan& plan);

}  // namespace igvmkit::loader
