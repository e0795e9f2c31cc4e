#include "base/testing/matchers.h"
#include "builder/tdx_reset.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace igvmkit::builder {
namespace {

using ::igvmkit::testing::HasRule;

namespace tr = tdx_reset;

template <class T>
T at(const ByteVector& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

x86::VpState sampleState() {
  x86::VpState s = longModeState({.rip = 0x10'0200, .rsp = 0x5000, .rsi = 0x2000, .cr3 = 0x1'0000});
  s.rax = 0x1111;
  s.rdi = 0xD1;
  s.r8 = 0x88;
  s.r15 = 0xF15;
  return s;
}

// Reads the bytes at `off` and checks they equal `want`; advances off.
void expectBytes(const ByteVector& p, size_t& off, std::vector<uint8_t> want, const char* what) {
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(static_cast<uint8_t>(p[off + i]), want[i]) << what << " byte " << i << " at " << hex(off + i);
  }
  off += want.size();
}

uint32_t imm32(const ByteVector& p, size_t& off) {
  uint32_t v = at<uint32_t>(p, off);
  off += 4;
  return v;
}

// A RIP-relative operand: the disp32 ends the instruction; returns the page offset it addresses.
size_t ripTarget(const ByteVector& p, size_t& off) {
  auto disp = at<int32_t>(p, off);
  off += 4;
  return static_cast<size_t>(static_cast<int64_t>(off) + disp);
}

TEST(TdxReset, DecodesToTheIntendedProgram) {
  const x86::VpState s = sampleState();
  Result<ByteVector> page = tdxResetPage(s, layout::k4GiB);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  const ByteVector& p = *page;
  ASSERT_EQ(p.size(), 4096u);

  // Reset vector at 0xFFFFFFF0: E9 rel32 back to the 32-bit entry.
  size_t off = tr::kResetVector;
  expectBytes(p, off, {0xE9}, "jmp rel32");
  const int32_t rel = at<int32_t>(p, off);
  EXPECT_EQ(static_cast<int64_t>(off + 4) + rel, static_cast<int64_t>(tr::kCode));

  off = tr::kCode;
  expectBytes(p, off, {0x85, 0xF6}, "test esi, esi");
  expectBytes(p, off, {0x75}, "jnz");
  const size_t park = off + 1 + static_cast<int8_t>(p[off]);
  off += 1;
  EXPECT_EQ(static_cast<uint8_t>(p[park]), 0xF3);  // pause
  EXPECT_EQ(static_cast<uint8_t>(p[park + 1]), 0x90);
  EXPECT_EQ(static_cast<uint8_t>(p[park + 2]), 0xEB);  // jmp back to pause
  EXPECT_EQ(static_cast<int8_t>(p[park + 3]), -4);

  expectBytes(p, off, {0x0F, 0x01, 0x15}, "lgdt [abs32]");
  EXPECT_EQ(imm32(p, off), 0xFFFF'F000u + tr::kStaticGdtr);
  EXPECT_EQ(at<uint16_t>(p, tr::kStaticGdtr), 23);
  EXPECT_EQ(at<uint32_t>(p, tr::kStaticGdtr + 2), 0xFFFF'F000u + tr::kStaticGdt);
  EXPECT_EQ(at<uint64_t>(p, tr::kStaticGdt + 8), kGdtCode64);
  EXPECT_EQ(at<uint64_t>(p, tr::kStaticGdt + 16), kGdtData);

  expectBytes(p, off, {0x0F, 0x20, 0xE0, 0x0D}, "mov eax, cr4; or eax");
  EXPECT_EQ(imm32(p, off), s.cr4);
  expectBytes(p, off, {0x0F, 0x22, 0xE0, 0xB8}, "mov cr4, eax; mov eax");
  EXPECT_EQ(imm32(p, off), s.cr3);
  expectBytes(p, off, {0x0F, 0x22, 0xD8, 0xB9}, "mov cr3, eax; mov ecx");
  EXPECT_EQ(imm32(p, off), 0xC000'0080u);
  expectBytes(p, off, {0x0F, 0x32, 0x0D}, "rdmsr; or eax");
  EXPECT_EQ(imm32(p, off), kEferSce | kEferLme | kEferNxe);  // LMA left to the CPU
  expectBytes(p, off, {0x0F, 0x30, 0x0F, 0x20, 0xC0, 0x0D}, "wrmsr; mov eax, cr0; or eax");
  EXPECT_EQ(imm32(p, off), s.cr0);
  expectBytes(p, off, {0x0F, 0x22, 0xC0, 0xEA}, "mov cr0, eax; jmp far");
  const uint32_t long64 = imm32(p, off) - 0xFFFF'F000u;
  EXPECT_EQ(at<uint16_t>(p, off), tr::kStaticCodeSelector);
  off += 2;
  EXPECT_EQ(off, park);
  EXPECT_EQ(long64, park + 4);

  off = long64;
  expectBytes(p, off, {0x0F, 0x01, 0x15}, "lgdt [rip]");
  size_t t = ripTarget(p, off);
  EXPECT_EQ(t, tr::kFinalGdtr);
  EXPECT_EQ(at<uint16_t>(p, t), s.gdtr.limit);
  EXPECT_EQ(at<uint64_t>(p, t + 2), s.gdtr.base);
  expectBytes(p, off, {0x0F, 0x01, 0x1D}, "lidt [rip]");
  EXPECT_EQ(ripTarget(p, off), tr::kFinalIdtr);
  expectBytes(p, off, {0x66, 0x8B, 0x05}, "mov ax, [rip]");
  t = ripTarget(p, off);
  EXPECT_EQ(at<uint16_t>(p, t), s.ds.selector);
  expectBytes(p, off, {0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xE0, 0x8E, 0xE8, 0x8E, 0xD0}, "mov sreg, ax");
  const uint64_t gprs[16] = {s.rax, s.rcx, s.rdx, s.rbx, s.rsp, s.rbp, s.rsi, s.rdi,
                             s.r8,  s.r9,  s.r10, s.r11, s.r12, s.r13, s.r14, s.r15};
  for (uint8_t reg = 0; reg < 16; ++reg) {
    const uint8_t rex = reg < 8 ? 0x48 : 0x4C;
    expectBytes(p, off, {rex, 0x8B, static_cast<uint8_t>(0x05 | (reg & 7) << 3)}, "mov r64, [rip]");
    t = ripTarget(p, off);
    EXPECT_EQ(at<uint64_t>(p, t), gprs[reg]) << "register " << int{reg};
  }
  expectBytes(p, off, {0x48, 0xFF, 0x2D}, "jmp far [rip]");
  t = ripTarget(p, off);
  EXPECT_EQ(at<uint64_t>(p, t), s.rip);
  EXPECT_EQ(at<uint16_t>(p, t + 8), s.cs.selector);
  // The rest up to the reset vector is int3.
  for (size_t i = off; i < tr::kResetVector; ++i) {
    ASSERT_EQ(static_cast<uint8_t>(p[i]), 0xCC) << hex(i);
  }
}

TEST(TdxReset, RejectsStatesItCannotReach) {
  struct Case {
    const char* name;
    void (*mutate)(x86::VpState&, uint64_t&);
  };
  const Case cases[] = {
      {"no_paging", [](x86::VpState& s, uint64_t&) { s.cr0 &= ~kCr0Pg; }},
      {"no_lme", [](x86::VpState& s, uint64_t&) { s.efer &= ~kEferLme; }},
      {"cr3_high", [](x86::VpState& s, uint64_t&) { s.cr3 = 0x1'0000'0000; }},
      {"cr3_unaligned", [](x86::VpState& s, uint64_t&) { s.cr3 = 0x1'0800; }},
      {"rflags", [](x86::VpState& s, uint64_t&) { s.rflags = 0x202; }},
      {"cs_32bit", [](x86::VpState& s, uint64_t&) { s.cs.attributes = 0xC09B; }},
      {"split_data", [](x86::VpState& s, uint64_t&) { s.fs.selector = 0x28; }},
      {"fs_base", [](x86::VpState& s, uint64_t&) { s.fs.base = 0x1000; }},
      {"map_short", [](x86::VpState&, uint64_t& end) { end = 0xC000'0000; }},
  };
  for (const Case& c : cases) {
    x86::VpState s = sampleState();
    uint64_t end = layout::k4GiB;
    c.mutate(s, end);
    Result<ByteVector> r = tdxResetPage(s, end);
    ASSERT_THAT(r, HasRule("tdx_reset.state")) << c.name;
  }
}

}  // namespace
}  // namespace igvmkit::builder
