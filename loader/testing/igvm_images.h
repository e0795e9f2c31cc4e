// loader/testing/igvm_images.h: IGVM files made with the igvm writer for the loader's tests (the
// plan tests, the plan == measure invariant test and the `igvmkit plan` shell test).
//
// Every image declares NATIVE (mask 0x1), SEV_SNP (0x2) and TDX (0x4) and uses 16 MiB of RAM.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/defs.h"
#include "igvm/writer.h"
#include "loader/internal/vmsa.h"
#include "loader/testing/test_util.h"

namespace igvmkit::loader::testing {

inline constexpr uint32_t kNativeBit = 0x1, kSnpBit = 0x2, kTdxBit = 0x4, kAllBits = 0x7;

struct ImageSpec {
  std::string name;
  uint32_t data_pages = 1;      // pages of distinct data at 0x100000
  uint32_t zero_pages = 0;      // pages without data after them
  bool unmeasured = false;      // an UNMEASURED page at 0x300000
  bool shared = false;          // a SHARED page at 0x301000
  bool secrets_cpuid = false;   // SNP: a secrets page at 0x302000 and a CPUID page at 0x303000
  bool parameters = false;      // two parameter areas (vp count + command line, memory map)
  bool large_page = false;      // a 2 MiB page at 0x400000
  uint16_t vps = 1;             // native VP contexts for vp 0..vps-1
  // SNP VMSAs for every vp at 0xFFFFFFFFF000 - vp * 4 KiB (kvm-snp refuses these: KVM puts every
  // VMSA at 0xFFFFFFFFF000), else one VMSA for vp 0 there (kvm-snp uses it for every vCPU).
  bool snp_vmsa_per_vp = false;
  // Address-width cases (igvm/gpa.h): a 4 KiB page for every platform at `page_at`; a parameter
  // area (one page) inserted at `area_at`; vp 0's SNP VMSA and native context at `vp_at`.
  std::optional<uint64_t> page_at = std::nullopt;
  std::optional<uint64_t> area_at = std::nullopt;
  std::optional<uint64_t> vp_at = std::nullopt;
};

// A page of `seed`-dependent bytes.
inline ByteVector patternPage(uint32_t seed) {
  ByteVector page(kPageSize);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : page) {
    x = x * 1103515245u + 12345u;
    b = std::byte(static_cast<uint8_t>(x >> 16));
  }
  return page;
}

// VP `vp`'s SNP VMSA (one KVM can reproduce; RIP differs per VP).
inline ByteVector snpVmsaFor(uint16_t vp) {
  x86::VpState s = sampleVmsaState();
  s.rip += vp * 0x10;
  s.rsp += vp * 0x100;
  return vmsaPage(s);
}

// VP `vp`'s native context: 64-bit long mode entry at 0x100000 + vp * 0x10.
inline igvm::IgvmNativeVpContextX64 nativeContextFor(uint16_t vp) {
  igvm::IgvmNativeVpContextX64 c{};
  c.rip = 0x100000 + vp * 0x10;
  c.rsp = 0x8FF0;
  c.rflags = 2;
  c.gdtr_base = 0x5000;
  c.gdtr_limit = 0x1F;
  c.code_selector = 0x08;
  c.code_attributes = 0xA09B;
  c.code_limit = 0xFFFFFFFF;
  c.data_selector = 0x10;
  c.data_attributes = 0xC093;
  c.data_limit = 0xFFFFFFFF;
  c.cr0 = 0x80010033;
  c.cr3 = 0x9000;
  c.cr4 = 0x668;
  c.efer = 0xD00;
  return c;
}

