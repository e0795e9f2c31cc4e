#include "builder/elf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "base/testing/matchers.h"
#include "builder/pages.h"
#include "builder/testing/test_images.h"

namespace igvmkit::builder {
namespace {

using ::igvmkit::testing::HasRule;

using testing::ElfSegmentSpec;
using testing::ElfSpec;
using testing::makeElf;

ByteVector bytesOf(size_t n, uint8_t seed) {
  ByteVector b(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = static_cast<std::byte>(seed + i);
  }
  return b;
}

// A payload as a linker lays it out: text, then data + bss, plus segments the loader skips.
ElfSpec goodSpec() {
  ElfSpec s;
  s.entry = 0x10'0010;
  s.segments.push_back({1, 6, 0x10'1000, 0x10'1000, bytesOf(0x10, 0x40), 0x2000});  // RW data+bss
  s.segments.push_back({1, 5, 0x10'0000, 0x10'0000, bytesOf(0x100, 0x90), 0x100});  // RX text
  s.segments.push_back({4, 4, 0, 0, bytesOf(8, 0), 8});                              // PT_NOTE
  s.segments.push_back({1, 4, 0x20'0000, 0x20'0000, {}, 0});                         // empty load
  return s;
}

TEST(Elf, LoadsSegmentsAtPhysicalAddresses) {
  ByteVector file = makeElf(goodSpec());
  Result<ElfImage> elf = parseElf(file);
  ASSERT_TRUE(elf.ok()) << elf.error().describe();
  EXPECT_EQ(elf->entry, 0x10'0010u);
  ASSERT_EQ(elf->segments.size(), 2u);  // sorted, note and empty load dropped
  const ElfSegment& text = elf->segments[0];
  EXPECT_EQ(text.gpa, 0x10'0000u);
  EXPECT_EQ(text.mem_size, 0x100u);
  EXPECT_TRUE(text.executable);
  EXPECT_FALSE(text.writable);
  ASSERT_EQ(text.data.size(), 0x100u);
  EXPECT_EQ(text.data[0], std::byte{0x90});
  const ElfSegment& data = elf->segments[1];
  EXPECT_EQ(data.gpa, 0x10'1000u);
  EXPECT_EQ(data.mem_size, 0x2000u);
  EXPECT_EQ(data.data.size(), 0x10u);
  EXPECT_TRUE(data.writable);
  EXPECT_EQ(data.data[1], std::byte{0x41});
}

struct RejectCase {
  const char* name;
  std::function<void(ElfSpec&)> mutate;
  const char* rule;
  const char* message;
};

TEST(Elf, RejectsWhatItCannotLoad) {
  const RejectCase cases[] = {
      {"class32", [](ElfSpec& s) { s.elf_class = 1; }, "elf.unsupported", nullptr},
      {"big_endian", [](ElfSpec& s) { s.data = 2; }, "elf.unsupported", nullptr},
      {"machine", [](ElfSpec& s) { s.machine = 183; }, "elf.unsupported",
       "machine 0xb7 is not x86-64 (0x3e)"},
      {"pie", [](ElfSpec& s) { s.type = 3; }, "elf.unsupported", nullptr},
      {"filesz", [](ElfSpec& s) { s.segments[1].mem_size = 0x80; }, "elf.segment",
       "segment 1: p_filesz 0x100 exceeds p_memsz 0x80"},
      {"huge", [](ElfSpec& s) { s.segments[0].mem_size = 0x4000'1000; }, "elf.segment",
       "segment 0: p_memsz 0x40001000 exceeds the limit 0x40000000"},
      {"wraps", [](ElfSpec& s) { s.segments[0].paddr = s.segments[0].vaddr = 0xFFFF'FFFF'FFFF'F000; },
       "elf.segment", nullptr},
      {"overlap", [](ElfSpec& s) { s.segments[0].paddr = s.segments[0].vaddr = 0x10'0080; },
       "elf.overlap", "segments at 0x100000 (+0x100) and 0x100080 overlap"},
      {"entry_outside", [](ElfSpec& s) { s.entry = 0x30'0000; }, "elf.entry",
       "entry point 0x300000 lies in no executable segment"},
      {"entry_in_data", [](ElfSpec& s) { s.entry = 0x10'1004; }, "elf.entry", nullptr},
      {"interp", [](ElfSpec& s) { s.segments[2].type = 3; }, "elf.unsupported",
       "segment 2 is PT_INTERP: the payload must be freestanding"},
      {"higher_half", [](ElfSpec& s) { s.segments[1].vaddr = 0xFFFF'FFFF'8010'0000; },
       "elf.unsupported", nullptr},
      {"no_segments", [](ElfSpec& s) { s.segments.clear(); }, "elf.segment", nullptr},
      {"only_empty", [](ElfSpec& s) { s.segments.resize(1); s.segments[0].mem_size = 0; s.segments[0].data.clear(); },
       "elf.segment", "no PT_LOAD segment with contents"},
  };
  for (const RejectCase& c : cases) {
    ElfSpec spec = goodSpec();
    c.mutate(spec);
    Result<ElfImage> elf = parseElf(makeElf(spec));
    ASSERT_THAT(elf, HasRule(c.rule)) << c.name;
    if (c.message != nullptr) {
      EXPECT_EQ(elf.error().message, c.message) << c.name;
    }
  }
}

TEST(Elf, BoundsChecksEveryOffset) {
  ByteVector file = makeElf(goodSpec());
  // Magic.
  ByteVector bad = file;
  bad[1] = std::byte{'X'};
  EXPECT_THAT(parseElf(bad), HasRule("elf.magic"));
  // Segment file bytes past the end: p_offset of program header 0.
  bad = file;
  uint64_t off = file.size() - 4;
  std::memcpy(bad.data() + 64 + 8, &off, 8);
  Result<ElfImage> r = parseElf(bad);
  ASSERT_THAT(r, HasRule("elf.truncated"));
  EXPECT_EQ(r.error().location->offset, 64u);
  // Program header table past the end, and one whose offset wraps.
  for (uint64_t phoff : {uint64_t{file.size() - 10}, ~uint64_t{0} - 8}) {
    bad = file;
    std::memcpy(bad.data() + 32, &phoff, 8);
    EXPECT_THAT(parseElf(bad), HasRule("elf.truncated")) << phoff;
  }
  // Every prefix that cuts into a loaded segment is rejected without reading past it (the last
  // 8 bytes are the PT_NOTE's, which the loader does not read).
  for (size_t n = 0; n < file.size() - 8; n += 7) {
    ByteVector cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(parseElf(cut).ok()) << n;
  }
}

TEST(PageSet, AssemblesSegmentsIntoPages) {
  const ByteVector file = makeElf(goodSpec());  // segments are views into it
  Result<ElfImage> elf = parseElf(file);
  ASSERT_TRUE(elf.ok());
  PageSet pages;
  for (const ElfSegment& s : elf->segments) {
    ASSERT_TRUE(pages.write(s.gpa, s.data, "segment").ok());
    ASSERT_TRUE(pages.zero(s.gpa + s.data.size(), s.mem_size - s.data.size(), "bss").ok());
  }
  std::vector<Page> out = pages.pages();
  ASSERT_EQ(out.size(), 3u);  // text page, data page, one bss-only page
  EXPECT_EQ(out[0].gpa, 0x10'0000u);
  ASSERT_EQ(out[0].bytes.size(), 4096u);
  EXPECT_EQ(out[0].bytes[0xFF], std::byte{0x8F});  // 0x90 + 0xFF wraps
  EXPECT_EQ(out[0].bytes[0x100], std::byte{0});
  EXPECT_EQ(out[1].gpa, 0x10'1000u);
  EXPECT_EQ(out[1].bytes[0xF], std::byte{0x4F});
  EXPECT_EQ(out[2].gpa, 0x10'2000u);
  EXPECT_TRUE(out[2].bytes.empty());  // zeros only: no data

  Status overlap = pages.write(0x10'1FF0, bytesOf(0x20, 0), "initrd");
  ASSERT_THAT(overlap, HasRule("pages.overlap"));
  EXPECT_EQ(overlap.error().message,
            "initrd at [0x101ff0, 0x102010) overlaps bss at [0x101010, 0x103000)");
  // Adjacent ranges sharing a page are fine, and the page merges both.
  ASSERT_TRUE(pages.write(0x10'0100, bytesOf(2, 0xAA), "tail").ok());
  EXPECT_EQ(pages.pages()[0].bytes[0x100], std::byte{0xAA});
  EXPECT_FALSE(pages.zero(~uint64_t{0} - 10, 20, "wrap").ok());
}

}  // namespace
}  // namespace igvmkit::builder
