#include "builder/tdx_reset.h"

#include <initializer_list>
#include <string>

#include "builder/internal/bytes_io.h"

namespace igvmkit::builder {
namespace {

using internal::put;
namespace tr = tdx_reset;

constexpr uint32_t kPageBase = static_cast<uint32_t>(layout::kTdxResetPageGpa);
constexpr uint32_t kMsrEfer = 0xC000'0080;

Error tdxError(std::string message) { return invalid("tdx_reset.state", std::move(message)); }

// Appends machine code to the page at a cursor; RIP-relative operands are resolved against page
// offsets because the page's address is fixed.
class Code {
 public:
  Code(ByteVector& page, size_t at) : page_(page), at_(at) {}
  size_t here() const { return at_; }
  void emit(std::initializer_list<uint8_t> bytes) {
    for (uint8_t b : bytes) {
      page_[at_++] = std::byte{b};
    }
  }
  void imm32(uint32_t v) {
    put<uint32_t>(page_, at_, v);
    at_ += 4;
  }
  void imm16(uint16_t v) {
    put<uint16_t>(page_, at_, v);
    at_ += 2;
  }
  // `opcode` then a disp32 that is the instruction's last field, addressing page offset `target`
  // relative to the next instruction (64-bit mode RIP-relative).
  void ripRelative(std::initializer_list<uint8_t> opcode, size_t target) {
    emit(opcode);
    const auto disp = static_cast<int32_t>(static_cast<int64_t>(target) -
                                           static_cast<int64_t>(at_ + 4));
    put<int32_t>(page_, at_, disp);
    at_ += 4;
  }

