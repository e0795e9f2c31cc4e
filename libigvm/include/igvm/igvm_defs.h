/*
 * igvm/igvm_defs.h: the IGVM wire structures, enums and constants, in C, under the names, values
 * and layouts of microsoft/igvm's generated igvm_defs.h (libigvm/README.md says how that was
 * checked). Written for igvmkit's libigvm; C99, no other dependency than the C library.
 *
 * All structures are little-endian wire images of the variable headers that igvm_get_header()
 * hands out after their 8-byte IGVM_VHS_VARIABLE_HEADER.
 */
#ifndef IGVM_DEFS_H
#define IGVM_DEFS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Flag words, as bit-fields (GCC and Clang allocate them from bit 0 on little-endian). */
typedef struct {
  uint32_t is_2mb_page : 1; /* the page is 2 MiB, not 4 KiB */
  uint32_t unmeasured : 1;  /* imported without measurement */
  uint32_t reserved : 30;   /* bit 2 is "shared" in newer specs; the reference names 30 bits */
} IgvmPageDataFlags;

typedef struct {
  uint32_t vtl2_protectable : 1;
  uint32_t reserved : 31;
} IgvmRequiredMemoryFlags;

typedef struct {
  uint16_t is_shared : 1;
  uint16_t reserved : 15;
} IgvmMemoryMapEntryFlags;

typedef struct {
  uint32_t memory_is_shared : 1;
  uint32_t reserved : 31;
} IgvmEnvironmentInfo;

/* Unaligned little-endian integers of the Rust definitions; plain integers in C. */
typedef uint64_t IGVM_U64_LE;
typedef uint32_t IGVM_U32_LE;

/* The 32-bit value of a flags bit-field struct. */
#define IGVM_UINT32_FLAGS_VALUE(x) *((uint32_t*)&(x))

#define IGVM_FORMAT_VERSION_1 1
#define IGVM_FORMAT_VERSION_2 2
#define IGVM_PAGE_SIZE_4K 4096

/* A loader that does not know a type with this bit set may ignore the header. */
#define IGVM_VHT_OPTIONAL_BIT (1 << 31)

#define IGVM_NATIVE_PLATFORM_VERSION 1
#define IGVM_VSM_ISOLATION_PLATFORM_VERSION 1
#define IGVM_SEV_SNP_PLATFORM_VERSION 1
#define IGVM_TDX_PLATFORM_VERSION 1
#define IGVM_SEV_PLATFORM_VERSION 1
#define IGVM_SEV_ES_PLATFORM_VERSION 1
#define IGVM_CCA_PLATFORM_VERSION 1

/* IGVM_VHS_CCA_POLICY attribute bits. */
#define CCA_POLICY_ATTR_DEBUG (1 << 0)
#define CCA_POLICY_ATTR_MEC (1 << 1)

/* IGVM_VHS_RELOCATABLE_REGION.flags */
#define IGVM_VHF_RELOCATABLE_REGION_IS_VTL2 1
#define IGVM_VHF_RELOCATABLE_REGION_APPLY_PC 2
#define IGVM_VHF_RELOCATABLE_REGION_APPLY_GDTR 4
#define IGVM_VHF_RELOCATABLE_REGION_APPLY_RIP IGVM_VHF_RELOCATABLE_REGION_APPLY_PC

/* Enumerations are fixed-width integer typedefs with named values (in C++ the enums are
 * unnamed, since an enum and a typedef cannot share a name there). */
#ifdef __cplusplus
#define IGVM_ENUM_(name) enum
#else
#define IGVM_ENUM_(name) enum name
#endif

IGVM_ENUM_(CcaHashAlgorithm) {
  SHA256 = 0,
  SHA512 = 1,
  SHA384 = 2,
};
typedef uint8_t CcaHashAlgorithm;

IGVM_ENUM_(CcaLfaPolicy) {
  LFA_DISALLOW = 0,
  LFA_ALLOW = 1,
};
typedef uint8_t CcaLfaPolicy;

IGVM_ENUM_(IgvmPageDataType) {
  IGVM_PAGE_DATA_TYPE_NORMAL = 0,
  IGVM_PAGE_DATA_TYPE_SECRETS = 1,
  IGVM_PAGE_DATA_TYPE_CPUID_DATA = 2,
  IGVM_PAGE_DATA_TYPE_CPUID_XF = 3,
};
typedef uint16_t IgvmPageDataType;

