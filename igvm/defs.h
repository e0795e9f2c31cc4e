// igvm/defs.h: the IGVM wire format (format versions 1 and 2), transcribed from
// shared/reference/igvm-format.md (§ numbers below refer to it). Layouts and constants only, no
// logic. Every struct is little endian and byte exact; read them from file data with
// readStruct<T>() (memcpy), never by casting a pointer into the file.
//
//   IGVMKIT_ASSIGN_OR_RETURN(auto pd, readStruct<IGVM_VHS_PAGE_DATA>(bytes, off));
//   if (pd.gpa % kPageSize4K != 0) { ... }
//
// Struct names keep the spec's spelling so they grep against it; constants are kPascalCase.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "x86/arch.h"

namespace igvmkit::igvm {

static_assert(std::endian::native == std::endian::little, "IGVM is little endian");

inline constexpr uint64_t kPageSize4K = x86::kPageSize;
inline constexpr uint64_t kPageSize2M = x86::kLargePageSize;

// The most vCPUs a guest may have: the one limit behind `measure --vcpus`, `plan --cpus` and
// `run --cpus`. vCPU i gets xAPIC ID i; the MADT the loader writes gives the I/O APIC ID 0xFE
// (0xFF is the broadcast ID), and keeps vCPU IDs below 0xFD: 1..253 vCPUs.
inline constexpr uint32_t kMaxVcpus = 253;

// The most bytes one PARAMETER_AREA may declare, and all of a file's areas together: the one limit
// behind `check`, `measure`, `plan` and libigvm (rule parameter_area.limit). Areas hold what the
// loader writes (VP count, memory map, command line, MADT, device tree, MMIO ranges): kilobytes to
// a few MiB in real guests (OpenHCL, COCONUT-SVSM, the builder's own). 1 GiB is far past any of
// them, and bounds what a header's claim can cost: measuring an area hashes one page record per
// 4 KiB (262,144 for 1 GiB), which stays well under a second.
inline constexpr uint64_t kMaxParameterAreaBytes = 1ull << 30;
inline constexpr uint64_t kMaxParameterAreasTotalBytes = 1ull << 30;

// ---------------------------------------------------------------------------------------------
// §1 Fixed header

inline constexpr uint32_t kIgvmMagic = 0x4D564749;  // "IGVM"
inline constexpr uint32_t kFormatVersion1 = 1;
inline constexpr uint32_t kFormatVersion2 = 2;

// IgvmArchitecture (v2 only; v1 files are x64).
inline constexpr uint32_t kArchX64 = 0;
inline constexpr uint32_t kArchAArch64 = 1;

struct IGVM_FIXED_HEADER {
  uint32_t magic;                   // kIgvmMagic
  uint32_t format_version;          // 1 or 2
  uint32_t variable_header_offset;  // >= fixed header size, 8 byte aligned
  uint32_t variable_header_size;    // bytes of all TLV entries including padding
  uint32_t total_file_size;         // exact file length
  uint32_t checksum;                // CRC-32 of fixed header (checksum = 0) + variable headers
};
static_assert(sizeof(IGVM_FIXED_HEADER) == 0x18);
static_assert(offsetof(IGVM_FIXED_HEADER, format_version) == 0x04);
static_assert(offsetof(IGVM_FIXED_HEADER, variable_header_offset) == 0x08);
static_assert(offsetof(IGVM_FIXED_HEADER, variable_header_size) == 0x0C);
static_assert(offsetof(IGVM_FIXED_HEADER, total_file_size) == 0x10);
static_assert(offsetof(IGVM_FIXED_HEADER, checksum) == 0x14);

struct IGVM_FIXED_HEADER_V2 {
  uint32_t magic;
  uint32_t format_version;
  uint32_t variable_header_offset;
  uint32_t variable_header_size;
  uint32_t total_file_size;
  uint32_t checksum;
  uint32_t architecture;  // kArchX64 or kArchAArch64
  uint32_t page_size;     // power of two; only 4096 is supported
};
static_assert(sizeof(IGVM_FIXED_HEADER_V2) == 0x20);
static_assert(offsetof(IGVM_FIXED_HEADER_V2, checksum) == 0x14);
static_assert(offsetof(IGVM_FIXED_HEADER_V2, architecture) == 0x18);
static_assert(offsetof(IGVM_FIXED_HEADER_V2, page_size) == 0x1C);

// Byte offsets of fixed header fields (error locations point at them).
inline constexpr uint64_t kFixedOffMagic = 0x00;
inline constexpr uint64_t kFixedOffVersion = 0x04;
inline constexpr uint64_t kFixedOffVhOffset = 0x08;
inline constexpr uint64_t kFixedOffVhSize = 0x0C;
inline constexpr uint64_t kFixedOffTotalSize = 0x10;
inline constexpr uint64_t kFixedOffChecksum = 0x14;
inline constexpr uint64_t kFixedOffArchitecture = 0x18;
inline constexpr uint64_t kFixedOffPageSize = 0x1C;

// ---------------------------------------------------------------------------------------------
// §2 Variable header section: TLV entries, each starting on an 8 byte boundary.

struct IGVM_VHS_VARIABLE_HEADER {
  uint32_t typ;     // IgvmVariableHeaderType
  uint32_t length;  // content bytes only; zero padding to 8 follows
};
static_assert(sizeof(IGVM_VHS_VARIABLE_HEADER) == 8);
static_assert(offsetof(IGVM_VHS_VARIABLE_HEADER, length) == 4);

inline constexpr uint32_t kVhtOptionalBit = 0x80000000;  // IGVM_VHT_OPTIONAL_BIT
inline constexpr uint32_t kVhtRangePlatformFirst = 0x001;
inline constexpr uint32_t kVhtRangePlatformLast = 0x100;
inline constexpr uint32_t kVhtRangeInitFirst = 0x101;
inline constexpr uint32_t kVhtRangeInitLast = 0x200;
inline constexpr uint32_t kVhtRangeDirectiveFirst = 0x301;
inline constexpr uint32_t kVhtRangeDirectiveLast = 0x400;

// IgvmVariableHeaderType (§2.3).
inline constexpr uint32_t kVhtInvalid = 0x000;
inline constexpr uint32_t kVhtSupportedPlatform = 0x001;       // IGVM_VHT_SUPPORTED_PLATFORM
inline constexpr uint32_t kVhtGuestPolicy = 0x101;             // IGVM_VHT_GUEST_POLICY
inline constexpr uint32_t kVhtRelocatableRegion = 0x102;       // IGVM_VHT_RELOCATABLE_REGION
inline constexpr uint32_t kVhtPageTableRelocationRegion = 0x103;
inline constexpr uint32_t kVhtCorimDocument = 0x104;           // IGVM_VHT_CORIM_DOCUMENT
inline constexpr uint32_t kVhtCorimSignature = 0x105;          // IGVM_VHT_CORIM_SIGNATURE
inline constexpr uint32_t kVhtCcaPolicy = 0x106;               // IGVM_VHT_CCA_POLICY
inline constexpr uint32_t kVhtParameterArea = 0x301;           // IGVM_VHT_PARAMETER_AREA
inline constexpr uint32_t kVhtPageData = 0x302;                // IGVM_VHT_PAGE_DATA
inline constexpr uint32_t kVhtParameterInsert = 0x303;         // IGVM_VHT_PARAMETER_INSERT
inline constexpr uint32_t kVhtVpContext = 0x304;               // IGVM_VHT_VP_CONTEXT
inline constexpr uint32_t kVhtRequiredMemory = 0x305;          // IGVM_VHT_REQUIRED_MEMORY
inline constexpr uint32_t kVhtReservedDoNotUse = 0x306;        // was SHARED_BOUNDARY_GPA; rejected
inline constexpr uint32_t kVhtVpCountParameter = 0x307;        // IGVM_VHT_VP_COUNT_PARAMETER
inline constexpr uint32_t kVhtSrat = 0x308;                    // IGVM_VHT_SRAT
inline constexpr uint32_t kVhtMadt = 0x309;                    // IGVM_VHT_MADT
inline constexpr uint32_t kVhtMmioRanges = 0x30A;              // IGVM_VHT_MMIO_RANGES
inline constexpr uint32_t kVhtSnpIdBlock = 0x30B;              // IGVM_VHT_SNP_ID_BLOCK
inline constexpr uint32_t kVhtMemoryMap = 0x30C;               // IGVM_VHT_MEMORY_MAP
inline constexpr uint32_t kVhtErrorRange = 0x30D;              // IGVM_VHT_ERROR_RANGE
inline constexpr uint32_t kVhtCommandLine = 0x30E;             // IGVM_VHT_COMMAND_LINE
inline constexpr uint32_t kVhtSlit = 0x30F;                    // IGVM_VHT_SLIT
inline constexpr uint32_t kVhtPptt = 0x310;                    // IGVM_VHT_PPTT
inline constexpr uint32_t kVhtVbsMeasurement = 0x311;          // IGVM_VHT_VBS_MEASUREMENT
inline constexpr uint32_t kVhtDeviceTree = 0x312;              // IGVM_VHT_DEVICE_TREE
inline constexpr uint32_t kVhtEnvironmentInfoParameter = 0x313;

// True for the types whose content is IGVM_VHS_PARAMETER (§4.2).
constexpr bool isParameterType(uint32_t typ) {
  switch (typ) {
    case kVhtVpCountParameter:
    case kVhtSrat:
    case kVhtMadt:
    case kVhtMmioRanges:
    case kVhtMemoryMap:
    case kVhtCommandLine:
    case kVhtSlit:
    case kVhtPptt:
    case kVhtDeviceTree:
    case kVhtEnvironmentInfoParameter:
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// §2.5 Platform header

// IgvmPlatformType (u8).
enum class PlatformType : uint8_t {
  kNative = 0x00,        // NATIVE, no isolation
  kVsmIsolation = 0x01,  // VSM_ISOLATION (Hyper-V VBS)
  kSevSnp = 0x02,        // SEV_SNP
  kTdx = 0x03,           // TDX
  kSev = 0x04,           // SEV
  kSevEs = 0x05,         // SEV_ES
  kCca = 0x06,           // CCA (Arm)
};
inline constexpr uint8_t kPlatformTypeLast = 0x06;
// Every platform type's IGVM_*_PLATFORM_VERSION is 1.
inline constexpr uint16_t kPlatformVersion = 1;

struct IGVM_VHS_SUPPORTED_PLATFORM {
  uint32_t compatibility_mask;   // exactly one bit
  uint8_t highest_vtl;           // 0 or 2
  uint8_t platform_type;         // PlatformType
  uint16_t platform_version;     // kPlatformVersion
  uint64_t shared_gpa_boundary;  // vTOM; 0 for NATIVE and VSM_ISOLATION
};
static_assert(sizeof(IGVM_VHS_SUPPORTED_PLATFORM) == 16);
static_assert(offsetof(IGVM_VHS_SUPPORTED_PLATFORM, highest_vtl) == 0x04);
static_assert(offsetof(IGVM_VHS_SUPPORTED_PLATFORM, platform_type) == 0x05);
static_assert(offsetof(IGVM_VHS_SUPPORTED_PLATFORM, platform_version) == 0x06);
static_assert(offsetof(IGVM_VHS_SUPPORTED_PLATFORM, shared_gpa_boundary) == 0x08);

// ---------------------------------------------------------------------------------------------
// §2.6 Initialization headers

struct IGVM_VHS_GUEST_POLICY {
  uint64_t policy;  // SnpPolicy or TdxPolicy bits, not validated
  uint32_t compatibility_mask;
  uint32_t reserved;  // 0
};
static_assert(sizeof(IGVM_VHS_GUEST_POLICY) == 16);
static_assert(offsetof(IGVM_VHS_GUEST_POLICY, compatibility_mask) == 0x08);
static_assert(offsetof(IGVM_VHS_GUEST_POLICY, reserved) == 0x0C);

// SnpPolicy bits.
inline constexpr uint64_t kSnpPolicyAbiMinorMask = 0xFF;
inline constexpr uint64_t kSnpPolicyAbiMajorMask = 0xFF00;
inline constexpr uint64_t kSnpPolicySmt = 1ull << 16;
inline constexpr uint64_t kSnpPolicyReservedMbo = 1ull << 17;  // must be one
inline constexpr uint64_t kSnpPolicyMigrateMa = 1ull << 18;
inline constexpr uint64_t kSnpPolicyDebug = 1ull << 19;
inline constexpr uint64_t kSnpPolicySingleSocket = 1ull << 20;
// TdxPolicy bits.
inline constexpr uint64_t kTdxPolicyDebugAllowed = 1ull << 0;
inline constexpr uint64_t kTdxPolicySeptVeDisable = 1ull << 1;
inline constexpr uint64_t kTdxPolicyMigratable = 1ull << 2;

struct IGVM_VHS_RELOCATABLE_REGION {
  uint32_t compatibility_mask;
  uint16_t vp_index;
  uint8_t vtl;    // 0..2
  uint8_t flags;  // kRelocationFlag*
  uint64_t relocation_alignment;    // non-zero multiple of 4K
  uint64_t relocation_region_gpa;   // multiple of alignment
  uint64_t relocation_region_size;  // multiple of 4K
  uint64_t minimum_relocation_gpa;  // multiple of alignment
  uint64_t maximum_relocation_gpa;  // multiple of alignment
};
static_assert(sizeof(IGVM_VHS_RELOCATABLE_REGION) == 48);
static_assert(offsetof(IGVM_VHS_RELOCATABLE_REGION, vp_index) == 0x04);
static_assert(offsetof(IGVM_VHS_RELOCATABLE_REGION, vtl) == 0x06);
static_assert(offsetof(IGVM_VHS_RELOCATABLE_REGION, flags) == 0x07);
static_assert(offsetof(IGVM_VHS_RELOCATABLE_REGION, relocation_alignment) == 0x08);
static_assert(offsetof(IGVM_VHS_RELOCATABLE_REGION, relocation_region_gpa) == 0x10);
static_assert(offsetof(IGVM_VHS_RELOCATABLE_REGION, relocation_region_size) == 0x18);
static_assert(offsetof(IGVM_VHS_RELOCATABLE_REGION, minimum_relocation_gpa) == 0x20);
static_assert(offsetof(IGVM_VHS_RELOCATABLE_REGION, maximum_relocation_gpa) == 0x28);

inline constexpr uint8_t kRelocationFlagIsVtl2 = 0x1;
inline constexpr uint8_t kRelocationFlagApplyPc = 0x2;    // a.k.a. APPLY_RIP
inline constexpr uint8_t kRelocationFlagApplyGdtr = 0x4;  // x64 only

struct IGVM_VHS_PAGE_TABLE_RELOCATION {
  uint32_t compatibility_mask;  // at most one such header per mask bit
  uint16_t vp_index;
  uint8_t vtl;       // 0..2
  uint8_t reserved;  // 0
  uint64_t gpa;        // 4K aligned
  uint64_t size;       // multiple of 4K
  uint64_t used_size;  // multiple of 4K, <= size
};
static_assert(sizeof(IGVM_VHS_PAGE_TABLE_RELOCATION) == 32);
static_assert(offsetof(IGVM_VHS_PAGE_TABLE_RELOCATION, vp_index) == 0x04);
static_assert(offsetof(IGVM_VHS_PAGE_TABLE_RELOCATION, vtl) == 0x06);
static_assert(offsetof(IGVM_VHS_PAGE_TABLE_RELOCATION, reserved) == 0x07);
static_assert(offsetof(IGVM_VHS_PAGE_TABLE_RELOCATION, gpa) == 0x08);
static_assert(offsetof(IGVM_VHS_PAGE_TABLE_RELOCATION, size) == 0x10);
static_assert(offsetof(IGVM_VHS_PAGE_TABLE_RELOCATION, used_size) == 0x18);

// CoRIM document (0x104) and signature (0x105).
struct IGVM_VHS_CORIM_DATA {
  uint32_t compatibility_mask;
  uint32_t file_offset;  // 0 = empty
  uint32_t size_bytes;   // exact payload size
  uint32_t reserved;     // 0
};
static_assert(sizeof(IGVM_VHS_CORIM_DATA) == 16);
static_assert(offsetof(IGVM_VHS_CORIM_DATA, file_offset) == 0x04);
static_assert(offsetof(IGVM_VHS_CORIM_DATA, size_bytes) == 0x08);
static_assert(offsetof(IGVM_VHS_CORIM_DATA, reserved) == 0x0C);

struct IGVM_VHS_CCA_POLICY {
  uint32_t compatibility_mask;  // CCA platform bits only
  uint32_t reserved;            // 0
  uint64_t attributes_required_zeroes;
  uint64_t attributes_required_ones;  // & zeroes == 0
  uint8_t hash_algorithm;             // kCcaHash*
  uint8_t lfa_policy;                 // 0 disallow, 1 allow
  uint8_t reserved2[6];               // 0
};
static_assert(sizeof(IGVM_VHS_CCA_POLICY) == 32);
static_assert(offsetof(IGVM_VHS_CCA_POLICY, reserved) == 0x04);
static_assert(offsetof(IGVM_VHS_CCA_POLICY, attributes_required_zeroes) == 0x08);
static_assert(offsetof(IGVM_VHS_CCA_POLICY, attributes_required_ones) == 0x10);
static_assert(offsetof(IGVM_VHS_CCA_POLICY, hash_algorithm) == 0x18);
static_assert(offsetof(IGVM_VHS_CCA_POLICY, lfa_policy) == 0x19);
static_assert(offsetof(IGVM_VHS_CCA_POLICY, reserved2) == 0x1A);

inline constexpr uint64_t kCcaPolicyAttrDebug = 1ull << 0;
inline constexpr uint64_t kCcaPolicyAttrMec = 1ull << 1;
inline constexpr uint8_t kCcaHashSha256 = 0;
inline constexpr uint8_t kCcaHashSha512 = 1;
inline constexpr uint8_t kCcaHashSha384 = 2;
inline constexpr uint8_t kCcaLfaDisallow = 0;
inline constexpr uint8_t kCcaLfaAllow = 1;

// ---------------------------------------------------------------------------------------------
// §3 Page data

struct IGVM_VHS_PAGE_DATA {
  uint64_t gpa;                 // 4K aligned (2M if IS_2MB_PAGE)
  uint32_t compatibility_mask;  // bits of declared platforms
  uint32_t file_offset;         // 0 = page of zeros, else absolute file offset
  uint32_t flags;               // kPageDataFlag*, bits 3..31 reserved
  uint16_t data_type;           // PageDataType
  uint16_t reserved;            // 0
};
static_assert(sizeof(IGVM_VHS_PAGE_DATA) == 24);
static_assert(offsetof(IGVM_VHS_PAGE_DATA, compatibility_mask) == 0x08);
static_assert(offsetof(IGVM_VHS_PAGE_DATA, file_offset) == 0x0C);
static_assert(offsetof(IGVM_VHS_PAGE_DATA, flags) == 0x10);
static_assert(offsetof(IGVM_VHS_PAGE_DATA, data_type) == 0x14);
static_assert(offsetof(IGVM_VHS_PAGE_DATA, reserved) == 0x16);

// IgvmPageDataFlags.
inline constexpr uint32_t kPageDataFlagIs2MbPage = 1u << 0;
inline constexpr uint32_t kPageDataFlagUnmeasured = 1u << 1;
inline constexpr uint32_t kPageDataFlagShared = 1u << 2;
inline constexpr uint32_t kPageDataFlagsKnown = 0x7;

// IgvmPageDataType (u16).
enum class PageDataType : uint16_t {
  kNormal = 0,
  kSecrets = 1,
  kCpuidData = 2,
  kCpuidXf = 3,
};
inline constexpr uint16_t kPageDataTypeLast = 3;

// ---------------------------------------------------------------------------------------------
// §4 Parameter areas and parameters

struct IGVM_VHS_PARAMETER_AREA {
  uint64_t number_of_bytes;       // multiple of 4K
  uint32_t parameter_area_index;  // declared once per file
  uint32_t file_offset;           // initial contents; 0 = zeros
};
static_assert(sizeof(IGVM_VHS_PARAMETER_AREA) == 16);
static_assert(offsetof(IGVM_VHS_PARAMETER_AREA, parameter_area_index) == 0x08);
static_assert(offsetof(IGVM_VHS_PARAMETER_AREA, file_offset) == 0x0C);

struct IGVM_VHS_PARAMETER {
  uint32_t parameter_area_index;  // declared earlier, not yet inserted
  uint32_t byte_offset;           // where the loader writes the value
};
static_assert(sizeof(IGVM_VHS_PARAMETER) == 8);
static_assert(offsetof(IGVM_VHS_PARAMETER, byte_offset) == 0x04);

struct IGVM_VHS_PARAMETER_INSERT {
  uint64_t gpa;  // 4K aligned
  uint32_t compatibility_mask;
  uint32_t parameter_area_index;
};
static_assert(sizeof(IGVM_VHS_PARAMETER_INSERT) == 16);
static_assert(offsetof(IGVM_VHS_PARAMETER_INSERT, compatibility_mask) == 0x08);
static_assert(offsetof(IGVM_VHS_PARAMETER_INSERT, parameter_area_index) == 0x0C);

// What loaders write into parameter areas.
struct IGVM_VHS_MEMORY_RANGE {
  uint64_t starting_gpa_page_number;
  uint64_t number_of_pages;
};
static_assert(sizeof(IGVM_VHS_MEMORY_RANGE) == 16);
static_assert(offsetof(IGVM_VHS_MEMORY_RANGE, number_of_pages) == 0x08);

struct IGVM_VHS_MMIO_RANGES {
  IGVM_VHS_MEMORY_RANGE mmio_ranges[2];
};
static_assert(sizeof(IGVM_VHS_MMIO_RANGES) == 32);

struct IGVM_VHS_MEMORY_MAP_ENTRY {
  uint64_t starting_gpa_page_number;
  uint64_t number_of_pages;  // 0 terminates the list
  uint16_t entry_type;       // MemoryMapEntryType
  uint16_t flags;            // no defined bits
  uint32_t reserved;         // 0
};
static_assert(sizeof(IGVM_VHS_MEMORY_MAP_ENTRY) == 24);
static_assert(offsetof(IGVM_VHS_MEMORY_MAP_ENTRY, number_of_pages) == 0x08);
static_assert(offsetof(IGVM_VHS_MEMORY_MAP_ENTRY, entry_type) == 0x10);
static_assert(offsetof(IGVM_VHS_MEMORY_MAP_ENTRY, flags) == 0x12);
static_assert(offsetof(IGVM_VHS_MEMORY_MAP_ENTRY, reserved) == 0x14);

enum class MemoryMapEntryType : uint16_t {
  kMemory = 0,
  kPlatformReserved = 1,
  kPersistent = 2,
  kVtl2Protectable = 3,
  kSpecificPurpose = 4,
  kHidden = 5,
};

// IgvmEnvironmentInfo (u32).
inline constexpr uint32_t kEnvironmentInfoMemoryIsShared = 1u << 0;

// ---------------------------------------------------------------------------------------------
// §5 VP context

// 20 bytes on disk (length field 20, 4 bytes of padding): gpa is an unaligned u64.
struct [[gnu::packed]] IGVM_VHS_VP_CONTEXT {
  uint64_t gpa;  // SNP/SEV-ES: GPA of the VMSA page (4K aligned); otherwise 0
  uint32_t compatibility_mask;  // exactly one platform bit
  uint32_t file_offset;         // the context data (format depends on the platform)
  uint16_t vp_index;
  uint16_t reserved;  // 0
};
static_assert(sizeof(IGVM_VHS_VP_CONTEXT) == 20);
static_assert(offsetof(IGVM_VHS_VP_CONTEXT, compatibility_mask) == 0x08);
static_assert(offsetof(IGVM_VHS_VP_CONTEXT, file_offset) == 0x0C);
static_assert(offsetof(IGVM_VHS_VP_CONTEXT, vp_index) == 0x10);
static_assert(offsetof(IGVM_VHS_VP_CONTEXT, reserved) == 0x12);

// §5.2 SEV-SNP / SEV-ES VMSA page (igvm::snp_defs::SevVmsa).
struct SevVmsaSegment {
  uint16_t selector;
  uint16_t attrib;  // compressed SVM attribute form
  uint32_t limit;
  uint64_t base;
};
static_assert(sizeof(SevVmsaSegment) == 16);
static_assert(offsetof(SevVmsaSegment, attrib) == 2);
static_assert(offsetof(SevVmsaSegment, limit) == 4);
static_assert(offsetof(SevVmsaSegment, base) == 8);

struct SevVmsa {
  SevVmsaSegment es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;
  uint64_t pl0_ssp, pl1_ssp, pl2_ssp, pl3_ssp, u_cet;
  uint8_t reserved_0c8[2];
  uint8_t vmpl;
  uint8_t cpl;
  uint8_t reserved_0cc[4];
  uint64_t efer;
  uint8_t reserved_0d8[104];
  uint64_t xss, cr4, cr3, cr0, dr7, dr6, rflags, rip;
  uint64_t dr0, dr1, dr2, dr3;
  uint64_t dr0_addr_mask, dr1_addr_mask, dr2_addr_mask, dr3_addr_mask;
  uint8_t reserved_1c0[24];
  uint64_t rsp, s_cet, ssp, interrupt_ssp_table_addr, rax, star, lstar, cstar, sfmask,
      kernel_gs_base, sysenter_cs, sysenter_esp, sysenter_eip, cr2;
  uint8_t reserved_248[32];
  uint64_t pat, dbgctl, last_branch_from_ip, last_branch_to_ip, last_excp_from_ip,
      last_excp_to_ip;
  uint8_t reserved_298[72];
  uint64_t spec_ctrl;
  uint8_t reserved_2e8[32];
  uint64_t rcx, rdx, rbx;
  uint8_t reserved_320[8];
  uint64_t rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
  uint8_t reserved_380[16];
  uint64_t exit_info1, exit_info2, exit_int_info, next_rip, sev_features, v_intr_cntrl,
      guest_error_code, virtual_tom, tlb_id, pcpu_id, event_inject, xcr0;
  uint8_t xsave_valid_bitmap[16];
  uint64_t x87dp;
  uint32_t mxcsr;
  uint16_t x87_ftw, x87_fsw, x87_fcw, x87_op, x87_ds, x87_cs;
  uint64_t x87_rip;
  uint8_t fpreg_x87[80];
  uint8_t fpreg_xmm[256];
  uint8_t fpreg_ymm[256];
  uint8_t padding[2448];
};
static_assert(sizeof(SevVmsa) == 0x1000);
static_assert(offsetof(SevVmsa, cs) == 0x010);
static_assert(offsetof(SevVmsa, gdtr) == 0x060);
static_assert(offsetof(SevVmsa, ldtr) == 0x070);
static_assert(offsetof(SevVmsa, tr) == 0x090);
static_assert(offsetof(SevVmsa, pl0_ssp) == 0x0A0);
static_assert(offsetof(SevVmsa, u_cet) == 0x0C0);
static_assert(offsetof(SevVmsa, vmpl) == 0x0CA);
static_assert(offsetof(SevVmsa, cpl) == 0x0CB);
static_assert(offsetof(SevVmsa, efer) == 0x0D0);
static_assert(offsetof(SevVmsa, xss) == 0x140);
static_assert(offsetof(SevVmsa, cr4) == 0x148);
static_assert(offsetof(SevVmsa, cr3) == 0x150);
static_assert(offsetof(SevVmsa, cr0) == 0x158);
static_assert(offsetof(SevVmsa, dr7) == 0x160);
static_assert(offsetof(SevVmsa, rflags) == 0x170);
static_assert(offsetof(SevVmsa, rip) == 0x178);
static_assert(offsetof(SevVmsa, dr0) == 0x180);
static_assert(offsetof(SevVmsa, dr0_addr_mask) == 0x1A0);
static_assert(offsetof(SevVmsa, rsp) == 0x1D8);
static_assert(offsetof(SevVmsa, s_cet) == 0x1E0);
static_assert(offsetof(SevVmsa, rax) == 0x1F8);
static_assert(offsetof(SevVmsa, star) == 0x200);
static_assert(offsetof(SevVmsa, sysenter_eip) == 0x238);
static_assert(offsetof(SevVmsa, cr2) == 0x240);
static_assert(offsetof(SevVmsa, pat) == 0x268);
static_assert(offsetof(SevVmsa, last_excp_to_ip) == 0x290);
static_assert(offsetof(SevVmsa, spec_ctrl) == 0x2E0);
static_assert(offsetof(SevVmsa, rcx) == 0x308);
static_assert(offsetof(SevVmsa, rbx) == 0x318);
static_assert(offsetof(SevVmsa, rbp) == 0x328);
static_assert(offsetof(SevVmsa, r8) == 0x340);
static_assert(offsetof(SevVmsa, r15) == 0x378);
static_assert(offsetof(SevVmsa, exit_info1) == 0x390);
static_assert(offsetof(SevVmsa, sev_features) == 0x3B0);
static_assert(offsetof(SevVmsa, virtual_tom) == 0x3C8);
static_assert(offsetof(SevVmsa, event_inject) == 0x3E0);
static_assert(offsetof(SevVmsa, xcr0) == 0x3E8);
static_assert(offsetof(SevVmsa, xsave_valid_bitmap) == 0x3F0);
static_assert(offsetof(SevVmsa, x87dp) == 0x400);
static_assert(offsetof(SevVmsa, mxcsr) == 0x408);
static_assert(offsetof(SevVmsa, x87_ftw) == 0x40C);
static_assert(offsetof(SevVmsa, x87_cs) == 0x416);
static_assert(offsetof(SevVmsa, x87_rip) == 0x418);
static_assert(offsetof(SevVmsa, fpreg_x87) == 0x420);
static_assert(offsetof(SevVmsa, fpreg_xmm) == 0x470);
static_assert(offsetof(SevVmsa, fpreg_ymm) == 0x570);
static_assert(offsetof(SevVmsa, padding) == 0x670);

// SEV_FEATURES bits.
inline constexpr uint64_t kSevFeatureSnp = 1ull << 0;
inline constexpr uint64_t kSevFeatureVtom = 1ull << 1;
inline constexpr uint64_t kSevFeatureReflectVc = 1ull << 2;
inline constexpr uint64_t kSevFeatureRestrictInjection = 1ull << 3;
inline constexpr uint64_t kSevFeatureAlternateInjection = 1ull << 4;
inline constexpr uint64_t kSevFeatureDebugSwap = 1ull << 5;
inline constexpr uint64_t kSevFeaturePreventHostIbs = 1ull << 6;
inline constexpr uint64_t kSevFeatureSnpBtbIsolation = 1ull << 7;
inline constexpr uint64_t kSevFeatureVmplSss = 1ull << 8;
inline constexpr uint64_t kSevFeatureSecureTscEn = 1ull << 9;
inline constexpr uint64_t kSevFeatureVmsaRegProt = 1ull << 14;
inline constexpr uint64_t kSevFeatureSmtProtection = 1ull << 15;

// §5.3 VSM_ISOLATION (VBS) register list: a header then register_count packed registers.
struct VbsVpContextHeader {
  uint32_t register_count;  // >= 1
};
static_assert(sizeof(VbsVpContextHeader) == 4);

struct [[gnu::packed]] VbsVpContextRegister {
  uint8_t vtl;             // 0..2, the same in every register of one context
  uint32_t register_name;  // HvX64RegisterName / HvArm64RegisterName (unaligned)
  uint8_t mbz[11];         // zero
  uint8_t register_value[16];  // HV_REGISTER_VALUE, little endian
};
static_assert(sizeof(VbsVpContextRegister) == 32);
static_assert(offsetof(VbsVpContextRegister, register_name) == 0x01);
static_assert(offsetof(VbsVpContextRegister, mbz) == 0x05);
static_assert(offsetof(VbsVpContextRegister, register_value) == 0x10);

// HvX64RegisterName values accepted in VBS contexts.
inline constexpr uint32_t kHvX64RegisterRsp = 0x00020004;
inline constexpr uint32_t kHvX64RegisterRbp = 0x00020005;
inline constexpr uint32_t kHvX64RegisterRsi = 0x00020006;
inline constexpr uint32_t kHvX64RegisterR8 = 0x00020008;
inline constexpr uint32_t kHvX64RegisterR9 = 0x00020009;
inline constexpr uint32_t kHvX64RegisterR10 = 0x0002000A;
inline constexpr uint32_t kHvX64RegisterR11 = 0x0002000B;
inline constexpr uint32_t kHvX64RegisterR12 = 0x0002000C;
inline constexpr uint32_t kHvX64RegisterRip = 0x00020010;
inline constexpr uint32_t kHvX64RegisterRflags = 0x00020011;
inline constexpr uint32_t kHvX64RegisterCr0 = 0x00040000;
inline constexpr uint32_t kHvX64RegisterCr3 = 0x00040002;
inline constexpr uint32_t kHvX64RegisterCr4 = 0x00040003;
inline constexpr uint32_t kHvX64RegisterEs = 0x00060000;
inline constexpr uint32_t kHvX64RegisterCs = 0x00060001;
inline constexpr uint32_t kHvX64RegisterSs = 0x00060002;
inline constexpr uint32_t kHvX64RegisterDs = 0x00060003;
inline constexpr uint32_t kHvX64RegisterFs = 0x00060004;
inline constexpr uint32_t kHvX64RegisterGs = 0x00060005;
inline constexpr uint32_t kHvX64RegisterTr = 0x00060007;
inline constexpr uint32_t kHvX64RegisterIdtr = 0x00070000;
inline constexpr uint32_t kHvX64RegisterGdtr = 0x00070001;
inline constexpr uint32_t kHvX64RegisterEfer = 0x00080001;
inline constexpr uint32_t kHvX64RegisterPat = 0x00080004;
inline constexpr uint32_t kHvX64RegisterMsrMtrrDefType = 0x0008000E;
inline constexpr uint32_t kHvX64RegisterMsrMtrrPhysBase0 = 0x00080010;  // ..Base4 = 0x00080014
inline constexpr uint32_t kHvX64RegisterMsrMtrrPhysMask0 = 0x00080040;  // ..Mask4 = 0x00080044
inline constexpr uint32_t kHvX64RegisterMsrMtrrFix64k00000 = 0x00080070;
inline constexpr uint32_t kHvX64RegisterMsrMtrrFix16k80000 = 0x00080071;
inline constexpr uint32_t kHvX64RegisterMsrMtrrFix4kE0000 = 0x00080077;
inline constexpr uint32_t kHvX64RegisterMsrMtrrFix4kE8000 = 0x00080078;
inline constexpr uint32_t kHvX64RegisterMsrMtrrFix4kF0000 = 0x00080079;
inline constexpr uint32_t kHvX64RegisterMsrMtrrFix4kF8000 = 0x0008007A;

constexpr bool isVbsX64Register(uint32_t name) {
  switch (name) {
    case kHvX64RegisterRsp:
    case kHvX64RegisterRbp:
    case kHvX64RegisterRsi:
    case kHvX64RegisterR8:
    case kHvX64RegisterR9:
    case kHvX64RegisterR10:
    case kHvX64RegisterR11:
    case kHvX64RegisterR12:
    case kHvX64RegisterRip:
    case kHvX64RegisterRflags:
    case kHvX64RegisterCr0:
    case kHvX64RegisterCr3:
    case kHvX64RegisterCr4:
    case kHvX64RegisterEs:
    case kHvX64RegisterCs:
    case kHvX64RegisterSs:
    case kHvX64RegisterDs:
    case kHvX64RegisterFs:
    case kHvX64RegisterGs:
    case kHvX64RegisterTr:
    case kHvX64RegisterIdtr:
    case kHvX64RegisterGdtr:
    case kHvX64RegisterEfer:
    case kHvX64RegisterPat:
    case kHvX64RegisterMsrMtrrDefType:
    case kHvX64RegisterMsrMtrrFix64k00000:
    case kHvX64RegisterMsrMtrrFix16k80000:
    case kHvX64RegisterMsrMtrrFix4kE0000:
    case kHvX64RegisterMsrMtrrFix4kE8000:
    case kHvX64RegisterMsrMtrrFix4kF0000:
    case kHvX64RegisterMsrMtrrFix4kF8000:
      return true;
    default:
      return (name >= kHvX64RegisterMsrMtrrPhysBase0 && name <= 0x00080014) ||
             (name >= kHvX64RegisterMsrMtrrPhysMask0 && name <= 0x00080044);
  }
}

// HvArm64RegisterName values accepted in VBS contexts.
inline constexpr uint32_t kHvArm64RegisterX0 = 0x00020000;  // X0..X7 = 0x00020000..0x00020007
inline constexpr uint32_t kHvArm64RegisterXPc = 0x00020022;
inline constexpr uint32_t kHvArm64RegisterCpsr = 0x00020023;
inline constexpr uint32_t kHvArm64RegisterSctlrEl1 = 0x00040002;
inline constexpr uint32_t kHvArm64RegisterTtbr0El1 = 0x00040005;
inline constexpr uint32_t kHvArm64RegisterTtbr1El1 = 0x00040006;
inline constexpr uint32_t kHvArm64RegisterTcrEl1 = 0x00040007;
inline constexpr uint32_t kHvArm64RegisterMairEl1 = 0x0004000B;
inline constexpr uint32_t kHvArm64RegisterVbarEl1 = 0x0004000C;

constexpr bool isVbsArm64Register(uint32_t name) {
  switch (name) {
    case kHvArm64RegisterXPc:
    case kHvArm64RegisterCpsr:
    case kHvArm64RegisterSctlrEl1:
    case kHvArm64RegisterTtbr0El1:
    case kHvArm64RegisterTtbr1El1:
    case kHvArm64RegisterTcrEl1:
    case kHvArm64RegisterMairEl1:
    case kHvArm64RegisterVbarEl1:
      return true;
    default:
      return name >= kHvArm64RegisterX0 && name <= 0x00020007;
  }
}

// §5.4 NATIVE / SEV x64 context (232 bytes at the start of a zero-padded 4K page).
struct IgvmNativeVpContextX64 {
  uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rip, rflags;
  uint64_t idtr_base;
  uint16_t idtr_limit;
  uint16_t reserved[2];
  uint16_t gdtr_limit;
  uint64_t gdtr_base;
  uint16_t code_selector;
  uint16_t code_attributes;  // bits 11:8 zero
  uint32_t code_base;
  uint32_t code_limit;
  uint16_t data_selector;
  uint16_t data_attributes;  // bits 11:8 zero
  uint32_t data_base;
  uint32_t data_limit;
  uint64_t gs_base, cr0, cr3, cr4, efer;
};
static_assert(sizeof(IgvmNativeVpContextX64) == 0xE8);
static_assert(offsetof(IgvmNativeVpContextX64, r8) == 0x40);
static_assert(offsetof(IgvmNativeVpContextX64, rip) == 0x80);
static_assert(offsetof(IgvmNativeVpContextX64, rflags) == 0x88);
static_assert(offsetof(IgvmNativeVpContextX64, idtr_base) == 0x90);
static_assert(offsetof(IgvmNativeVpContextX64, idtr_limit) == 0x98);
static_assert(offsetof(IgvmNativeVpContextX64, reserved) == 0x9A);
static_assert(offsetof(IgvmNativeVpContextX64, gdtr_limit) == 0x9E);
static_assert(offsetof(IgvmNativeVpContextX64, gdtr_base) == 0xA0);
static_assert(offsetof(IgvmNativeVpContextX64, code_selector) == 0xA8);
static_assert(offsetof(IgvmNativeVpContextX64, code_attributes) == 0xAA);
static_assert(offsetof(IgvmNativeVpContextX64, code_base) == 0xAC);
static_assert(offsetof(IgvmNativeVpContextX64, code_limit) == 0xB0);
static_assert(offsetof(IgvmNativeVpContextX64, data_selector) == 0xB4);
static_assert(offsetof(IgvmNativeVpContextX64, data_attributes) == 0xB6);
static_assert(offsetof(IgvmNativeVpContextX64, data_base) == 0xB8);
static_assert(offsetof(IgvmNativeVpContextX64, data_limit) == 0xBC);
static_assert(offsetof(IgvmNativeVpContextX64, gs_base) == 0xC0);
static_assert(offsetof(IgvmNativeVpContextX64, cr0) == 0xC8);
static_assert(offsetof(IgvmNativeVpContextX64, cr3) == 0xD0);
static_assert(offsetof(IgvmNativeVpContextX64, cr4) == 0xD8);
static_assert(offsetof(IgvmNativeVpContextX64, efer) == 0xE0);

// §5.5 CCA realm context (80 bytes at the start of a zero-padded 4K page).
struct IgvmVpContextAArch64Cca {
  uint64_t x[8];
  uint64_t pc;
  uint64_t flags;
};
static_assert(sizeof(IgvmVpContextAArch64Cca) == 80);
static_assert(offsetof(IgvmVpContextAArch64Cca, pc) == 0x40);
static_assert(offsetof(IgvmVpContextAArch64Cca, flags) == 0x48);

// ---------------------------------------------------------------------------------------------
// §2.7 Other directives

struct IGVM_VHS_REQUIRED_MEMORY {
  uint64_t gpa;  // 4K aligned
  uint32_t compatibility_mask;
  uint32_t number_of_bytes;  // multiple of 4K
  uint32_t flags;            // kRequiredMemoryFlagVtl2Protectable; other bits reserved
  uint32_t reserved;         // 0
};
static_assert(sizeof(IGVM_VHS_REQUIRED_MEMORY) == 24);
static_assert(offsetof(IGVM_VHS_REQUIRED_MEMORY, compatibility_mask) == 0x08);
static_assert(offsetof(IGVM_VHS_REQUIRED_MEMORY, number_of_bytes) == 0x0C);
static_assert(offsetof(IGVM_VHS_REQUIRED_MEMORY, flags) == 0x10);
static_assert(offsetof(IGVM_VHS_REQUIRED_MEMORY, reserved) == 0x14);

inline constexpr uint32_t kRequiredMemoryFlagVtl2Protectable = 1u << 0;

struct IGVM_VHS_ERROR_RANGE {
  uint64_t gpa;  // 4K aligned
  uint32_t compatibility_mask;
  uint32_t size_bytes;  // multiple of 4K
};
static_assert(sizeof(IGVM_VHS_ERROR_RANGE) == 16);
static_assert(offsetof(IGVM_VHS_ERROR_RANGE, compatibility_mask) == 0x08);
static_assert(offsetof(IGVM_VHS_ERROR_RANGE, size_bytes) == 0x0C);

// §6 SNP ID block. r, s, qx, qy are little endian P-384 integers zero-extended to 72 bytes.
struct IGVM_VHS_SNP_ID_BLOCK_SIGNATURE {
  uint8_t r_comp[72];
  uint8_t s_comp[72];
};
static_assert(sizeof(IGVM_VHS_SNP_ID_BLOCK_SIGNATURE) == 144);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK_SIGNATURE, s_comp) == 72);

struct IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY {
  uint32_t curve;  // 2 = P-384
  uint32_t reserved;
  uint8_t qx[72];
  uint8_t qy[72];
};
static_assert(sizeof(IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY) == 152);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY, qx) == 8);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY, qy) == 80);

