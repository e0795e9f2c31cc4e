// measureOvmfLaunch against published digests. The expected values are sev-snp-measure's
// (virtee/sev-snp-measure 8f2b337e, tests/test_guest.py) over its fixtures, which ../shared
// carries (testdata/firmware/MANIFEST.md); the two SVSM values were read from real hardware.
// Tests skip with a message when IGVMKIT_SHARED is unset.
#include "measure/ovmf_launch.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "base/file.h"
#include "measure/tdx.h"
#include "ovmf/ovmf.h"
#include "ovmf/testing/image_builder.h"
#include "ovmf/testing/shared.h"

namespace igvmkit::measure {
namespace {

constexpr uint32_t kEpycV4 = 0x800F12;

struct Case {
  const char* name;
  const char* ovmf;
  Platform platform;
  uint32_t vcpus;
  uint64_t guest_features;
  VmmType vmm;
  bool kernel;  // empty kernel and initrd (/dev/null in sev-snp-measure's tests)
  std::optional<std::string> append;
  const char* digest;
};

// Every launch-digest test of sev-snp-measure's test_guest.py that does not seed the chain.
const Case kCases[] = {
    {"snp_default", "ovmf_AmdSev_suffix.bin", Platform::kSnp, 1, 0x21, VmmType::kQemu, true,
     "console=ttyS0 loglevel=7",
     "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977"},
    {"snp_guest_feature_snp_only", "ovmf_AmdSev_suffix.bin", Platform::kSnp, 1, 0x1,
     VmmType::kQemu, true, "console=ttyS0 loglevel=7",
     "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa"},
    {"snp_ec2_default", "ovmf_AmdSev_suffix.bin", Platform::kSnp, 1, 0x21, VmmType::kEc2, true, "",
     "0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb"},
    {"snp_ec2_feature_snp_only", "ovmf_AmdSev_suffix.bin", Platform::kSnp, 1, 0x1, VmmType::kEc2,
     true, "",
     "0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056"},
    {"snp_gce_default", "ovmf_AmdSev_suffix.bin", Platform::kSnp, 1, 0x1, VmmType::kGce, true, "",
     "5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d0722e"},
    {"snp_gce_4_vcpus", "ovmf_AmdSev_suffix.bin", Platform::kSnp, 4, 0x1, VmmType::kGce, true, "",
     "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d"},
    {"snp_without_kernel_default", "ovmf_AmdSev_suffix.bin", Platform::kSnp, 1, 0x21,
     VmmType::kQemu, false, std::nullopt,
     "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b"},
    {"snp_without_kernel_feature_snp_only", "ovmf_AmdSev_suffix.bin", Platform::kSnp, 1, 0x1,
     VmmType::kQemu, false, std::nullopt,
     "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d"},
    {"snp_4_vcpus_default", "ovmf_AmdSev_suffix.bin", Platform::kSnp, 4, 0x21, VmmType::kQemu,
     true, "",
     "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942"},
    {"snp_4_vcpus_feature_snp_only", "ovmf_AmdSev_suffix.bin", Platform::kSnp, 4, 0x1,
     VmmType::kQemu, true, "",
     "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5"},
    {"snp_ovmfx64_default", "ovmf_OvmfX64_suffix.bin", Platform::kSnp, 1, 0x21, VmmType::kQemu,
     false, std::nullopt,
     "28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385"},
    {"snp_ovmfx64_feature_snp_only", "ovmf_OvmfX64_suffix.bin", Platform::kSnp, 1, 0x1,
     VmmType::kQemu, false, std::nullopt,
     "da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005"},
    {"seves", "ovmf_AmdSev_suffix.bin", Platform::kSevEs, 1, 0x1, VmmType::kQemu, true, "",
     "13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c"},
    {"seves_4_vcpus", "ovmf_AmdSev_suffix.bin", Platform::kSevEs, 4, 0x21, VmmType::kQemu, true,
     "", "0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91"},
    {"sev", "ovmf_AmdSev_suffix.bin", Platform::kSev, 1, 0x21, VmmType::kQemu, true,
     "console=ttyS0 loglevel=7",
     "82a3ee5d537c3620628270c292ae30cb40c3c878666a7890ee7ef2a08fb535ff"},
    {"sev_kernel_without_initrd_and_append", "ovmf_AmdSev_suffix.bin", Platform::kSev, 1, 0x21,
     VmmType::kQemu, true, std::nullopt,
     "77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898"},
    {"sev_ovmfx64_without_kernel", "ovmf_OvmfX64_suffix.bin", Platform::kSev, 1, 0x21,
     VmmType::kQemu, false, std::nullopt,
     "b4c021e085fb83ceffe6571a3d357b4a98773c83c474e47f76c876708fe316da"},
};

Result<Measurement> run(const std::string& dir, const Case& c) {
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector image, readFile(dir + "/" + c.ovmf));
  // The firmware views `image`, which lives until the measurement returns.
  IGVMKIT_ASSIGN_OR_RETURN(ovmf::Firmware fw, ovmf::Firmware::parse(image));
  OvmfLaunchOptions o;
  o.platform = c.platform;
  o.vcpus = c.vcpus;
  o.vcpu_sig = kEpycV4;
  o.vmm = c.vmm;
  o.guest_features = c.guest_features;
  if (c.kernel) {
    IGVMKIT_ASSIGN_OR_RETURN(o.kernel_hashes, sevKernelHashes({}, {}, c.append));
  }
  return measureOvmfLaunch(fw, o);
}

TEST(SevSnpMeasureVectors, EveryPublishedDigest) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  for (const Case& c : kCases) {
    Result<Measurement> m = run(dir, c);
    ASSERT_TRUE(m.ok()) << c.name << ": " << m.error().describe();
    EXPECT_EQ(hexBytes(m->digest), c.digest) << c.name;
  }
}

