#include "builder/bzimage.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <string>

#include "base/file.h"
#include "base/testing/matchers.h"
#include "builder/testing/test_images.h"

namespace igvmkit::builder {
namespace {

using ::igvmkit::testing::HasRule;

using testing::BzImageSpec;
using testing::makeBzImage;

TEST(BzImage, ParsesTheSetupHeader) {
  BzImageSpec spec;
  spec.setup_sects = 3;
  ByteVector file = makeBzImage(spec);
  Result<BzImage> img = parseBzImage(file);
  ASSERT_TRUE(img.ok()) << img.error().describe();
  EXPECT_EQ(img->version, 0x020F);
  EXPECT_EQ(img->setup_sects, 3);
  EXPECT_EQ(img->kernel_offset, 4u * 512);  // (setup_sects + 1) sectors
  EXPECT_EQ(img->kernel.size(), 0x3000u);
  EXPECT_EQ(img->kernel.data(), file.data() + 4 * 512);
  EXPECT_EQ(img->pref_address, 0x100'0000u);
  EXPECT_EQ(img->init_size, 0x40'0000u);
  EXPECT_EQ(img->kernel_alignment, 0x20'0000u);
  EXPECT_EQ(img->cmdline_size, 2047u);
  EXPECT_EQ(img->initrd_addr_max, 0x7FFF'FFFFu);
  EXPECT_EQ(img->relocatable_kernel, 1);
  EXPECT_EQ(img->xloadflags, 3);
  EXPECT_EQ(img->payload_offset, 0x100u);
  EXPECT_EQ(img->payload_length, 0x800u);
  // The header runs from 0x1F1 to 0x202 + the jump byte (0x6A).
  EXPECT_EQ(img->setup_header.size(), 0x26Cu - 0x1F1u);
  EXPECT_EQ(img->setup_header.data(), file.data() + 0x1F1);
}

TEST(BzImage, ZeroSetupSectsMeansFour) {
  BzImageSpec spec;
  spec.setup_sects = 0;
  Result<BzImage> img = parseBzImage(makeBzImage(spec));
  ASSERT_TRUE(img.ok()) << img.error().describe();
  EXPECT_EQ(img->kernel_offset, 5u * 512);
}

struct RejectCase {
  const char* name;
  std::function<void(BzImageSpec&)> mutate;
  const char* rule;
  const char* message;
};

TEST(BzImage, RejectsWhatCannotBoot) {
  const RejectCase cases[] = {
      {"boot_flag", [](BzImageSpec& s) { s.boot_flag = 0; }, "bzimage.magic",
       "no bzImage setup header (boot_flag 0x0, header 0x53726448)"},
      {"magic", [](BzImageSpec& s) { s.magic = 0x12345678; }, "bzimage.magic",
       "no bzImage setup header (boot_flag 0xaa55, header 0x12345678)"},
      {"old_protocol", [](BzImageSpec& s) { s.version = 0x020B; }, "bzimage.version",
       "boot protocol 0x20b is older than 0x20c (2.12), which introduced the 64-bit entry flag"},
      {"no_64bit", [](BzImageSpec& s) { s.xloadflags = 0x2; }, "bzimage.not_64bit",
       "xloadflags 0x2 lack XLF_KERNEL_64: the image has no 64-bit entry point"},
      {"zimage", [](BzImageSpec& s) { s.loadflags = 0; }, "bzimage.not_loaded_high", nullptr},
      {"short_header", [](BzImageSpec& s) { s.jump_length = 0x40; }, "bzimage.layout",
       "setup header ends at 0x242, outside [0x264, 0x290]"},
      {"long_header", [](BzImageSpec& s) { s.jump_length = 0x90; }, "bzimage.layout", nullptr},
      {"alignment", [](BzImageSpec& s) { s.kernel_alignment = 0x30000; }, "bzimage.layout",
       "kernel_alignment 0x30000 is not a power of two"},
      {"init_size", [](BzImageSpec& s) { s.init_size = 0x1000; }, "bzimage.layout",
       "init_size 0x1000 is smaller than the kernel (0x3000 bytes)"},
      {"no_kernel", [](BzImageSpec& s) { s.kernel_bytes = 0; }, "bzimage.truncated",
       "protected-mode kernel at 0x400 starts past the end of the file (0x400)"},
      {"payload", [](BzImageSpec& s) { s.payload_offset = 0x2F00; }, "bzimage.layout",
       "compressed payload 0x2f00 + 0x800 runs past the kernel (0x3000 bytes)"},
  };
  for (const RejectCase& c : cases) {
    BzImageSpec spec;
    c.mutate(spec);
    Result<BzImage> img = parseBzImage(makeBzImage(spec));
    ASSERT_THAT(img, HasRule(c.rule)) << c.name;
    if (c.message != nullptr) {
      EXPECT_EQ(img.error().message, c.message) << c.name;
    }
  }
}

TEST(BzImage, RejectsTruncatedFilesWithoutReadingPastThem) {
  ByteVector file = makeBzImage({});
  for (size_t n : {size_t{0}, size_t{0x1F1}, size_t{0x263}}) {
    ByteVector cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n));
    Result<BzImage> img = parseBzImage(cut);
    ASSERT_THAT(img, HasRule("bzimage.truncated")) << n;
  }
}

TEST(BzImage, ChooseLoadAddress) {
  BzImageSpec spec;
  Result<BzImage> img = parseBzImage(makeBzImage(spec));
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(*chooseLoadAddress(*img, std::nullopt), 0x100'0000u);
  EXPECT_EQ(*chooseLoadAddress(*img, 0x200'0000), 0x200'0000u);
  Result<uint64_t> unaligned = chooseLoadAddress(*img, 0x210'0000);
  ASSERT_THAT(unaligned, HasRule("bzimage.not_relocatable"));
  EXPECT_EQ(unaligned.error().message,
            "load address 0x2100000 is not aligned to kernel_alignment 0x200000");

  spec.relocatable_kernel = 0;
  Result<BzImage> fixed = parseBzImage(makeBzImage(spec));
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(*chooseLoadAddress(*fixed, 0x100'0000), 0x100'0000u);
  Result<uint64_t> moved = chooseLoadAddress(*fixed, 0x200'0000);
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().message,
            "kernel is not relocatable; it loads only at pref_address 0x1000000, not 0x2000000");
}

// A real distribution kernel, when this machine has one (or IGVMKIT_KERNEL names one).
TEST(BzImage, DebianKernel) {
  std::string path;
  if (const char* env = std::getenv("IGVMKIT_KERNEL"); env != nullptr && *env != '\0') {
    path = env;
  } else if (DIR* d = opendir("/boot")) {
    while (dirent* e = readdir(d)) {
      if (std::string(e->d_name).rfind("vmlinuz-", 0) == 0) {
        path = std::string("/boot/") + e->d_name;
        break;
      }
    }
    closedir(d);
  }
  if (path.empty()) {
    GTEST_SKIP() << "no /boot/vmlinuz-* on this machine";
  }
  Result<MappedFile> file = MappedFile::open(path);
  if (!file.ok()) {
    GTEST_SKIP() << "cannot read " << path << ": " << file.error().message;
  }
  Result<BzImage> img = parseBzImage(file->bytes());
  ASSERT_TRUE(img.ok()) << path << ": " << img.error().describe();
  EXPECT_GE(img->version, 0x020C);
  EXPECT_NE(img->xloadflags & kXlfKernel64, 0);
  EXPECT_NE(img->relocatable_kernel, 0);  // Debian builds CONFIG_RELOCATABLE
  EXPECT_GE(img->pref_address, 0x10'0000u);
  EXPECT_GT(img->init_size, img->kernel.size());
  EXPECT_GT(img->payload_length, 0u);
  EXPECT_TRUE(chooseLoadAddress(*img, std::nullopt).ok());
}

}  // namespace
}  // namespace igvmkit::builder