inline constexpr uint32_t kSnpIdBlockCurveP384 = 2;
inline constexpr uint32_t kSnpIdBlockAlgoEcdsaP384Sha384 = 1;

struct IGVM_VHS_SNP_ID_BLOCK {
  uint32_t compatibility_mask;
  uint8_t author_key_enabled;  // 1 if the author key fields are used
  uint8_t reserved[3];
  uint8_t ld[48];  // expected launch digest
  uint8_t family_id[16];
  uint8_t image_id[16];
  uint32_t version;  // 1
  uint32_t guest_svn;
  uint32_t id_key_algorithm;
  uint32_t author_key_algorithm;
  IGVM_VHS_SNP_ID_BLOCK_SIGNATURE id_key_signature;
  IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY id_public_key;
  IGVM_VHS_SNP_ID_BLOCK_SIGNATURE author_key_signature;
  IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY author_public_key;
};
static_assert(sizeof(IGVM_VHS_SNP_ID_BLOCK) == 0x2B8);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK, author_key_enabled) == 0x004);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK, reserved) == 0x005);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK, ld) == 0x008);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK, family_id) == 0x038);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK, image_id) == 0x048);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK, version) == 0x058);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK, guest_svn) == 0x05C);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK, id_key_algorithm) == 0x060);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK, author_key_algorithm) == 0x064);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK, id_key_signature) == 0x068);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK, id_public_key) == 0x0F8);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK, author_key_signature) == 0x190);
static_assert(offsetof(IGVM_VHS_SNP_ID_BLOCK, author_public_key) == 0x220);

