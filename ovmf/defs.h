// ovmf/defs.h: the byte layouts OVMF (edk2 OvmfPkg) puts at the end of a firmware image, with no
// logic. Names follow edk2 and QEMU; every struct is little endian and byte exact (read them with
// readStruct<T>(), never by casting file bytes).
//
// Sources: edk2 OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm (the GUIDed table), OvmfSevMetadata.asm
// ("ASEV"), IntelTdx/IntelTdxMetadata.asm ("TDVF"); QEMU hw/i386/pc_sysfw_ovmf.c and
// hw/i386/tdvf.c (qemu/qemu 6f1035fc); sev-snp-measure sevsnpmeasure/ovmf.py (virtee 8f2b337e).
#pragma once

#include <cstddef>
#include <cstdint>

namespace igvmkit::ovmf {

// The footer table ends this many bytes before the end of the image (the reset vector and its
// padding follow it; pc_sysfw_ovmf.c "the table ... ends 32 bytes before the end").
inline constexpr uint64_t kFooterTableEndFromImageEnd = 0x20;

// Each table entry is [data][size u16][GUID], read backwards from the footer entry: `size`
// counts the data plus this 18-byte tail. The footer entry's own size covers the whole table.
struct [[gnu::packed]] OVMF_FOOTER_TABLE_ENTRY {
  uint16_t size;
  uint8_t guid[16];  // EFI_GUID byte order (first three fields little endian)
};
static_assert(sizeof(OVMF_FOOTER_TABLE_ENTRY) == 18);
static_assert(offsetof(OVMF_FOOTER_TABLE_ENTRY, guid) == 2);

// Data of the SEV metadata table entry: where "ASEV" starts, counted from the end of the image.
// The TDX metadata entry has the same form. The SEV-ES reset block holds the AP reset address
// (u32); the SEV hash table and SEV secret entries hold {base u32, size u32}; the SVSM info
// entry holds the SVSM's entry offset (u32) from the start of the SVSM image.

// "ASEV" header (OvmfSevMetadata.asm); `size` covers the header and its sections.
struct OVMF_SEV_METADATA_HEADER {
  uint8_t signature[4];  // "ASEV"
  uint32_t size;
  uint32_t version;  // 1
  uint32_t num_items;
};
static_assert(sizeof(OVMF_SEV_METADATA_HEADER) == 16);
static_assert(offsetof(OVMF_SEV_METADATA_HEADER, num_items) == 12);

struct OVMF_SEV_METADATA_SECTION_DESC {
  uint32_t gpa;
  uint32_t size;
  uint32_t type;  // SevSectionType
};
static_assert(sizeof(OVMF_SEV_METADATA_SECTION_DESC) == 12);
static_assert(offsetof(OVMF_SEV_METADATA_SECTION_DESC, type) == 8);

// "TDVF" descriptor (TDVF Design Guide §11, QEMU tdvf.c TdvfMetadata). `Length` covers the header
// and its section entries.
struct TDVF_METADATA_HEADER {
  uint32_t Signature;  // "TDVF" = 0x46564454
  uint32_t Length;
  uint32_t Version;  // 1
  uint32_t NumberOfSectionEntries;
};
static_assert(sizeof(TDVF_METADATA_HEADER) == 16);
inline constexpr uint32_t kTdvfSignature = 0x46564454;

struct TDVF_SECTION_ENTRY {
  uint32_t DataOffset;   // in the image
  uint32_t RawDataSize;  // bytes taken from the image
  uint64_t MemoryAddress;
  uint64_t MemoryDataSize;  // >= RawDataSize, 4 KiB multiple
  uint32_t Type;            // TdvfSectionType
  uint32_t Attributes;      // bit 0 MR.EXTEND, bit 1 PAGE.AUG
};
static_assert(sizeof(TDVF_SECTION_ENTRY) == 32);
static_assert(offsetof(TDVF_SECTION_ENTRY, MemoryAddress) == 8);
static_assert(offsetof(TDVF_SECTION_ENTRY, Type) == 24);
static_assert(offsetof(TDVF_SECTION_ENTRY, Attributes) == 28);

// SEV kernel-hashes table (QEMU target/i386/sev.c SevHashTable, sev-snp-measure sev_hashes.py):
// a GUIDed header and three GUIDed SHA-256 entries (cmdline, initrd, kernel), padded to 16 bytes.
struct [[gnu::packed]] SEV_HASH_TABLE_ENTRY {
  uint8_t guid[16];
  uint16_t length;  // sizeof(SEV_HASH_TABLE_ENTRY) = 50
  uint8_t hash[32];
};
static_assert(sizeof(SEV_HASH_TABLE_ENTRY) == 50);

struct [[gnu::packed]] SEV_HASH_TABLE {
  uint8_t guid[16];
  uint16_t length;  // sizeof(SEV_HASH_TABLE) = 168, without the padding
  SEV_HASH_TABLE_ENTRY cmdline;
  SEV_HASH_TABLE_ENTRY initrd;
  SEV_HASH_TABLE_ENTRY kernel;
};
static_assert(sizeof(SEV_HASH_TABLE) == 168);
static_assert(offsetof(SEV_HASH_TABLE, cmdline) == 18);
static_assert(offsetof(SEV_HASH_TABLE, kernel) == 118);
// What QEMU copies into the guest: the table zero-padded to a multiple of 16 bytes.
inline constexpr size_t kPaddedSevHashTableSize = 176;

}  // namespace igvmkit::ovmf
