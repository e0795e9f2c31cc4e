/* testdata/guests/pvh.c: the probe behind a PVH entry (pvh_entry.S). Turns the loader's
 * struct hvm_start_info (Xen's x86/HVM direct boot ABI, start_info.h) into the probe_info block
 * the 64-bit entry receives from an IGVM file, then runs the same probe_main (probe.c):
 *   command line  <- cmdline_paddr (NUL-terminated; read up to PVH_CMDLINE_MAX bytes)
 *   memory map    <- memmap_paddr/memmap_entries (version >= 1), e820 entries turned into IGVM
 *                    memory-map entries sorted by address (IGVM's order; QEMU's qboot lists
 *                    0xfeffc000 before high RAM): RAM -> MEMORY with partial pages left out,
 *                    PMEM (7) -> PERSISTENT, anything else -> PLATFORM_RESERVED with partial
 *                    pages included
 *   vCPU count    <- CPUID (hvm_start_info has none): leaf 0xB subleaf 1 EBX[15:0], the logical
 *                    processors in the package, or without leaf 0xB (igvmkit's VMM on an AMD
 *                    host whose KVM lists none) leaf 1 EBX[23:16] when EDX.HTT is set, else 1;
 *                    right for the one-package topologies QEMU and igvmkit give
 *   blob          <- none
 *   SMP page      <- the highest whole RAM page below 1 MiB other than page 0
 * A start_info without the magic makes the probe report PROBE_FAIL_INFO. */
#include "probe_abi.h"

#define HVM_START_MAGIC_VALUE 0x336ec578u
#define E820_RAM 1u
#define E820_PMEM 7u
#define PROBE_MEMORY_TYPE_PLATFORM_RESERVED 1u
#define PROBE_MEMORY_TYPE_PERSISTENT 2u
#define PVH_MAX_MEMMAP 32u
#define PVH_CMDLINE_MAX 4096u
#define PAGE_SHIFT 12
#define PAGE_MASK 0xfffull

struct hvm_start_info {
  uint32_t magic; /* HVM_START_MAGIC_VALUE */
  uint32_t version;
  uint32_t flags;
  uint32_t nr_modules;
  uint64_t modlist_paddr;
  uint64_t cmdline_paddr;
  uint64_t rsdp_paddr;
  uint64_t memmap_paddr; /* version 1 and later */
  uint32_t memmap_entries;
  uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");

struct hvm_memmap_table_entry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;
  uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry layout");

void probe_main(const struct probe_info* info); /* probe.c */
void pvh_main(const struct hvm_start_info* start_info);

static struct probe_info info;
static struct probe_memory_map_entry memmap[PVH_MAX_MEMMAP + 1]; /* zero entry ends the list */
static uint32_t vp_count;

static void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4]) {
  __asm__ volatile("cpuid"
                   : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                   : "a"(leaf), "c"(subleaf));
}

/* Logical processors in the (one) package: CPUID 0xB subleaf 1 EBX[15:0] when the VMM gives leaf
 * 0xB, else leaf 1 EBX[23:16] when EDX.HTT says that field is valid, else 1. */
static uint32_t cpuid_vcpus(void) {
  uint32_t r[4];
  cpuid(0, 0, r);
  if (r[0] >= 0xb) {
    cpuid(0xb, 1, r);
    if (r[1] & 0xffff) {
      return r[1] & 0xffff;
    }
  }
  cpuid(1, 0, r);
  return (r[3] & (1u << 28)) ? (r[1] >> 16) & 0xff : 1;
}

/* Converts the e820 table and picks the SMP trampoline page. */
static void convert_memmap(const struct hvm_start_info* si) {
  const struct hvm_memmap_table_entry* e = (const void*)si->memmap_paddr;
  uint32_t n = 0;
  for (uint32_t i = 0; e && i < si->memmap_entries && n < PVH_MAX_MEMMAP; ++i) {
    uint64_t start = e[i].addr, end = e[i].addr + e[i].size;
    uint16_t type = PROBE_MEMORY_TYPE_PLATFORM_RESERVED;
    if (e[i].type == E820_RAM) {
      type = PROBE_MEMORY_TYPE_MEMORY;
      start = (start + PAGE_MASK) & ~PAGE_MASK;
      end &= ~PAGE_MASK;
    } else {
      type = e[i].type == E820_PMEM ? PROBE_MEMORY_TYPE_PERSISTENT : type;
      start &= ~PAGE_MASK;
      end = (end + PAGE_MASK) & ~PAGE_MASK;
    }
    if (end <= start) {
      continue;
    }
    /* IGVM's map is sorted by address (e820 tables need not be): insertion sort. */
    uint32_t j = n++;
    for (; j && memmap[j - 1].starting_gpa_page_number > (start >> PAGE_SHIFT); --j) {
      memmap[j] = memmap[j - 1];
    }
    memmap[j].starting_gpa_page_number = start >> PAGE_SHIFT;
    memmap[j].number_of_pages = (end - start) >> PAGE_SHIFT;
    memmap[j].entry_type = type;
    if (type == PROBE_MEMORY_TYPE_MEMORY && start < 0x100000) {
      uint64_t top = (end < 0x100000 ? end : 0x100000) - 0x1000;
      if (top > info.trampoline_gpa) {
        info.trampoline_gpa = top;
      }
    }
  }
  info.memory_map_gpa = (uint64_t)memmap;
  info.memory_map_size = sizeof(memmap);
}

void pvh_main(const struct hvm_start_info* si) {
  if (!si || si->magic != HVM_START_MAGIC_VALUE) {
    probe_main(0);
    return;
  }
  info.magic = PROBE_INFO_MAGIC;
  info.version = PROBE_INFO_VERSION;
  if (si->cmdline_paddr) {
    info.cmdline_gpa = si->cmdline_paddr;
    info.cmdline_size = PVH_CMDLINE_MAX;
  }
  if (si->version >= 1) {
    convert_memmap(si);
  }
  vp_count = cpuid_vcpus();
  if (vp_count) {
    info.vp_count_gpa = (uint64_t)&vp_count;
  }
  probe_main(&info);
}