 private:
  ByteVector& page_;
  size_t at_;
};

}  // namespace

Result<ByteVector> tdxResetPage(const x86::VpState& s, uint64_t identity_map_end) {
  if ((s.cr0 & (kCr0Pe | kCr0Pg)) != (kCr0Pe | kCr0Pg) || (s.cr4 & kCr4Pae) == 0 ||
      (s.efer & kEferLme) == 0) {
    return tdxError("the TDX trampoline enters long mode only (CR0.PE|PG, CR4.PAE, EFER.LME)");
  }
  if ((s.cr0 >> 32) != 0 || (s.cr4 >> 32) != 0 || (s.efer >> 32) != 0) {
    return tdxError("CR0, CR4 and EFER must fit 32 bits");
  }
  if (s.cr3 > 0xFFFF'F000 || s.cr3 % layout::kPageSize != 0) {
    return tdxError("CR3 " + hex(s.cr3) + " must be a page below 4 GiB (loaded in 32-bit mode)");
  }
  if (identity_map_end < layout::k4GiB) {
    return tdxError("the identity map ends at " + hex(identity_map_end) +
                    " and does not cover the trampoline page " + hex(layout::kTdxResetPageGpa));
  }
  if (s.rflags != 0x2) {
    return tdxError("RFLAGS " + hex(s.rflags) + " cannot be set; the TD starts with 0x2");
  }
  if ((s.cs.attributes & (1u << 13)) == 0) {
    return tdxError("the code segment " + hex(s.cs.attributes) + " is not 64-bit (L = 0)");
  }
  for (const x86::Segment* seg : {&s.es, &s.ds, &s.fs, &s.gs, &s.ss}) {
    if (seg->selector != s.ds.selector || seg->base != 0) {
      return tdxError("data segments must share one selector and have zero bases");
    }
  }

  ByteVector page(layout::kPageSize, std::byte{0xCC});  // int3 wherever nothing is placed
  for (size_t i = 0; i < tr::kCode; ++i) {
    page[i] = std::byte{0};
  }
  // Context block.
  put<uint16_t>(page, tr::kStaticGdtr, 3 * 8 - 1);
  put<uint32_t>(page, tr::kStaticGdtr + 2, kPageBase + tr::kStaticGdt);
  put<uint16_t>(page, tr::kFinalGdtr, s.gdtr.limit);
  put<uint64_t>(page, tr::kFinalGdtr + 2, s.gdtr.base);
  put<uint16_t>(page, tr::kFinalIdtr, s.idtr.limit);
  put<uint64_t>(page, tr::kFinalIdtr + 2, s.idtr.base);
  put<uint64_t>(page, tr::kFarPointer, s.rip);
  put<uint16_t>(page, tr::kFarPointer + 8, s.cs.selector);
  put<uint16_t>(page, tr::kDataSelector, s.ds.selector);
  const uint64_t gprs[16] = {s.rax, s.rcx, s.rdx, s.rbx, s.rsp, s.rbp, s.rsi, s.rdi,
                             s.r8,  s.r9,  s.r10, s.r11, s.r12, s.r13, s.r14, s.r15};
  for (size_t i = 0; i < 16; ++i) {
    put<uint64_t>(page, tr::kGprs + 8 * i, gprs[i]);
  }
  // Static GDT for the switch: null, 64-bit code at 0x08, data at 0x10.
  put<uint64_t>(page, tr::kStaticGdt + 8, kGdtCode64);
  put<uint64_t>(page, tr::kStaticGdt + 16, kGdtData);

  Code c(page, tr::kCode);
  // --- 32-bit protected mode, paging off (the TDX module's initial state) ---
  c.emit({0x85, 0xF6});                          // test esi, esi      ; ESI = vCPU index
  const size_t jnz_at = c.here();
  c.emit({0x75, 0x00});                          // jnz park           ; APs wait (patched below)
  c.emit({0x0F, 0x01, 0x15});                    // lgdt [page + kStaticGdtr]
  c.imm32(kPageBase + tr::kStaticGdtr);
  c.emit({0x0F, 0x20, 0xE0});                    // mov eax, cr4
  c.emit({0x0D});                                // or eax, imm32      ; PAE + the state's bits
  c.imm32(static_cast<uint32_t>(s.cr4 | kCr4Pae));
  c.emit({0x0F, 0x22, 0xE0});                    // mov cr4, eax
  c.emit({0xB8});                                // mov eax, imm32     ; the PML4
  c.imm32(static_cast<uint32_t>(s.cr3));
  c.emit({0x0F, 0x22, 0xD8});                    // mov cr3, eax
  c.emit({0xB9});                                // mov ecx, IA32_EFER
  c.imm32(kMsrEfer);
  c.emit({0x0F, 0x32});                          // rdmsr
  c.emit({0x0D});                                // or eax, imm32      ; LME (+SCE, NXE); LMA is set by the CPU
  c.imm32(static_cast<uint32_t>(s.efer & ~kEferLma));
  c.emit({0x0F, 0x30});                          // wrmsr
  c.emit({0x0F, 0x20, 0xC0});                    // mov eax, cr0
  c.emit({0x0D});                                // or eax, imm32      ; PG: enter compatibility mode
  c.imm32(static_cast<uint32_t>(s.cr0));
  c.emit({0x0F, 0x22, 0xC0});                    // mov cr0, eax
  c.emit({0xEA});                                // jmp far 0x08:long64 (ptr16:32)
  const size_t far_target_at = c.here();
  c.imm32(0);
  c.imm16(tr::kStaticCodeSelector);
  const size_t park = c.here();
  c.emit({0xF3, 0x90});                          // park: pause
  c.emit({0xEB, 0xFC});                          // jmp park
  page[jnz_at + 1] = std::byte{static_cast<uint8_t>(park - (jnz_at + 2))};
  // --- 64-bit mode, static GDT ---
  const size_t long64 = c.here();
  put<uint32_t>(page, far_target_at, kPageBase + static_cast<uint32_t>(long64));
  c.ripRelative({0x0F, 0x01, 0x15}, tr::kFinalGdtr);  // lgdt [rip + kFinalGdtr]
  c.ripRelative({0x0F, 0x01, 0x1D}, tr::kFinalIdtr);  // lidt [rip + kFinalIdtr]
  c.ripRelative({0x66, 0x8B, 0x05}, tr::kDataSelector);  // mov ax, [rip + kDataSelector]
  c.emit({0x8E, 0xD8});                          // mov ds, ax
  c.emit({0x8E, 0xC0});                          // mov es, ax
  c.emit({0x8E, 0xE0});                          // mov fs, ax
  c.emit({0x8E, 0xE8});                          // mov gs, ax
  c.emit({0x8E, 0xD0});                          // mov ss, ax
  for (uint8_t reg = 0; reg < 16; ++reg) {
    // mov r64, [rip + kGprs + 8*reg]: REX.W (+REX.R for r8..r15), 8B /r, ModRM 00 reg 101
    const uint8_t rex = reg < 8 ? 0x48 : 0x4C;
    const auto modrm = static_cast<uint8_t>(((reg & 7) << 3) | 0x05);
    c.ripRelative({rex, 0x8B, modrm}, tr::kGprs + 8 * reg);
  }
  c.ripRelative({0x48, 0xFF, 0x2D}, tr::kFarPointer);  // jmp far [rip + kFarPointer] (m16:64)
  if (c.here() > tr::kResetVector) {
    return igvmkit::internal("tdx trampoline code overruns the reset vector");
  }
  // --- reset vector: jmp rel32 back to the 32-bit entry ---
  Code rv(page, tr::kResetVector);
  rv.emit({0xE9});                               // jmp start
  rv.imm32(static_cast<uint32_t>(static_cast<int32_t>(tr::kCode) -
                                 static_cast<int32_t>(tr::kResetVector + 5)));
  return page;
}

}  // namespace igvmkit::builder
