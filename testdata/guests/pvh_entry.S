/* testdata/guests/pvh_entry.S: the probe's PVH entry (the x86/HVM direct boot ABI, as QEMU's
 * `-kernel` uses it for an ELF file). Xen's PVH ABI: the loader finds the 32-bit entry in the
 * ELF note XEN_ELFNOTE_PHYS32_ENTRY and enters it in 32-bit protected mode, paging off, flat
 * CS/DS/ES/SS, interrupts off, EBX = the GPA of struct hvm_start_info; GDTR, IDTR and ESP are
 * undefined. This entry zeroes .bss, identity maps the low 4 GiB with 2 MiB pages, enters long
 * mode with the probe's own GDT (entry.S) and calls pvh_main(start_info) (pvh.c) on the BSP stack,
 * which runs the same probe_main as the 64-bit entry. */

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define CR0_PE_PG 0x80000001
#define CR4_PAE 0x20
#define PTE_PRESENT_RW 0x3
#define PDE_2MIB 0x83 /* present, writable, page size */
#define PD_PAGES 4    /* 4 page directories x 512 x 2 MiB = 4 GiB */

/* The note's descriptor is 8 bytes and the note 4-byte aligned: QEMU reads the descriptor of a
 * 64-bit ELF as a u64 and pads the name to the segment's alignment; a 4-byte reader gets the same
 * low half. */
  .section .note.Xen, "a", @note
  .balign 4
  .long 4                        /* namesz: "Xen\0" */
  .long 8                        /* descsz */
  .long XEN_ELFNOTE_PHYS32_ENTRY
  .asciz "Xen"
  .balign 4
  .quad pvh_start

  .section .text.pvh, "ax"
  .code32
  .globl pvh_start
pvh_start:
  cli
  cld
  mov %ebx, %esi                 /* start_info: the .bss clear below keeps ESI */
  mov $__bss_start, %edi
  mov $__bss_end, %ecx
  sub %edi, %ecx
  xor %eax, %eax
  rep stosb
  mov $(pvh_pdpt + PTE_PRESENT_RW), %eax
  mov %eax, pvh_pml4
  mov $pvh_pdpt, %edi            /* PDPT[i] -> PD i */
  mov $(pvh_pd + PTE_PRESENT_RW), %eax
  mov $PD_PAGES, %ecx
1:
  mov %eax, (%edi)
  add $0x1000, %eax
  add $8, %edi
  loop 1b
  mov $pvh_pd, %edi              /* PD entries: GPA i * 2 MiB, identity */
  mov $PDE_2MIB, %eax
  mov $(PD_PAGES * 512), %ecx
2:
  mov %eax, (%edi)
  add $0x200000, %eax
  add $8, %edi
  loop 2b
  mov %cr4, %eax
  or $CR4_PAE, %eax
  mov %eax, %cr4
  mov $pvh_pml4, %eax
  mov %eax, %cr3
  mov $MSR_EFER, %ecx
  rdmsr
  or $EFER_LME, %eax
  wrmsr
  lgdtl ap_gdtr                  /* entry.S's GDT: 0x08 64-bit code, 0x10 data */
  mov %cr0, %eax
  or $CR0_PE_PG, %eax
  mov %eax, %cr0
  ljmpl $0x08, $pvh_long_mode

  .code64
pvh_long_mode:
  mov $0x10, %eax
  mov %eax, %ds
  mov %eax, %es
  mov %eax, %ss
  lea bsp_stack_top(%rip), %rsp
  mov %esi, %edi                 /* zero-extends: start_info is below 4 GiB */
  call pvh_main                  /* ends the run itself through port 0xf4 */
3:
  cli
  hlt
  jmp 3b

  .section .bss
  .balign 4096
pvh_pml4:
  .skip 4096
pvh_pdpt:
  .skip 4096
pvh_pd:
  .skip 4096 * PD_PAGES
