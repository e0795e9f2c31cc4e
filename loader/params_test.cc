#include "loader/params.h"

#include <gtest/gtest.h>

extern "C" {
#include <libfdt.h>
}

#include <cstring>
#include <string>

#include "base/testing/matchers.h"

namespace igvmkit::loader {
namespace {

using ::igvmkit::testing::HasRule;

std::vector<IGVM_VHS_MEMORY_MAP_ENTRY> entries(const ByteVector& bytes) {
  std::vector<IGVM_VHS_MEMORY_MAP_ENTRY> out;
  for (size_t off = 0; off + 24 <= bytes.size(); off += 24) {
    out.push_back(*readStruct<IGVM_VHS_MEMORY_MAP_ENTRY>(bytes, off));
  }
  return out;
}

TEST(MemoryMap, RamAroundTheGapThenTerminator) {
  VmConfig c;
  c.memory_size = 4ull << 30;
  Result<ByteVector> map = memoryMap(c, {}, 0x1000);
  ASSERT_TRUE(map.ok()) << map.error().describe();
  auto e = entries(*map);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].starting_gpa_page_number, 0u);
  EXPECT_EQ(e[0].number_of_pages, 0xC0000u);
  EXPECT_EQ(e[0].entry_type, kMemoryMapMemory);
  EXPECT_EQ(e[1].starting_gpa_page_number, 0x100000u);  // 4 GiB
  EXPECT_EQ(e[1].number_of_pages, 0x40000u);
  EXPECT_EQ(e[2].number_of_pages, 0u);  // terminator
  EXPECT_EQ(e[2].starting_gpa_page_number, 0u);
  for (const auto& x : e) {
    EXPECT_EQ(x.flags, 0);
    EXPECT_EQ(x.reserved, 0u);
  }
}

TEST(MemoryMap, ReservedRangesAreCutOutAndSorted) {
  VmConfig c;
  c.memory_size = 0x1000000;
  const GpaRange reserved[] = {{0x800000, 0x2000}, {0x100000, 0x1000}};
  auto map = memoryMap(c, reserved, 0x1000);
  ASSERT_TRUE(map.ok());
  auto e = entries(*map);
  ASSERT_EQ(e.size(), 6u);
  const uint64_t starts[] = {0x0, 0x100, 0x101, 0x800, 0x802};
  const uint64_t counts[] = {0x100, 0x1, 0x6FF, 0x2, 0x7FE};
  const uint16_t types[] = {kMemoryMapMemory, kMemoryMapPlatformReserved, kMemoryMapMemory,
                            kMemoryMapPlatformReserved, kMemoryMapMemory};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(e[i].starting_gpa_page_number, starts[i]) << i;
    EXPECT_EQ(e[i].number_of_pages, counts[i]) << i;
    EXPECT_EQ(e[i].entry_type, types[i]) << i;
  }
  EXPECT_EQ(e[5].number_of_pages, 0u);
}

TEST(MemoryMap, RefusesAnAreaTooSmall) {
  VmConfig c;
  c.memory_size = 4ull << 30;
  Result<ByteVector> map = memoryMap(c, {}, 48);  // 3 entries need 72 bytes
  ASSERT_FALSE(map.ok());
  EXPECT_THAT(map, HasRule("params.memory_map_size"));
  EXPECT_EQ(map.error().message, "memory map needs 0x48 bytes but the area has 0x30");
  const GpaRange bad[] = {{0x100800, 0x1000}};
  EXPECT_THAT(memoryMap(c, bad, 0x1000), HasRule("params.reserved_range"));
}

TEST(Params, VpCountAndEnvironmentInfo) {
  VmConfig c;
  c.vcpus = 3;
  EXPECT_EQ(vpCount(c), (ByteVector{std::byte{3}, std::byte{0}, std::byte{0}, std::byte{0}}));
  EXPECT_EQ(environmentInfo(true),
            (ByteVector{std::byte{1}, std::byte{0}, std::byte{0}, std::byte{0}}));
  EXPECT_EQ(environmentInfo(false), ByteVector(4, std::byte{0}));
}

TEST(Params, CommandLineIsNulTerminatedAndBounded) {
  auto cl = commandLine("console=ttyS0", 64);
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->size(), 14u);
  EXPECT_EQ(cl->back(), std::byte{0});
  EXPECT_EQ(std::memcmp(cl->data(), "console=ttyS0", 13), 0);
  EXPECT_TRUE(commandLine("abc", 4).ok());
  Result<ByteVector> too_long = commandLine("abcd", 4);
  ASSERT_FALSE(too_long.ok());
  EXPECT_THAT(too_long, HasRule("params.cmdline_size"));
  Result<ByteVector> nul = commandLine(std::string_view("a\0b", 3), 64);
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().message, "command line has a nul byte at offset 0x1");
}

TEST(Params, WriteParameterChecksBounds) {
  ByteVector area(0x1000);
  ByteVector v(8, std::byte{0xAA});
  ASSERT_TRUE(writeParameter(area, 0xFF8, v).ok());
  EXPECT_EQ(area[0xFF8], std::byte{0xAA});
  EXPECT_EQ(area[0xFF7], std::byte{0});
  Status s = writeParameter(area, 0xFF9, v);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "parameter of 0x8 bytes at offset 0xff9 does not fit the area of 0x1000 bytes");
  EXPECT_FALSE(writeParameter(area, UINT64_MAX, v).ok());
}