// sev-snp-measure test_snp_svsm_{4,2}_vcpus: read from real hardware (MANIFEST.md).
TEST(SevSnpMeasureVectors, SvsmFromHardware) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  Result<MappedFile> ovmf_file = MappedFile::open(dir + "/svsm_ovmf.fd");
  Result<MappedFile> svsm_file = MappedFile::open(dir + "/svsm.bin");
  ASSERT_TRUE(ovmf_file.ok() && svsm_file.ok());
  Result<ovmf::Firmware> fw = ovmf::Firmware::parse(ovmf_file->bytes());
  ASSERT_TRUE(fw.ok()) << fw.error().describe();
  const std::pair<uint32_t, const char*> expected[] = {
      {4, "27d154c27b7b359c935e250ec6fee72aa0ae8c1225e3b0e1cf46a9567e938066d7d6f94bbdc4a857818bdb79277a44b2"},
      {2, "9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7"}};
  for (const auto& [vcpus, digest] : expected) {
    OvmfLaunchOptions o;
    o.vcpus = vcpus;
    o.vcpu_sig = kEpycV4;
    o.guest_features = 0x21;  // ignored in SVSM mode, as by sev-snp-measure
    o.svsm = SvsmLaunch{svsm_file->bytes(), 540672};
    Result<Measurement> m = measureOvmfLaunch(*fw, o);
    ASSERT_TRUE(m.ok()) << m.error().describe();
    EXPECT_EQ(hexBytes(m->digest), digest) << vcpus;
  }
}

TEST(SevSnpMeasureVectors, KernelWithoutHashesSectionFailsAsSevSnpMeasure) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  for (Platform p : {Platform::kSnp, Platform::kSevEs, Platform::kSev}) {
    Case c{"x", "ovmf_OvmfX64_suffix.bin", p, 1, 0x21, VmmType::kQemu, true, "", ""};
    Result<Measurement> m = run(dir, c);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().rule, "ovmf_launch.kernel_hashes");
    EXPECT_EQ(m.error().message,
              p == Platform::kSnp
                  ? "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section"
                  : "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement");
  }
}

TEST(SevSnpMeasureVectors, TraceListsEveryPage) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  ByteVector image = *readFile(dir + "/ovmf_AmdSev_suffix.bin");
  ovmf::Firmware fw = *ovmf::Firmware::parse(image);
  OvmfLaunchOptions o;
  o.vcpus = 2;
  o.vcpu_sig = kEpycV4;
  std::vector<std::string> lines;
  o.trace = [&lines](const std::string& l) { lines.push_back(l); };
  Result<Measurement> m = measureOvmfLaunch(fw, o);
  ASSERT_TRUE(m.ok());
  // 1 OVMF page; sections: 9 + 3 zero, secrets, cpuid, caa, 1 hashes (zero), 15 zero; 2 VMSAs.
  ASSERT_EQ(lines.size(), 1u + 9 + 3 + 1 + 1 + 1 + 1 + 15 + 2);
  EXPECT_EQ(m->pages_measured, lines.size());
  EXPECT_EQ(lines[0].substr(0, 23), "0 normal gpa=0xfffff000");
  EXPECT_EQ(lines.back().substr(0, 27), "33 vmsa gpa=0xfffffffff000 ");
  EXPECT_NE(lines.back().find(hexBytes(m->digest)), std::string::npos);
}