IGVM_ENUM_(IgvmPlatformType) {
  IGVM_PLATFORM_TYPE_NATIVE = 0,
  IGVM_PLATFORM_TYPE_VSM_ISOLATION = 1,
  IGVM_PLATFORM_TYPE_SEV_SNP = 2,
  IGVM_PLATFORM_TYPE_TDX = 3,
  IGVM_PLATFORM_TYPE_SEV = 4,
  IGVM_PLATFORM_TYPE_SEV_ES = 5,
  IGVM_PLATFORM_TYPE_CCA = 6,
};
typedef uint8_t IgvmPlatformType;

/* Variable header types: 0x1-0x100 platform, 0x101-0x200 initialization, 0x301-0x400
 * directives. */
IGVM_ENUM_(IgvmVariableHeaderType) {
  IGVM_INVALID = 0,
  IGVM_VHT_SUPPORTED_PLATFORM = 0x001,
  IGVM_VHT_GUEST_POLICY = 0x101,
  IGVM_VHT_RELOCATABLE_REGION = 0x102,
  IGVM_VHT_PAGE_TABLE_RELOCATION_REGION = 0x103,
  IGVM_VHT_CORIM_DOCUMENT = 0x104,
  IGVM_VHT_CORIM_SIGNATURE = 0x105,
  IGVM_VHT_CCA_POLICY = 0x106,
  IGVM_VHT_PARAMETER_AREA = 0x301,
  IGVM_VHT_PAGE_DATA = 0x302,
  IGVM_VHT_PARAMETER_INSERT = 0x303,
  IGVM_VHT_VP_CONTEXT = 0x304,
  IGVM_VHT_REQUIRED_MEMORY = 0x305,
  IGVM_RESERVED_DO_NOT_USE = 0x306,
  IGVM_VHT_VP_COUNT_PARAMETER = 0x307,
  IGVM_VHT_SRAT = 0x308,
  IGVM_VHT_MADT = 0x309,
  IGVM_VHT_MMIO_RANGES = 0x30A,
  IGVM_VHT_SNP_ID_BLOCK = 0x30B,
  IGVM_VHT_MEMORY_MAP = 0x30C,
  IGVM_VHT_ERROR_RANGE = 0x30D,
  IGVM_VHT_COMMAND_LINE = 0x30E,
  IGVM_VHT_SLIT = 0x30F,
  IGVM_VHT_PPTT = 0x310,
  IGVM_VHT_VBS_MEASUREMENT = 0x311,
  IGVM_VHT_DEVICE_TREE = 0x312,
  IGVM_VHT_ENVIRONMENT_INFO_PARAMETER = 0x313,
};
typedef uint32_t IgvmVariableHeaderType;

IGVM_ENUM_(IgvmMemoryMapEntryType) {
  IGVM_MEMORY_MAP_ENTRY_TYPE_MEMORY = 0,
  IGVM_MEMORY_MAP_ENTRY_TYPE_PLATFORM_RESERVED = 1,
  IGVM_MEMORY_MAP_ENTRY_TYPE_PERSISTENT = 2,
  IGVM_MEMORY_MAP_ENTRY_TYPE_VTL2_PROTECTABLE = 3,
  IGVM_MEMORY_MAP_ENTRY_TYPE_SPECIFIC_PURPOSE = 4,
  IGVM_MEMORY_MAP_ENTRY_TYPE_HIDDEN = 5,
};
typedef uint16_t IgvmMemoryMapEntryType;

/* Policy words of GUEST_POLICY; declared only (read IGVM_VHS_GUEST_POLICY.policy as a u64). */
typedef struct IgvmSnpPolicy IgvmSnpPolicy;
typedef struct IgvmTdxPolicy IgvmTdxPolicy;

/* Format version 1 fixed header, at offset 0 of every file. */
typedef struct IGVM_FIXED_HEADER {
  uint32_t magic; /* "IGVM" = 0x4D564749 */
  uint32_t format_version;
  uint32_t variable_header_offset;
  uint32_t variable_header_size;
  uint32_t total_file_size;
  uint32_t checksum; /* CRC-32 of this header (checksum 0) and the variable headers */
} IGVM_FIXED_HEADER;