TEST(Madt, ChecksumHeaderAndEntries) {
  VmConfig c;
  c.vcpus = 4;
  Result<ByteVector> t = madt(c);
  ASSERT_TRUE(t.ok());
  const ByteVector& b = *t;
  ASSERT_GE(b.size(), 44u);
  EXPECT_EQ(std::memcmp(b.data(), "APIC", 4), 0);
  uint32_t length = *readStruct<uint32_t>(b, 4);
  EXPECT_EQ(length, b.size());
  uint8_t sum = 0;
  for (std::byte x : b) {
    sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(x));
  }
  EXPECT_EQ(sum, 0);
  EXPECT_EQ(*readStruct<uint32_t>(b, 36), kLocalApicAddress);
  EXPECT_EQ(*readStruct<uint32_t>(b, 40), 1u);
  // Walk the interrupt controller structures.
  size_t off = 44;
  int lapics = 0, ioapics = 0, overrides = 0;
  while (off < b.size()) {
    uint8_t type = static_cast<uint8_t>(b[off]);
    uint8_t len = static_cast<uint8_t>(b[off + 1]);
    ASSERT_GE(len, 2);
    ASSERT_LE(off + len, b.size());
    if (type == 0) {
      EXPECT_EQ(len, 8);
      EXPECT_EQ(static_cast<uint8_t>(b[off + 2]), lapics);  // UID
      EXPECT_EQ(static_cast<uint8_t>(b[off + 3]), lapics);  // APIC ID
      EXPECT_EQ(*readStruct<uint32_t>(b, off + 4), 1u);     // enabled
      ++lapics;
    } else if (type == 1) {
      EXPECT_EQ(len, 12);
      EXPECT_EQ(*readStruct<uint32_t>(b, off + 4), kIoApicAddress);
      EXPECT_EQ(*readStruct<uint32_t>(b, off + 8), 0u);
      ++ioapics;
    } else if (type == 2) {
      ++overrides;
    }
    off += len;
  }
  EXPECT_EQ(off, b.size());
  EXPECT_EQ(lapics, 4);
  EXPECT_EQ(ioapics, 1);
  // ISA IRQs identity-mapped, as KVM's default GSI routing delivers them (params.cc).
  EXPECT_EQ(overrides, 0);
  c.vcpus = 0;
  EXPECT_FALSE(madt(c).ok());
  c.vcpus = 254;
  EXPECT_THAT(madt(c), HasRule("params.madt_vcpus"));
}

TEST(DeviceTree, ReadsBackWithLibfdt) {
  VmConfig c;
  c.memory_size = 4ull << 30;
  c.vcpus = 2;
  c.cmdline = "console=ttyS0 panic=1";
  Result<ByteVector> dtb = deviceTree(c);
  ASSERT_TRUE(dtb.ok()) << dtb.error().describe();
  const void* fdt = dtb->data();
  ASSERT_EQ(fdt_check_header(fdt), 0);
  EXPECT_EQ(fdt_totalsize(fdt), dtb->size());
  int chosen = fdt_path_offset(fdt, "/chosen");
  ASSERT_GE(chosen, 0);
  int len = 0;
  const char* bootargs = static_cast<const char*>(fdt_getprop(fdt, chosen, "bootargs", &len));
  ASSERT_NE(bootargs, nullptr);
  EXPECT_STREQ(bootargs, "console=ttyS0 panic=1");
  int cpus = fdt_path_offset(fdt, "/cpus");
  ASSERT_GE(cpus, 0);
  int n = 0;
  int node;
  fdt_for_each_subnode(node, fdt, cpus) {
    const void* reg = fdt_getprop(fdt, node, "reg", &len);
    ASSERT_NE(reg, nullptr);
    EXPECT_EQ(fdt32_ld(static_cast<const fdt32_t*>(reg)), static_cast<uint32_t>(n));
    ++n;
  }
  EXPECT_EQ(n, 2);
  const char* paths[] = {"/memory@0", "/memory@100000000"};
  const uint64_t expect[2][2] = {{0, 0xC0000000}, {0x100000000, 0x40000000}};
  for (int i = 0; i < 2; ++i) {
    int mem = fdt_path_offset(fdt, paths[i]);
    ASSERT_GE(mem, 0) << paths[i];
    const void* reg = fdt_getprop(fdt, mem, "reg", &len);
    ASSERT_EQ(len, 16);
    fdt64_t cells[2];
    std::memcpy(cells, reg, sizeof(cells));  // properties are only 4-byte aligned
    EXPECT_EQ(fdt64_to_cpu(cells[0]), expect[i][0]);
    EXPECT_EQ(fdt64_to_cpu(cells[1]), expect[i][1]);
    const char* type = static_cast<const char*>(fdt_getprop(fdt, mem, "device_type", &len));
    EXPECT_STREQ(type, "memory");
    const void* igvm = fdt_getprop(fdt, mem, "microsoft,igvm-type", &len);
    ASSERT_NE(igvm, nullptr);
    EXPECT_EQ(fdt32_ld(static_cast<const fdt32_t*>(igvm)), 0u);
  }
}

TEST(DeviceTree, GrowsItsBufferForLargeInputs) {
  VmConfig c;
  c.vcpus = 200;
  c.cmdline = std::string(20000, 'x');
  Result<ByteVector> dtb = deviceTree(c);
  ASSERT_TRUE(dtb.ok()) << dtb.error().describe();
  ASSERT_EQ(fdt_check_header(dtb->data()), 0);
  EXPECT_GE(fdt_path_offset(dtb->data(), "/cpus/cpu@199"), 0);
  int len = 0;
  fdt_getprop(dtb->data(), fdt_path_offset(dtb->data(), "/chosen"), "bootargs", &len);
  EXPECT_EQ(len, 20001);
  c.cmdline = std::string("a\0b", 3);
  EXPECT_THAT(deviceTree(c), HasRule("params.cmdline_nul"));
}

}  // namespace
}  // namespace igvmkit::loader