TEST(VcpuTypes, Signatures) {
  EXPECT_EQ(vcpuSignature(23, 1, 2), 0x800F12u);   // EPYC
  EXPECT_EQ(vcpuSignature(23, 49, 0), 0x830F10u);  // EPYC-Rome
  EXPECT_EQ(vcpuSignature(25, 1, 1), 0xA00F11u);   // EPYC-Milan
  EXPECT_EQ(vcpuSignature(25, 17, 0), 0xA10F10u);  // EPYC-Genoa
  EXPECT_EQ(vcpuSignature(26, 0, 0), 0xB00F00u);   // EPYC-Turin
  EXPECT_EQ(knownVcpuTypes().size(), 16u);
  for (std::string_view name : knownVcpuTypes()) {
    EXPECT_TRUE(vcpuSignatureOf(name).ok()) << name;
  }
  EXPECT_EQ(*vcpuSignatureOf("EPYC-Milan-v2"), 0xA00F11u);
  EXPECT_EQ(vcpuSignatureOf("EPYC-Foo").error().code, Code::kUsage);
}

TEST(Tdx, RefusesTheCodeOnlyImage) {
  IGVMKIT_DEBIAN_OVMF_OR_SKIP("OVMF_CODE.fd");
  Result<MappedFile> code = MappedFile::open("/usr/share/OVMF/OVMF_CODE.fd");
  ASSERT_TRUE(code.ok());
  ovmf::Firmware fw = *ovmf::Firmware::parse(code->bytes());
  OvmfLaunchOptions o;
  o.platform = Platform::kTdx;
  Result<Measurement> m = measureOvmfLaunch(fw, o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message,
            "TDVF section #0 (BFV): data 0x20000 + 0x1e0000 is not inside the image (size "
            "0x1e0000): TDX launches the unified image, OVMF_VARS + OVMF_CODE");
}

// A small synthetic TDVF whose MRTD is computed here from the definition (measurement.md §3.1)
// with the TdxMrtd primitives: one extended BFV page, one added-only CFV page, a TD_HOB page.
TEST(Tdx, SectionsPageByPage) {
  ByteVector image =
      ovmf::testing::ImageBuilder(0x3000)
          .tdxMetadata({{0x1000, 0x1000, 0xfffff000, 0x1000, ovmf::TdvfSectionType::kBfv, 1},
                        {0x0, 0x1000, 0xffffe000, 0x1000, ovmf::TdvfSectionType::kCfv, 0},
                        {0, 0, 0x809000, 0x1000, ovmf::TdvfSectionType::kTdHob, 0}})
          .put(0x1000, ByteVector(16, std::byte{0xAB}))
          .build();
  ovmf::Firmware fw = *ovmf::Firmware::parse(image);
  OvmfLaunchOptions o;
  o.platform = Platform::kTdx;
  std::vector<std::string> lines;
  o.trace = [&lines](const std::string& l) { lines.push_back(l); };
  Result<Measurement> m = measureOvmfLaunch(fw, o);
  ASSERT_TRUE(m.ok()) << m.error().describe();
  TdxMrtd want;
  ASSERT_TRUE(want.addPage(0xfffff000, Bytes(image).subspan(0x1000, 0x1000), true).ok());
  ASSERT_TRUE(want.pageAdd(0xffffe000).ok());
  ASSERT_TRUE(want.pageAdd(0x809000).ok());
  EXPECT_EQ(hexBytes(m->digest), hexDigest(*want.result()));
  EXPECT_EQ(lines, (std::vector<std::string>{"0 page.add+extend gpa=0xfffff000",
                                             "1 page.add gpa=0xffffe000",
                                             "2 page.add gpa=0x809000"}));
}

}  // namespace
}  // namespace igvmkit::measure
