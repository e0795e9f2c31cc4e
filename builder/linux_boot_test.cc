#include "builder/linux_boot.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/testing/matchers.h"
#include "builder/testing/test_images.h"

namespace igvmkit::builder {
namespace {

using ::igvmkit::testing::HasRule;

template <class T>
T at(const ByteVector& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

MemoryLayout pcLayout() {
  MemoryLayout m;
  m.ram = {{0, 0xC000'0000}, {0x1'0000'0000, 0x4000'0000}};
  m.mmio = {{0xC000'0000, 0x4000'0000}};
  return m;
}

TEST(E820, LegacyHoleReservedMmioLeftOut) {
  Result<std::vector<E820Entry>> e820 = e820FromLayout(pcLayout());
  ASSERT_TRUE(e820.ok());
  const std::vector<E820Entry> want = {
      {0, 0xA'0000, kE820Ram},
      {0xA'0000, 0x6'0000, kE820Reserved},
      {0x10'0000, 0xC000'0000 - 0x10'0000, kE820Ram},
      {0x1'0000'0000, 0x4000'0000, kE820Ram},
  };
  EXPECT_EQ(*e820, want);
}

TEST(E820, RangesThatMissTheHole) {
  MemoryLayout small;
  small.ram = {{0, 0x8'0000}, {0x20'0000, 0x10'0000}};
  EXPECT_EQ(*e820FromLayout(small),
            (std::vector<E820Entry>{{0, 0x8'0000, kE820Ram}, {0x20'0000, 0x10'0000, kE820Ram}}));
  MemoryLayout inside;
  inside.ram = {{0xB'0000, 0x1'0000}};
  EXPECT_EQ(*e820FromLayout(inside), (std::vector<E820Entry>{{0xB'0000, 0x1'0000, kE820Reserved}}));
  MemoryLayout many;
  for (uint64_t i = 0; i < 130; ++i) {
    many.ram.push_back({0x100'0000 + i * 0x2000, 0x1000});
  }
  Result<std::vector<E820Entry>> r = e820FromLayout(many);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, HasRule("linux.e820"));
}

// BzImage views its file: callers keep the file alive as long as the image.
BzImage image(const ByteVector& file) {
  Result<BzImage> img = parseBzImage(file);
  EXPECT_TRUE(img.ok());
  return *img;
}

TEST(BootParams, FieldsTheProtocolAsksFor) {
  ByteVector file = testing::makeBzImage({});
  BzImage img = image(file);
  BootParamsInput in;
  in.load_address = 0x100'0000;
  in.initrd_gpa = 0x1'4000'0000;  // above 4 GiB: the ext_ fields carry the high half
  in.initrd_size = 0x1'2345'6000;
  in.e820 = *e820FromLayout(pcLayout());
  in.cc_blob_gpa = layout::kSnpCcBlobGpa;
  Result<ByteVector> zp = makeBootParams(img, in);
  ASSERT_TRUE(zp.ok()) << zp.error().describe();
  const ByteVector& p = *zp;
  ASSERT_EQ(p.size(), 4096u);
  // The header is the image's, byte for byte, except the fields the loader writes.
  EXPECT_EQ(at<uint16_t>(p, 0x1FE), 0xAA55);
  EXPECT_EQ(at<uint32_t>(p, 0x202), 0x53726448u);
  EXPECT_EQ(at<uint16_t>(p, 0x206), 0x020F);
  EXPECT_EQ(at<uint64_t>(p, 0x258), 0x100'0000u);  // pref_address
  EXPECT_EQ(at<uint32_t>(p, 0x260), 0x40'0000u);   // init_size
  EXPECT_EQ(at<uint8_t>(p, 0x210), 0xFF);          // type_of_loader
  EXPECT_EQ(at<uint32_t>(p, 0x214), 0x100'0000u);  // code32_start
  EXPECT_EQ(at<uint32_t>(p, 0x228), 0x3000u);      // cmd_line_ptr
  EXPECT_EQ(at<uint32_t>(p, 0x0C8), 0u);           // ext_cmd_line_ptr
  EXPECT_EQ(at<uint32_t>(p, 0x218), 0x4000'0000u);  // ramdisk_image (low half)
  EXPECT_EQ(at<uint32_t>(p, 0x0C0), 1u);            // ext_ramdisk_image
  EXPECT_EQ(at<uint32_t>(p, 0x21C), 0x2345'6000u);  // ramdisk_size (low half)
  EXPECT_EQ(at<uint32_t>(p, 0x0C4), 1u);            // ext_ramdisk_size
  EXPECT_EQ(at<uint32_t>(p, 0x13C), 0x7000u);       // cc_blob_address
  EXPECT_EQ(at<uint8_t>(p, 0x1E8), 4);              // e820_entries
  EXPECT_EQ(at<uint64_t>(p, 0x2D0 + 20 * 1), 0xA'0000u);
  EXPECT_EQ(at<uint64_t>(p, 0x2D0 + 20 * 1 + 8), 0x6'0000u);
  EXPECT_EQ(at<uint32_t>(p, 0x2D0 + 20 * 1 + 16), 2u);
  EXPECT_EQ(at<uint64_t>(p, 0x2D0 + 20 * 3), 0x1'0000'0000u);
  EXPECT_EQ(at<uint32_t>(p, 0x2D0 + 20 * 3 + 16), 1u);
  EXPECT_TRUE(allZero(Bytes(p).subspan(0x2D0 + 20 * 4)));
  // Bytes of the header the loader does not own are copied unchanged.
  for (size_t off = 0x1F1; off < 0x26C; ++off) {
    const bool written = (off >= 0x210 && off < 0x211) || (off >= 0x214 && off < 0x220) ||
                         (off >= 0x228 && off < 0x22C);
    if (!written) {
      EXPECT_EQ(p[off], file[off]) << hex(off);
    }
  }
  // Nothing before the header but the fields above; the sentinel at 0x1EF is zero.
  EXPECT_EQ(at<uint8_t>(p, 0x1EF), 0);
  EXPECT_TRUE(allZero(Bytes(p).subspan(0, 0xC0)));
}

TEST(BootParams, NoInitrdMeansZeroFields) {
  ByteVector file_img = testing::makeBzImage({});
  BzImage img = image(file_img);
  BootParamsInput in;
  in.load_address = 0x100'0000;
  Result<ByteVector> zp = makeBootParams(img, in);
  ASSERT_TRUE(zp.ok());
  EXPECT_EQ(at<uint32_t>(*zp, 0x218), 0u);
  EXPECT_EQ(at<uint32_t>(*zp, 0x21C), 0u);
  EXPECT_EQ(at<uint8_t>(*zp, 0x1E8), 0);
}

TEST(Placement, InitrdAfterTheKernel) {
  ByteVector file_img = testing::makeBzImage({});
  BzImage img = image(file_img);
  MemoryLayout mem = pcLayout();
  // pref 16 MiB + init_size 4 MiB = 20 MiB, already 2 MiB aligned.
  EXPECT_EQ(*placeInitrd(img, 0x100'0000, 0x1000, mem), 0x140'0000u);
  testing::BzImageSpec spec;
  spec.init_size = 0x41'0000;
  ByteVector file_odd = testing::makeBzImage(spec);
  BzImage odd = image(file_odd);
  EXPECT_EQ(*placeInitrd(odd, 0x100'0000, 0x1000, mem), 0x160'0000u);
  // A kernel relocated above pref_address moves the initrd with it.
  EXPECT_EQ(*placeInitrd(img, 0x400'0000, 0x1000, mem), 0x440'0000u);

  MemoryLayout small;
  small.ram = {{0, 0x180'0000}};
  Result<uint64_t> no_room = placeInitrd(img, 0x100'0000, 0x50'0000, small);
  ASSERT_FALSE(no_room.ok());
  EXPECT_THAT(no_room, HasRule("linux.placement"));
  EXPECT_EQ(no_room.error().message, "initrd at [0x1400000, 0x1900000) is not inside RAM");

  spec = {};
  spec.xloadflags = 0x1;  // not loadable above 4 GiB
  spec.initrd_addr_max = 0x1FF'FFFF;
  ByteVector file_capped = testing::makeBzImage(spec);
  BzImage capped = image(file_capped);
  EXPECT_TRUE(placeInitrd(capped, 0x100'0000, 0xC0'0000, mem).ok());
  Result<uint64_t> over = placeInitrd(capped, 0x100'0000, 0xC0'1000, mem);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message,
            "initrd at [0x1400000, 0x2001000) ends above the kernel's initrd_addr_max 0x1ffffff");
  EXPECT_FALSE(placeInitrd(img, 0x100'0000, 0, mem).ok());
}

TEST(Placement, KernelMustFitRam) {
  ByteVector file_img = testing::makeBzImage({});
  BzImage img = image(file_img);
  EXPECT_TRUE(checkKernelPlacement(img, 0x100'0000, pcLayout()).ok());
  MemoryLayout small;
  small.ram = {{0, 0x120'0000}};
  Status s = checkKernelPlacement(img, 0x100'0000, small);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "the kernel needs RAM at [0x1000000, 0x1400000) (init_size 0x400000)");
  EXPECT_FALSE(checkKernelPlacement(img, 0x8'0000, pcLayout()).ok());
}

TEST(CommandLine, NulTerminatedAndBounded) {
  testing::BzImageSpec spec;
  spec.cmdline_size = 16;
  ByteVector file_img = testing::makeBzImage(spec);
  BzImage img = image(file_img);
  Result<ByteVector> cl = makeCommandLine(img, "console=ttyS0");
  ASSERT_TRUE(cl.ok());
  ASSERT_EQ(cl->size(), 14u);
  EXPECT_EQ(cl->back(), std::byte{0});
  EXPECT_EQ(std::memcmp(cl->data(), "console=ttyS0", 13), 0);
  EXPECT_TRUE(makeCommandLine(img, std::string(16, 'x')).ok());
  Result<ByteVector> too_long = makeCommandLine(img, std::string(17, 'x'));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().message, "command line of 17 bytes exceeds the kernel's cmdline_size 16");
  EXPECT_FALSE(makeCommandLine(img, std::string("a\0b", 3)).ok());
}

TEST(CcBlob, Layout) {
  ByteVector p = makeCcBlobPage(layout::kSnpSecretsGpa, layout::kSnpCpuidGpa);
  ASSERT_EQ(p.size(), 4096u);
  EXPECT_EQ(std::memcmp(p.data(), "AMDE", 4), 0);  // 0x45444D41 little endian
  EXPECT_EQ(at<uint16_t>(p, 4), 1);
  EXPECT_EQ(at<uint64_t>(p, 8), 0x5000u);
  EXPECT_EQ(at<uint32_t>(p, 16), 0x1000u);
  EXPECT_EQ(at<uint64_t>(p, 24), 0x6000u);
  EXPECT_EQ(at<uint32_t>(p, 32), 0x1000u);
  EXPECT_TRUE(allZero(Bytes(p).subspan(40)));
}

// ACPI 6.5 §5.2.5.3 (RSDP) and §5.2.8 (XSDT): signatures, lengths, the pointer chain to the MADT,
// and checksums that make each structure's bytes sum to zero.
TEST(Acpi, RootPageLeadsToTheMadt) {
  const ByteVector page = makeAcpiRootPage(0x8000, 0x9000);
  ASSERT_EQ(page.size(), 0x1000u);
  auto sum = [&](size_t begin, size_t end) {
    uint8_t s = 0;
    for (size_t i = begin; i < end; ++i) {
      s = static_cast<uint8_t>(s + static_cast<uint8_t>(page[i]));
    }
    return s;
  };
  EXPECT_EQ(std::memcmp(page.data(), "RSD PTR ", 8), 0);
  EXPECT_EQ(at<uint8_t>(page, 15), 2);  // revision 2: the XSDT address is valid
  EXPECT_EQ(at<uint32_t>(page, 20), 36u);
  EXPECT_EQ(at<uint64_t>(page, 24), 0x8000u + kAcpiXsdtOffset);
  EXPECT_EQ(sum(0, 20), 0);
  EXPECT_EQ(sum(0, 36), 0);
  const size_t x = kAcpiXsdtOffset;
  EXPECT_EQ(std::memcmp(page.data() + x, "XSDT", 4), 0);
  EXPECT_EQ(at<uint32_t>(page, x + 4), 44u);  // header + one entry
  EXPECT_EQ(at<uint64_t>(page, x + 36), 0x9000u);
  EXPECT_EQ(sum(x, x + 44), 0);
}

TEST(BootParams, AcpiRsdpAddress) {
  const ByteVector file = testing::makeBzImage({});
  BzImage img = parseBzImage(file).value();
  Result<ByteVector> zp = makeBootParams(img, {.load_address = 0x100'0000, .acpi_rsdp_gpa = 0x8000});
  ASSERT_TRUE(zp.ok()) << zp.error().describe();
  EXPECT_EQ(at<uint64_t>(*zp, boot_params::kAcpiRsdpAddr), 0x8000u);
}

}  // namespace
}  // namespace igvmkit::builder