/* Type and length (of the content, without padding to 8) before each variable header. */
typedef struct IGVM_VHS_VARIABLE_HEADER {
  IgvmVariableHeaderType typ;
  uint32_t length;
} IGVM_VHS_VARIABLE_HEADER;

typedef struct IGVM_VHS_SUPPORTED_PLATFORM {
  uint32_t compatibility_mask; /* exactly one bit: the bit this platform owns */
  uint8_t highest_vtl;
  IgvmPlatformType platform_type;
  uint16_t platform_version;
  uint64_t shared_gpa_boundary;
} IGVM_VHS_SUPPORTED_PLATFORM;

typedef struct IGVM_VHS_GUEST_POLICY {
  uint64_t policy;
  uint32_t compatibility_mask;
  uint32_t reserved;
} IGVM_VHS_GUEST_POLICY;

typedef struct IGVM_VHS_CCA_POLICY {
  uint32_t compatibility_mask;
  uint32_t reserved;
  uint64_t attributes_required_zeroes;
  uint64_t attributes_required_ones;
  CcaHashAlgorithm hash_algorithm;
  CcaLfaPolicy lfa_policy;
  uint8_t reserved2[6];
} IGVM_VHS_CCA_POLICY;

typedef struct IGVM_VHS_RELOCATABLE_REGION {
  uint32_t compatibility_mask;
  uint16_t vp_index;
  uint8_t vtl;
  uint8_t flags; /* IGVM_VHF_RELOCATABLE_REGION_* */
  uint64_t relocation_alignment;
  uint64_t relocation_region_gpa;
  uint64_t relocation_region_size;
  uint64_t minimum_relocation_gpa;
  uint64_t maximum_relocation_gpa;
} IGVM_VHS_RELOCATABLE_REGION;

typedef struct IGVM_VHS_PAGE_TABLE_RELOCATION {
  uint32_t compatibility_mask;
  uint16_t vp_index;
  uint8_t vtl;
  uint8_t reserved;
  uint64_t gpa;
  uint64_t size;
  uint64_t used_size;
} IGVM_VHS_PAGE_TABLE_RELOCATION;

typedef struct IGVM_VHS_PARAMETER_AREA {
  uint64_t number_of_bytes;
  uint32_t parameter_area_index;
  uint32_t file_offset; /* 0 in headers from igvm_get_header(): data via igvm_get_header_data() */
} IGVM_VHS_PARAMETER_AREA;

typedef struct IGVM_VHS_PAGE_DATA {
  uint64_t gpa;
  uint32_t compatibility_mask;
  uint32_t file_offset; /* 0 in headers from igvm_get_header(): data via igvm_get_header_data() */
  IgvmPageDataFlags flags;
  IgvmPageDataType data_type;
  uint16_t reserved;
} IGVM_VHS_PAGE_DATA;

typedef struct IGVM_VHS_PARAMETER_INSERT {
  uint64_t gpa;
  uint32_t compatibility_mask;
  uint32_t parameter_area_index;
} IGVM_VHS_PARAMETER_INSERT;

/* Content of every parameter type (VP_COUNT, SRAT, MADT, MMIO_RANGES, MEMORY_MAP, ...). */
typedef struct IGVM_VHS_PARAMETER {
  uint32_t parameter_area_index;
  uint32_t byte_offset;
} IGVM_VHS_PARAMETER;

/* 20 bytes of content; the variable header pads it to 24. */
typedef struct IGVM_VHS_VP_CONTEXT {
  IGVM_U64_LE gpa;
  uint32_t compatibility_mask;
  uint32_t file_offset;
  uint16_t vp_index;
  uint16_t reserved;
} IGVM_VHS_VP_CONTEXT;

/* VSM_ISOLATION VP context data: this header, then register_count registers. */
typedef struct IgvmVbsVpContextHeader {
  uint32_t register_count;
} IgvmVbsVpContextHeader;

/* 32 bytes on the wire with register_name at offset 1, as the Rust definition asserts; packed
 * here so that the C struct matches the file (libigvm/README.md "Differences"). */
