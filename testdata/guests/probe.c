/* testdata/guests/probe.c: the probe guest (see probe_abi.h for what it does and prints). */
#include "probe_abi.h"

#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define LSR_THRE 0x20
#define DEBUG_EXIT_PORT 0xf4
#define MSR_APIC_BASE 0x1b
#define MSR_EFER 0xc0000080
#define MSR_X2APIC_ICR 0x830
#define APIC_BASE_EXTD (1u << 10)
#define APIC_BASE_EN (1u << 11)
#define ICR_ALL_BUT_SELF (3u << 18)
#define ICR_ASSERT (1u << 14)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define CR4_KEEP ((1u << 4) | (1u << 5) | (1u << 7) | (1u << 12)) /* PSE PAE PGE LA57 */
#define EFER_LMA (1u << 10)

extern char __image_start[], __bss_end[];
extern char ap_trampoline_start[], ap_trampoline_end[];
extern char ap_trampoline_cr3[], ap_trampoline_cr4[], ap_trampoline_efer[];

static volatile uint64_t ap_up_mask;

static inline void outb(uint16_t port, uint8_t v) {
  __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint32_t cpuid_ecx(uint32_t leaf) {
  uint32_t a = leaf, b, c = 0, d;
  __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
  return c;
}
static uint32_t popcount(uint64_t v) {
  uint32_t n = 0;
  for (; v; v &= v - 1) {
    ++n;
  }
  return n;
}
static inline void spin(uint32_t n) {
  while (n--) {
    __asm__ volatile("pause");
  }
}

static void putc_(char c) {
  while (!(inb(COM1_LSR) & LSR_THRE)) {
  }
  outb(COM1, (uint8_t)c);
}
static void puts_(const char* s) {
  while (*s) {
    putc_(*s++);
  }
}
static void puthex(uint64_t v) {
  char buf[16];
  int n = 0;
  puts_("0x");
  do {
    buf[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  while (n) {
    putc_(buf[--n]);
  }
}
static void putdec(uint64_t v) {
  char buf[20];
  int n = 0;
  do {
    buf[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) {
    putc_(buf[--n]);
  }
}

/* Called on each AP, on its own stack, in long mode. */
void ap_main(uint32_t apic_id) {
  __atomic_or_fetch(&ap_up_mask, 1ull << apic_id, __ATOMIC_SEQ_CST);
}

static int has_token(const char* s, uint64_t size, const char* tok) {
  uint64_t i = 0;
  while (i < size && s[i]) {
    while (i < size && s[i] == ' ') {
      ++i;
    }
    uint64_t j = 0;
    while (tok[j] && i + j < size && s[i + j] == tok[j]) {
      ++j;
    }
    if (!tok[j] && (i + j >= size || s[i + j] == ' ' || s[i + j] == 0)) {
      return 1;
    }
    while (i < size && s[i] && s[i] != ' ') {
      ++i;
    }
  }
  return 0;
}

static uint32_t check_memmap(const struct probe_info* info) {
  const struct probe_memory_map_entry* e = (const void*)info->memory_map_gpa;
  uint64_t max = e ? info->memory_map_size / sizeof(*e) : 0;
  uint64_t first = (uint64_t)__image_start >> 12, last = ((uint64_t)__bss_end - 1) >> 12;
  uint64_t n = 0, next = 0;
  int ordered = 1, probe_in_ram = 0;
  for (; n < max && e[n].number_of_pages; ++n) {
    uint64_t start = e[n].starting_gpa_page_number, pages = e[n].number_of_pages;
    puts_("memmap[");
    putdec(n);
    puts_("]: gpa ");
    puthex(start << 12);
    puts_(" pages ");
    puthex(pages);
    puts_(" type ");
    putdec(e[n].entry_type);
    puts_(" flags ");
    putdec(e[n].flags);
    putc_('\n');
    ordered &= start >= next;
    next = start + pages;
    probe_in_ram |= e[n].entry_type == PROBE_MEMORY_TYPE_MEMORY && first >= start && last < next;
  }
  puts_("memmap: ");
  putdec(n);
  puts_(" entries\n");
  return (n && ordered && probe_in_ram) ? 0 : PROBE_FAIL_MEMMAP;
}

static uint32_t start_aps(const struct probe_info* info, uint32_t vp_count) {
  uint64_t tramp = info->trampoline_gpa;
  uint64_t size = (uint64_t)(ap_trampoline_end - ap_trampoline_start);
  int ok = tramp && !(tramp & 0xfff) && tramp < 0x100000 && (cpuid_ecx(1) & (1u << 21));
  if (ok) {
    uint64_t cr3, cr4;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    volatile char* dst = (volatile char*)tramp;
    for (uint64_t i = 0; i < size; ++i) {
      dst[i] = ap_trampoline_start[i];
    }
    *(volatile uint32_t*)(dst + (ap_trampoline_cr3 - ap_trampoline_start)) = (uint32_t)cr3;
    *(volatile uint32_t*)(dst + (ap_trampoline_cr4 - ap_trampoline_start)) =
        (uint32_t)(cr4 & CR4_KEEP);
    *(volatile uint32_t*)(dst + (ap_trampoline_efer - ap_trampoline_start)) =
        (uint32_t)(rdmsr(MSR_EFER) & ~EFER_LMA);
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EN | APIC_BASE_EXTD);
    wrmsr(MSR_X2APIC_ICR, ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_INIT);
    spin(1000);
    for (int i = 0; i < 2; ++i) {
      wrmsr(MSR_X2APIC_ICR, ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | (uint32_t)(tramp >> 12));
      spin(200);
    }
    for (uint32_t i = 0; i < 5000000 && popcount(ap_up_mask) + 1 < vp_count; ++i) {
      spin(1);
    }
    spin(2000); /* let an unexpected extra AP show up too */
  } else {
    puts_("smp: no trampoline page or no x2apic\n");
  }
  uint64_t mask = ap_up_mask;
  uint32_t up = 1;
  for (uint32_t id = 1; id < 64; ++id) {
    if (mask & (1ull << id)) {
      puts_("smp: vcpu ");
      putdec(id);
      puts_(" up\n");
      ++up;
    }
  }
  puts_("smp: ");
  putdec(up);
  puts_(" of ");
  putdec(vp_count);
  puts_(" vcpus up\n");
  return up == vp_count ? 0 : PROBE_FAIL_SMP;
}

void probe_main(const struct probe_info* info) {
  uint32_t status = 0;
  puts_("probe: igvmkit probe 1\n");
  if (!info || info->magic != PROBE_INFO_MAGIC || info->version != PROBE_INFO_VERSION) {
    status = PROBE_FAIL_INFO;
    goto done;
  }
  const char* cmdline = (const char*)info->cmdline_gpa;
  puts_("cmdline: ");
  if (cmdline) {
    for (uint64_t i = 0; i < info->cmdline_size && cmdline[i]; ++i) {
      char c = cmdline[i];
      putc_(c >= 0x20 && c < 0x7f ? c : '?');
    }
  } else {
    puts_("(none)");
  }
  putc_('\n');
  status |= check_memmap(info);
  uint32_t vp_count = 1;
  puts_("vp_count: ");
  if (info->vp_count_gpa) {
    vp_count = *(const volatile uint32_t*)info->vp_count_gpa;
    putdec(vp_count);
    if (!vp_count) {
      status |= PROBE_FAIL_VP_COUNT;
    }
  } else {
    puts_("(none)");
  }
  putc_('\n');
  if (info->blob_gpa) {
    uint32_t sum = probe_fnv1a((const uint8_t*)info->blob_gpa, info->blob_size);
    puts_("blob: size ");
    puthex(info->blob_size);
    puts_(" checksum ");
    puthex(sum);
    puts_(" expected ");
    puthex(info->blob_checksum);
    puts_(sum == info->blob_checksum ? " ok\n" : " mismatch\n");
    if (sum != info->blob_checksum) {
      status |= PROBE_FAIL_BLOB;
    }
  } else {
    puts_("blob: (none)\n");
  }
  if ((info->flags & PROBE_FLAG_SMP) ||
      (cmdline && has_token(cmdline, info->cmdline_size, "smp"))) {
    status |= start_aps(info, vp_count);
  }
done:
  if (status) {
    puts_("probe: fail ");
    puthex(status);
    putc_('\n');
  } else {
    puts_("probe: ok\n");
  }
  outb(DEBUG_EXIT_PORT, (uint8_t)status);
}
