#include "builder/image.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "base/testing/matchers.h"
#include "builder/layout.h"
#include "builder/testing/test_images.h"
#include "builder/x86.h"

namespace igvmkit::builder {
namespace {

using ::igvmkit::testing::HasRule;

template <class T>
T at(const ByteVector& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

Manifest parse(std::string_view text) {
  Result<Manifest> m = parseManifest(text, "t.toml", "/m");
  EXPECT_TRUE(m.ok()) << m.error().describe();
  return *m;
}

const Region* find(const Image& img, std::string_view what) {
  for (const Region& r : img.regions) {
    if (r.what == what) {
      return &r;
    }
  }
  return nullptr;
}

const Page* pageAt(const Region& r, uint64_t gpa) {
  for (const Page& p : r.pages) {
    if (p.gpa == gpa) {
      return &p;
    }
  }
  return nullptr;
}

TEST(Image, PayloadOnEveryPlatform) {
  Manifest m = parse(R"(
[platform.native]
[platform.snp]
[platform.tdx]
[platform.vbs]
[memory]
size = "64M"
[payload]
elf = "probe"
[[parameter_area]]
gpa = 0x80000
vp_count = 0
)");
  testing::MemoryFiles files;
  files.add("/m/probe", testing::smallPayloadElf());
  Result<Image> img = layoutImage(m, files.reader());
  ASSERT_TRUE(img.ok()) << img.error().describe();
  EXPECT_EQ(img->entry, 0x10'0000u);

  // Shared content: GDT, stack, payload code, data and bss, for every platform.
  ASSERT_EQ(img->regions[0].what, "image");
  const Region& common = img->regions[0];
  EXPECT_TRUE(common.platforms.empty());
  ASSERT_NE(pageAt(common, layout::kGdtGpa), nullptr);
  EXPECT_EQ(at<uint64_t>(pageAt(common, layout::kGdtGpa)->bytes, 0x10), kGdtCode64);
  ASSERT_NE(pageAt(common, layout::kStackGpa), nullptr);
  EXPECT_TRUE(pageAt(common, layout::kStackGpa)->bytes.empty());
  EXPECT_EQ(pageAt(common, 0x10'0000)->bytes[0x1F], std::byte{0x90});
  EXPECT_EQ(pageAt(common, 0x10'1000)->bytes[7], std::byte{0x55});
  ASSERT_NE(pageAt(common, 0x10'3000), nullptr);  // last bss page
  EXPECT_EQ(pageAt(common, 0x10'4000), nullptr);

  // Page tables without the C-bit for native/tdx/vbs, with it for snp, at the same addresses.
  const Region* plain = find(*img, "page tables");
  const Region* snp = find(*img, "page tables (snp)");
  ASSERT_TRUE(plain && snp);
  EXPECT_EQ(plain->platforms, (PlatformList{Platform::kNative, Platform::kTdx, Platform::kVbs}));
  EXPECT_EQ(snp->platforms, PlatformList{Platform::kSnp});
  ASSERT_EQ(plain->pages.size(), 6u);
  EXPECT_EQ(plain->pages[0].gpa, snp->pages[0].gpa);
  EXPECT_EQ(at<uint64_t>(snp->pages[0].bytes, 0) & (1ull << 51), 1ull << 51);
  EXPECT_EQ(at<uint64_t>(plain->pages[0].bytes, 0) & (1ull << 51), 0u);

  const Region* tdx = find(*img, "tdx reset trampoline");
  ASSERT_NE(tdx, nullptr);
  EXPECT_EQ(tdx->platforms, PlatformList{Platform::kTdx});
  ASSERT_EQ(tdx->pages.size(), 1u);
  EXPECT_EQ(tdx->pages[0].gpa, 0xFFFF'F000u);

  // VP contexts: native, vbs, then the SNP VMSA last at KVM's address.
  ASSERT_EQ(img->vp_contexts.size(), 3u);
  EXPECT_EQ(img->vp_contexts[0].platform, Platform::kNative);
  EXPECT_EQ(img->vp_contexts[1].platform, Platform::kVbs);
  const VpContext& vmsa = img->vp_contexts[2];
  EXPECT_EQ(vmsa.platform, Platform::kSnp);
  EXPECT_EQ(vmsa.gpa, layout::kSnpKvmVmsaGpa);
  EXPECT_EQ(at<uint64_t>(vmsa.bytes, 0x178), 0x10'0000u);  // rip
  EXPECT_EQ(at<uint64_t>(vmsa.bytes, 0x150), layout::kPageTablesGpa | (1ull << 51));  // cr3
  EXPECT_EQ(at<uint64_t>(img->vp_contexts[0].bytes, 0xD0), layout::kPageTablesGpa);  // native cr3
  EXPECT_EQ(at<uint64_t>(img->vp_contexts[0].bytes, 0x20), layout::kStackTop);       // rsp
  ASSERT_EQ(img->parameter_areas.size(), 1u);
}

TEST(Image, LinuxNativeAndSnp) {
  Manifest m = parse(R"(
[platform.native]
[platform.snp]
[memory]
size = "256M"
[linux]
kernel = "bz"
initrd = "rd"
cmdline = "console=ttyS0"
)");
  testing::MemoryFiles files;
  files.add("/m/bz", testing::makeBzImage({}));
  files.add("/m/rd", ByteVector(0x1800, std::byte{0x11}));
  Result<Image> img = layoutImage(m, files.reader());
  ASSERT_TRUE(img.ok()) << img.error().describe();
  EXPECT_EQ(img->entry, 0x100'0200u);  // pref_address + 0x200
  const Region& common = img->regions[0];
  EXPECT_EQ(pageAt(common, 0x100'0000)->bytes[0], std::byte{1});  // kernel pattern
  EXPECT_EQ(pageAt(common, 0x140'1000)->bytes[0x7FF], std::byte{0x11});  // initrd end
  EXPECT_EQ(std::memcmp(pageAt(common, layout::kCommandLineGpa)->bytes.data(), "console=ttyS0", 14), 0);

  const Region* zp = find(*img, "zero page");
  const Region* zp_snp = find(*img, "zero page (snp)");
  ASSERT_TRUE(zp && zp_snp);
  EXPECT_EQ(zp->platforms, PlatformList{Platform::kNative});
  EXPECT_EQ(at<uint32_t>(zp->pages[0].bytes, 0x218), 0x140'0000u);  // ramdisk_image
  EXPECT_EQ(at<uint32_t>(zp->pages[0].bytes, 0x21C), 0x1800u);
  EXPECT_EQ(at<uint32_t>(zp->pages[0].bytes, 0x13C), 0u);
  EXPECT_EQ(at<uint32_t>(zp_snp->pages[0].bytes, 0x13C), layout::kSnpCcBlobGpa);
  // Native Linux gets ACPI (the loader's MADT through the builder's RSDP + XSDT); SNP does not.
  EXPECT_EQ(at<uint64_t>(zp->pages[0].bytes, 0x070), layout::kAcpiRootGpa);  // acpi_rsdp_addr
  EXPECT_EQ(at<uint64_t>(zp_snp->pages[0].bytes, 0x070), 0u);
  const Region* acpi = find(*img, "acpi rsdp + xsdt");
  ASSERT_NE(acpi, nullptr);
  EXPECT_EQ(acpi->platforms, PlatformList{Platform::kNative});
  EXPECT_EQ(acpi->pages[0].gpa, layout::kAcpiRootGpa);
  ASSERT_EQ(img->parameter_areas.size(), 1u);
  EXPECT_EQ(img->parameter_areas[0].gpa, layout::kAcpiMadtGpa);
  EXPECT_EQ(img->parameter_areas[0].platforms, PlatformList{Platform::kNative});
  ASSERT_EQ(img->parameter_areas[0].parameters.size(), 1u);
  EXPECT_EQ(img->parameter_areas[0].parameters[0].kind, ParameterKind::kMadt);
  const Region* secrets = find(*img, "snp secrets page");
  ASSERT_NE(secrets, nullptr);
  EXPECT_EQ(secrets->type, PageDataType::kSecrets);
  EXPECT_EQ(find(*img, "snp cpuid page")->type, PageDataType::kCpuid);

  ASSERT_EQ(img->vp_contexts.size(), 2u);
  EXPECT_EQ(at<uint64_t>(img->vp_contexts[0].bytes, 0x30), layout::kBootParamsGpa);  // rsi
  EXPECT_EQ(at<uint64_t>(img->vp_contexts[1].bytes, 0x330), layout::kBootParamsGpa);  // vmsa rsi
}

// An uncompressed ELF vmlinux: segments at p_paddr (p_vaddr in the kernel's high mapping), entry
// e_entry, and a synthesized setup header in the zero page.
TEST(Image, LinuxElfVmlinux) {
  Manifest m = parse(R"(
[platform.native]
[platform.snp]
[memory]
size = "256M"
[linux]
kernel = "vmlinux"
initrd = "rd"
cmdline = "console=ttyS0"
)");
  testing::ElfSpec e;
  e.entry = 0x100'0000;
  e.segments.push_back({1, 5, 0x100'0000, 0xFFFF'FFFF'8100'0000, ByteVector(0x1800, std::byte{0xC3}), 0x1800});
  e.segments.push_back({1, 6, 0x130'0000, 0xFFFF'FFFF'8130'0000, ByteVector(0x10, std::byte{0x77}), 0x5'0000});
  testing::MemoryFiles files;
  files.add("/m/vmlinux", makeElf(e));
  files.add("/m/rd", ByteVector(0x1800, std::byte{0x11}));
  Result<Image> img = layoutImage(m, files.reader());
  ASSERT_TRUE(img.ok()) << img.error().describe();
  EXPECT_EQ(img->entry, 0x100'0000u);  // e_entry itself, not + 0x200
  const Region& common = img->regions[0];
  EXPECT_EQ(pageAt(common, 0x100'1000)->bytes[0x7FF], std::byte{0xC3});
  EXPECT_EQ(pageAt(common, 0x130'0000)->bytes[0xF], std::byte{0x77});
  EXPECT_NE(pageAt(common, 0x134'F000), nullptr);  // .bss claimed as zeros
  const Region* zp = find(*img, "zero page");
  ASSERT_NE(zp, nullptr);
  const ByteVector& p = zp->pages[0].bytes;
  EXPECT_EQ(at<uint16_t>(p, 0x1FE), 0xAA55);
  EXPECT_EQ(at<uint32_t>(p, 0x202), 0x53726448u);  // "HdrS"
  EXPECT_EQ(at<uint16_t>(p, 0x206), 0x020F);
  EXPECT_EQ(at<uint8_t>(p, 0x210), 0xFF);
  EXPECT_EQ(at<uint8_t>(p, 0x211), 1);  // LOADED_HIGH
  EXPECT_EQ(at<uint16_t>(p, 0x236), 1);  // XLF_KERNEL_64
  EXPECT_EQ(at<uint32_t>(p, 0x238), 2047u);
  EXPECT_EQ(at<uint32_t>(p, 0x228), layout::kCommandLineGpa);
  // init_size = the segments' span; the initrd goes at the next 2 MiB boundary after it.
  EXPECT_EQ(at<uint32_t>(p, 0x260), 0x35'0000u);
  EXPECT_EQ(at<uint32_t>(p, 0x218), 0x140'0000u);
  EXPECT_EQ(at<uint32_t>(p, 0x21C), 0x1800u);
  ASSERT_EQ(img->vp_contexts.size(), 2u);
  EXPECT_EQ(at<uint64_t>(img->vp_contexts[1].bytes, 0x178), 0x100'0000u);  // vmsa rip

  // load_address cannot move an ELF kernel.
  Manifest moved = parse("[platform.native]\n[memory]\nsize = \"256M\"\n[linux]\n"
                         "kernel = \"vmlinux\"\nload_address = \"32M\"\n");
  Result<Image> bad = layoutImage(moved, files.reader());
  ASSERT_THAT(bad, HasRule("image.placement"));
  // Payloads still need p_vaddr == p_paddr.
  Manifest payload = parse("[platform.native]\n[memory]\nsize = \"256M\"\n[payload]\nelf = \"vmlinux\"\n");
  EXPECT_THAT(layoutImage(payload, files.reader()), HasRule("elf.unsupported"));
}

TEST(Image, FirmwareEndsAtFourGiBAndHasNoVpContext) {
  // Native only: with [platform.tdx] the image must be a TDVF (builder/firmware_test.cc).
  Manifest m = parse("[platform.native]\n[memory]\nsize=\"64M\"\n[firmware]\nimage=\"fw\"\n");
  testing::MemoryFiles files;
  ByteVector fw(0x2800, std::byte{0xAB});
  files.add("/m/fw", fw);
  Result<Image> img = layoutImage(m, files.reader());
  ASSERT_TRUE(img.ok()) << img.error().describe();
  ASSERT_EQ(img->regions.size(), 1u);
  const Region& r = img->regions[0];
  ASSERT_EQ(r.pages.size(), 3u);  // padded to a page multiple
  EXPECT_EQ(r.pages[0].gpa, 0xFFFF'D000u);
  EXPECT_EQ(r.pages[2].bytes[0x7FF], std::byte{0xAB});
  EXPECT_EQ(r.pages[2].bytes[0x800], std::byte{0});
  EXPECT_TRUE(img->vp_contexts.empty());
}

TEST(Image, DataBlobsKeepTheirAttributes) {
  Manifest m = parse(R"(
[platform.snp]
[memory]
size = "64M"
[payload]
elf = "probe"
[[data]]
file = "blob"
gpa = 0x20_0000
size = 0x2000
unmeasured = true
[[data]]
gpa = 0x30_0000
size = 0x1000
type = "secrets"
)");
  testing::MemoryFiles files;
  files.add("/m/probe", testing::smallPayloadElf());
  files.add("/m/blob", ByteVector(0x10, std::byte{0xEE}));
  Result<Image> img = layoutImage(m, files.reader());
  ASSERT_TRUE(img.ok()) << img.error().describe();
  const Region* blob = find(*img, "data #0");
  ASSERT_NE(blob, nullptr);
  EXPECT_TRUE(blob->unmeasured);
  ASSERT_EQ(blob->pages.size(), 2u);
  EXPECT_EQ(blob->pages[0].bytes[0xF], std::byte{0xEE});
  EXPECT_TRUE(blob->pages[1].bytes.empty());
  EXPECT_EQ(find(*img, "data #1")->type, PageDataType::kSecrets);
}

TEST(Image, Rejects) {
  testing::MemoryFiles files;
  files.add("/m/probe", testing::smallPayloadElf());
  files.add("/m/big", ByteVector(0x2000, std::byte{1}));
  // The payload needs RAM.
  Manifest small = parse("[platform.native]\n[memory]\nsize=\"1M\"\n[payload]\nelf=\"probe\"\n");
  Result<Image> r = layoutImage(small, files.reader());
  ASSERT_THAT(r, HasRule("image.placement"));
  EXPECT_EQ(r.error().message, "payload segment 0 at [0x100000, 0x100020) is not inside RAM");
  // A blob on top of the payload.
  Manifest clash = parse(
      "[platform.native]\n[memory]\nsize=\"4M\"\n[payload]\nelf=\"probe\"\n"
      "[[data]]\ngpa=0x102000\nsize=0x1000\n");
  r = layoutImage(clash, files.reader());
  ASSERT_THAT(r, HasRule("pages.overlap"));
  // A file larger than its declared size.
  Manifest over = parse(
      "[platform.native]\n[memory]\nsize=\"4M\"\n[payload]\nelf=\"probe\"\n"
      "[[data]]\nfile=\"big\"\ngpa=0x200000\nsize=0x1000\n");
  r = layoutImage(over, files.reader());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "data #0: file of 0x2000 bytes exceeds size 0x1000");
  // A missing file is unreadable, not invalid.
  Manifest missing = parse("[platform.native]\n[memory]\nsize=\"4M\"\n[payload]\nelf=\"nope\"\n");
  r = layoutImage(missing, files.reader());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kUnreadable);
  // TDX with an identity map that misses its own trampoline page.
  Manifest short_map = parse(
      "[platform.tdx]\n[memory]\nsize=\"4M\"\n[payload]\nelf=\"probe\"\n[vp]\nidentity_map_size=\"1G\"\n");
  r = layoutImage(short_map, files.reader());
  ASSERT_THAT(r, HasRule("tdx_reset.state"));
}

}  // namespace
}  // namespace igvmkit::builder
