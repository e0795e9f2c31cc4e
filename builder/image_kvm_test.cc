// Runs layoutImage() output on a real KVM vCPU: a tiny payload that uses its stack, writes to
// high RAM through the identity map, and reports through port 0xF4. The native platform starts
// from the native VP context (translated to KVM registers here, as a loader does); TDX starts
// from the TDX module's reset state and gets there through the trampoline page.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "builder/image.h"
#include "builder/layout.h"
#include "builder/testing/kvm_vm.h"
#include "builder/testing/test_images.h"

namespace igvmkit::builder {
namespace {

using testing::KvmVm;

constexpr uint64_t kRam = 0x400'0000;      // 64 MiB
constexpr uint64_t kMarker = 0x3F0'0000;   // high RAM the payload writes to

ByteVector payload() {
  const uint8_t code[] = {
      0x48, 0x89, 0xF8,                                // mov rax, rdi
      0x50,                                            // push rax
      0x5B,                                            // pop rbx
      0x48, 0x89, 0x1C, 0x25, 0x00, 0x00, 0xF0, 0x03,  // mov [0x3F00000], rbx
      0x88, 0xD8,                                      // mov al, bl
      0xE6, 0xF4,                                      // out 0xF4, al
      0xF4,                                            // hlt
  };
  testing::ElfSpec s;
  s.entry = 0x10'0000;
  ByteVector bytes(sizeof(code));
  std::memcpy(bytes.data(), code, sizeof(code));
  s.segments.push_back({1, 5, 0x10'0000, 0x10'0000, bytes, 0x1000});
  return testing::makeElf(s);
}

Image layout() {
  Result<Manifest> m = parseManifest(R"(
[platform.native]
[platform.tdx]
[memory]
size = "64M"
[payload]
elf = "probe"
[vp.registers]
rdi = 42
)",
                                     "t.toml", "");
  EXPECT_TRUE(m.ok()) << m.error().describe();
  ByteVector elf = payload();
  Result<Image> img = layoutImage(*m, [&](const std::string&) -> Result<ByteVector> { return elf; });
  EXPECT_TRUE(img.ok()) << img.error().describe();
  return *img;
}

void load(KvmVm& vm, const Image& img, Platform p) {
  for (const Region& r : img.regions) {
    if (!r.platforms.empty() && std::find(r.platforms.begin(), r.platforms.end(), p) == r.platforms.end()) {
      continue;
    }
    for (const Page& page : r.pages) {
      if (!page.bytes.empty()) {
        ASSERT_TRUE(vm.write(page.gpa, page.bytes)) << r.what << " at " << hex(page.gpa);
      }
    }
  }
}

template <class T>
T at(const ByteVector& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

kvm_segment segment(uint16_t selector, uint16_t attributes, uint64_t base, uint32_t limit) {
  kvm_segment s{};
  s.base = base;
  s.limit = limit;
  s.selector = selector;
  s.type = attributes & 0xF;
  s.s = (attributes >> 4) & 1;
  s.dpl = (attributes >> 5) & 3;
  s.present = (attributes >> 7) & 1;
  s.avl = (attributes >> 12) & 1;
  s.l = (attributes >> 13) & 1;
  s.db = (attributes >> 14) & 1;
  s.g = (attributes >> 15) & 1;
  return s;
}

void expectProbeRan(KvmVm& vm) {
  KvmVm::Exit e = vm.run();
  ASSERT_EQ(e.reason, static_cast<uint32_t>(KVM_EXIT_IO)) << "rip " << hex(vm.regs().rip);
  EXPECT_EQ(e.port, 0xF4);
  EXPECT_EQ(e.value, 42);
  uint64_t marker = 0;
  ASSERT_TRUE(vm.read(kMarker, &marker, 8));
  EXPECT_EQ(marker, 42u);
  EXPECT_EQ(vm.regs().rsp, layout::kStackTop);  // push/pop balanced on the builder's stack
}

TEST(ImageOnKvm, NativeContext) {
  std::string why;
  std::unique_ptr<KvmVm> vm = KvmVm::create(kRam, false, &why);
  if (!vm) {
    GTEST_SKIP() << why;
  }
  Image img = layout();
  load(*vm, img, Platform::kNative);
  ASSERT_EQ(img.vp_contexts.front().platform, Platform::kNative);
  const ByteVector& c = img.vp_contexts.front().bytes;
  // IgvmNativeVpContextX64 offsets (igvm-format.md §5.4).
  kvm_regs regs{};
  regs.rsp = at<uint64_t>(c, 0x20);
  regs.rsi = at<uint64_t>(c, 0x30);
  regs.rdi = at<uint64_t>(c, 0x38);
  regs.rip = at<uint64_t>(c, 0x80);
  regs.rflags = at<uint64_t>(c, 0x88);
  vm->setRegs(regs);
  kvm_sregs s = vm->sregs();
  s.cs = segment(at<uint16_t>(c, 0xA8), at<uint16_t>(c, 0xAA), at<uint32_t>(c, 0xAC), at<uint32_t>(c, 0xB0));
  s.ds = s.es = s.fs = s.gs = s.ss =
      segment(at<uint16_t>(c, 0xB4), at<uint16_t>(c, 0xB6), at<uint32_t>(c, 0xB8), at<uint32_t>(c, 0xBC));
  s.gdt.limit = at<uint16_t>(c, 0x9E);
  s.gdt.base = at<uint64_t>(c, 0xA0);
  s.idt.limit = at<uint16_t>(c, 0x98);
  s.idt.base = at<uint64_t>(c, 0x90);
  s.cr0 = at<uint64_t>(c, 0xC8);
  s.cr3 = at<uint64_t>(c, 0xD0);
  s.cr4 = at<uint64_t>(c, 0xD8);
  s.efer = at<uint64_t>(c, 0xE0);
  vm->setSregs(s);
  expectProbeRan(*vm);
}

TEST(ImageOnKvm, TdxTrampoline) {
  std::string why;
  std::unique_ptr<KvmVm> vm = KvmVm::create(kRam, true, &why);
  if (!vm) {
    GTEST_SKIP() << why;
  }
  Image img = layout();
  load(*vm, img, Platform::kTdx);
  // The TDX module's initial vCPU state (loader-vmm.md §3.5).
  kvm_sregs s = vm->sregs();
  s.cs = segment(0x08, 0xC09B, 0, 0xFFFF'FFFF);
  s.ds = s.es = s.fs = s.gs = s.ss = segment(0x10, 0xC093, 0, 0xFFFF'FFFF);
  s.cr0 = 0x31;  // PE | ET | NE
  s.cr4 = 0x40;  // MCE
  s.efer = 0;
  vm->setSregs(s);
  kvm_regs regs{};
  regs.rip = layout::kTdxResetVector;
  regs.rflags = 2;
  vm->setRegs(regs);
  expectProbeRan(*vm);
}

// Application processors (RSI = vCPU index != 0) must not run the payload: they park in the
// trampoline's pause loop.
TEST(ImageOnKvm, TdxApParks) {
  std::string why;
  std::unique_ptr<KvmVm> vm = KvmVm::create(kRam, true, &why);
  if (!vm) {
    GTEST_SKIP() << why;
  }
  Image img = layout();
  load(*vm, img, Platform::kTdx);
  kvm_sregs s = vm->sregs();
  s.cs = segment(0x08, 0xC09B, 0, 0xFFFF'FFFF);
  s.ds = s.es = s.fs = s.gs = s.ss = segment(0x10, 0xC093, 0, 0xFFFF'FFFF);
  s.cr0 = 0x31;
  s.cr4 = 0x40;
  vm->setSregs(s);
  kvm_regs regs{};
  regs.rip = layout::kTdxResetVector;
  regs.rflags = 2;
  regs.rsi = 1;
  vm->setRegs(regs);
  KvmVm::Exit e = vm->runFor(100);
  EXPECT_EQ(e.reason, static_cast<uint32_t>(KVM_EXIT_INTR));
  const uint64_t rip = vm->regs().rip;
  EXPECT_GE(rip, layout::kTdxResetPageGpa + 0x200) << hex(rip);  // inside the trampoline code
  EXPECT_LT(rip, layout::kTdxResetPageGpa + 0x300) << hex(rip);
  EXPECT_EQ(vm->sregs().cr0 & 0x8000'0000, 0u);  // never enabled paging
  uint64_t marker = 0;
  ASSERT_TRUE(vm->read(kMarker, &marker, 8));
  EXPECT_EQ(marker, 0u);
}

}  // namespace
}  // namespace igvmkit::builder