inline Result<ByteVector> makeImage(const ImageSpec& spec) {
  igvm::Model m;
  m.add(igvm::platformEntry(igvm::PlatformType::kNative, kNativeBit));
  m.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, kSnpBit));
  m.add(igvm::platformEntry(igvm::PlatformType::kTdx, kTdxBit));
  m.add(igvm::makeEntry(igvm::kVhtGuestPolicy, igvm::IGVM_VHS_GUEST_POLICY{0x30000, kSnpBit, 0}));
  uint64_t gpa = 0x100000;
  for (uint32_t i = 0; i < spec.data_pages; ++i, gpa += kPageSize) {
    m.add(igvm::pageDataEntry(gpa, kAllBits, igvm::Blob(patternPage(i))));
  }
  for (uint32_t i = 0; i < spec.zero_pages; ++i, gpa += kPageSize) {
    m.add(igvm::pageDataEntry(gpa, kAllBits));
  }
  if (spec.parameters) {
    m.add(igvm::parameterAreaEntry(0, 0x1000));
    m.add(igvm::parameterEntry(igvm::kVhtVpCountParameter, 0, 0));
    m.add(igvm::parameterEntry(igvm::kVhtCommandLine, 0, 0x100));
    m.add(igvm::parameterAreaEntry(1, 0x2000));
    m.add(igvm::parameterEntry(igvm::kVhtMemoryMap, 1, 0));
    m.add(igvm::parameterInsertEntry(0x200000, kAllBits, 0));
    m.add(igvm::parameterInsertEntry(0x201000, kAllBits, 1));
  }
  if (spec.unmeasured) {
    m.add(igvm::pageDataEntry(0x300000, kAllBits, igvm::Blob(patternPage(100)),
                              igvm::kPageDataFlagUnmeasured));
  }
  if (spec.shared) {
    m.add(igvm::pageDataEntry(0x301000, kAllBits, igvm::Blob(patternPage(101)),
                              igvm::kPageDataFlagShared));
  }
  if (spec.secrets_cpuid) {
    m.add(igvm::pageDataEntry(0x302000, kSnpBit, {}, 0, igvm::PageDataType::kSecrets));
    m.add(igvm::pageDataEntry(0x303000, kSnpBit, {}, 0, igvm::PageDataType::kCpuidData));
  }
  if (spec.large_page) {
    ByteVector big(2 << 20);
    for (size_t i = 0; i < big.size(); i += kPageSize) {
      big[i] = std::byte(static_cast<uint8_t>(i >> 12));
    }
    m.add(igvm::pageDataEntry(0x400000, kAllBits, igvm::Blob(std::move(big)),
                              igvm::kPageDataFlagIs2MbPage));
  }
  if (spec.page_at) {
    m.add(igvm::pageDataEntry(*spec.page_at, kAllBits, igvm::Blob(patternPage(102))));
  }
  if (spec.area_at) {
    m.add(igvm::parameterAreaEntry(2, 0x1000));
    m.add(igvm::parameterEntry(igvm::kVhtVpCountParameter, 2, 0));
    m.add(igvm::parameterInsertEntry(*spec.area_at, kAllBits, 2));
  }
  for (uint16_t vp = 0; vp < spec.vps; ++vp) {
    const bool moved = vp == 0 && spec.vp_at.has_value();
    if (vp == 0 || spec.snp_vmsa_per_vp) {
      m.add(igvm::vpContextEntry(moved ? *spec.vp_at : 0xFFFFFFFFF000ull - vp * kPageSize, kSnpBit,
                                 vp, igvm::Blob(snpVmsaFor(vp))));
    }
    igvm::IgvmNativeVpContextX64 c = nativeContextFor(vp);
    ByteVector page(kPageSize);
    std::memcpy(page.data(), &c, sizeof(c));
    m.add(
        igvm::vpContextEntry(moved ? *spec.vp_at : 0, kNativeBit, vp, igvm::Blob(std::move(page))));
  }
  return igvm::write(m, {.version = 2});
}

// The invariant test's image set.
inline std::vector<ImageSpec> imageSpecs() {
  return {
      {.name = "single_page"},
      {.name = "multi_page", .data_pages = 8, .zero_pages = 3},
      {.name = "parameters", .data_pages = 2, .parameters = true},
      {.name = "unmeasured_shared", .data_pages = 2, .unmeasured = true, .shared = true},
      {.name = "secrets_cpuid", .secrets_cpuid = true},
      {.name = "large_page", .large_page = true},
      {.name = "four_vps", .data_pages = 3, .vps = 4},
      {.name = "vmsa_per_vp", .data_pages = 1, .vps = 3, .snp_vmsa_per_vp = true},
      {.name = "everything",
       .data_pages = 5,
       .zero_pages = 2,
       .unmeasured = true,
       .shared = true,
       .secrets_cpuid = true,
       .parameters = true,
       .large_page = true,
       .vps = 2},
  };
}

// Images at the edges of the guest physical address widths (igvm/gpa.h: 52 bits native, 51 on SNP
// and TDX), for plan's and measure's width checks; not part of imageSpecs().
inline constexpr uint64_t k2To52 = uint64_t{1} << 52, k2To51 = uint64_t{1} << 51;
inline std::vector<ImageSpec> gpaWidthSpecs() {
  return {
      {.name = "page_at_2to52", .page_at = k2To52},
      {.name = "page_below_2to52", .page_at = k2To52 - kPageSize},
      {.name = "page_below_2to51", .page_at = k2To51 - kPageSize},
      {.name = "page_at_top", .page_at = 0xFFFF'FFFF'FFFF'F000},
      {.name = "area_at_2to52", .area_at = k2To52},
      {.name = "area_below_2to51", .area_at = k2To51 - kPageSize},
      {.name = "vp_at_2to52", .vp_at = k2To52},
  };
}

}  // namespace igvmkit::loader::testing
