/* testdata/guests/probe_abi.h: the contract between the probe guest and whoever loads it.
 *
 * The probe is a tiny freestanding x86-64 program linked at PROBE_LOAD_GPA (1 MiB). It is entered
 * at PROBE_LOAD_GPA in 64-bit long mode (paging on; RAM, the probe, the info block and the
 * trampoline page identity mapped), interrupts off, with RSI = the GPA of a struct probe_info.
 * It needs no stack from the loader. It reports on COM1 (0x3f8) what it finds and ends the run by
 * writing its status to port 0xf4: 0 when everything is consistent, else an OR of PROBE_FAIL_*.
 *
 * Serial output, one line each ("\n"), in this order (hex numbers are lowercase with 0x and no
 * leading zeros, counts are decimal):
 *   probe: igvmkit probe 1
 *   cmdline: <the command line, or "(none)">
 *   memmap[<i>]: gpa <hex> pages <hex> type <dec> flags <dec>     (one per entry)
 *   memmap: <n> entries
 *   vp_count: <dec, or "(none)">
 *   blob: size <hex> checksum <hex> expected <hex> ok|mismatch     (or "blob: (none)")
 *   smp: vcpu <dec> up                                 (when asked, one per AP that started)
 *   smp: <up> of <vp_count> vcpus up
 *   probe: ok                                           (or "probe: fail <hex status>")
 *
 * SMP is asked for by PROBE_FLAG_SMP or the command-line token "smp". The probe then copies its
 * real-mode trampoline to trampoline_gpa, enables x2APIC mode on the BSP and sends INIT and two
 * SIPIs to all other processors; each AP switches straight to long mode with the BSP's CR3 and
 * records its initial APIC ID. The checksum is FNV-1a (32 bit) over the blob's bytes.
 *
 * This header is C and C++: the guest (C) and the VMM tests (C++) both include it. */
#ifndef IGVMKIT_TESTDATA_GUESTS_PROBE_ABI_H_
#define IGVMKIT_TESTDATA_GUESTS_PROBE_ABI_H_

#include <stddef.h>
#include <stdint.h>

#define PROBE_LOAD_GPA 0x100000u
#define PROBE_INFO_MAGIC 0x31424f5250564749ull /* "IGVPROB1" read as a little-endian u64 */
#define PROBE_INFO_VERSION 1u

#define PROBE_FLAG_SMP 0x1u /* start the APs */

/* Exit status bits (ORed). */
#define PROBE_FAIL_INFO 0x01u     /* bad magic or version: nothing else is checked */
#define PROBE_FAIL_BLOB 0x02u     /* the blob's checksum differs from blob_checksum */
#define PROBE_FAIL_MEMMAP 0x04u   /* no entries, unsorted/overlapping, or the probe is not in RAM */
#define PROBE_FAIL_VP_COUNT 0x08u /* the VP count parameter is 0 */
#define PROBE_FAIL_SMP 0x10u      /* fewer or more vCPUs came up than vp_count says */

/* IGVM_VHS_MEMORY_MAP_ENTRY (igvm-format.md): the list ends at an entry with number_of_pages 0
 * or at the end of the parameter area. */
#define PROBE_MEMORY_TYPE_MEMORY 0u
struct probe_memory_map_entry {
  uint64_t starting_gpa_page_number;
  uint64_t number_of_pages;
  uint16_t entry_type;
  uint16_t flags;
  uint32_t reserved;
};

/* All addresses are GPAs; 0 means "not provided". */
struct probe_info {
  uint64_t magic;           /* PROBE_INFO_MAGIC */
  uint32_t version;         /* PROBE_INFO_VERSION */
  uint32_t flags;           /* PROBE_FLAG_* */
  uint64_t cmdline_gpa;     /* NUL-terminated command line (IGVM COMMAND_LINE parameter) */
  uint64_t cmdline_size;    /* bytes at cmdline_gpa the probe may read */
  uint64_t memory_map_gpa;  /* IGVM MEMORY_MAP parameter: struct probe_memory_map_entry[] */
  uint64_t memory_map_size; /* bytes of that parameter area */
  uint64_t vp_count_gpa;    /* IGVM VP_COUNT parameter: u32 */
  uint64_t blob_gpa;        /* data whose checksum the probe verifies */
  uint64_t blob_size;
  uint32_t blob_checksum;  /* probe_fnv1a(blob) as the loader expects it */
  uint32_t reserved;       /* 0 */
  uint64_t trampoline_gpa; /* a free, identity-mapped 4 KiB RAM page below 1 MiB (for SMP) */
};

#ifdef __cplusplus
static_assert(sizeof(struct probe_memory_map_entry) == 24, "IGVM memory map entry is 24 bytes");
static_assert(sizeof(struct probe_info) == 88, "probe_info layout");
static_assert(offsetof(struct probe_info, blob_checksum) == 0x48, "probe_info layout");
static_assert(offsetof(struct probe_info, trampoline_gpa) == 0x50, "probe_info layout");
#else
_Static_assert(sizeof(struct probe_memory_map_entry) == 24, "IGVM memory map entry is 24 bytes");
_Static_assert(sizeof(struct probe_info) == 88, "probe_info layout");
_Static_assert(offsetof(struct probe_info, blob_checksum) == 0x48, "probe_info layout");
_Static_assert(offsetof(struct probe_info, trampoline_gpa) == 0x50, "probe_info layout");
#endif

/* FNV-1a, 32 bit: offset basis 0x811c9dc5, prime 0x01000193. */
static inline uint32_t probe_fnv1a(const uint8_t* data, size_t size) {
  uint32_t h = 0x811c9dc5u;
  for (size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 0x01000193u;
  }
  return h;
}

#endif /* IGVMKIT_TESTDATA_GUESTS_PROBE_ABI_H_ */
