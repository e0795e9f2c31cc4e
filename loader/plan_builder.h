// loader/plan_builder.h: the IGVM directive -> launch plan rules, fed one directive at a time, so
// that plan(const igvm::File&, BackendKind, VmConfig) is a loop over the file's headers (those
// whose compatibility mask selects the backend's platform) that calls one method per header.
//
//   loader::PlanBuilder b(BackendKind::kKvmSnp, config);
//   b.setGuestPolicy(0x30000);
//   IGVMKIT_RETURN_IF_ERROR(b.pageData(0x100000, flags, data_type, page_bytes));
//   IGVMKIT_RETURN_IF_ERROR(b.parameterArea(0, 0x1000, {}));
//   IGVMKIT_RETURN_IF_ERROR(b.parameter(ParameterKind::kMemoryMap, 0, 0));
//   IGVMKIT_RETURN_IF_ERROR(b.parameterInsert(0x200000, 0));
//   IGVMKIT_RETURN_IF_ERROR(b.vpContextSnp(0, 0xFFFFFFFFF000, vmsa_page));
//   IGVMKIT_ASSIGN_OR_RETURN(loader::Plan plan, b.finish());   // coalesced and checkPlan()ed
//
// The rules follow cli-contract.md's `measure` description, so a plan's launch digest is what
// `igvmkit measure --host kvm|mshv` predicts:
// * page data in file order; no file data -> a NORMAL page of zeros (never the firmware's ZERO
//   type); UNMEASURED flag -> UNMEASURED; SECRETS / CPUID_DATA / CPUID_XF -> secrets / cpuid;
//   2 MiB pages -> 512 pages. SHARED: kvm-snp measures it like any page (as QEMU does); mshv-snp
//   and kvm-tdx leave it shared and unmeasured; plain backends ignore the flag.
// * PARAMETER_INSERT -> a FillParameter of the whole area (unmeasured, every page).
// * SNP VP contexts: kvm-snp emits one VMSA per vCPU after everything else, vCPU i taking the
//   context with vp_index i or else vp_index 0; mshv-snp emits each where it stands, at its GPA.
// * Memory: one MapMemory per RAM range first (private on confidential backends), plus an extra
//   region for each run of file pages outside RAM.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "loader/plan.h"

namespace igvmkit::loader {

// IGVM_VHS_PAGE_DATA flags and data types (igvm-format.md §3).
inline constexpr uint32_t kIgvmPageIs2Mb = 1u << 0;
inline constexpr uint32_t kIgvmPageUnmeasured = 1u << 1;
inline constexpr uint32_t kIgvmPageShared = 1u << 2;
inline constexpr uint16_t kIgvmDataNormal = 0, kIgvmDataSecrets = 1, kIgvmDataCpuid = 2,
                          kIgvmDataCpuidXf = 3;
inline constexpr size_t kIgvmSnpIdBlockSize = 696;
inline constexpr size_t kIgvmNativeContextSize = 0xE8;

class PlanBuilder {
 public:
  PlanBuilder(BackendKind backend, VmConfig config);

  // GUEST_POLICY for the backend's platform. SNP: the launch policy. TDX (IGVM's TdxPolicy): bit 0
  // debug -> TD attribute bit 0, bit 1 SEPT_VE_DISABLE -> attribute bit 28 (loader-vmm.md §6 item 5
  // calls this mapping unconfirmed); bit 2 (migratable) and unknown bits are refused.
  Status setGuestPolicy(uint64_t policy);

  // PAGE_DATA. `data` (<= the page size) stays a view: keep it alive with `keep_alive` or keep the
  // file mapped while the plan is used.
  Status pageData(uint64_t gpa, uint32_t flags, uint16_t data_type, Bytes data,
                  std::shared_ptr<const void> keep_alive = nullptr);

  // PARAMETER_AREA: `initial` (may be empty) is copied; the rest of the area is zeros and is not
  // allocated (at most igvm::kMaxParameterAreaBytes per area and all areas together).
  Status parameterArea(uint32_t index, uint64_t size, Bytes initial);
  // A parameter directive (VP_COUNT, MEMORY_MAP, ...): writes the value from the VmConfig at
  // byte_offset of the area. SRAT, SLIT and PPTT are refused (kUnsupported).
  Status parameter(ParameterKind kind, uint32_t area_index, uint32_t byte_offset);
  // PARAMETER_INSERT.
  Status parameterInsert(uint64_t gpa, uint32_t area_index);

  // VP_CONTEXT with an SNP VMSA (4096 bytes) / an IgvmNativeVpContextX64 (plain backends).
  Status vpContextSnp(uint16_t vp_index, uint64_t gpa, Bytes vmsa);
  Status vpContextNative(uint16_t vp_index, Bytes context);

  // REQUIRED_MEMORY: the range must be guest RAM.
  Status requiredMemory(uint64_t gpa, uint64_t size);

  // SNP_ID_BLOCK (the 696-byte IGVM form); converted to the firmware ID block and ID_AUTH_INFO at
  // finish() with version 1 and the guest policy (measurement.md §2, igvm-format.md §6).
  Status snpIdBlock(Bytes igvm_id_block);
  void setHostData(const std::array<uint8_t, 32>& host_data) { host_data_ = host_data; }

  // The plan: memory first, the recorded ops, kvm-snp VMSAs, Finalize; coalesced and checked.
  Result<Plan> finish();

 private:
  struct Area {
    uint64_t size = 0;
    std::vector<AreaWrite> writes;  // initial data and parameter values; never the whole area
    std::vector<ParameterKind> kinds;
    bool inserted = false;
  };
  Result<Area*> liveArea(uint32_t index, const char* what);
  void noteOutsideRam(uint64_t gpa, uint64_t size);

  BackendKind backend_;
  VmConfig config_;
  std::vector<GpaRange> ram_;
  Status config_status_;
  LaunchSetup setup_;
  std::vector<LaunchOp> ops_;
  std::map<uint32_t, Area> areas_;
  uint64_t area_bytes_ = 0;  // all declared areas together
  std::map<uint16_t, ByteVector> kvm_vmsas_;  // kvm-snp: by vp_index, emitted at finish
  std::optional<ByteVector> id_block_;
  std::array<uint8_t, 32> host_data_{};
  std::vector<GpaRange> extra_;  // page runs outside RAM, to map
};

}  // namespace igvmkit::loader