typedef struct __attribute__((packed)) IgvmVbsVpContextRegister {
  uint8_t vtl;
  IGVM_U32_LE register_name;
  uint8_t mbz[11];
  uint8_t register_value[16];
} IgvmVbsVpContextRegister;

typedef struct IGVM_VHS_REQUIRED_MEMORY {
  uint64_t gpa;
  uint32_t compatibility_mask;
  uint32_t number_of_bytes;
  IgvmRequiredMemoryFlags flags;
  uint32_t reserved;
} IGVM_VHS_REQUIRED_MEMORY;

typedef struct IGVM_VHS_MEMORY_RANGE {
  uint64_t starting_gpa_page_number;
  uint64_t number_of_pages;
} IGVM_VHS_MEMORY_RANGE;

/* The value a loader writes for an MMIO_RANGES parameter. */
typedef struct IGVM_VHS_MMIO_RANGES {
  struct IGVM_VHS_MEMORY_RANGE mmio_ranges[2];
} IGVM_VHS_MMIO_RANGES;

typedef struct IGVM_VHS_SNP_ID_BLOCK_SIGNATURE {
  uint8_t r_comp[72];
  uint8_t s_comp[72];
} IGVM_VHS_SNP_ID_BLOCK_SIGNATURE;

typedef struct IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY {
  uint32_t curve;
  uint32_t reserved;
  uint8_t qx[72];
  uint8_t qy[72];
} IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY;

typedef struct IGVM_VHS_SNP_ID_BLOCK {
  uint32_t compatibility_mask;
  uint8_t author_key_enabled;
  uint8_t reserved[3];
  uint8_t ld[48];
  uint8_t family_id[16];
  uint8_t image_id[16];
  uint32_t version;
  uint32_t guest_svn;
  uint32_t id_key_algorithm;
  uint32_t author_key_algorithm;
  struct IGVM_VHS_SNP_ID_BLOCK_SIGNATURE id_key_signature;
  struct IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY id_public_key;
  struct IGVM_VHS_SNP_ID_BLOCK_SIGNATURE author_key_signature;
  struct IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY author_public_key;
} IGVM_VHS_SNP_ID_BLOCK;

typedef struct IGVM_VHS_VBS_MEASUREMENT {
  uint32_t compatibility_mask;
  uint32_t version;
  uint32_t product_id;
  uint32_t module_id;
  uint32_t security_version;
  uint32_t policy_flags;
  uint32_t boot_digest_algo;
  uint32_t signing_algo;
  uint8_t boot_measurement_digest[64];
  uint8_t signature[256];
  uint8_t public_key[512];
} IGVM_VHS_VBS_MEASUREMENT;

/* One entry of the value a loader writes for a MEMORY_MAP parameter. */
typedef struct IGVM_VHS_MEMORY_MAP_ENTRY {
  uint64_t starting_gpa_page_number;
  uint64_t number_of_pages;
  IgvmMemoryMapEntryType entry_type;
  uint16_t flags; /* IgvmMemoryMapEntryFlags */
  uint32_t reserved;
} IGVM_VHS_MEMORY_MAP_ENTRY;

typedef struct IGVM_VHS_ERROR_RANGE {
  uint64_t gpa;
  uint32_t compatibility_mask;
  uint32_t size_bytes;
} IGVM_VHS_ERROR_RANGE;

/* Wire sizes and offsets (igvm-format.md §1-§6); a compiler that lays these out otherwise cannot
 * read IGVM files through this header. */
