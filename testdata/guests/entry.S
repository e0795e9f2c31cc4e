/* testdata/guests/entry.S: the probe's entry point and its AP start-up trampoline. */

#define MSR_EFER 0xc0000080
#define AP_STACK_SIZE 512
#define MAX_APIC_ID 63

  .section .text.entry, "ax"
  .code64
  .globl _start
_start:
  cli
  cld
  lea bsp_stack_top(%rip), %rsp
  mov %rsi, %rbx              /* the probe_info GPA */
  lea __bss_start(%rip), %rdi /* zero .bss (the stack is in it, but nothing is on it yet) */
  lea __bss_end(%rip), %rcx
  sub %rdi, %rcx
  xor %eax, %eax
  rep stosb
  mov %rbx, %rdi
  call probe_main             /* ends the run itself through port 0xf4 */
1:
  cli
  hlt
  jmp 1b

/* Entered from the trampoline in 64-bit mode with CS = 0x08. */
ap_long_mode:
  mov $0x10, %eax
  mov %eax, %ds
  mov %eax, %es
  mov %eax, %ss
  mov $1, %eax
  cpuid
  shr $24, %ebx               /* initial APIC ID */
  cmp $MAX_APIC_ID, %ebx
  ja 2f
  mov %ebx, %edi
  lea 1(%rbx), %eax
  imul $AP_STACK_SIZE, %eax
  lea ap_stacks(%rip), %rsp
  add %rax, %rsp
  call ap_main
2:
  cli
  hlt
  jmp 2b

/* Copied to a page below 1 MiB and started by SIPI in real mode at CS = page >> 4, IP = 0.
 * Goes straight to long mode: PAE + CR3 + EFER.LME, then CR0.PE|PG together, then a far jump to a
 * 64-bit code segment. The BSP patches CR3/CR4/EFER into the copy. */
  .code16
  .balign 16
  .globl ap_trampoline_start, ap_trampoline_end
  .globl ap_trampoline_cr3, ap_trampoline_cr4, ap_trampoline_efer
ap_trampoline_start:
  cli
  mov %cs, %ax
  mov %ax, %ds
  lgdtl ap_gdtr - ap_trampoline_start
  movl ap_trampoline_cr4 - ap_trampoline_start, %eax
  mov %eax, %cr4
  movl ap_trampoline_cr3 - ap_trampoline_start, %eax
  mov %eax, %cr3
  movl ap_trampoline_efer - ap_trampoline_start, %eax
  xor %edx, %edx
  mov $MSR_EFER, %ecx
  wrmsr
  mov %cr0, %eax
  or $0x80000001, %eax
  mov %eax, %cr0
  ljmpl $0x08, $ap_long_mode
  .balign 8
  .globl ap_gdtr /* pvh_entry.S loads this GDT too */
ap_gdtr:
  .word ap_gdt_end - ap_gdt - 1
  .long ap_gdt
ap_trampoline_cr3:
  .long 0
ap_trampoline_cr4:
  .long 0
ap_trampoline_efer:
  .long 0
ap_trampoline_end:

  .section .rodata
  .balign 8
ap_gdt:
  .quad 0
  .quad 0x00af9b000000ffff /* 0x08: 64-bit code, DPL 0 */
  .quad 0x00cf93000000ffff /* 0x10: data */
ap_gdt_end:

  .section .bss
  .balign 16
  .globl ap_stacks
ap_stacks:
  .skip AP_STACK_SIZE * (MAX_APIC_ID + 1)
bsp_stack:
  .skip 4096
  .globl bsp_stack_top /* pvh_entry.S's stack too */
bsp_stack_top:
