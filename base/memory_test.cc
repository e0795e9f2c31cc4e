#include "base/memory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>

namespace igvmkit {
namespace {

constexpr size_t kHuge = size_t{2} << 20;

// The VmFlags line of the mapping holding `p` in /proc/self/smaps ("" when not found).
std::string vmFlagsOf(const void* p) {
  const auto addr = reinterpret_cast<uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= addr && addr < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

TEST(HugeVector, BigStorageIsAlignedAndAdvisedForHugePages) {
  HugeVector<uint64_t> v(kHuge / sizeof(uint64_t) + 1);  // just over 2 MiB
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % kHuge, 0u);
  const std::string flags = vmFlagsOf(v.data());
  ASSERT_FALSE(flags.empty()) << "no mapping in /proc/self/smaps holds the vector";
  EXPECT_NE(flags.find(" hg"), std::string::npos) << flags;  // VM_HUGEPAGE
  // The whole rounded-up block is usable, and the vector's elements are value-initialised.
  EXPECT_EQ(v.front(), 0u);
  EXPECT_EQ(v.back(), 0u);
}

TEST(HugeVector, SmallStorageComesFromTheHeap) {
  HugeVector<uint64_t> v(1000);
  EXPECT_EQ(vmFlagsOf(v.data()).find(" hg"), std::string::npos);
}

TEST(HugeVector, KeepsItsContentsWhileGrowingAcrossTheThreshold) {
  HugeVector<uint32_t> v;
  for (uint32_t i = 0; i < 3 * kHuge / sizeof(uint32_t); ++i) {
    v.push_back(i);
  }
  std::vector<uint32_t> want(v.size());
  std::iota(want.begin(), want.end(), 0u);
  EXPECT_TRUE(std::equal(v.begin(), v.end(), want.begin()));
  v.resize(10);
  v.shrink_to_fit();  // back below the threshold: from the heap again
  EXPECT_EQ(v.size(), 10u);
  EXPECT_EQ(v[9], 9u);
}

TEST(HugeVector, RefusesASizeNoMachineHas) {
  HugePageAllocator<std::byte> a;
  EXPECT_THROW((void)a.allocate(a.max_size() + 1), std::bad_array_new_length);
}

}  // namespace
}  // namespace igvmkit