// VBS measurement (type 0x311).
inline constexpr uint32_t kVbsDigestAlgoSha256 = 1;
inline constexpr uint32_t kVbsSigningAlgoEcdsaP384 = 1;

struct IGVM_VHS_VBS_MEASUREMENT {
  uint32_t compatibility_mask;
  uint32_t version;
  uint32_t product_id;
  uint32_t module_id;
  uint32_t security_version;
  uint32_t policy_flags;
  uint32_t boot_digest_algo;  // kVbsDigestAlgo*
  uint32_t signing_algo;      // kVbsSigningAlgo*
  uint8_t boot_measurement_digest[64];
  uint8_t signature[256];
  uint8_t public_key[512];
};
static_assert(sizeof(IGVM_VHS_VBS_MEASUREMENT) == 864);
static_assert(offsetof(IGVM_VHS_VBS_MEASUREMENT, boot_digest_algo) == 0x018);
static_assert(offsetof(IGVM_VHS_VBS_MEASUREMENT, signing_algo) == 0x01C);
static_assert(offsetof(IGVM_VHS_VBS_MEASUREMENT, boot_measurement_digest) == 0x020);
static_assert(offsetof(IGVM_VHS_VBS_MEASUREMENT, signature) == 0x060);
static_assert(offsetof(IGVM_VHS_VBS_MEASUREMENT, public_key) == 0x160);

static_assert(std::is_trivially_copyable_v<IGVM_VHS_PAGE_DATA> &&
              std::is_trivially_copyable_v<IGVM_VHS_VP_CONTEXT> &&
              std::is_trivially_copyable_v<SevVmsa> &&
              std::is_trivially_copyable_v<VbsVpContextRegister> &&
              std::is_trivially_copyable_v<IGVM_VHS_SNP_ID_BLOCK>);

}  // namespace igvmkit::igvm
