// [firmware] on [platform.tdx]: a TDVF is laid out as QEMU launches it, so the built file's MRTD
// equals measure::measureOvmfLaunch's for the same image (which matches tdx-measure's algorithm,
// measure/ovmf_launch_test.cc and //cli:measure_ovmf_cli_test over Debian's OVMF); firmware
// without TDX metadata is refused with the GUID named.
#include <gtest/gtest.h>

#include "builder/build.h"
#include "builder/manifest.h"
#include "builder/testing/test_images.h"
#include "igvm/file.h"
#include "measure/measure.h"
#include "measure/ovmf_launch.h"
#include "ovmf/ovmf.h"
#include "ovmf/testing/image_builder.h"

namespace igvmkit::builder {
namespace {

// BFV (code, extended) at the top of the image, CFV (vars, added only) below it, HOB and TempMem.
ByteVector smallTdvf() {
  ByteVector bfv_bytes(0x1000);
  for (size_t i = 0; i < bfv_bytes.size(); ++i) {
    bfv_bytes[i] = static_cast<std::byte>(i * 7 + 1);
  }
  return ovmf::testing::ImageBuilder(0x4000)
      .tdxMetadata({{0x1000, 0x3000, 0xfffff000 - 0x2000, 0x3000, ovmf::TdvfSectionType::kBfv, 1},
                    {0x0, 0x1000, 0xffffc000, 0x1000, ovmf::TdvfSectionType::kCfv, 0},
                    {0, 0, 0x809000, 0x2000, ovmf::TdvfSectionType::kTdHob, 0},
                    {0, 0, 0x800000, 0x6000, ovmf::TdvfSectionType::kTempMem, 0}})
      .put(0x1000, bfv_bytes)
      .build();
}

Result<ByteVector> buildWith(const std::string& platforms, ByteVector firmware) {
  testing::MemoryFiles files;
  files.add("/m/fw", std::move(firmware));
  IGVMKIT_ASSIGN_OR_RETURN(
      Manifest m, parseManifest(platforms + "[memory]\nsize = \"64M\"\n[firmware]\nimage = \"fw\"\n",
                                "m.toml", "/m"));
  IGVMKIT_ASSIGN_OR_RETURN(BuildOutput out, build(m, files.reader()));
  return out.igvm;
}

TEST(FirmwareTdx, MrtdIsTheTdvfLaunch) {
  const ByteVector image = smallTdvf();
  for (const char* platforms : {"[platform.tdx]\n", "[platform.native]\n[platform.tdx]\n"}) {
    Result<ByteVector> igvm = buildWith(platforms, image);
    ASSERT_TRUE(igvm.ok()) << igvm.error().describe();
    Result<igvm::File> file = igvm::File::parse(*igvm);
    ASSERT_TRUE(file.ok()) << file.error().describe();
    Result<measure::Measurement> built = measure::measure(*file, {.platform = measure::Platform::kTdx});
    ASSERT_TRUE(built.ok()) << built.error().describe();
    Result<ovmf::Firmware> fw = ovmf::Firmware::parse(image);
    ASSERT_TRUE(fw.ok());
    measure::OvmfLaunchOptions o;
    o.platform = measure::Platform::kTdx;
    Result<measure::Measurement> launch = measure::measureOvmfLaunch(*fw, o);
    ASSERT_TRUE(launch.ok()) << launch.error().describe();
    EXPECT_EQ(hexBytes(built->digest), hexBytes(launch->digest)) << platforms;
    EXPECT_EQ(built->pages_measured, 3u + 1 + 2 + 6) << platforms;
  }
}

TEST(FirmwareTdx, FirmwareWithoutTdxMetadataIsRefused) {
  Result<ByteVector> igvm = buildWith("[platform.tdx]\n", ByteVector(0x2000));
  ASSERT_FALSE(igvm.ok());
  EXPECT_EQ(igvm.error().message,
            "firmware image /m/fw has no TDX metadata (GUID e47a6535-984a-4798-865e-4685a7bf8ec2): "
            "[platform.tdx] needs a TDVF");
}

TEST(FirmwareTdx, CodeWithoutVarsIsRefused) {
  ByteVector image = smallTdvf();
  // Drop the CFV's page in front: the BFV's DataOffset now runs past the image.
  ByteVector code(image.begin() + 0x1000, image.end());
  Result<ByteVector> igvm = buildWith("[platform.tdx]\n", code);
  ASSERT_FALSE(igvm.ok());
  EXPECT_EQ(igvm.error().rule, "ovmf.tdx_metadata");
}

TEST(FirmwareNative, StaysFlatPages) {
  Result<ByteVector> igvm = buildWith("[platform.native]\n", ByteVector(0x2000, std::byte{1}));
  ASSERT_TRUE(igvm.ok()) << igvm.error().describe();
}

}  // namespace
}  // namespace igvmkit::builder