#if defined(__cplusplus)
#define IGVM_DEFS_ASSERT_(c, m) static_assert(c, m)
#else
#define IGVM_DEFS_ASSERT_(c, m) _Static_assert(c, m)
#endif
IGVM_DEFS_ASSERT_(sizeof(IgvmPageDataFlags) == 4, "IgvmPageDataFlags");
IGVM_DEFS_ASSERT_(sizeof(IgvmRequiredMemoryFlags) == 4, "IgvmRequiredMemoryFlags");
IGVM_DEFS_ASSERT_(sizeof(IgvmMemoryMapEntryFlags) == 2, "IgvmMemoryMapEntryFlags");
IGVM_DEFS_ASSERT_(sizeof(IgvmEnvironmentInfo) == 4, "IgvmEnvironmentInfo");
IGVM_DEFS_ASSERT_(sizeof(IGVM_FIXED_HEADER) == 24, "IGVM_FIXED_HEADER");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_VARIABLE_HEADER) == 8, "IGVM_VHS_VARIABLE_HEADER");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_SUPPORTED_PLATFORM) == 16, "IGVM_VHS_SUPPORTED_PLATFORM");
IGVM_DEFS_ASSERT_(offsetof(IGVM_VHS_SUPPORTED_PLATFORM, platform_type) == 5, "platform_type");
IGVM_DEFS_ASSERT_(offsetof(IGVM_VHS_SUPPORTED_PLATFORM, shared_gpa_boundary) == 8, "sgb");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_GUEST_POLICY) == 16, "IGVM_VHS_GUEST_POLICY");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_CCA_POLICY) == 32, "IGVM_VHS_CCA_POLICY");
IGVM_DEFS_ASSERT_(offsetof(IGVM_VHS_CCA_POLICY, hash_algorithm) == 24, "hash_algorithm");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_RELOCATABLE_REGION) == 48, "IGVM_VHS_RELOCATABLE_REGION");
IGVM_DEFS_ASSERT_(offsetof(IGVM_VHS_RELOCATABLE_REGION, flags) == 7, "flags");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_PAGE_TABLE_RELOCATION) == 32, "PAGE_TABLE_RELOCATION");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_PARAMETER_AREA) == 16, "IGVM_VHS_PARAMETER_AREA");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_PAGE_DATA) == 24, "IGVM_VHS_PAGE_DATA");
IGVM_DEFS_ASSERT_(offsetof(IGVM_VHS_PAGE_DATA, flags) == 16, "PAGE_DATA.flags");
IGVM_DEFS_ASSERT_(offsetof(IGVM_VHS_PAGE_DATA, data_type) == 20, "PAGE_DATA.data_type");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_PARAMETER_INSERT) == 16, "IGVM_VHS_PARAMETER_INSERT");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_PARAMETER) == 8, "IGVM_VHS_PARAMETER");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_VP_CONTEXT) == 24, "IGVM_VHS_VP_CONTEXT (20 + padding)");
IGVM_DEFS_ASSERT_(offsetof(IGVM_VHS_VP_CONTEXT, vp_index) == 16, "VP_CONTEXT.vp_index");
IGVM_DEFS_ASSERT_(sizeof(IgvmVbsVpContextHeader) == 4, "IgvmVbsVpContextHeader");
IGVM_DEFS_ASSERT_(sizeof(IgvmVbsVpContextRegister) == 32, "IgvmVbsVpContextRegister");
IGVM_DEFS_ASSERT_(offsetof(IgvmVbsVpContextRegister, register_value) == 16, "register_value");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_REQUIRED_MEMORY) == 24, "IGVM_VHS_REQUIRED_MEMORY");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_MEMORY_RANGE) == 16, "IGVM_VHS_MEMORY_RANGE");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_MMIO_RANGES) == 32, "IGVM_VHS_MMIO_RANGES");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_SNP_ID_BLOCK_SIGNATURE) == 144, "ID block signature");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY) == 152, "ID block public key");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_SNP_ID_BLOCK) == 696, "IGVM_VHS_SNP_ID_BLOCK");
IGVM_DEFS_ASSERT_(offsetof(IGVM_VHS_SNP_ID_BLOCK, id_key_signature) == 104, "id_key_signature");
IGVM_DEFS_ASSERT_(offsetof(IGVM_VHS_SNP_ID_BLOCK, author_public_key) == 544, "author_public_key");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_VBS_MEASUREMENT) == 864, "IGVM_VHS_VBS_MEASUREMENT");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_MEMORY_MAP_ENTRY) == 24, "IGVM_VHS_MEMORY_MAP_ENTRY");
IGVM_DEFS_ASSERT_(sizeof(IGVM_VHS_ERROR_RANGE) == 16, "IGVM_VHS_ERROR_RANGE");
#undef IGVM_DEFS_ASSERT_

#endif /* IGVM_DEFS_H */
