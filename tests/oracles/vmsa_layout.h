// tests/oracles/vmsa_layout.h: the SEV-ES/SNP VMSA (save area) layout from two outside sources, for
// tests and the simulated PSP, independent of loader/internal/vmsa.h's offset table:
//   * Linux's `struct sev_es_save_area` (arch/x86/include/asm/svm.h), whose reserved fields are
//     named after their offsets and pinned by the kernel's BUILD_BUG_RESERVED_OFFSET checks;
//   * Microsoft's `SevVmsa` in microsoft/igvm (igvm/src/snp_defs.rs), the IGVM format's own VMSA.
// Both transcribe AMD APM Vol. 2 (pub. 24593) Appendix B, Table B-4 "VMSA Layout, State Save Area
// for SEV-ES"; the APM text itself was not reachable here (README.md). Offsets are what a C
// compiler gives for Linux's declaration and the running sum of field sizes in microsoft/igvm's
// #[repr(C)] struct; each row keeps both, with the line of each declaration.
#pragma once

#include <cstddef>

namespace igvmkit::oracles::vmsa {

struct Source {
  const char* repository;
  const char* commit;
  const char* path;
};
inline constexpr Source kLinuxSvmH{"git.kernel.org stable/linux (Debian linux-source-6.12)",
                                   "v6.12.118", "arch/x86/include/asm/svm.h"};
inline constexpr Source kIgvmSnpDefs{"microsoft/igvm", "e6c3ff1c34c3570e91e6c29bf3375313f5fafc39",
                                     "igvm/src/snp_defs.rs"};

struct Field {
  size_t linux_offset;  // offsetof(struct sev_es_save_area, field)
  size_t igvm_offset;   // offset of the SevVmsa field
  size_t size;
  int linux_line;  // in kLinuxSvmH
  int igvm_line;   // in kIgvmSnpDefs
};

// The VMSA is one 4 KiB page; Linux declares the first 1648 bytes (svm.h:536,
// EXPECTED_SEV_ES_SAVE_AREA_SIZE), microsoft/igvm all 4096.
inline constexpr size_t kPageSize = 4096;
inline constexpr size_t kLinuxSaveAreaSize = 1648;

// A segment or descriptor-table entry (struct vmcb_seg, svm.h:297-302; SevSelector,
// snp_defs.rs:36-41): selector u16, attrib u16, limit u32, base u64.
inline constexpr size_t kSegSelector = 0, kSegAttrib = 2, kSegLimit = 4, kSegBase = 8;

// Field names as Linux spells them (microsoft/igvm: g_pat is `pat`).
inline constexpr Field es{0x000, 0x000, 16, 358, 129};
inline constexpr Field cs{0x010, 0x010, 16, 359, 130};
inline constexpr Field ss{0x020, 0x020, 16, 360, 131};
inline constexpr Field ds{0x030, 0x030, 16, 361, 132};
inline constexpr Field fs{0x040, 0x040, 16, 362, 133};
inline constexpr Field gs{0x050, 0x050, 16, 363, 134};
inline constexpr Field gdtr{0x060, 0x060, 16, 364, 137};
inline constexpr Field ldtr{0x070, 0x070, 16, 365, 138};
inline constexpr Field idtr{0x080, 0x080, 16, 366, 139};
inline constexpr Field tr{0x090, 0x090, 16, 367, 140};
inline constexpr Field vmpl{0x0CA, 0x0CA, 1, 374, 153};
inline constexpr Field cpl{0x0CB, 0x0CB, 1, 375, 156};
inline constexpr Field efer{0x0D0, 0x0D0, 8, 377, 162};
inline constexpr Field xss{0x140, 0x140, 8, 379, 168};
inline constexpr Field cr4{0x148, 0x148, 8, 380, 171};
inline constexpr Field cr3{0x150, 0x150, 8, 381, 172};
inline constexpr Field cr0{0x158, 0x158, 8, 382, 173};
inline constexpr Field dr7{0x160, 0x160, 8, 383, 176};
inline constexpr Field dr6{0x168, 0x168, 8, 384, 177};
inline constexpr Field rflags{0x170, 0x170, 8, 385, 180};
inline constexpr Field rip{0x178, 0x178, 8, 386, 183};
inline constexpr Field rsp{0x1D8, 0x1D8, 8, 396, 201};
inline constexpr Field rax{0x1F8, 0x1F8, 8, 400, 209};
inline constexpr Field cr2{0x240, 0x240, 8, 409, 226};
inline constexpr Field g_pat{0x268, 0x268, 8, 411, 232};
inline constexpr Field rcx{0x308, 0x308, 8, 421, 251};
inline constexpr Field rdx{0x310, 0x310, 8, 422, 252};
inline constexpr Field rbx{0x318, 0x318, 8, 423, 253};
inline constexpr Field rbp{0x328, 0x328, 8, 425, 255};
inline constexpr Field rsi{0x330, 0x330, 8, 426, 256};
inline constexpr Field rdi{0x338, 0x338, 8, 427, 257};
inline constexpr Field r8{0x340, 0x340, 8, 428, 258};
inline constexpr Field r9{0x348, 0x348, 8, 429, 259};
inline constexpr Field r10{0x350, 0x350, 8, 430, 260};
inline constexpr Field r11{0x358, 0x358, 8, 431, 261};
inline constexpr Field r12{0x360, 0x360, 8, 432, 262};
inline constexpr Field r13{0x368, 0x368, 8, 433, 263};
inline constexpr Field r14{0x370, 0x370, 8, 434, 264};
inline constexpr Field r15{0x378, 0x378, 8, 435, 265};
inline constexpr Field sev_features{0x3B0, 0x3B0, 8, 441, 279};
inline constexpr Field virtual_tom{0x3C8, 0x3C8, 8, 444, 288};
inline constexpr Field xcr0{0x3E8, 0x3E8, 8, 448, 299};
inline constexpr Field mxcsr{0x408, 0x408, 4, 453, 306};
inline constexpr Field x87_fcw{0x410, 0x410, 2, 456, 309};

}  // namespace igvmkit::oracles::vmsa
