// tests/run/make_guest: writes tiny hand-assembled 64-bit guests as native IGVM files for the
// `igvmkit run` end-to-end tests (page tables, GDT and boot registers from vmm/testing/long_mode.h).
//
//   make_guest exit42|triple|loop|ports OUT.igvm
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "base/bytes.h"
#include "igvm/defs.h"
#include "igvm/vp_state.h"
#include "igvm/writer.h"
#include "vmm/testing/guest_setup.h"
#include "vmm/testing/long_mode.h"

using namespace igvmkit;

namespace {

constexpr uint64_t kEntry = 0x100000;
constexpr uint32_t kNativeMask = 0x1;

ByteVector code(const std::string& kind) {
  using vmm::testing::bytes;
  if (kind == "exit42") {
    return bytes({0xb0, 0x2a, 0xe6, 0xf4});  // mov al, 42; out 0xf4, al
  }
  if (kind == "triple") {
    return bytes({0x0f, 0x0b});  // ud2 with an empty IDT: triple fault
  }
  if (kind == "loop") {
    return bytes({0xeb, 0xfe});  // jmp $
  }
  if (kind == "ports") {
    return bytes({
        0x66, 0xba, 0x34, 0x12,                                      // mov dx, 0x1234
        0xec,                                                        // in al, dx
        0xee,                                                        // out dx, al
        0x48, 0xa1, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x00, 0x00, 0x00,  // mov rax, [0xd0000000]
        0x48, 0xa3, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x00, 0x00, 0x00,  // mov [0xd0000000], rax
        0xb0, 0x07, 0xe6, 0xf4,                                      // mov al, 7; out 0xf4, al
    });
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || code(argv[1]).empty()) {
    std::fprintf(stderr, "usage: make_guest exit42|triple|loop|ports OUT.igvm\n");
    return 2;
  }
  vmm::GuestSetup setup = vmm::testing::longModeGuest(64 << 20, kEntry, code(argv[1]));
  igvm::Model m;
  m.add(igvm::platformEntry(igvm::PlatformType::kNative, kNativeMask));
  for (const vmm::Load& load : setup.loads) {
    for (size_t off = 0; off < load.data.size(); off += 0x1000) {
      size_t n = std::min<size_t>(0x1000, load.data.size() - off);
      ByteVector page(load.data.begin() + static_cast<std::ptrdiff_t>(off),
                      load.data.begin() + static_cast<std::ptrdiff_t>(off + n));
      m.add(igvm::pageDataEntry(load.gpa + off, kNativeMask, igvm::Blob(std::move(page))));
    }
  }
  const igvm::IgvmNativeVpContextX64 c = igvm::nativeContextFromVpState(setup.bsp);
  ByteVector ctx(sizeof(c));
  std::memcpy(ctx.data(), &c, sizeof(c));
  m.add(igvm::vpContextEntry(0, kNativeMask, 0, igvm::Blob(std::move(ctx))));
  Result<ByteVector> out = igvm::write(m);
  if (!out.ok()) {
    std::fprintf(stderr, "error: %s\n", out.error().message.c_str());
    return 1;
  }
  std::ofstream f(argv[2], std::ios::binary);
  f.write(reinterpret_cast<const char*>(out->data()), static_cast<std::streamsize>(out->size()));
  return f.good() ? 0 : 1;
}
